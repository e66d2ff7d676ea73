"""CSV reading shared by the CSV importers: delimiter sniffing, header aliases, line numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence

from equilibrio.errors import EmptyInputError, InputError
from equilibrio.io._base import Source

csv.field_size_limit(10 * 1024 * 1024)


def sniff_delimiter(header_line: str) -> str:
    counts = {delimiter: header_line.count(delimiter) for delimiter in (",", ";", "\t", "|")}
    return max(counts, key=lambda d: counts[d])


def header_of(head: bytes) -> list[str]:
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    first = text.split("\n", 1)[0].rstrip("\r")
    return [name.strip().strip('"') for name in first.split(sniff_delimiter(first))]


def read_rows(source: Source) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number where the record starts, row) for every record of a CSV file."""
    text = source.text()
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(first_line))
    try:
        header = next(reader)
    except StopIteration:
        raise EmptyInputError("the file is empty: no header", path=source.path) from None
    header = [name.strip() for name in header]
    seen_rows = False
    line = reader.line_num + 1
    try:
        for values in reader:
            start, line = line, reader.line_num + 1
            if not any(value.strip() for value in values):
                continue
            seen_rows = True
            if len(values) != len(header):
                yield start, {"__error__": f"expected {len(header)} columns, found {len(values)}"}
                continue
            yield start, dict(zip(header, values, strict=True))
    except csv.Error as exc:
        raise InputError(f"malformed CSV: {exc}", path=source.path, where=f"line {reader.line_num}") from None
    if not seen_rows:
        raise EmptyInputError("the file has a header but no rows", path=source.path)


def pick(row: Mapping[str, str], names: Sequence[str]) -> str | None:
    """The first non-blank value among the alias columns ``names``."""
    for name in names:
        value = row.get(name)
        if value is not None and value.strip() not in {"", "NA", "NaN", "nan"}:
            return value.strip()
    return None
