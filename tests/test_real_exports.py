"""Every real export in ../shared/data imports; figures checked against counts made here
independently with the csv/json modules (not with equilibrio's own code)."""

from __future__ import annotations

import csv
import html
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from equilibrio.api import Workspace


def _tweet_time(tweet_id: str) -> datetime:
    """Twitter's published id layout: milliseconds since 1288834974657 (Unix ms) above 22 bits."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=(int(tweet_id) >> 22) + 1288834974657)


def _csv_rows(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


@pytest.mark.parametrize(
    ("name", "brands"),
    [
        ("en_brand_accounts_2018_2023.csv", []),
        ("en_tesla_2014_2019.csv", ["@Tesla"]),
        ("en_yumbrands_2012_2022.csv", ["@yumbrands"]),
        ("es_banks_2020.csv", []),
        ("es_citibanamex_2021.csv", ["@Citibanamex", "@ContactoCitibmx"]),
        ("es_corpoelec_2018.csv", ["@CORPOELECinfo", "@CorpoelecZulia_", "@corpoelecmerida"]),
    ],
)
def test_every_brand_posts_file_imports(workspace: Workspace, shared_data: Path, name: str, brands: list[str]) -> None:
    path = shared_data / "brand_posts" / name
    expected_rows = len(_csv_rows(path))
    workspace.add_brands(brands)
    (result,) = workspace.ingest(path)
    assert result.format == "twitter-csv"
    assert result.rows_read == expected_rows
    assert result.rows_read == result.rows_stored + result.rows_rejected
    assert result.rows_rejected == 0, result.reject_reasons
    assert workspace.info()["posts"] == expected_rows


def test_brand_flags_match_the_source(workspace: Workspace, shared_data: Path) -> None:
    banks = _csv_rows(shared_data / "brand_posts" / "es_banks_2020.csv")
    workspace.ingest(shared_data / "brand_posts" / "es_banks_2020.csv")
    # procedencia=oficial declares the brand's accounts; their other 163 rows, labelled
    # "usuario" upstream, are visibly their own customer-care replies, so they count as brand too.
    official = {r["screen_Name"] for r in banks if r["procedencia"] == "oficial"}
    assert workspace.info()["brand_posts"] == sum(r["screen_Name"] in official for r in banks)

    yum = _csv_rows(shared_data / "brand_posts" / "en_yumbrands_2012_2022.csv")
    workspace.ingest(shared_data / "brand_posts" / "en_yumbrands_2012_2022.csv")
    before = workspace.info()["brand_posts"]
    workspace.add_brands(["YUMBRANDS"])  # case and @ do not matter; flags refresh at once
    assert workspace.info()["brand_posts"] - before == sum(r["username"] == "yumbrands" for r in yum)


def test_tesla_kinds_and_reply_links(workspace: Workspace, shared_data: Path) -> None:
    path = shared_data / "brand_posts" / "en_tesla_2014_2019.csv"
    rows = _csv_rows(path)
    workspace.ingest(path)
    posts = workspace.polars("posts")
    flagged_retweets = sum(r["is_retweet"] == "TRUE" for r in rows)
    manual_retweets = sum(r["text"].startswith("RT @") and r["is_retweet"] != "TRUE" for r in rows)
    assert (posts["kind"] == "repost").sum() == flagged_retweets + manual_retweets
    with_reply_id = {r["status_id"]: r["reply_to_status_id"] for r in rows if r["reply_to_status_id"]}
    linked = posts.filter(posts["reply_to_id"].is_not_null())
    assert linked.height == len(with_reply_id)
    one = linked.row(0, named=True)
    native = one["post_id"].split(":", 1)[1]
    assert one["reply_to_id"] == f"twitter:{with_reply_id[native]}"
    # Tesla's file has dates only. Ids that are snowflakes carry the moment itself, to the millisecond;
    # 14 ids were written as floats ("1.131631725879e+18") and stay at the day, not at an invented midnight.
    by_id = {f"twitter:{r['status_id']}": r for r in rows}
    exact = posts.filter(posts["time_precision"] == "second")
    assert exact.height == sum(r["status_id"].isdigit() for r in rows) == 2924
    assert set(posts["time_precision"]) == {"day", "second"}
    for post in exact.head(50).iter_rows(named=True):
        row = by_id[post["post_id"]]
        assert post["created_at"] == _tweet_time(row["status_id"])
        assert post["created_at"].date().isoformat() == row["created_at"]
    # X escapes &, < and > in the text it serves; the store keeps the text as its author wrote it
    escaped = {f"twitter:{r['status_id']}": r["text"] for r in rows if "&amp;" in r["text"] or "&lt;" in r["text"]}
    assert len(escaped) > 100
    texts = dict(zip(posts["post_id"], posts["text"], strict=True))
    assert all(texts[post_id] == html.unescape(text) for post_id, text in escaped.items())
    for post in posts.filter(posts["time_precision"] == "day").iter_rows(named=True):
        assert post["created_at"].isoformat() == f"{by_id[post['post_id']]['created_at']}T00:00:00+00:00"


def test_ibm_conversations(workspace: Workspace, shared_data: Path) -> None:
    path = shared_data / "conversations" / "ibm_customer_care" / "dev.json"
    conversations = json.loads(path.read_text(encoding="utf-8"))
    turns = sum(len(c["dialogContent"]) + 1 for c in conversations)  # + the closing agent turn
    ids = [t["tweet_ID"] for c in conversations for t in c["dialogContent"]] + [
        c["agentURL"]["tweet_ID"] for c in conversations
    ]
    duplicates = len(ids) - len(set(ids))
    (result,) = workspace.ingest(path)
    assert result.rows_read == turns
    # closing turns are dated by their ids, so the 22 negative header durations reject nothing
    assert sum(c["dialogHeader"]["duration"].startswith("-") for c in conversations) == 22
    assert result.rows_rejected == duplicates
    assert result.rows_stored == len(set(ids))
    companies = {c["dialogHeader"]["company"] for c in conversations}
    assert set(workspace.info()["brand_accounts"]) == companies


def test_ibm_closing_turn_is_dated_by_its_tweet_id(workspace: Workspace, ibm_sample: Path) -> None:
    # The closing turn has no time of its own; its id does. The header's duration drops whole days
    # (this conversation lasted 1 day 18 h; the header says "18:03:20.0"), so it is not used.
    conversations = json.loads(ibm_sample.read_text(encoding="utf-8"))
    (conversation,) = [c for c in conversations if c["dialogHeader"]["sessionID"] == "WRh0nQB06hT21743u8G9"]
    assert conversation["dialogHeader"]["duration"] == "18:03:20.0"
    (result,) = workspace.ingest(ibm_sample)
    assert result.rows_rejected == 0  # negative header durations no longer matter
    closing_id = f"twitter:{conversation['agentURL']['tweet_ID']}"
    (when,) = workspace.store.fetchone("SELECT created_at FROM posts WHERE post_id = ?", [closing_id])
    assert when == datetime(2020, 2, 26, 8, 25, 9, 829_000, tzinfo=UTC)
    last_turn = datetime.fromisoformat(conversation["dialogContent"][-1]["datetime"].replace("Z", "+00:00"))
    assert when > last_turn
    # every dated turn agrees with its own id to the second, which is why the id is trusted
    for turn in (t for c in conversations for t in c["dialogContent"]):
        stated = datetime.fromisoformat(turn["datetime"].replace("Z", "+00:00"))
        assert abs((_tweet_time(turn["tweet_ID"]) - stated).total_seconds()) < 1


def test_ibm_closing_turn_without_a_dated_id_falls_back_to_the_header(workspace: Workspace, tmp_path: Path) -> None:
    header = {"company": "AskPlayStation", "conversationDateTime": "2020-03-01T10:00:00.000Z", "duration": "1-02:30:00"}
    conversation = {
        "dialogHeader": {**header, "sessionID": "s1", "messageCount": "2"},
        "dialogContent": [
            {
                "client": "ana",
                "datetime": "2020-03-01T10:00:00.000Z",
                "message": "@AskPlayStation help",
                "tweet_ID": "7",
            }
        ],
        "agentURL": {"tweet_ID": "8", "url_utterance": "@ana see https://example.com"},
    }
    # without a dated id and with a negative duration (as 38 real headers have), the turn cannot be dated
    undatable = {
        "dialogHeader": {**header, "sessionID": "s2", "duration": "-00:00:19."},
        "dialogContent": [{**conversation["dialogContent"][0], "tweet_ID": "9"}],
        "agentURL": {"tweet_ID": "10", "url_utterance": "@ana hi"},
    }
    path = tmp_path / "care.json"
    path.write_text(json.dumps([conversation, undatable]), encoding="utf-8")
    (result,) = workspace.ingest(path)
    (when,) = workspace.store.fetchone("SELECT created_at FROM posts WHERE post_id = 'twitter:8'")
    assert when == datetime(2020, 3, 2, 12, 30, tzinfo=UTC)
    assert result.reject_reasons == {"closing agent turn cannot be dated: header duration … is negative": 1}
    assert "closing agent turns without a dated tweet id, dated by the header's duration: 1" in result.notes


def test_uci_facebook_metrics(workspace: Workspace, uci_sample: Path) -> None:
    rows = _csv_rows(uci_sample, delimiter=";")
    (result,) = workspace.ingest(uci_sample)
    assert (result.format, result.rows_read, result.rows_rejected) == ("facebook-uci", 500, 0)
    stored = workspace.store.fetchall("SELECT meta->>'category', count(*), sum(likes) FROM posts GROUP BY 1 ORDER BY 1")
    expected: dict[str, list[int]] = {}
    for row in rows:
        name = {"1": "action", "2": "product", "3": "inspiration"}[row["Category"]]
        entry = expected.setdefault(name, [0, 0])
        entry[0] += 1
        entry[1] += int(row["like"]) if row["like"] else 0
    assert {c: [n, int(likes)] for c, n, likes in stored} == expected
    # "like" is empty on one row: unknown stays NULL, never 0
    assert workspace.store.fetchone("SELECT count(*) FROM posts WHERE likes IS NULL")[0] == sum(
        1 for r in rows if not r["like"]
    )
