"""Generic JSON Lines: equilibrio's own canonical rows, or any flat JSONL with a column mapping.

This is the bulk path (millions of posts): the file is read in blocks that Arrow's
multithreaded JSON parser turns into columns. A block that Arrow rejects (a broken line,
a count given as a string, invalid UTF-8, blank lines) is re-read line by line so the
offending line is named and only it is rejected. Memory stays bounded by the block size.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from equilibrio.errors import ConfigurationError, EmptyInputError
from equilibrio.io._base import (
    MOJIBAKE_HINT,
    Batch,
    ImportOptions,
    RecordError,
    Reject,
    Source,
    excerpt,
    to_bool,
    to_count,
)
from equilibrio.schema import COUNT_COLUMNS, STAGED_POST_FIELDS, STAGED_POST_SCHEMA

BLOCK_BYTES = 16 * 1024 * 1024
_INTERNAL = {"source_line", "source_record"}
CANONICAL_FIELDS = [f.name for f in STAGED_POST_FIELDS if f.name not in _INTERNAL]
_BOOL_FIELDS = {"declared_brand", "paid"}
_INT_FIELDS = set(COUNT_COLUMNS) | {"followers"}


def resolve_mapping(mapping: Mapping[str, str]) -> dict[str, str]:
    """canonical field -> source key; unmapped canonical fields keep their own name."""
    unknown = set(mapping) - set(CANONICAL_FIELDS) - {"is_brand"}
    if unknown:
        raise ConfigurationError(
            f"unknown canonical field(s) in mapping: {', '.join(sorted(unknown))}; "
            f"expected some of {', '.join(CANONICAL_FIELDS)}"
        )
    resolved = {name: name for name in CANONICAL_FIELDS}
    resolved["declared_brand"] = "is_brand"
    for canonical, source_key in mapping.items():
        resolved["declared_brand" if canonical == "is_brand" else canonical] = source_key
    return resolved


def _epoch_to_iso(value: float) -> str:
    seconds = value / 1000 if value > 1e11 else value  # milliseconds since epoch are common too
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def map_record(record: Mapping[str, Any], mapping: Mapping[str, str], platform: str | None) -> dict[str, Any]:
    """One JSON object -> one staged row (lenient coercions; errors name the field)."""
    row: dict[str, Any] = {}
    for canonical, source_key in mapping.items():
        value: Any = record
        for part in source_key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if canonical in _INT_FIELDS:
            row[canonical] = to_count(value, source_key)
        elif canonical in _BOOL_FIELDS:
            row[canonical] = to_bool(value, source_key)
        elif value is None:
            row[canonical] = None
        elif canonical == "created_at" and isinstance(value, int | float) and not isinstance(value, bool):
            row[canonical] = _epoch_to_iso(float(value))
        elif canonical == "meta":
            row[canonical] = orjson.dumps(value).decode() if not isinstance(value, str) else value
        elif isinstance(value, dict | list):
            raise RecordError(f"field {source_key!r}: expected a scalar, got a JSON {type(value).__name__}")
        else:
            row[canonical] = str(value)
    if row.get("platform") is None:
        row["platform"] = platform
    return row


class JsonLinesImporter:
    name = "jsonl"
    description = "JSON Lines, one post per line: canonical fields, or any fields with --map"

    def sniff(self, path: Path, head: bytes) -> bool:
        """A JSON object with a ``post_id`` among the first lines (one broken line is tolerated)."""
        for line in head.splitlines()[:5]:
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(record, dict) and "post_id" in record:
                return True
        return False

    def read(self, source: Source, options: ImportOptions) -> Iterator[Batch]:
        mapping = resolve_mapping(options.mapping)
        fast = all("." not in key for key in mapping.values())
        arrow_schema = pa.schema(
            [pa.field(mapping[f.name], f.arrow_type) for f in STAGED_POST_FIELDS if f.name in mapping]
        )
        if source.size == 0:
            raise EmptyInputError("the file is empty: no records to import", path=source.path)
        saw_record = False
        blank_lines = 0
        line_number = 1
        done = 0
        with source.open_bytes() as handle:
            carry = b""
            while True:
                chunk = handle.read(BLOCK_BYTES)
                data = carry + chunk
                if not chunk:
                    block, carry = data, b""
                else:
                    cut = data.rfind(b"\n")
                    if cut == -1:
                        carry = data
                        continue
                    block, carry = data[: cut + 1], data[cut + 1 :]
                if block:
                    done += len(block)
                    newlines = block.count(b"\n")
                    batch, blanks = self._block(
                        block, newlines, line_number, mapping, arrow_schema, fast, source, options
                    )
                    blank_lines += blanks
                    saw_record = saw_record or batch.rows_read > 0
                    batch.bytes_done = done
                    line_number += newlines
                    yield batch
                if not chunk:
                    break
        if not saw_record:
            raise EmptyInputError("the file holds no JSON records", path=source.path)
        if blank_lines:
            source.notes.append(f"ignored {blank_lines} blank lines")

    def _block(
        self,
        block: bytes,
        newlines: int,
        first_line: int,
        mapping: dict[str, str],
        arrow_schema: pa.Schema,
        fast: bool,
        source: Source,
        options: ImportOptions,
    ) -> tuple[Batch, int]:
        line_count = newlines + (0 if block.endswith(b"\n") else 1)
        # Arrow only sees blocks whose every line opens an object: pyarrow 26 crashes the
        # process on a bare `null` line, and skips blank lines, which would shift line numbers.
        objects_only = block.startswith(b"{") and block.count(b"\n{") == line_count - 1
        if fast and objects_only:
            try:
                table = pa_json.read_json(
                    io.BytesIO(block),
                    parse_options=pa_json.ParseOptions(
                        explicit_schema=arrow_schema, unexpected_field_behavior="ignore"
                    ),
                )
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                table = None
            if table is not None and table.num_rows == line_count:
                return Batch(
                    rows_read=line_count, posts=self._to_staged(table, first_line, mapping, source, options)
                ), 0
        return self._slow_block(block, newlines, first_line, mapping, source, options)

    def _to_staged(
        self, table: pa.Table, first_line: int, mapping: dict[str, str], source: Source, options: ImportOptions
    ) -> pa.Table:
        columns = []
        for field in STAGED_POST_SCHEMA:
            source_key = mapping.get(field.name)
            if field.name == "source_line":
                columns.append(pa.array(range(first_line, first_line + table.num_rows), pa.int64()))
            elif source_key is not None and source_key in table.column_names:
                columns.append(table.column(source_key))
            else:
                columns.append(pa.nulls(table.num_rows, field.type))
        staged = pa.Table.from_arrays(columns, schema=STAGED_POST_SCHEMA)
        if options.platform:
            platform = pc.fill_null(staged.column("platform"), options.platform)
            staged = staged.set_column(staged.schema.get_field_index("platform"), "platform", platform)
        text = staged.column("text")
        suspicious = pc.match_substring_regex(text, MOJIBAKE_HINT.pattern)
        if pc.any(suspicious).as_py():
            fixed = [source.fix_text(value) for value in text.to_pylist()]
            staged = staged.set_column(staged.schema.get_field_index("text"), "text", pa.array(fixed, pa.string()))
        return staged

    def _slow_block(
        self,
        block: bytes,
        newlines: int,
        first_line: int,
        mapping: dict[str, str],
        source: Source,
        options: ImportOptions,
    ) -> tuple[Batch, int]:
        rows: list[dict[str, Any]] = []
        rejects: list[Reject] = []
        blank = 0
        for offset, raw_line in enumerate(block.split(b"\n")):
            line = first_line + offset
            if not raw_line.strip():
                if offset < newlines:  # the empty piece after the final newline is not a line
                    blank += 1
                continue
            location = f"line {line}"
            try:
                text_line = raw_line.decode("utf-8")
            except UnicodeDecodeError:
                text_line = raw_line.decode("cp1252", errors="replace")
                note = "some lines are not valid UTF-8; decoded them as Windows-1252"
                if note not in source.notes:
                    source.notes.append(note)
            try:
                record = orjson.loads(text_line)
            except orjson.JSONDecodeError as exc:
                reason = "truncated JSON" if offset == newlines else "invalid JSON"
                rejects.append(Reject(location, f"{reason}: {exc}", excerpt(text_line)))
                continue
            if not isinstance(record, dict):
                rejects.append(
                    Reject(location, f"expected a JSON object, got {type(record).__name__}", excerpt(text_line))
                )
                continue
            try:
                row = map_record(record, mapping, options.platform)
            except RecordError as exc:
                rejects.append(Reject(location, str(exc), excerpt(text_line)))
                continue
            row["text"] = source.fix_text(row.get("text"))
            row["source_line"] = line
            rows.append(row)
        table = pa.Table.from_pylist(rows, schema=STAGED_POST_SCHEMA) if rows else None
        return Batch(rows_read=len(rows) + len(rejects), posts=table, rejects=rejects), blank
