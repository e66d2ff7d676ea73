"""Salted-hash pseudonyms for audience accounts, applied to staged rows before they are stored.

Brand accounts keep their names. Audience ``account_id``, ``handle`` and ``display_name`` are
replaced by ``anon-<16 hex>`` (HMAC-SHA256 with the workspace's secret salt), ``@mentions`` of
audience handles inside texts are replaced by the same pseudonym, and audience permalinks are
dropped because they embed the handle. The same person gets the same pseudonym in every
ingest of the workspace, so threads and networks still connect.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc

# Twitter/Bluesky style @handle, optionally @user@instance (Mastodon).
MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_][A-Za-z0-9_.]*(?:@[A-Za-z0-9.-]+)?)")


class Pseudonymizer:
    def __init__(self, salt: str, brand_handles: Iterable[str]) -> None:
        self._key = salt.encode()
        self._brands = {handle.lower() for handle in brand_handles}
        self.pseudonym = lru_cache(maxsize=1_000_000)(self._pseudonym)

    def _pseudonym(self, value: str) -> str:
        digest = hmac.new(self._key, value.lower().encode(), hashlib.sha256).hexdigest()
        return f"anon-{digest[:16]}"

    def _replace_mention(self, match: re.Match[str]) -> str:
        handle = match.group(1).rstrip(".")
        trailing = match.group(1)[len(handle) :]
        if handle.lower() in self._brands:
            return match.group(0)
        return "@" + self.pseudonym(handle) + trailing

    def text(self, value: str | None) -> str | None:
        if value is None or "@" not in value:
            return value
        return MENTION.sub(self._replace_mention, value)

    def apply(self, posts: pa.Table) -> pa.Table:
        handles = posts.column("handle").to_pylist()
        declared = posts.column("declared_brand").to_pylist()
        is_brand = [
            bool(flag) or (handle is not None and handle.lower() in self._brands)
            for handle, flag in zip(handles, declared, strict=True)
        ]
        account_ids = posts.column("account_id").to_pylist()
        platforms = posts.column("platform").to_pylist()
        new_ids: list[str | None] = []
        for account_id, platform, brand in zip(account_ids, platforms, is_brand, strict=True):
            if brand or account_id is None:
                new_ids.append(account_id)
            else:
                native = (
                    account_id.split(":", 1)[1] if platform and account_id.startswith(f"{platform}:") else account_id
                )
                new_ids.append(self.pseudonym(f"id:{native}"))
        new_handles = [
            h if brand or h is None else self.pseudonym(h) for h, brand in zip(handles, is_brand, strict=True)
        ]
        audience = pa.array([not flag for flag in is_brand])
        names = pc.if_else(audience, pa.scalar(None, pa.string()), posts.column("display_name"))
        urls = pc.if_else(audience, pa.scalar(None, pa.string()), posts.column("url"))
        texts = [self.text(value) for value in posts.column("text").to_pylist()]
        for name, values in (
            ("account_id", pa.array(new_ids, pa.string())),
            ("handle", pa.array(new_handles, pa.string())),
            ("display_name", names),
            ("url", urls),
            ("text", pa.array(texts, pa.string())),
        ):
            posts = posts.set_column(posts.schema.get_field_index(name), name, values)
        return posts
