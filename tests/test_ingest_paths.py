"""The three JSON Lines paths (direct, checked in bulk, block by block) store the same thing.

A clean file of new posts goes straight from DuckDB's reader into ``posts``; any doubt (a row to
reject, a repeated id, a post already stored) sends it down the checked paths, which name every
problem. These tests pin that the paths agree on real data and that the hand-over is clean.
"""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from equilibrio.api import Workspace
from equilibrio.io._base import Source
from equilibrio.store import ingest
from equilibrio.store.duck import Store
from tests.conftest import table_counts

_EXPORT = """
SELECT p.post_id, p.platform, p.account_id, a.handle, a.display_name, a.followers,
       a.declared_brand AS is_brand, strftime(p.created_at, '%Y-%m-%dT%H:%M:%SZ') AS created_at,
       p.time_precision, p.text, p.lang, p.kind, p.reply_to_id, p.conversation_id, p.quoted_id,
       p.quoted_handle, p.url, p.paid, p.likes, p.shares, p.comments, p.impressions, p.reach, p.clicks
FROM posts AS p JOIN accounts AS a USING (account_id)
ORDER BY p.created_at, p.post_id
"""
_POSTS = "SELECT * EXCLUDE (first_ingest_id, last_ingest_id) FROM posts ORDER BY post_id"
_ACCOUNTS = "SELECT * EXCLUDE (last_ingest_id) FROM accounts ORDER BY account_id"


