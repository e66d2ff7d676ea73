"""Bluesky: ``app.bsky.feed.getAuthorFeed`` responses (one object, a list of pages, or one per line)."""

from __future__ import annotations

from collections import Counter
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


def _rkey(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


def _kind(is_repost: bool, parent: str | None, record: Mapping[str, Any]) -> str:
    if is_repost:
        return "repost"
    if parent:
        return "reply"
    embed_type = str((record.get("embed") or {}).get("$type", ""))
    return "quote" if embed_type.startswith("app.bsky.embed.record") else "post"


def _quoted(record: Mapping[str, Any], view: Any) -> tuple[str | None, str | None]:
    """The quoted post's URI and its author's handle, when the post quotes another post.

    The record holds the quoted URI (``app.bsky.embed.record``, or inside
    ``app.bsky.embed.recordWithMedia``); the hydrated view beside it names the author.
    """
    embed = record.get("embed") or {}
    with_media = str(embed.get("$type", "")).startswith("app.bsky.embed.recordWithMedia")
    reference = embed.get("record") or {}
    if with_media and isinstance(reference, dict):
        reference = reference.get("record") or {}
    uri = reference.get("uri") if isinstance(reference, dict) else None
    if not isinstance(uri, str) or "/app.bsky.feed.post/" not in uri:
        return None, None  # no embed, or an embedded feed, list or starter pack: not a quote of a post
    shown = view.get("record") if isinstance(view, dict) else None
    if with_media and isinstance(shown, dict):
        shown = shown.get("record")
    author = shown.get("author") if isinstance(shown, dict) else None
    handle = author.get("handle") if isinstance(author, dict) else None
    return uri, handle if isinstance(handle, str) else None


def map_feed_item(item: Mapping[str, Any], feed_owner: str | None) -> dict[str, Any]:
    post = item.get("post")
    if not isinstance(post, dict):
        raise RecordError("feed item has no 'post' object")
    author = post.get("author") or {}
    record = post.get("record") or {}
    uri = str(required(post, "uri"))
    reason = item.get("reason") or {}
    reply = record.get("reply") or {}
    parent = (reply.get("parent") or {}).get("uri")
    root = (reply.get("root") or {}).get("uri")
    is_repost = str(reason.get("$type", "")).endswith("reasonRepost")
    actor = reason.get("by") if is_repost else author
    if not isinstance(actor, dict) or not actor.get("did"):
        raise RecordError("post author has no 'did'")
    did = str(actor["did"])
    handle = str(actor.get("handle") or did)
    langs = record.get("langs") or []
    quoted_uri, quoted_handle = (None, None) if is_repost else _quoted(record, post.get("embed"))
    return {
        "post_id": f"repost:{did}:{uri}" if is_repost else uri,
        "platform": "bluesky",
        "account_id": did,
        "handle": handle,
        "display_name": actor.get("displayName"),
        "declared_brand": did == feed_owner,
        "created_at": str(reason.get("indexedAt") if is_repost else required(record, "createdAt")),
        "text": str(record.get("text") or ""),
        "lang": langs[0] if langs else None,
        "kind": _kind(is_repost, parent, record),
        "reply_to_id": parent,
        "conversation_id": root or (None if is_repost else uri),
        "quoted_id": quoted_uri,
        "quoted_handle": quoted_handle,
        "url": f"https://bsky.app/profile/{author.get('handle', did)}/post/{_rkey(uri)}",
        "likes": to_count(post.get("likeCount"), "likeCount"),
        "shares": to_count(post.get("repostCount"), "repostCount"),
        "comments": to_count(post.get("replyCount"), "replyCount"),
    }


class BlueskyImporter:
    name = "bluesky"
    description = "Bluesky app.bsky.feed.getAuthorFeed JSON (the feed's actor is the brand)"

    def sniff(self, path: Path, head: bytes) -> bool:
        return b'"feed"' in head and b"at://" in head

    def read(self, source: Source, options: ImportOptions) -> Iterator[Batch]:
        pages = parse_json_pages(source)
        items: list[tuple[str, Any]] = []
        for number, page in enumerate(pages, start=1):
            if not isinstance(page, dict) or not isinstance(page.get("feed"), list):
                raise InputError(
                    "expected a getAuthorFeed response with a 'feed' list", path=source.path, where=f"page {number}"
                )
            items.extend((f"page {number}, feed[{i}]", item) for i, item in enumerate(page["feed"]))
        # An author feed is the actor's own: its most frequent own-post author or reposter.
        actors = Counter(
            ((item.get("reason") or {}).get("by") or (item.get("post") or {}).get("author") or {}).get("did")
            for _, item in items
            if isinstance(item, dict)
        )
        actors.pop(None, None)
        owner = actors.most_common(1)[0][0] if actors else None
        builder = BatchBuilder()
        for location, item in items:
            if not isinstance(item, dict):
                builder.reject(location, "expected a feed item object")
                continue
            text = ((item.get("post") or {}).get("record") or {}).get("text", "")
            builder.add(location, map_feed_item, item, owner, excerpt=excerpt(text))
        yield from builder.drain()
