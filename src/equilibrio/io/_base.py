"""What every importer shares: the source file, batches of staged rows, rejects and coercions.

An importer is a small object with ``name``, ``sniff(sample)`` and ``read(source, options)``.
``read`` yields :class:`Batch` objects; each input record becomes exactly one staged row
or one :class:`Reject`, so ``rows_read == staged + rejected`` holds by construction.
"""

from __future__ import annotations

import codecs
import gzip
import io
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import ftfy
import pyarrow as pa

from equilibrio.errors import EmptyInputError, InputError
from equilibrio.schema import STAGED_POST_SCHEMA

SNIFF_BYTES = 64 * 1024
BATCH_ROWS = 20_000

# Sequences that UTF-8 text decoded as Windows-1252/Latin-1 leaves behind ("Ã©", "â€™", "Â¡").
# Every such sequence starts with one of MOJIBAKE_LEADS, which a plain substring search finds far
# faster than the regular expression can rule a text out.
MOJIBAKE_LEADS = ("Ã", "Â", "â")
MOJIBAKE_HINT = re.compile(
    "[" + "".join(MOJIBAKE_LEADS) + "][\u0080-\u00bf\u20ac\u201a-\u203a\u0152\u0153\u0160\u0161\u017d\u017e\u0178]"
)


class RecordError(ValueError):
    """Raised by a mapper for one bad record; becomes a :class:`Reject`, not a failed ingest."""


@dataclass(frozen=True)
class Reject:
    location: str
    reason: str
    excerpt: str | None = None


@dataclass
class Batch:
    """Rows staged from one slice of a source, plus the records rejected in that slice."""

    rows_read: int
    posts: pa.Table | None = None
    conversions: pa.Table | None = None
    rejects: list[Reject] = field(default_factory=list)
    bytes_done: int | None = None


@dataclass(frozen=True)
class ImportOptions:
    """Options an importer may use; all optional."""

    mapping: Mapping[str, str] = field(default_factory=dict)
    """canonical field -> source column (generic CSV/JSONL)."""
    platform: str | None = None
    """platform for generic sources that do not say."""
    brands: frozenset[str] = frozenset()
    """normalised brand handles known to the workspace."""


@dataclass
class Source:
    """An input file, decoded once, with notes about what had to be repaired."""

    path: Path
    notes: list[str] = field(default_factory=list)
    mojibake_fixed: int = 0
    tallies: Counter[str] = field(default_factory=Counter)
    """note -> how many records it concerns (see :meth:`tally`)."""
    _text: str | None = None
    _head: bytes | None = None
    _compressed: bool | None = None
    _raw_start: bytes | None = None

    @property
    def compressed(self) -> bool:
        """Whether the file is gzip-compressed (told by its first bytes, not its name)."""
        if self._compressed is None:
            with self.path.open("rb") as handle:
                self._compressed = handle.read(2) == GZIP_MAGIC
        return self._compressed

    @property
    def readable_as_is(self) -> bool:
        """Whether a reader that knows only UTF-8 (and gzip by the ``.gz`` name) can read the file.

        DuckDB's JSON reader is such a reader: it rejects a byte order mark on the first row,
        cannot decode UTF-16, and tells gzip by the file's name. Files it would fail on go
        straight to the block reader instead of failing there first.
        """
        if self.compressed and self.path.suffix.lower() != ".gz":
            return False
        return not self._content_start().startswith((UTF8_BOM, *UTF16_BOMS))

    def _content_start(self) -> bytes:
        """The content's first bytes (after gzip), byte order mark included."""
        if self._raw_start is None:
            opener = gzip.open if self.compressed else open
            with opener(self.path, "rb") as handle:
                self._raw_start = handle.read(4)
        return self._raw_start

    @property
    def size(self) -> int:
        """Bytes of content: for a gzip file, its uncompressed size (from the gzip trailer)."""
        size = self.path.stat().st_size
        if size >= 18 and self.compressed:
            with self.path.open("rb") as handle:
                handle.seek(-4, 2)
                # The trailer holds the size modulo 2**32; beyond 4 GiB progress is only a guess.
                return max(int.from_bytes(handle.read(4), "little"), 1)
        return size

    def open_bytes(self) -> io.BufferedIOBase:
        """The file's content as a stream of UTF-8 bytes, whatever the file's wrapping.

        A gzip file is decompressed on the fly; a UTF-8 byte order mark is skipped; a UTF-16
        file (told by its byte order mark) is re-encoded as UTF-8 while reading. Each is said
        in the notes once. Other encodings are left to :func:`decode_bytes`.
        """
        start = self._content_start()
        raw: io.BufferedIOBase
        if self.compressed:
            raw = gzip.open(self.path, "rb")  # noqa: SIM115 - returned open, the caller closes it
            self._note("decompressed gzip")
        else:
            raw = self.path.open("rb")
        if start.startswith(UTF16_BOMS):
            # the UTF-16 decoder reads the byte order mark itself
            self._note("file is UTF-16; decoded as such")
            return io.BufferedReader(_AtMost(codecs.EncodedFile(raw, "utf-8", "utf-16")))
        if start.startswith(UTF8_BOM):
            raw.read(len(UTF8_BOM))
            self._note("skipped the UTF-8 byte order mark")
        return raw

    def _note(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)

    def head(self) -> bytes:
        """The first :data:`SNIFF_BYTES` of the content, read once (format detection and the ingest both look)."""
        if self._head is None:
            with self.open_bytes() as handle:
                self._head = handle.read(SNIFF_BYTES)
        return self._head

    def text(self) -> str:
        """The whole file as text (see :meth:`open_bytes`); not UTF-8 is read as Windows-1252, said in notes."""
        if self._text is None:
            with self.open_bytes() as handle:
                raw = handle.read()
            if not raw.strip():
                raise EmptyInputError("the file is empty: no records to import", path=self.path)
            self._text = decode_bytes(raw, self.notes)
        return self._text

    def fix_text(self, value: str | None) -> str | None:
        """Repair mojibake with ftfy only where it is visibly there, and count the repairs."""
        if value is None or not MOJIBAKE_HINT.search(value):
            return value
        fixed = ftfy.fix_encoding(value)  # only the encoding: quotes, widths and HTML stay as written
        if fixed != value:
            self.mojibake_fixed += 1
        return fixed

    def tally(self, note: str) -> None:
        """Count one record under ``note``; the ingest reports each note once, with its count."""
        self.tallies[note] += 1

    def final_notes(self) -> list[str]:
        notes = list(self.notes)
        if self.mojibake_fixed:
            notes.append(
                f"repaired mojibake (UTF-8 read as Latin-1/Windows-1252) in {self.mojibake_fixed} texts with ftfy"
            )
        notes.extend(f"{note}: {count:,}" for note, count in self.tallies.items())
        return notes


GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


class _AtMost(io.RawIOBase):
    """A raw stream over ``source`` that never hands back more bytes than asked for.

    A re-encoding stream (UTF-16 read as UTF-8) may return more bytes than asked: the excess
    waits for the next read.
    """

    def __init__(self, source: _Readable) -> None:
        self._source = source
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = len(buffer)
        if len(self._pending) < size:
            self._pending += self._source.read(size - len(self._pending))
        data, self._pending = self._pending[:size], self._pending[size:]
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._source.close()
        super().close()


def decode_bytes(raw: bytes, notes: list[str]) -> str:
    """UTF-8 bytes as text (byte order marks and UTF-16 are :meth:`Source.open_bytes`' job); else Windows-1252."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        notes.append(
            f"file is not valid UTF-8 (first bad byte 0x{raw[exc.start]:02x} on line {line}); decoded as Windows-1252"
        )
        return raw.decode("cp1252", errors="replace")


class Importer(Protocol):
    name: str
    description: str

    def sniff(self, path: Path, head: bytes) -> bool:
        """True when the first bytes of ``path`` look like this importer's format."""
        ...

    def read(self, source: Source, options: ImportOptions) -> Iterator[Batch]:
        """Yield batches of staged rows and rejects."""
        ...


# -- staging helpers ---------------------------------------------------------------


class BatchBuilder:
    """Collects mapped rows and rejects, and cuts them into :class:`Batch` objects."""

    def __init__(self, schema: pa.Schema = STAGED_POST_SCHEMA, size: int = BATCH_ROWS) -> None:
        self._schema = schema
        self._size = size
        self._rows: list[dict[str, Any]] = []
        self._rejects: list[Reject] = []
        self._read = 0

    def add(self, location: str, mapper: Callable[..., dict[str, Any]], *args: Any, excerpt: str | None = None) -> None:
        """Map one record with ``mapper(*args)``; a :class:`RecordError` becomes a reject at ``location``."""
        self._read += 1
        try:
            row = mapper(*args)
        except RecordError as exc:
            self._rejects.append(Reject(location, str(exc), excerpt))
            return
        if "source_line" not in row and "source_record" not in row:
            row["source_record"] = location
        self._rows.append(row)

    def reject(self, location: str, reason: str, excerpt: str | None = None) -> None:
        self._read += 1
        self._rejects.append(Reject(location, reason, excerpt))

    def full(self) -> bool:
        return len(self._rows) + len(self._rejects) >= self._size

    def flush(self, bytes_done: int | None = None) -> Batch:
        table = pa.Table.from_pylist(self._rows, schema=self._schema) if self._rows else None
        is_posts = self._schema is STAGED_POST_SCHEMA
        batch = Batch(
            rows_read=self._read,
            posts=table if is_posts else None,
            conversions=None if is_posts else table,
            rejects=self._rejects,
            bytes_done=bytes_done,
        )
        self._rows, self._rejects, self._read = [], [], 0
        return batch

    def drain(self) -> Iterator[Batch]:
        if self._read:
            yield self.flush()