@pytest.fixture(scope="module")
def canonical_jsonl(ibm_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real IBM customer-care sample, written out as canonical JSON Lines."""
    folder = tmp_path_factory.mktemp("canonical")
    with Store(folder / "source.duckdb") as store:
        Workspace(store).ingest(ibm_sample)
        rows = store.arrow(_EXPORT).to_pylist()
    path = folder / "ibm.jsonl"
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


DECLINED = -1


def _spy_on_direct_path(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """What each call of the direct path did: posts stored, or DECLINED. It still does it."""
    stored: list[int] = []
    real: Callable[..., int] = ingest._insert_jsonl_directly

    def spy(*args: Any) -> int:
        try:
            stored.append(real(*args))
        except BaseException:
            stored.append(DECLINED)
            raise
        return stored[-1]

    monkeypatch.setattr(ingest, "_insert_jsonl_directly", spy)
    return stored


def _ingest_into_new_store(
    path: Path, db: Path
) -> tuple[ingest.IngestResult, list[dict[str, Any]], list[dict[str, Any]]]:
    with Store(db) as store, Workspace(store) as workspace:
        (result,) = workspace.ingest(path)
        return result, store.arrow(_POSTS).to_pylist(), store.arrow(_ACCOUNTS).to_pylist()


def test_the_three_paths_store_the_same_posts_and_accounts(
    canonical_jsonl: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = canonical_jsonl.read_text(encoding="utf-8").count("\n")
    stored = _spy_on_direct_path(monkeypatch)
    direct = _ingest_into_new_store(canonical_jsonl, tmp_path / "direct.duckdb")
    assert stored == [lines]  # the clean file took the direct path, whole

    monkeypatch.setattr(ingest, "_first_post_is_new", lambda *args: False)
    checked = _ingest_into_new_store(canonical_jsonl, tmp_path / "checked.duckdb")
    monkeypatch.setattr(ingest, "_stage_jsonl_natively", lambda *args: False)
    blocks = _ingest_into_new_store(canonical_jsonl, tmp_path / "blocks.duckdb")
    assert stored == [lines]  # the other two never called it

    for result, posts, accounts in (direct, checked, blocks):
        assert (result.rows_read, result.rows_inserted, result.rows_rejected) == (lines, lines, 0)
        assert len(posts) == lines
        assert accounts  # every post's author, with its handle
    assert direct[1] == checked[1] == blocks[1]
    assert direct[2] == checked[2] == blocks[2]
    assert sum(row["is_brand"] for row in direct[1]) > 0  # brand flags were refreshed on the direct path too


def test_a_file_with_a_bad_row_falls_back_and_names_it(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    good = {"platform": "twitter", "account_id": "42", "created_at": "2021-12-30T23:41:04Z", "kind": "post"}
    rows = [{**good, "post_id": str(i), "text": f"hola {i}"} for i in range(50)]
    # A valid timestamp, so only the path's own checks can stop it (the table's constraints would not).
    rows[30]["created_at"] = "1970-01-01T00:00:00Z"
    path = tmp_path / "one_bad.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    stored = _spy_on_direct_path(monkeypatch)
    with caplog.at_level(logging.INFO, logger="equilibrio.store.ingest"):
        (result,) = workspace.ingest(path)
    assert stored == [DECLINED]
    assert "direct JSONL path declined" in caplog.text
    assert (result.rows_read, result.rows_stored, result.rows_rejected) == (50, 49, 1)
    assert [(r["location"], r["reason"]) for r in workspace.rejects().to_pylist()] == [
        ("line 31", "impossible timestamp 1970-01-01T00:00:00Z (before 2004)")
    ]
    assert table_counts(workspace)["posts"] == 49
    assert table_counts(workspace)["ingest_log"] == 1  # the attempt left nothing behind


def test_a_repeated_id_rolls_the_direct_path_back(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = {"platform": "twitter", "account_id": "42", "created_at": "2021-12-30T23:41:04Z", "kind": "post"}
    path = tmp_path / "repeat.jsonl"
    rows = [{**good, "post_id": str(i), "text": f"hola {i}"} for i in (1, 2, 3, 2)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    stored = _spy_on_direct_path(monkeypatch)
    (result,) = workspace.ingest(path)
    assert stored == [DECLINED]  # it wrote four posts, saw the repeat and rolled them back
    assert (result.rows_inserted, result.rows_rejected) == (3, 1)
    assert workspace.rejects().to_pylist()[0]["reason"] == "duplicate post_id twitter:2 (first seen at line 2)"
    assert workspace.store.fetchone("SELECT count(*), count(DISTINCT post_id) FROM posts") == (3, 3)
    # the account columns the attempt added to posts went with it
    columns = [
        row[0]
        for row in workspace.store.fetchall("SELECT column_name FROM duckdb_columns() WHERE table_name = 'posts'")
    ]
    assert columns and not [c for c in columns if c.startswith("_carried")]


def test_two_spellings_of_one_account_become_one_account(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "42" and "twitter:42" on twitter are one account; the latest handle wins.
    good = {"platform": "twitter", "created_at": "2021-12-30T23:41:04Z", "kind": "post"}
    path = tmp_path / "spellings.jsonl"
    rows = [
        {**good, "post_id": "1", "account_id": "42", "handle": "old_name"},
        {
            **good,
            "post_id": "2",
            "account_id": "twitter:42",
            "handle": "new_name",
            "created_at": "2022-01-02T00:00:00Z",
        },
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    stored = _spy_on_direct_path(monkeypatch)
    (result,) = workspace.ingest(path)
    assert stored == [2]
    assert (result.rows_inserted, result.rows_rejected) == (2, 0)
    assert workspace.store.fetchall("SELECT account_id, handle FROM accounts") == [("twitter:42", "new_name")]
    assert workspace.store.fetchall("SELECT DISTINCT account_id FROM posts") == [("twitter:42",)]


def test_a_newer_export_that_starts_with_new_posts_is_merged(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = {"platform": "twitter", "account_id": "42", "created_at": "2021-12-30T23:41:04Z", "kind": "post"}
    first = tmp_path / "first.jsonl"
    first.write_text("".join(json.dumps({**good, "post_id": str(i), "likes": 1}) + "\n" for i in (1, 2)), "utf-8")
    newer = tmp_path / "newer.jsonl"
    newer.write_text(
        "".join(json.dumps({**good, "post_id": str(i), "likes": 5}) + "\n" for i in (3, 4, 1)), encoding="utf-8"
    )
    stored = _spy_on_direct_path(monkeypatch)
    workspace.ingest(first)
    (result,) = workspace.ingest(newer)
    assert stored == [2, DECLINED]  # the newer file's first post is new: tried, rolled back, merged
    assert (result.rows_inserted, result.rows_updated, result.rows_unchanged) == (2, 1, 0)
    assert workspace.store.fetchall("SELECT post_id, likes FROM posts ORDER BY post_id") == [
        ("twitter:1", 5),
        ("twitter:2", 1),
        ("twitter:3", 5),
        ("twitter:4", 5),
    ]


def test_a_reimport_does_not_try_the_direct_path(
    workspace: Workspace, canonical_jsonl: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace.ingest(canonical_jsonl)
    stored = _spy_on_direct_path(monkeypatch)
    (result,) = workspace.ingest(canonical_jsonl)
    assert stored == []  # its first post is stored: straight to the merge
    assert result.rows_inserted == 0 and result.rows_unchanged == result.rows_read


@pytest.mark.parametrize(
    ("name", "wrap", "note", "direct"),
    [
        ("ibm.jsonl.gz", gzip.compress, "decompressed gzip", True),
        ("ibm-gzip-unnamed.jsonl", gzip.compress, "decompressed gzip", False),
        ("ibm-bom.jsonl", lambda data: b"\xef\xbb\xbf" + data, "byte order mark", False),
        ("ibm-utf16.jsonl", lambda data: data.decode("utf-8").encode("utf-16"), "UTF-16", False),
        ("ibm-utf16.jsonl.gz", lambda data: gzip.compress(data.decode("utf-8").encode("utf-16")), "UTF-16", False),
    ],
)
def test_compressed_or_re_encoded_files_store_the_same_posts(
    canonical_jsonl: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    wrap: Callable[[bytes], bytes],
    note: str,
    direct: bool,
) -> None:
    # Exports come gzipped, or saved by Windows tools with a byte order mark or as UTF-16.
    wrapped = tmp_path / name
    wrapped.write_bytes(wrap(canonical_jsonl.read_bytes()))
    plain = _ingest_into_new_store(canonical_jsonl, tmp_path / "plain.duckdb")
    stored = _spy_on_direct_path(monkeypatch)
    bulk_calls: list[Path] = []
    real_bulk = ingest._stage_jsonl_natively
    monkeypatch.setattr(ingest, "_stage_jsonl_natively", lambda *args: bulk_calls.append(args[2]) or real_bulk(*args))
    result, posts, accounts = _ingest_into_new_store(wrapped, tmp_path / "wrapped.duckdb")
    # DuckDB's reader takes gzip by its name only, and fails on a byte order mark or UTF-16:
    # such files go straight to the block reader rather than failing in DuckDB first.
    assert stored == ([plain[0].rows_read] if direct else []) and bulk_calls == []
    assert (result.format, result.rows_read, result.rows_rejected) == ("jsonl", plain[0].rows_read, 0)
    assert posts == plain[1] and accounts == plain[2]
    assert any(note in n for n in result.notes), result.notes


def test_gzipped_whole_file_formats_and_their_size(ibm_sample: Path, fixtures: Path, tmp_path: Path) -> None:
    for original in (ibm_sample, fixtures / "es_handle_threads.csv"):
        packed = tmp_path / (original.name + ".gz")
        packed.write_bytes(gzip.compress(original.read_bytes()))
        assert Source(packed).size == original.stat().st_size  # progress counts uncompressed bytes
        plain = _ingest_into_new_store(original, tmp_path / f"{original.name}.duckdb")
        result, posts, _ = _ingest_into_new_store(packed, tmp_path / f"{packed.name}.duckdb")
        assert result.format == plain[0].format and result.rows_read == plain[0].rows_read
        assert posts == plain[1] and "decompressed gzip" in result.notes


@pytest.mark.parametrize("envelope", [None, "data"])
def test_a_json_array_of_posts_stores_what_json_lines_store(
    canonical_jsonl: Path, tmp_path: Path, envelope: str | None
) -> None:
    # The same real posts saved as one JSON array (or an API envelope) instead of one per line.
    posts = [json.loads(line) for line in canonical_jsonl.read_text(encoding="utf-8").splitlines()]
    array = tmp_path / "ibm.json"
    array.write_text(json.dumps(posts if envelope is None else {envelope: posts}), encoding="utf-8")
    plain = _ingest_into_new_store(canonical_jsonl, tmp_path / "lines.duckdb")
    result, stored, accounts = _ingest_into_new_store(array, tmp_path / "array.duckdb")
    assert (result.format, result.rows_read, result.rows_rejected) == ("json", len(posts), 0)
    assert stored == plain[1] and accounts == plain[2]
