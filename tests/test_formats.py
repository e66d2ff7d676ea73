"""Each platform format: detection from content, and the rows it yields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from equilibrio.api import Workspace
from equilibrio.io import detect_format
from equilibrio.io.bluesky import map_feed_item
from equilibrio.io.twitter import map_v2_tweet


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("twitter_api_v2.json", "twitter-api"),
        ("archive/tweets.js", "twitter-archive"),
        ("mastodon_statuses.json", "mastodon"),
        ("mastodon_notifications.json", "mastodon"),
        ("bluesky_author_feed.json", "bluesky"),
        ("facebook_graph_posts.json", "facebook-graph"),
        ("ga4_conversions.csv", "conversions"),
    ],
)
def test_detects_format_from_content(fixtures: Path, name: str, expected: str) -> None:
    path = fixtures / name
    assert detect_format(path, path.read_bytes()[:65536]).name == expected


def test_detects_real_files(ibm_sample: Path, uci_sample: Path) -> None:
    assert detect_format(ibm_sample, ibm_sample.read_bytes()[:65536]).name == "ibm-care"
    assert detect_format(uci_sample, uci_sample.read_bytes()[:65536]).name == "facebook-uci"


def _posts(ws: Workspace) -> dict[str, dict[str, object]]:
    return {row["post_id"]: row for row in ws.table("posts").to_pylist()}


def test_twitter_api_v2(workspace: Workspace, fixtures: Path) -> None:
    (result,) = workspace.ingest(fixtures / "twitter_api_v2.json")
    assert (result.rows_read, result.rows_inserted, result.rows_rejected) == (4, 4, 0)
    posts = _posts(workspace)
    reply = posts["twitter:1245425308704149506"]
    assert reply["kind"] == "reply"
    assert reply["reply_to_id"] == "twitter:1245403438755852288"
    assert reply["conversation_id"] == "twitter:1245403438755852288"
    assert (reply["likes"], reply["shares"], reply["impressions"]) == (5, 1, 310)
    assert posts["twitter:1245430000000000001"]["kind"] == "repost"
    assert posts["twitter:1245430000000000001"]["impressions"] is None  # not given: unknown, not 0
    accounts = {row["account_id"]: row for row in workspace.table("accounts").to_pylist()}
    assert accounts["twitter:2002"]["handle"] == "TeamYouTube"
    assert accounts["twitter:2002"]["followers"] == 9_800_000


def test_twitter_archive_reads_owner_from_account_js(workspace: Workspace, fixtures: Path) -> None:
    (result,) = workspace.ingest(fixtures / "archive" / "tweets.js")
    assert (result.rows_read, result.rows_stored) == (2, 2)
    posts = _posts(workspace)
    reply = posts["twitter:1243668995494023170"]
    assert reply["account_id"] == "twitter:3000"
    assert reply["is_brand"] is True
    assert reply["reply_to_id"] == "twitter:1243656850517700609"
    assert str(reply["created_at"]).startswith("2020-03-27 22:39:29")
    assert posts["twitter:1243700000000000000"]["likes"] == 54  # archive counts are strings


def test_mastodon_statuses_and_notifications(workspace: Workspace, fixtures: Path) -> None:
    workspace.add_brands(["@bibliotecaes@mastodon.social"])
    (statuses,) = workspace.ingest(fixtures / "mastodon_statuses.json")
    (notifications,) = workspace.ingest(fixtures / "mastodon_notifications.json")
    assert (statuses.rows_read, statuses.rows_stored) == (2, 2)
    # favourite and follow notifications carry no message: rejected with that reason, not dropped
    assert (notifications.rows_read, notifications.rows_stored, notifications.rows_rejected) == (3, 1, 2)
    assert all("carries no message" in reason for reason in notifications.reject_reasons)
    posts = _posts(workspace)
    first = posts["mastodon:mastodon.social:110000000000000001"]
    assert (
        first["text"]
        == "¿Qué libro nos recomendáis para mayo? #lectura\n\nLeemos todas las respuestas & las compartimos."
    )
    assert first["is_brand"] is True
    mention = posts["mastodon:fosstodon.org:110000000000000003"]
    assert mention["kind"] == "reply"
    assert mention["account_id"] == "mastodon:lectora@fosstodon.org"
    assert mention["is_brand"] is False
    answer = posts["mastodon:mastodon.social:110000000000000005"]
    assert answer["reply_to_id"] == "mastodon:mastodon.social:110000000000000003"


def test_bluesky_author_feed(workspace: Workspace, fixtures: Path) -> None:
    (result,) = workspace.ingest(fixtures / "bluesky_author_feed.json")
    assert (result.rows_read, result.rows_stored) == (3, 3)
    rows = workspace.table("posts").to_pylist()
    kinds = sorted(row["kind"] for row in rows)
    assert kinds == ["post", "reply", "repost"]
    assert all(row["is_brand"] for row in rows)  # the feed's actor posted or reposted each
    reply = next(row for row in rows if row["kind"] == "reply")
    assert reply["reply_to_id"] == "bluesky:at://did:plc:audience00000000000000001/app.bsky.feed.post/3kxyz000009"


def test_facebook_graph_posts_and_comments(workspace: Workspace, fixtures: Path) -> None:
    (result,) = workspace.ingest(fixtures / "facebook_graph_posts.json")
    assert (result.rows_read, result.rows_stored) == (4, 4)
    posts = _posts(workspace)
    post = posts["facebook:123456789_1001"]
    assert (post["likes"], post["shares"], post["comments"], post["impressions"], post["reach"]) == (
        79,
        17,
        2,
        5091,
        2752,
    )
    comment = posts["facebook:1001_5001"]
    assert (comment["kind"], comment["is_brand"], comment["reply_to_id"]) == (
        "comment",
        False,
        "facebook:123456789_1001",
    )
    answer = posts["facebook:1001_5002"]
    assert (answer["kind"], answer["is_brand"], answer["reply_to_id"]) == ("reply", True, "facebook:1001_5001")


def test_ga4_conversions(workspace: Workspace, fixtures: Path) -> None:
    (result,) = workspace.ingest(fixtures / "ga4_conversions.csv")
    assert (result.rows_read, result.rows_stored, result.rows_rejected) == (4, 4, 0)
    rows = {row["conversion_id"]: row for row in workspace.table("conversions").to_pylist()}
    assert rows["T-1001"]["value"] == pytest.approx(49.90)
    assert rows["T-1001"]["utm_content"] == "3kabc000001"
    assert rows["T-1004"]["value"] is None
    assert rows["T-1004"]["utm_content"] == "boletin"  # read from the landing URL's query
    again = workspace.ingest(fixtures / "ga4_conversions.csv")[0]
    assert (again.rows_inserted, workspace.info()["conversions"]) == (0, 4)


_QUOTED_URI = "at://did:plc:audience00000000000000002/app.bsky.feed.post/3kq0000001"


def _bluesky_quote(embed: dict[str, Any], view: dict[str, Any] | None) -> dict[str, Any]:
    post: dict[str, Any] = {
        "uri": "at://did:plc:brand0000000000000000001/app.bsky.feed.post/3kq0000002",
        "author": {"did": "did:plc:brand0000000000000000001", "handle": "cafeteria.example.com"},
        "record": {
            "$type": "app.bsky.feed.post",
            "text": "¡Gracias!",
            "createdAt": "2024-03-05T08:00:00Z",
            "embed": embed,
        },
    }
    if view is not None:
        post["embed"] = view
    return map_feed_item({"post": post}, "did:plc:brand0000000000000000001")


def test_bluesky_quotes_keep_the_quoted_post_and_author() -> None:
    quoted_view = {
        "$type": "app.bsky.embed.record#viewRecord",
        "uri": _QUOTED_URI,
        "author": {"handle": "ana.bsky.social"},
    }
    plain = _bluesky_quote(
        {"$type": "app.bsky.embed.record", "record": {"uri": _QUOTED_URI, "cid": "bafy1"}},
        {"$type": "app.bsky.embed.record#view", "record": quoted_view},
    )
    assert (plain["kind"], plain["quoted_id"], plain["quoted_handle"]) == ("quote", _QUOTED_URI, "ana.bsky.social")
    with_media = _bluesky_quote(
        {
            "$type": "app.bsky.embed.recordWithMedia",
            "record": {"$type": "app.bsky.embed.record", "record": {"uri": _QUOTED_URI, "cid": "bafy1"}},
            "media": {"$type": "app.bsky.embed.images", "images": []},
        },
        {"$type": "app.bsky.embed.recordWithMedia#view", "record": {"record": quoted_view}, "media": {}},
    )
    assert (with_media["quoted_id"], with_media["quoted_handle"]) == (_QUOTED_URI, "ana.bsky.social")
    unhydrated = _bluesky_quote({"$type": "app.bsky.embed.record", "record": {"uri": _QUOTED_URI}}, None)
    assert (unhydrated["quoted_id"], unhydrated["quoted_handle"]) == (_QUOTED_URI, None)
    feed_uri = "at://did:plc:someone/app.bsky.feed.generator/coffee"
    shared_feed = _bluesky_quote({"$type": "app.bsky.embed.record", "record": {"uri": feed_uri}}, None)
    assert (shared_feed["quoted_id"], shared_feed["quoted_handle"]) == (None, None)


def test_twitter_api_v2_quotes_keep_the_quoted_tweet() -> None:
    tweet = {
        "id": "1245440000000000001",
        "author_id": "2002",
        "created_at": "2020-04-01T18:00:00.000Z",
        "text": "This is what we mean",
        "referenced_tweets": [{"type": "quoted", "id": "1245403438755852288"}],
    }
    staged = map_v2_tweet(tweet, {"2002": {"username": "TeamYouTube"}})
    assert (staged["kind"], staged["quoted_id"], staged["reply_to_id"]) == ("quote", "1245403438755852288", None)
