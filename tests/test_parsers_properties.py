"""Property tests for the parsers (hypothesis): nothing read is lost, values survive the trip."""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import string
from pathlib import Path

import ftfy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from equilibrio.api import Workspace
from equilibrio.errors import EquilibrioError
from equilibrio.io._base import RecordError, Source, snowflake_time, to_count, x_text
from equilibrio.io.generic_json import ENVELOPE_KEYS
from equilibrio.store.duck import Store
from tests.conftest import FIXTURES

# Texts that look like mojibake ("Â¡", "Ã©") are repaired by design (see test_bad_input); the
# round trip is about everything else.
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(["\n", "\t"]), max_size=80).filter(
    lambda t: ftfy.fix_encoding(t) == t
)
RECORD = st.fixed_dictionaries(
    {
        "post_id": st.text(string.digits, min_size=1, max_size=12),
        "account_id": st.text(string.ascii_lowercase, min_size=1, max_size=6).filter(lambda h: h != "nan"),  # R NA
        "created_at": st.datetimes(
            min_value=__import__("datetime").datetime(2005, 1, 1), max_value=__import__("datetime").datetime(2025, 1, 1)
        ).map(lambda d: d.isoformat() + "Z"),
        "text": TEXT,
        "likes": st.none() | st.integers(0, 10**9),
    }
)
GARBAGE = st.sampled_from(["{", "not json", "[]", '{"post_id": ', "null", '"text"'])
LINE = st.one_of(RECORD.map(lambda r: json.dumps({**r, "platform": "twitter", "kind": "post"})), GARBAGE)

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _parse(line: str) -> object:
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        return None


@SETTINGS
@given(lines=st.lists(LINE, min_size=1, max_size=30))
def test_jsonl_read_equals_stored_plus_rejected(tmp_path_factory: object, lines: list[str]) -> None:
    folder = tmp_path_factory.mktemp("jsonl")  # type: ignore[attr-defined]
    path = Path(folder) / "posts.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with Workspace(Store(None)) as ws:
        (result,) = ws.ingest(path, format="jsonl")
        assert result.rows_read == len(lines)
        assert result.rows_read == result.rows_stored + result.rows_rejected
        valid_ids = {
            record["post_id"] for record in map(_parse, lines) if isinstance(record, dict) and "post_id" in record
        }
        assert ws.info()["posts"] == len(valid_ids)


ELEMENT = st.one_of(
    RECORD.map(lambda r: {**r, "platform": "twitter", "kind": "post"}),
    st.sampled_from([None, 5, "text", [], {"post_id": "x"}, {"post_id": "y", "platform": "twitter", "likes": -1}]),
)


@SETTINGS
@given(elements=st.lists(ELEMENT, min_size=1, max_size=30), envelope=st.sampled_from([None, *ENVELOPE_KEYS]))
def test_json_array_read_equals_stored_plus_rejected(
    tmp_path_factory: object, elements: list[object], envelope: str | None
) -> None:
    folder = tmp_path_factory.mktemp("json")  # type: ignore[attr-defined]
    path = Path(folder) / "posts.json"
    path.write_text(json.dumps(elements if envelope is None else {envelope: elements}), encoding="utf-8")
    with Workspace(Store(None)) as ws:
        (result,) = ws.ingest(path, format="json")
        assert result.rows_read == len(elements)
        assert result.rows_read == result.rows_stored + result.rows_rejected
        valid_ids = {e["post_id"] for e in elements if isinstance(e, dict) and "created_at" in e}
        assert ws.info()["posts"] == len(valid_ids)
        located = [row["location"] for row in ws.rejects().to_pylist()]
        assert all(location.startswith("record ") for location in located)


@SETTINGS
@given(records=st.lists(RECORD, min_size=1, max_size=20, unique_by=lambda r: r["post_id"]))
def test_csv_text_and_counts_survive_the_round_trip(tmp_path_factory: object, records: list[dict[str, object]]) -> None:
    folder = tmp_path_factory.mktemp("csv")  # type: ignore[attr-defined]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["status_id", "created_at", "screen_name", "text", "favorite_count"])
    for r in records:
        writer.writerow(
            [r["post_id"], r["created_at"], r["account_id"], r["text"], "" if r["likes"] is None else r["likes"]]
        )
    path = Path(folder) / "tweets.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    with Workspace(Store(None)) as ws:
        (result,) = ws.ingest(path, format="twitter-csv")
        assert (result.rows_read, result.rows_rejected) == (len(records), 0), ws.rejects().to_pylist()
        stored = {row["post_id"]: row for row in ws.table("posts").to_pylist()}
        for r in records:
            row = stored[f"twitter:{r['post_id']}"]
            if str(r["text"]).strip() in {"NA", "NaN", "nan"}:
                continue  # R's missing-value marker in CSV exports is read as "no text"
            # csv strips surrounding blanks of a field only where our reader does: compare stripped
            assert (row["text"] or "") == str(r["text"]).strip()
            assert row["likes"] == r["likes"]


