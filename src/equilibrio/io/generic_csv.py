"""Any CSV of posts, with a column mapping (``--map text=message --map created_at=date``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from equilibrio.errors import ConfigurationError
from equilibrio.io._base import Batch, BatchBuilder, ImportOptions, RecordError, Source, excerpt
from equilibrio.io._csv import header_of, read_rows
from equilibrio.io.jsonl import map_record, resolve_mapping


class GenericCsvImporter:
    name = "csv"
    description = "any CSV of posts: canonical column names, or --map canonical=column"

    def sniff(self, path: Path, head: bytes) -> bool:
        columns = set(header_of(head))
        return {"post_id", "account_id", "created_at"} <= columns

    def read(self, source: Source, options: ImportOptions) -> Iterator[Batch]:
        mapping = resolve_mapping(options.mapping)
        builder = BatchBuilder()
        checked = False
        for line, row in read_rows(source):
            if not checked:
                missing = [
                    f"{c}={mapping[c]}" for c in ("post_id", "account_id", "created_at") if mapping[c] not in row
                ]
                if missing and "__error__" not in row:
                    raise ConfigurationError(
                        f"{source.path}: the mapping names columns the file does not have: {', '.join(missing)}; "
                        f"columns are: {', '.join(row)}"
                    )
                checked = True

            def produce(row: Mapping[str, str] = row, line: int = line) -> dict[str, Any]:
                if "__error__" in row:
                    raise RecordError(row["__error__"])
                mapped = map_record({k: (v if v != "" else None) for k, v in row.items()}, mapping, options.platform)
                mapped["text"] = source.fix_text(mapped.get("text"))
                mapped["source_line"] = line
                return mapped

            builder.add(f"line {line}", produce, excerpt=excerpt(row.get(mapping["text"], "")))
            if builder.full():
                yield builder.flush()
        yield from builder.drain()
