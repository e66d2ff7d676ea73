"""Mastodon API: a list of statuses (``/api/v1/accounts/:id/statuses``) or notifications."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from equilibrio.errors import InputError
from equilibrio.io._base import (
    Batch,
    BatchBuilder,
    ImportOptions,
    RecordError,
    Source,
    excerpt,
    parse_json_document,
    required,
    to_count,
)


class _TextExtractor(HTMLParser):
    """Status content is HTML; keep its text with paragraph and line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(content: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(content)
    extractor.close()
    return "".join(extractor.parts).strip()


def _instance(status: Mapping[str, Any]) -> str:
    url = status.get("uri") or status.get("url") or ""
    host = urlparse(str(url)).hostname
    if not host:
        raise RecordError("status has no 'uri' or 'url' to tell its instance")
    return host


def _account_id(account: Mapping[str, Any], instance: str) -> tuple[str, str]:
    acct = str(required(account, "acct"))
    full = acct if "@" in acct else f"{acct}@{instance}"
    return full.lower(), full


def map_status(status: Mapping[str, Any], kind_hint: str | None = None) -> dict[str, Any]:
    account = status.get("account")
    if not isinstance(account, dict):
        raise RecordError("status has no 'account' object")
    instance = _instance(account) if account.get("url") else _instance(status)
    account_key, handle = _account_id(account, instance)
    reblog = status.get("reblog")
    source_status = reblog if isinstance(reblog, dict) else status
    in_reply_to = status.get("in_reply_to_id")
    if isinstance(reblog, dict):
        kind = "repost"
    elif status.get("visibility") == "direct":
        kind = "dm"
    elif in_reply_to:
        kind = "reply"
    else:
        kind = kind_hint or "post"
    status_instance = _instance(status)
    return {
        "post_id": f"{status_instance}:{required(status, 'id')}",
        "platform": "mastodon",
        "account_id": account_key,
        "handle": handle,
        "display_name": account.get("display_name") or None,
        "followers": to_count(account.get("followers_count"), "followers_count"),
        "created_at": str(required(status, "created_at")),
        "text": html_to_text(str(source_status.get("content") or "")),
        "lang": source_status.get("language"),
        "kind": kind,
        "reply_to_id": f"{status_instance}:{in_reply_to}" if in_reply_to else None,
        "url": status.get("url"),
        "likes": to_count(status.get("favourites_count"), "favourites_count"),
        "shares": to_count(status.get("reblogs_count"), "reblogs_count"),
        "comments": to_count(status.get("replies_count"), "replies_count"),
    }


class MastodonImporter:
    name = "mastodon"
    description = "Mastodon API JSON: a list of statuses, or of notifications (mentions become posts)"

    def sniff(self, path: Path, head: bytes) -> bool:
        return (b'"reblogs_count"' in head or b'"favourites_count"' in head) and b'"acct"' in head

    def read(self, source: Source, options: ImportOptions) -> Iterator[Batch]:
        document = parse_json_document(source)
        if not isinstance(document, list):
            raise InputError("expected a JSON list of statuses or notifications", path=source.path)
        builder = BatchBuilder()
        for index, item in enumerate(document):
            location = f"item {index}"
            if not isinstance(item, dict):
                builder.reject(location, "expected an object")
                continue
            if ("type" in item and "status" in item) or item.get("type") in {
                "follow",
                "follow_request",
                "favourite",
                "reblog",
                "poll",
                "update",
            }:
                status = item.get("status")
                if item.get("type") != "mention" or not isinstance(status, dict):
                    builder.reject(
                        f"{location} (notification {item.get('id', '?')})",
                        f"'{item.get('type')}' notification carries no message of its own",
                    )
                    continue
                builder.add(
                    f"{location} (notification {item.get('id', '?')})",
                    map_status,
                    status,
                    "mention",
                    excerpt=excerpt(status.get("content", "")),
                )
            else:
                builder.add(
                    f"{location} (status {item.get('id', '?')})",
                    map_status,
                    item,
                    excerpt=excerpt(item.get("content", "")),
                )
        yield from builder.drain()