@given(st.integers(0, 10**15))
def test_counts_parse_from_any_rendering(value: int) -> None:
    for rendering in (value, str(value), f"{value:,}", f"{value}.0"):
        assert to_count(rendering, "likes") == value


@given(st.integers(max_value=-1))
def test_negative_counts_are_rejected(value: int) -> None:
    try:
        to_count(value, "likes")
    except RecordError as exc:
        assert "negative" in str(exc)
    else:
        raise AssertionError("a negative count was accepted")


def test_blank_counts_are_unknown_not_zero() -> None:
    assert [to_count(v, "likes") for v in (None, "", "NA", "nan")] == [None, None, None, None]


CORRUPTIBLE = [
    "twitter_api_v2.json",
    "archive/tweets.js",
    "mastodon_statuses.json",
    "mastodon_notifications.json",
    "bluesky_author_feed.json",
    "facebook_graph_posts.json",
    "ga4_conversions.csv",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(CORRUPTIBLE),
    cut=st.floats(0.05, 1.0),
    flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=3),
)
def test_corrupted_files_fail_clearly_or_keep_the_accounting(
    tmp_path_factory: object, name: str, cut: float, flips: list[tuple[float, int]]
) -> None:
    original = (FIXTURES / name).read_bytes()
    data = bytearray(original[: max(1, int(len(original) * cut))])
    for where, value in flips:
        data[int(where * (len(data) - 1))] = value
    folder = Path(tmp_path_factory.mktemp("corrupt"))  # type: ignore[attr-defined]
    target = folder / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(bytes(data))
    if name.startswith("archive/"):
        (folder / "archive" / "account.js").write_bytes((FIXTURES / "archive" / "account.js").read_bytes())
    with Workspace(Store(None)) as ws:
        try:
            results = ws.ingest(target)
        except EquilibrioError as exc:
            assert str(target.name) in str(exc)  # the error names the file
            assert ws.info()["posts"] == 0 and ws.info()["ingests"] == []
            return
        (result,) = results
        assert result.rows_read == result.rows_stored + result.rows_rejected


WRAPPINGS = {
    "utf-8": lambda text: text.encode("utf-8"),
    "utf-8 with BOM": lambda text: text.encode("utf-8-sig"),
    "utf-16": lambda text: text.encode("utf-16"),
    "gzip utf-16": lambda text: gzip.compress(text.encode("utf-16")),
    "gzip utf-8": lambda text: gzip.compress(text.encode("utf-8")),
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    # A text that itself starts with U+FEFF cannot be told from a byte order mark.
    text=st.text(st.characters(blacklist_categories=("Cs",)), max_size=3000).filter(
        lambda t: not t.startswith("\ufeff")
    ),
    wrapping=st.sampled_from(sorted(WRAPPINGS)),
    sizes=st.lists(st.integers(1, 5000), min_size=1, max_size=8),
)
def test_any_wrapping_reads_back_as_the_same_utf8(tmp_path: Path, text: str, wrapping: str, sizes: list[int]) -> None:
    # The JSON Lines reader pulls blocks of any size; a re-encoding stream may hand back more
    # bytes than asked for, and none may be lost or repeated.
    path = tmp_path / "wrapped"
    path.write_bytes(WRAPPINGS[wrapping](text))
    pieces = []
    with Source(path).open_bytes() as handle:
        for size in itertools.cycle(sizes):
            piece = handle.read(size)
            if not piece:
                break
            assert len(piece) <= size
            pieces.append(piece)
    assert b"".join(pieces).decode("utf-8") == text


@given(st.integers(8_192, (1 << 41) - 1), st.integers(0, (1 << 22) - 1))
def test_a_snowflake_id_gives_back_the_millisecond_it_was_built_from(milliseconds: int, low_bits: int) -> None:
    from datetime import UTC, datetime, timedelta

    tweet_id = str((milliseconds << 22) | low_bits)
    twitter_epoch = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=1288834974657)
    assert snowflake_time(tweet_id) == twitter_epoch + timedelta(milliseconds=milliseconds)


@given(st.text(max_size=25))
def test_only_decimal_ids_past_the_sequential_era_carry_a_time(value: str) -> None:
    carried = snowflake_time(value)
    if carried is not None:
        assert value.isascii() and value.isdigit() and (1 << 35) <= int(value) < (1 << 63)
    for sequential in ("20", "29700859247", " 1232582361155547138", "１２３４５６７８９０１２３４５６７８９"):
        assert snowflake_time(sequential) is None


@given(st.text(max_size=60))
def test_tweet_text_comes_back_as_written_from_what_x_serves(written: str) -> None:
    served = written.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert x_text(served) == written
