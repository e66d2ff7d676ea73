"""The overview page: what a store holds and how its imports went. Post text is escaped."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from equilibrio._version import __version__
from equilibrio.report._jinja import template_environment
from equilibrio.store.duck import Store
from equilibrio.store.ingest import reason_family
from equilibrio.store.summary import summarize

_ENV = template_environment("equilibrio.report")


def overview_data(store: Store, *, sample_size: int = 12) -> dict[str, Any]:
    """Everything the overview page shows, as plain JSON-ready data."""
    families: dict[str, list[Any]] = {}
    for reason, count, location in store.fetchall(
        "SELECT reason, count(*), min(location) FROM ingest_rejects GROUP BY reason ORDER BY 1"
    ):
        entry = families.setdefault(reason_family(reason), [0, location])
        entry[0] += count
    rejects = sorted(((family, n, where) for family, (n, where) in families.items()), key=lambda r: -r[1])[:15]
    samples = [
        {"created_at": str(when)[:16], "handle": handle, "kind": kind, "text": text}
        for when, handle, kind, text in store.fetchall(
            "SELECT p.created_at, coalesce(a.handle, p.account_id), p.kind, p.text FROM posts p "
            "LEFT JOIN accounts a USING (account_id) WHERE p.text IS NOT NULL "
            "ORDER BY p.created_at DESC, p.post_id LIMIT ?",
            [sample_size],
        )
    ]
    return {"info": summarize(store), "rejects": rejects, "samples": samples}


def render_overview(store: Store, path: Path, *, title: str, subtitle: str, attribution: str = "") -> Path:
    template = _ENV.get_template("demo.html.j2")
    html = template.render(
        **overview_data(store),
        title=title,
        subtitle=subtitle,
        attribution=attribution,
        version=__version__,
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )
    path.write_text(html, encoding="utf-8")
    return path
