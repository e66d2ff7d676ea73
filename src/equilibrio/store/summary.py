"""What a store holds: counts per platform, account, kind and language, and date ranges."""

from __future__ import annotations

from typing import Any

from equilibrio.store.duck import Store


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def summarize(store: Store, *, top_accounts: int = 20) -> dict[str, Any]:
    """A JSON-ready summary of the store's contents."""
    posts, brand_posts, first, last = store.fetchone(
        "SELECT count(*), count(*) FILTER (WHERE is_brand), min(created_at), max(created_at) FROM posts"
    )
    per_platform = [
        {"platform": p, "posts": n, "brand_posts": b, "first": _iso(f), "last": _iso(t)}
        for p, n, b, f, t in store.fetchall(
            "SELECT platform, count(*), count(*) FILTER (WHERE is_brand), min(created_at), max(created_at) "
            "FROM posts GROUP BY platform ORDER BY 2 DESC"
        )
    ]
    per_account = [
        {"account_id": a, "handle": h, "is_brand": bool(b), "posts": n, "first": _iso(f), "last": _iso(t)}
        for a, h, b, n, f, t in store.fetchall(
            "SELECT p.account_id, any_value(a.handle), any_value(a.is_brand), count(*), min(p.created_at), "
            "max(p.created_at) FROM posts p LEFT JOIN accounts a USING (account_id) "
            "GROUP BY p.account_id ORDER BY any_value(a.is_brand) DESC, 4 DESC LIMIT ?",
            [top_accounts],
        )
    ]
    per_kind = dict(store.fetchall("SELECT kind, count(*) FROM posts GROUP BY kind ORDER BY 2 DESC"))
    per_lang = dict(store.fetchall("SELECT coalesce(lang, 'unknown'), count(*) FROM posts GROUP BY 1 ORDER BY 2 DESC"))
    ingests = [
        {
            "ingest_id": i,
            "source": s,
            "format": f,
            "rows_read": r,
            "rows_inserted": ins,
            "rows_updated": u,
            "rows_unchanged": un,
            "rows_rejected": rej,
            "notes": list(notes),
        }
        for i, s, f, r, ins, u, un, rej, notes in store.fetchall(
            "SELECT ingest_id, source, format, rows_read, rows_inserted, rows_updated, rows_unchanged, "
            "rows_rejected, notes FROM ingest_log ORDER BY ingest_id"
        )
    ]
    return {
        "posts": int(posts),
        "brand_posts": int(brand_posts),
        "accounts": int(store.fetchone("SELECT count(*) FROM accounts")[0]),
        "brand_accounts": [r[0] for r in store.fetchall("SELECT handle FROM accounts WHERE is_brand ORDER BY 1")],
        "conversions": int(store.fetchone("SELECT count(*) FROM conversions")[0]),
        "first_post": _iso(first),
        "last_post": _iso(last),
        "by_platform": per_platform,
        "by_account": per_account,
        "by_kind": per_kind,
        "by_language": per_lang,
        "ingests": ingests,
        "schema_version": store.schema_version(),
    }