# -- value coercions (raise RecordError with a precise reason) -----------------------


def to_count(value: Any, field_name: str) -> int | None:
    """A non-negative engagement count; blank/None means unknown (NULL), never 0."""
    if (
        value is None
        or value == ""
        or (isinstance(value, str) and value.strip().upper() in {"NA", "NULL", "NAN", "NONE"})
    ):
        return None
    if isinstance(value, bool):
        raise RecordError(f"field {field_name!r}: expected a count, got a boolean")
    if isinstance(value, int):
        number = value
    else:
        try:
            as_float = float(str(value).strip().replace(",", ""))
        except ValueError:
            raise RecordError(f"field {field_name!r}: expected a count, got {str(value)[:40]!r}") from None
        if as_float != as_float or not as_float.is_integer():
            raise RecordError(f"field {field_name!r}: expected a whole number, got {str(value)[:40]!r}")
        number = int(as_float)
    if number < 0:
        raise RecordError(f"field {field_name!r}: negative count {number}")
    return number


_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n"}


def to_bool(value: Any, field_name: str) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if text in {"na", "null", "none"}:
        return None
    raise RecordError(f"field {field_name!r}: expected true/false, got {str(value)[:40]!r}")


def twitter_classic_time(value: str) -> str:
    """``"Wed Oct 10 20:19:24 +0000 2018"`` (v1.1 API, archives) -> ISO-8601."""
    try:
        return datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y").isoformat()
    except ValueError:
        raise RecordError(f"unparseable timestamp {value!r}") from None


def x_text(value: str) -> str:
    """A tweet's text as its author wrote it.

    X serves tweet text with ``&``, ``<`` and ``>`` escaped as HTML entities, and only those
    (API v1.1 and v2, account archives, the exports built on them); stored as served, a report
    would show "&amp;" where the author wrote "&".

    >>> x_text("Fish &amp; chips &lt;3 &amp;amp;")
    'Fish & chips <3 &amp;'
    """
    if "&" not in value:
        return value
    return value.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# Tweet ids since 4 November 2010 ("snowflakes") carry the moment the tweet was posted: milliseconds
# since Twitter's epoch, above the id's lowest 22 bits. The older, sequential ids stayed below 2**35.
_SNOWFLAKE_EPOCH = datetime(2010, 11, 4, 1, 42, 54, 657_000, tzinfo=UTC)
_SNOWFLAKE_MIN = 1 << 35


def snowflake_time(tweet_id: str) -> datetime | None:
    """When a tweet was posted, read from its id; None for an id that carries no time.

    >>> snowflake_time("1232582361155547138").isoformat()
    '2020-02-26T08:25:09.829000+00:00'
    >>> snowflake_time("20") is None, snowflake_time("1.131631725879e+18") is None
    (True, True)
    """
    if not (tweet_id.isascii() and tweet_id.isdigit() and len(tweet_id) <= 19):
        return None
    value = int(tweet_id)
    if not _SNOWFLAKE_MIN <= value < 1 << 63:
        return None
    return _SNOWFLAKE_EPOCH + timedelta(milliseconds=value >> 22)


def required(record: Mapping[str, Any], key: str) -> Any:
    value = record.get(key)
    if value is None or value == "":
        raise RecordError(f"missing required field {key!r}")
    return value


def excerpt(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text[:limit]


def json_error_location(text: str, position: int) -> str:
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return f"line {line}, column {column}"


def parse_json_document(source: Source) -> Any:
    """Parse a whole-file JSON document with an error that says where it broke."""
    import json

    text = source.text()
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        stripped = text.rstrip()
        looks_like_json = stripped.lstrip().startswith(("{", "["))
        truncated = looks_like_json and (exc.pos >= len(stripped) - 1 or not stripped.endswith(("}", "]")))
        what = "truncated JSON (the file ends mid-document)" if truncated else f"invalid JSON: {exc.msg}"
        raise InputError(what, path=source.path, where=json_error_location(text, exc.pos)) from None


def parse_json_pages(source: Source) -> list[Any]:
    """API responses saved as one document, a JSON list of pages, or one page per line."""
    import json

    text = source.text().strip()
    if text.startswith("{") and "\n{" in text:
        try:
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError:
            pass  # a pretty-printed single document: parse it whole below
    document = parse_json_document(source)
    return document if isinstance(document, list) else [document]
