"""Every real export in ../shared/data imports; figures checked against counts made here
independently with the csv/json modules (not with equilibrio's own code)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from equilibrio.api import Workspace


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
    # Tesla's file has dates only: the store says so rather than inventing midnight precision.
    assert set(posts["time_precision"]) == {"day"}


def test_ibm_conversations(workspace: Workspace, shared_data: Path) -> None:
    path = shared_data / "conversations" / "ibm_customer_care" / "dev.json"
    conversations = json.loads(path.read_text(encoding="utf-8"))
    turns = sum(len(c["dialogContent"]) + 1 for c in conversations)  # + the closing agent turn
    negative = sum(c["dialogHeader"]["duration"].startswith("-") for c in conversations)
    ids = [t["tweet_ID"] for c in conversations for t in c["dialogContent"]] + [
        c["agentURL"]["tweet_ID"] for c in conversations if not c["dialogHeader"]["duration"].startswith("-")
    ]
    duplicates = len(ids) - len(set(ids))
    (result,) = workspace.ingest(path)
    assert result.rows_read == turns
    assert result.rows_rejected == negative + duplicates
    assert result.rows_stored == len(set(ids))
    companies = {c["dialogHeader"]["company"] for c in conversations}
    assert set(workspace.info()["brand_accounts"]) == companies


def test_ibm_closing_turn_is_dated_from_the_header(workspace: Workspace, ibm_sample: Path) -> None:
    # The closing turn has no time of its own: it must be the header's start plus its duration.
    conversation = json.loads(ibm_sample.read_text(encoding="utf-8"))[0]
    header = conversation["dialogHeader"]
    workspace.ingest(ibm_sample)
    closing_id = f"twitter:{conversation['agentURL']['tweet_ID']}"
    (when,) = workspace.store.fetchone("SELECT created_at FROM posts WHERE post_id = ?", [closing_id])
    hours, minutes, seconds = (float(x) for x in header["duration"].split(":"))
    from datetime import datetime, timedelta

    start = datetime.fromisoformat(header["conversationDateTime"].replace("Z", "+00:00"))
    assert when == start + timedelta(hours=hours, minutes=minutes, seconds=int(seconds))


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
