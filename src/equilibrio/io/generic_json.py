"""Generic JSON: a JSON array of flat post objects, as many tools and scripts save them.

The same fields and ``--map`` as JSON Lines (:mod:`equilibrio.io.jsonl`), one post per array
element. An API envelope whose posts sit in a list under ``data``, ``posts``, ``items`` or
``results`` is read too. The whole document is parsed at once, so millions of posts belong in
JSON Lines, which streams.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from equilibrio.errors import EmptyInputError, InputError
from equilibrio.io._base import Batch, BatchBuilder, ImportOptions, Source, excerpt, parse_json_document
from equilibrio.io.jsonl import map_record, resolve_mapping

ENVELOPE_KEYS: Final = ("data", "posts", "items", "results")
# An array (or an envelope's list) whose first object names a post_id early on.
_LOOKS_LIKE_POSTS = re.compile(
    rb'^\s*(?:\{\s*"(?:' + b"|".join(key.encode() for key in ENVELOPE_KEYS) + rb')"\s*:\s*)?\[\s*\{[^{}]*"post_id"\s*:'
)


def _posts_of(document: Any, path: Path) -> list[Any]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        for key in ENVELOPE_KEYS:
            if isinstance(document.get(key), list):
                return list(document[key])
    raise InputError(
        "expected a JSON array of posts, or an object holding one under "
        + ", ".join(repr(key) for key in ENVELOPE_KEYS)
        + " (one post per line is JSON Lines: --format jsonl)",
        path=path,
    )


class GenericJsonImporter:
    name = "json"
    description = "JSON array of posts (or under data/posts/items/results): canonical fields, or any with --map"

    def sniff(self, path: Path, head: bytes) -> bool:
        return _LOOKS_LIKE_POSTS.match(head) is not None

    def read(self, source: Source, options: ImportOptions) -> Iterator[Batch]:
        mapping = resolve_mapping(options.mapping)
        posts = _posts_of(parse_json_document(source), source.path)
        if not posts:
            raise EmptyInputError("the JSON array holds no posts", path=source.path)
        builder = BatchBuilder()
        for index, record in enumerate(posts):
            location = f"record {index + 1}"
            if not isinstance(record, dict):
                builder.reject(location, f"expected a JSON object, got {type(record).__name__}", excerpt(record))
                continue
            builder.add(location, self._row, record, mapping, options, source, excerpt=excerpt(record.get("text")))
            if builder.full():
                yield builder.flush()
        yield from builder.drain()

    @staticmethod
    def _row(record: dict[str, Any], mapping: dict[str, str], options: ImportOptions, source: Source) -> dict[str, Any]:
        row = map_record(record, mapping, options.platform)
        row["text"] = source.fix_text(row.get("text"))
        return row
