"""Facebook: Graph API page posts JSON, and the UCI Facebook metrics CSV (Moro, Rita & Vala 2016)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from equilibrio.errors import InputError
from equilibrio.io._base import (
    Batch,
    BatchBuilder,
    ImportOptions,
    RecordError,
    Source,
    excerpt,
    parse_json_pages,
    required,
    to_count,
)
from equilibrio.io._csv import header_of, read_rows

UCI_CATEGORIES = {"1": "action", "2": "product", "3": "inspiration"}
UCI_PAGE_ID = "uci-cosmetics-page"
UCI_YEAR = 2014


def map_uci_row(row: Mapping[str, str], line: int) -> dict[str, Any]:
    """One row of the UCI file. It has no text, ids or dates beyond month/hour (all 2014)."""
    if "__error__" in row:
        raise RecordError(row["__error__"])
    try:
        month, hour = int(row["Post Month"]), int(row["Post Hour"])
    except (KeyError, ValueError):
        raise RecordError("missing or non-numeric 'Post Month'/'Post Hour'") from None
    if not (1 <= month <= 12 and 0 <= hour <= 23):
        raise RecordError(f"impossible month/hour {month}/{hour}")
    category = UCI_CATEGORIES.get(row.get("Category", "").strip())
    if category is None:
        raise RecordError(f"unknown Category {row.get('Category')!r} (expected 1, 2 or 3)")
    meta = {
        "category": category,
        "type": row.get("Type"),
        "weekday": row.get("Post Weekday"),
        "engaged_users": to_count(row.get("Lifetime Engaged Users"), "Lifetime Engaged Users"),
        "total_interactions": to_count(row.get("Total Interactions"), "Total Interactions"),
    }
    paid = row.get("Paid", "").strip()
    return {
        "post_id": f"uci-{line}",  # the data has no ids; the line number is stable across re-imports
        "platform": "facebook",
        "account_id": UCI_PAGE_ID,
        "handle": UCI_PAGE_ID,
        "display_name": "Cosmetics brand (UCI Facebook metrics)",
        "followers": to_count(row.get("Page total likes"), "Page total likes"),
        "declared_brand": True,
        "created_at": f"{UCI_YEAR}-{month:02d}-01T{hour:02d}:00:00+00:00",
        "time_precision": "month",
        "text": None,
        "kind": "post",
        "paid": paid == "1" if paid in {"0", "1"} else None,
        "likes": to_count(row.get("like"), "like"),
        "shares": to_count(row.get("share"), "share"),
        "comments": to_count(row.get("comment"), "comment"),
        "impressions": to_count(row.get("Lifetime Post Total Impressions"), "Lifetime Post Total Impressions"),
        "reach": to_count(row.get("Lifetime Post Total Reach"), "Lifetime Post Total Reach"),
        "clicks": to_count(row.get("Lifetime Post Consumptions"), "Lifetime Post Consumptions"),
        "meta": json.dumps(meta),
        "source_line": line,
    }


class FacebookUciImporter:
    name = "facebook-uci"
    description = "UCI Facebook metrics CSV (';'-separated, Category 1/2/3, lifetime metrics)"

    def sniff(self, path: Path, head: bytes) -> bool:
        columns = set(header_of(head))
        return {"Category", "Lifetime Post Total Reach", "Total Interactions"} <= columns

    def read(self, source: Source, options: ImportOptions) -> Iterator[Batch]:
        builder = BatchBuilder()
        for line, row in read_rows(source):
            builder.add(f"line {line}", map_uci_row, row, line)
        yield from builder.drain()


def _total(node: Any) -> int | None:
    if isinstance(node, dict):
        if "summary" in node:
            return to_count(node["summary"].get("total_count"), "summary.total_count")
        if "count" in node:
            return to_count(node["count"], "count")
    return None


def _insight(post: Mapping[str, Any], name: str) -> int | None:
    for metric in (post.get("insights") or {}).get("data") or []:
        if metric.get("name") == name and metric.get("values"):
            return to_count(metric["values"][0].get("value"), name)
    return None


def map_graph_post(post: Mapping[str, Any]) -> dict[str, Any]:
    post_id = str(required(post, "id"))
    author = post.get("from") or {}
    page_id = str(author.get("id") or post_id.split("_")[0])
    return {
        "post_id": post_id,
        "platform": "facebook",
        "account_id": page_id,
        "handle": author.get("name"),
        "display_name": author.get("name"),
        "declared_brand": True,
        "created_at": str(required(post, "created_time")),
        "text": post.get("message") or post.get("story"),
        "kind": "post",
        "url": post.get("permalink_url"),
        "paid": True if post.get("promotion_status") == "active" else None,
        "likes": _total(post.get("reactions")) if "reactions" in post else _total(post.get("likes")),
        "shares": _total(post.get("shares")),
        "comments": _total(post.get("comments")),
        "impressions": _insight(post, "post_impressions"),
        "reach": _insight(post, "post_impressions_unique"),
        "clicks": _insight(post, "post_clicks"),
    }


def map_graph_comment(comment: Mapping[str, Any], post_id: str, page_id: str) -> dict[str, Any]:
    author = comment.get("from") or {}
    author_id = str(author.get("id") or "")
    if not author_id:
        raise RecordError("comment has no 'from' (Graph API hides authors without the right permission)")
    parent = (comment.get("parent") or {}).get("id")
    return {
        "post_id": str(required(comment, "id")),
        "platform": "facebook",
        "account_id": author_id,
        "handle": author.get("name"),
        "display_name": author.get("name"),
        "declared_brand": author_id == page_id,
        "created_at": str(required(comment, "created_time")),
        "text": comment.get("message"),
        "kind": "reply" if author_id == page_id else "comment",
        "reply_to_id": str(parent) if parent else post_id,
        "conversation_id": post_id,
        "likes": to_count(comment.get("like_count"), "like_count"),
        "comments": to_count(comment.get("comment_count"), "comment_count"),
    }


class FacebookGraphImporter:
    name = "facebook-graph"
    description = "Facebook Graph API /{page}/posts JSON (with comments, reactions, shares, insights)"

    def sniff(self, path: Path, head: bytes) -> bool:
        return b'"created_time"' in head and b'"data"' in head

    def read(self, source: Source, options: ImportOptions) -> Iterator[Batch]:
        pages = parse_json_pages(source)
        builder = BatchBuilder()
        for page_number, page in enumerate(pages, start=1):
            if not isinstance(page, dict) or not isinstance(page.get("data"), list):
                raise InputError(
                    "expected a Graph API response with a 'data' list", path=source.path, where=f"page {page_number}"
                )
            for index, post in enumerate(page["data"]):
                location = f"page {page_number}, data[{index}]"
                if not isinstance(post, dict):
                    builder.reject(location, "expected a post object")
                    continue
                builder.add(location, map_graph_post, post, excerpt=excerpt(post.get("message", "")))
                post_id = str(post.get("id", ""))
                page_id = str((post.get("from") or {}).get("id") or post_id.split("_")[0])
                comments = (post.get("comments") or {}).get("data") or []
                for c_index, comment in enumerate(comments):
                    builder.add(
                        f"{location}, comments[{c_index}]",
                        map_graph_comment,
                        comment,
                        post_id,
                        page_id,
                        excerpt=excerpt(comment.get("message", "")),
                    )
        yield from builder.drain()
