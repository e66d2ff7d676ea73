"""Bad input: a clear error or a rejected record naming file, line/record and reason."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from equilibrio.api import Workspace
from equilibrio.errors import ConfigurationError, EmptyInputError, FormatDetectionError, InputError
from equilibrio.store.duck import Store
from tests.conftest import table_counts

GOOD = {
    "post_id": "1",
    "platform": "twitter",
    "account_id": "42",
    "handle": "ana",
    "created_at": "2021-12-30T23:41:04Z",
    "text": "hola",
    "kind": "post",
}


def _jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _row(**changes: object) -> str:
    return json.dumps({**GOOD, **changes}, ensure_ascii=False)


def test_empty_file(workspace: Workspace, tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    with pytest.raises(EmptyInputError, match=r"empty\.jsonl: the file is empty"):
        workspace.ingest(empty)


def test_header_only_csv(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("status_id,screen_name,text,created_at\n", encoding="utf-8")
    with pytest.raises(EmptyInputError, match="header but no rows"):
        workspace.ingest(path)


def test_file_of_another_format(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "picture.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    with pytest.raises(FormatDetectionError, match=r"picture\.png: cannot tell the format.*--format"):
        workspace.ingest(path)


def test_zip_archive_is_named_with_what_to_do(workspace: Workspace, tmp_path: Path) -> None:
    archive = tmp_path / "twitter-2024.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("data/tweets.js", "window.YTD.tweets.part0 = []")
    with pytest.raises(FormatDetectionError, match=r"twitter-2024.zip: is a ZIP archive; extract it.*data/tweets.js"):
        workspace.ingest(archive)
    assert table_counts(workspace)["posts"] == 0


def test_a_store_passed_as_an_export_says_how_to_open_it(workspace: Workspace, tmp_path: Path) -> None:
    store_path = tmp_path / "brand.duckdb"
    with Workspace(Store(store_path)):
        pass  # a real store file, as `equilibrio demo` or `ingest --db` leave behind
    with pytest.raises(FormatDetectionError, match=r"brand\.duckdb: is a DuckDB store.*--db PATH.*load\(db=PATH\)"):
        workspace.ingest(store_path)
    assert table_counts(workspace)["posts"] == 0


def test_wrong_format_forced(workspace: Workspace, uci_sample: Path) -> None:
    before = table_counts(workspace)
    with pytest.raises(InputError, match=r"facebook_metrics_uci\.csv \(line 1, column 1\): invalid JSON"):
        workspace.ingest(uci_sample, format="twitter-api")
    assert table_counts(workspace) == before


def test_unknown_format_name(workspace: Workspace, uci_sample: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"unknown format 'tiktok'; expected one of: .*jsonl"):
        workspace.ingest(uci_sample, format="tiktok")


def test_truncated_json_document(workspace: Workspace, fixtures: Path, tmp_path: Path) -> None:
    text = (fixtures / "twitter_api_v2.json").read_text(encoding="utf-8")
    cut = tmp_path / "cut.json"
    cut.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(InputError, match=r"cut\.json \(line \d+, column \d+\): truncated JSON"):
        workspace.ingest(cut)


def test_jsonl_bad_lines_are_rejected_with_line_numbers(workspace: Workspace, tmp_path: Path) -> None:
    path = _jsonl(
        tmp_path / "posts.jsonl",
        [
            _row(),
            _row(post_id="2", created_at="1970-01-01T00:00:00Z"),
            _row(post_id="3", created_at="2999-01-01T00:00:00Z"),
            _row(post_id="4", created_at="yesterday"),
            _row(post_id="5", account_id=None),
            _row(post_id="6", likes="many"),
            _row(post_id="7", kind="story"),
            _row(),  # duplicate of line 1
            "[1, 2]",
            _row(post_id="8", likes="12")[:-5],  # truncated last line
        ],
    )
    (result,) = workspace.ingest(path)
    assert (result.rows_read, result.rows_stored, result.rows_rejected) == (10, 1, 9)
    rejects = {row["location"]: row["reason"] for row in workspace.rejects().to_pylist()}
    assert rejects == {
        "line 2": "impossible timestamp 1970-01-01T00:00:00Z (before 2004)",
        "line 3": "impossible timestamp 2999-01-01T00:00:00Z (in the future)",
        "line 4": 'unparseable timestamp "yesterday"',
        "line 5": 'missing required field "account_id"',
        "line 6": "field 'likes': expected a count, got 'many'",
        "line 7": 'unknown kind "story"',
        "line 8": "duplicate post_id twitter:1 (first seen at line 1)",
        "line 9": "expected a JSON object, got list",
        "line 10": rejects["line 10"],
    }
    assert rejects["line 10"].startswith("invalid JSON")


def test_csv_with_a_short_row(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "tweets.csv"
    path.write_text(
        'status_id,created_at,screen_name,text\n1,2020-01-01T10:00:00Z,ana,"hola\nmundo"\n2,2020-01-01T10:00:00Z\n',
        encoding="utf-8",
    )
    (result,) = workspace.ingest(path)
    assert (result.rows_read, result.rows_stored, result.rows_rejected) == (2, 1, 1)
    (reject,) = workspace.rejects().to_pylist()
    assert (reject["location"], reject["reason"]) == ("line 4", "expected 4 columns, found 2")
    assert workspace.table("posts").column("text").to_pylist() == ["hola\nmundo"]


def test_mojibake_is_repaired_and_said(workspace: Workspace, tmp_path: Path) -> None:
    broken = "Â¿Te refieres a la baja definitiva de una tarjeta de crÃ©dito?"
    path = _jsonl(tmp_path / "moji.jsonl", [_row(text=broken)])
    (result,) = workspace.ingest(path)
    assert workspace.table("posts").column("text").to_pylist() == [
        "¿Te refieres a la baja definitiva de una tarjeta de crédito?"
    ]
    assert any("mojibake" in note and "ftfy" in note for note in result.notes)


def test_windows_1252_file_is_decoded_and_said(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(
        "status_id,created_at,screen_name,text\n1,2020-01-01T10:00:00Z,ana,¿Dónde está mi tarjeta?\n".encode("cp1252")
    )
    (result,) = workspace.ingest(path)
    assert workspace.table("posts").column("text").to_pylist() == ["¿Dónde está mi tarjeta?"]
    assert any("not valid UTF-8" in note and "line 2" in note for note in result.notes)


def test_generic_csv_mapping_names_missing_columns(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("msg_id,author,when,body\n1,ana,2020-01-01T10:00:00Z,hola\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="mapping names columns the file does not have: account_id=account_id"):
        workspace.ingest(path, format="csv", mapping={"post_id": "msg_id", "created_at": "when"}, platform="twitter")
    (result,) = workspace.ingest(
        path,
        format="csv",
        platform="twitter",
        mapping={"post_id": "msg_id", "account_id": "author", "handle": "author", "created_at": "when", "text": "body"},
    )
    assert (result.rows_read, result.rows_stored) == (1, 1)


def test_missing_kind_is_derived_from_reply_links(workspace: Workspace, tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "nokind.jsonl", [_row(kind=None), _row(post_id="2", kind=None, reply_to_id="1")])
    workspace.ingest(path)
    assert workspace.store.fetchall("SELECT post_id, kind FROM posts ORDER BY 1") == [
        ("twitter:1", "post"),
        ("twitter:2", "reply"),
    ]


def test_reject_reasons_are_grouped_by_family(workspace: Workspace, tmp_path: Path) -> None:
    path = _jsonl(
        tmp_path / "dups.jsonl", [_row(), _row(), _row(post_id="2"), _row(post_id="2"), _row(post_id="3", kind="x")]
    )
    (result,) = workspace.ingest(path)
    assert result.reject_reasons == {"duplicate post_id …": 2, "unknown kind …": 1}


def test_conversion_rejects_name_their_lines(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "ga4.csv"
    path.write_text(
        "transaction_id,event_timestamp,purchase_revenue,utm_source,utm_medium\n"
        "T-1,2024-03-04T10:00:00Z,10,bluesky,social\n"
        "T-2,not a time,5,bluesky,social\n"
        "T-1,2024-03-04T11:00:00Z,12,bluesky,social\n"
        "T-3,2024-03-04T12:00:00Z,-3,bluesky,social\n",
        encoding="utf-8",
    )
    (result,) = workspace.ingest(path)
    assert (result.rows_read, result.rows_stored, result.rows_rejected) == (4, 1, 3)
    rejects = {row["location"]: row["reason"] for row in workspace.rejects().to_pylist()}
    assert rejects == {
        "line 3": 'unparseable timestamp "not a time"',
        "line 4": "duplicate conversion_id T-1 (first seen at line 2)",
        "line 5": "negative conversion value",
    }
    assert workspace.table("conversions").column("value").to_pylist() == [10.0]


@pytest.mark.parametrize(
    ("document", "error", "message"),
    [
        ({"posts": "not a list"}, InputError, "expected a JSON array of posts"),
        ({"post_id": "1"}, InputError, "expected a JSON array of posts"),
        ([], EmptyInputError, "holds no posts"),
        ({"data": []}, EmptyInputError, "holds no posts"),
    ],
)
def test_json_array_documents_that_hold_no_posts(
    workspace: Workspace, tmp_path: Path, document: object, error: type[Exception], message: str
) -> None:
    path = tmp_path / "posts.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    before = table_counts(workspace)
    with pytest.raises(error, match=message) as raised:
        workspace.ingest(path, format="json")
    assert "posts.json" in str(raised.value)
    assert table_counts(workspace) == before


def test_a_json_array_is_told_from_json_lines(workspace: Workspace, tmp_path: Path) -> None:
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps([GOOD, {**GOOD, "post_id": "2"}], indent=2), encoding="utf-8")
    (result,) = workspace.ingest(pretty)
    assert (result.format, result.rows_stored) == ("json", 2)
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps([{"id": "1", "body": "hola"}]), encoding="utf-8")
    with pytest.raises(FormatDetectionError, match="--format json with --map"):
        workspace.ingest(unknown)
