"""Threads, response metrics, inbox and network on small real fixtures.

Every expected figure below was worked out by hand from the fixture files' timestamps, not
taken from the code's output. Times are UTC.

ibm_three_threads.json (IBM customer care; the closing agent turn is dated header + duration):
  TeamYouTube  SoulsMindPalace 15:21:28 addresses nobody (no @, no reply to it): not a turn;
               15:32:43 "@YouTube can you please help me?" is answered directly by the agent at
               15:21:28 + 1:24:17 = 16:45:45                      -> first response 73.033 min
  Rockstar     Cmcfarlane67 18:34:50 -> agent 18:43:36            -> first response 8.767 min
               Cmcfarlane67 20:57:34 -> agent 18:34:50 + 2:29:08 = 21:03:58 -> reply 6.4 min
  TMobileHelp  Hedgehog91x 20:35:04 -> agent 13:30:04 + 7:10:10 = 20:40:14 -> first 5.167 min
  First responses {73.033, 8.767, 5.167}: median 8.767; p90 (linear) 8.767 + 0.8 * 64.267 = 60.18;
  mean of those <= p90: (8.767 + 5.167) / 2 = 6.967. All four turns: median (6.4 + 8.767) / 2 = 7.583.

es_handle_threads.csv (Citibanamex, 30 Dec 2021, no reply ids):
  CoronaHex 23:09:15 -> @CoronaHex reply 23:10:36 (1.35 min); CoronaHex 23:39:47 -> 23:40:59 (1.2 min)
  itslizett 23:30:26 -> @itslizett reply 23:31:43 (1.283 min); itslizett 23:40:32 -> no reply yet
"""

from __future__ import annotations

import csv
import json
import statistics
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

import equilibrio
from equilibrio.api import Workspace
from equilibrio.cli import app
from equilibrio.errors import ConfigurationError
from equilibrio.metrics.conversation import BusinessHours
from equilibrio.metrics.threads import build_threads, threads_are_current
from equilibrio.network.graph import AudienceNetwork, _other_communities, _undirected, describe


@pytest.fixture
def ibm_three(workspace: Workspace, fixtures: Path) -> Workspace:
    workspace.ingest(fixtures / "ibm_three_threads.json")
    return workspace


@pytest.fixture
def citibanamex(workspace: Workspace, fixtures: Path) -> Workspace:
    workspace.add_brands(["@Citibanamex"])
    workspace.ingest(fixtures / "es_handle_threads.csv")
    return workspace


def test_every_post_gets_a_conversation(ibm_three: Workspace) -> None:
    summary = build_threads(ibm_three.store)
    assert summary.posts == ibm_three.info()["posts"]
    assert summary.conversations == 3
    # threads carry the post columns the conversation and network queries read, unchanged
    differing = ibm_three.store.fetchone(
        "SELECT count(*) FROM posts p FULL JOIN threads t USING (post_id) WHERE "
        + " OR ".join(
            f"p.{column} IS DISTINCT FROM t.{column}"
            for column in ("platform", "account_id", "created_at", "time_precision", "kind", "is_brand")
        )
    )[0]
    assert differing == 0


def test_threads_are_rebuilt_after_new_posts_or_brands_only(workspace: Workspace, fixtures: Path) -> None:
    workspace.ingest(fixtures / "es_handle_threads.csv")  # no brand declared yet
    assert workspace.conversation()["response"]["audience_turns"] == 0
    assert threads_are_current(workspace.store)
    workspace.add_brands(["@Citibanamex"])  # the same posts, but now two people talk to a brand
    assert not threads_are_current(workspace.store)
    assert workspace.conversation()["response"]["audience_turns"] == 4
    workspace.ingest(fixtures / "ibm_three_threads.json")
    assert not threads_are_current(workspace.store)
    workspace.conversation()
    posts, threaded = workspace.store.fetchone("SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM threads)")
    assert posts == threaded and threads_are_current(workspace.store)


def test_response_times_match_the_hand_computed_ones(ibm_three: Workspace) -> None:
    # Closing agent turns are dated by their tweet ids. First responses: Cmcfarlane67 18:34:50 ->
    # 18:43:36 = 8.767 min; SoulsMindPalace (the turn starts at the message to @YouTube) 15:32:43 ->
    # 16:15:19.341 = 42.606 min; Hedgehog91x 20:35:04 -> 20:40:14.588 = 5.176 min. p90 interpolates
    # 8.767 + 0.8 * (42.606 - 8.767) = 35.838. Replies also count Cmcfarlane67's second turn, 20:57:34
    # -> 21:03:58.468 = 6.408 min: median (6.408 + 8.767) / 2 = 7.588.
    response = ibm_three.conversation()["response"]
    assert response["audience_turns"] == 4
    assert response["turns_answered"] == 4
    assert response["timed_first_responses"] == 3
    assert response["median_first_response_minutes"] == pytest.approx(8.767, abs=0.05)
    assert response["p90_first_response_minutes"] == pytest.approx(35.838, abs=0.05)
    assert response["mean_fastest_90pct_first_response_minutes"] == pytest.approx((5.176 + 8.767) / 2, abs=0.05)
    assert response["median_reply_minutes"] == pytest.approx(7.588, abs=0.05)


def test_response_rate_counts_only_turns_old_enough_to_judge(ibm_three: Workspace) -> None:
    # As of the newest message (1 Apr 20:40:14), a 30-minute window can judge turns started before
    # 20:10:14: SoulsMindPalace (answered after 42.6 min: too late) and both Rockstar turns (in time).
    response = ibm_three.conversation(response_window_hours=0.5)["response"]
    assert response["turns_old_enough"] == 3
    assert response["answered_within_0.5h"] == 2
    assert response["response_rate"] == pytest.approx(2 / 3, abs=1e-4)


def test_business_hours_count_only_opening_minutes(ibm_three: Workspace) -> None:
    # Madrid, 09:00-19:40. Rockstar turn 1 (Fri 20 Mar, CET): 19:34:50 local -> closes 19:40 = 5.167 min.
    # SoulsMindPalace (Wed 1 Apr, CEST): 17:32:43 -> 18:15:19 local, all open = 42.606 min.
    # Hedgehog91x: 22:35 local, closed = 0 min. Median of {42.606, 5.167, 0} = 5.167.
    hours = BusinessHours.parse("09:00-19:40", "Europe/Madrid")
    response = ibm_three.conversation(business_hours=hours)["response"]
    assert response["median_first_response_minutes"] == pytest.approx(5.167, abs=0.05)


def test_bad_business_hours_are_named() -> None:
    with pytest.raises(ConfigurationError, match="09:00-18:00"):
        BusinessHours.parse("9 to 5")
    with pytest.raises(ConfigurationError, match="before closing"):
        BusinessHours.parse("18:00-09:00")


def test_handle_and_time_fallback_rebuilds_id_less_threads(citibanamex: Workspace) -> None:
    summary = build_threads(citibanamex.store)
    assert summary.conversations == 2
    assert summary.links == {"root": 2, "handle_time": 5}
    response = citibanamex.conversation()["response"]
    assert response["audience_turns"] == 4
    assert response["turns_answered"] == 3
    assert response["median_first_response_minutes"] == pytest.approx(
        (1.35 + 1.283) / 2, abs=0.05
    )  # rounded to 0.1 min
    assert response["median_reply_minutes"] == pytest.approx(1.283, abs=0.05)


def test_inbox_lists_the_waiting_turn_with_reasons(citibanamex: Workspace) -> None:
    queue = citibanamex.inbox()
    assert [item["author"] for item in queue] == ["twitter:itslizett"]
    item = queue[0]
    assert item["text"] == "@Citibanamex Ya les envié y jamás me atendieron :/"
    assert item["waiting_hours"] == pytest.approx(27 / 3600, abs=0.01)  # 23:40:32 -> 23:40:59
    assert item["reasons"][0].startswith("waiting")


def test_bidirectionality_counts_replies_and_joined_threads(citibanamex: Workspace) -> None:
    both = citibanamex.conversation()["bidirectionality"]
    assert both["brand_replies"] == 3
    assert both["brand_broadcasts"] == 0
    assert both["audience_started_threads"] == 2
    assert both["joined_share"] == 1.0
    assert both["mean_thread_messages"] == pytest.approx(3.5)  # 4 and 3 messages


def test_network_links_people_to_the_brand_and_exports(citibanamex: Workspace, tmp_path: Path) -> None:
    network = citibanamex.network()
    assert network.summary["nodes"] == 3  # citibanamex, coronahex, itslizett
    assert network.summary["shape"]["figures"]["hub"] == "twitter:citibanamex"
    for name in ("graph.gexf", "graph.graphml"):
        path = network.export(tmp_path / name)
        assert "citibanamex" in path.read_text(encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"\.gexf"):
        network.export(tmp_path / "graph.png")


def test_bridges_count_the_other_communities_around_each_account() -> None:
    # Worked by hand: communities {0, 1} = 0, {2, 3} = 1, {4} = 2. Account 3 talks with 1 (community 0)
    # and 4 (community 2): two other communities. The repeated 2 -> 0 edge must not count twice.
    ends = np.array([[0, 1], [1, 2], [2, 3], [3, 4], [0, 2], [1, 3], [2, 0]])
    membership = np.array([0, 0, 1, 1, 2])
    assert _other_communities(5, ends, membership).tolist() == [1, 1, 1, 2, 1]
    assert _other_communities(3, np.zeros((0, 2), dtype=np.int64), np.array([0, 1, 2])).tolist() == [0, 0, 0]
    nodes = pa.table(
        {
            "name": [f"x:{i}" for i in range(5)],
            "is_brand": [False] * 5,
            **{column: [1] * 5 for column in ("messages", "active_days", "positive", "negative", "followers")},
            "community": membership,
        }
    )
    edges = pa.table(
        {"source": ends[:, 0], "target": ends[:, 1], "weight": [1] * 7, "replies": [1] * 7}
        | {"mentions": [0] * 7, "quotes": [0] * 7}
    )
    summary = describe(nodes, edges, 0.3, largest_component_accounts=5)
    assert summary["bridges"][0]["account"] == "x:3"
    assert summary["bridges"][0]["other_communities"] == 2
    # The same tables as an igraph graph (what exports see): edges and weights survive.
    graph = AudienceNetwork(nodes, edges, summary).graph
    assert sorted(graph.get_edgelist()) == sorted(map(tuple, ends.tolist()))
    assert graph.vs["label"] == ["0", "1", "2", "3", "4"]


def test_undirected_collapse_sums_both_directions_and_busiest_keeps_induced_edges() -> None:
    # Worked by hand: 0->1 (2) and 1->0 (3) are one undirected edge of weight 5; 1->2 (1) stays;
    # 3->1 (4) stays. Strength: 0: 5, 1: 10, 2: 1, 3: 4, so the two busiest are 1 and 0.
    ends = np.array([[0, 1], [1, 0], [1, 2], [3, 1]])
    undirected = _undirected(4, ends, np.array([2.0, 3.0, 1.0, 4.0]))
    assert not undirected.is_directed()
    assert sorted(zip(undirected.get_edgelist(), undirected.es["weight"], strict=True)) == [
        ((0, 1), 5.0),
        ((1, 2), 1.0),
        ((1, 3), 4.0),
    ]
    nodes = pa.table({"name": ["t:a", "t:b", "t:c", "t:d"], "community": [0, 0, 1, 1]})
    edges = pa.table(
        {"source": ends[:, 0], "target": ends[:, 1], "weight": [2, 3, 1, 4]}
        | {kind: [0, 0, 0, 0] for kind in ("replies", "mentions", "quotes")}
    )
    busiest = AudienceNetwork(nodes, edges, {}).busiest(2)
    assert busiest.vs["name"] == ["t:a", "t:b"]
    assert sorted(zip(busiest.get_edgelist(), busiest.es["weight"], strict=True)) == [((0, 1), 2), ((1, 0), 3)]


def test_conversation_cli_reports_response_figures(ibm_three: Workspace) -> None:
    db = ibm_three.path
    assert db is not None
    ibm_three.close()
    result = CliRunner().invoke(app, ["conversation", "--db", str(db), "--json", "--no-analyze"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["response"]["median_first_response_minutes"] == pytest.approx(8.767, abs=0.05)
    result = CliRunner().invoke(app, ["inbox", "--db", str(db), "--json", "--no-analyze"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []  # every turn in these threads was answered
    result = CliRunner().invoke(app, ["network", "--db", str(db), "--json", "--no-analyze"])
    assert json.loads(result.stdout)["nodes"] >= 4


# Hand-built threads: each expected parent, depth and conversation follows from the rules in
# equilibrio.metrics.threads applied on paper to the rows below.
_STRUCTURE_ROWS = [
    # a chain of replies: a <- b <- c <- d
    ("a", "brand", "10:00", "hello", None, None),
    ("b", "ana", "10:05", "@brand hi", "a", None),
    ("c", "brand", "10:07", "@ana thanks", "b", None),
    ("d", "ana", "10:09", "@brand welcome", "c", None),
    # a reply to a message the export does not hold: the missing id names the conversation
    ("e", "ana", "11:00", "@brand still there?", "gone", None),
    ("f", "brand", "11:05", "@ana yes", "e", None),
    # a reply cycle (clock or id error): g answers h, h answers g; i hangs off the cycle
    ("g", "ana", "12:00", "@bob first", "h", None),
    ("h", "bob", "12:10", "@ana second", "g", None),
    ("i", "brand", "12:20", "@bob third", "h", None),
    # no reply ids, but a source conversation: each message answers the one before it
    ("j", "ana", "13:00", "@brand order?", None, "c1"),
    ("k", "brand", "13:01", "@ana on its way", None, "c1"),
    ("l", "ana", "13:02", "@brand thanks", None, "c1"),
    # no parent and no leading handle: addressed to the brand account it names, not to anyone else
    ("m", "carla", "14:00", "me encanta @otra y @Brand", None, None),
]


def test_threads_follow_replies_orders_and_cut_cycles(workspace: Workspace, tmp_path: Path) -> None:
    export = tmp_path / "threads.jsonl"
    rows = [
        {
            "post_id": post_id,
            "platform": "twitter",
            "account_id": "u_" + handle,
            "handle": handle,
            "created_at": f"2024-01-01T{time}:00Z",
            "text": text,
            "kind": "reply" if reply_to or conversation else "post",
            "reply_to_id": reply_to,
            "conversation_id": conversation,
        }
        for post_id, handle, time, text, reply_to, conversation in _STRUCTURE_ROWS
    ]
    export.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    workspace.add_brands(["@brand"])
    workspace.ingest(export)
    summary = build_threads(workspace.store)
    found = {
        post_id.removeprefix("twitter:"): (
            parent and parent.removeprefix("twitter:"),
            depth,
            conversation.removeprefix("twitter:"),
            link,
            addressee and addressee.removeprefix("twitter:"),
        )
        for post_id, parent, depth, conversation, link, addressee in workspace.store.fetchall(
            "SELECT post_id, parent_id, depth, conversation_id, link, addressee_key FROM threads"
        )
    }
    assert found == {
        "a": (None, 0, "a", "root", None),
        "b": ("a", 1, "a", "reply_to", "brand"),
        "c": ("b", 2, "a", "reply_to", "ana"),
        "d": ("c", 3, "a", "reply_to", "brand"),
        "e": (None, 0, "gone", "reply_to", "brand"),
        "f": ("e", 1, "gone", "reply_to", "ana"),
        # the cut falls on the link that points forward in time: g's answer to the later h
        "g": (None, 0, "g", "cycle_cut", "bob"),
        "h": ("g", 1, "g", "reply_to", "ana"),
        "i": ("h", 2, "g", "reply_to", "bob"),
        "j": (None, 0, "c1", "root", "brand"),
        "k": ("j", 1, "c1", "conversation_order", "ana"),
        "l": ("k", 2, "c1", "conversation_order", "brand"),
        "m": (None, 0, "m", "root", "brand"),
    }
    assert summary.conversations == 5
    assert summary.links == {"root": 3, "reply_to": 7, "cycle_cut": 1, "conversation_order": 2}


def test_quotes_link_the_brand_to_the_accounts_it_quotes(workspace: Workspace, shared_data: Path) -> None:
    # Tesla's timeline (rtweet export): quotes name the quoted account in quoted_screen_name and
    # their texts rarely mention it, so without quote edges these people were not in the graph.
    export = shared_data / "brand_posts" / "en_tesla_2014_2019.csv"
    with export.open(encoding="utf-8", newline="") as handle:
        quoted = [
            row["quoted_screen_name"].lower()
            for row in csv.DictReader(handle)
            if row["quoted_screen_name"] and row["is_retweet"] == "FALSE"
        ]
    others = [name for name in quoted if name != "tesla"]  # Tesla quoting itself is no edge
    workspace.add_brands(["@Tesla"])
    workspace.ingest(export)
    graph = workspace.network().graph
    quote_edges = {
        (graph.vs[edge.source]["name"], graph.vs[edge.target]["name"]): edge["quotes"]
        for edge in graph.es
        if edge["quotes"]
    }
    assert set(quote_edges) == {("twitter:tesla", f"twitter:{name}") for name in others}
    assert sum(quote_edges.values()) == len(others)
    summary = workspace.network().summary
    assert summary["interactions_by_kind"]["quotes"] == len(others)
    assert sum(summary["interactions_by_kind"].values()) == summary["interactions"]


def test_replies_to_messages_outside_the_store_are_timed_by_their_ids(
    workspace: Workspace, shared_data: Path, tmp_path: Path
) -> None:
    # Tesla's timeline holds its replies, not the tweets they answer. Independently of equilibrio:
    # Twitter's ids carry milliseconds since 1288834974657 above their lowest 22 bits.
    export = shared_data / "brand_posts" / "en_tesla_2014_2019.csv"
    with export.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    stored = {r["status_id"] for r in rows}

    def posted_ms(tweet_id: str) -> int:
        return (int(tweet_id) >> 22) + 1288834974657

    minutes = sorted(
        (posted_ms(r["status_id"]) - posted_ms(r["reply_to_status_id"])) / 60_000
        for r in rows
        if r["screen_name"] == "Tesla"
        and r["status_id"].isdigit()
        and r["reply_to_status_id"].isdigit()
        and r["reply_to_status_id"] not in stored
        and r["is_retweet"] != "TRUE"
        and not r["text"].startswith("RT @")
    )
    workspace.add_brands(["@Tesla"])
    workspace.ingest(export)
    unstored = workspace.conversation()["replies_to_unstored_messages"]
    assert unstored["replies"] == len(minutes) == 1342  # 3 more answer ids written as floats: not timed
    assert unstored["median_minutes"] == pytest.approx(statistics.median(minutes), abs=0.05)
    assert unstored["replies_dated_before_their_message"] == 0
    # the turn-based figures have nothing to measure here, and the balance score says why
    assert workspace.conversation()["response"]["audience_turns"] == 0
    reason = workspace.balance()["score"]["missing_reasons"]["responsiveness"]
    assert "1,342 replies to messages outside it" in reason and "import the mentions" in reason
    # the report shows the figure in its language
    median = f"{unstored['median_minutes']:.1f}"
    for lang, label, written in (
        ("en", "median time to those replies (min)", median),
        ("es", "mediana del tiempo hasta esas respuestas", median.replace(".", ",")),
    ):
        html = equilibrio.report(workspace, tmp_path / f"report-{lang}.html", lang=lang).read_text(encoding="utf-8")
        assert label in html and f'<td class="num">{written}</td>' in html
        assert '<td class="num">1,342</td>' in html if lang == "en" else '<td class="num">1.342</td>' in html


def test_only_brand_replies_to_dated_unstored_tweets_are_timed(workspace: Workspace, tmp_path: Path) -> None:
    answered = (1_000_000 << 22) | 5  # posted 1,000 s after Twitter's epoch
    answered_ms = 1288834974657 + 1_000_000

    def at(milliseconds: int) -> str:
        return datetime.fromtimestamp(milliseconds / 1000, UTC).isoformat()

    posts = [
        # 30 minutes after the tweet it answers, which the export does not hold
        {
            "post_id": "1",
            "account_id": "brand",
            "created_at": at(answered_ms + 1_800_000),
            "reply_to_id": str(answered),
        },
        # dated before the tweet it answers: counted apart, not timed
        {"post_id": "2", "account_id": "brand", "created_at": at(answered_ms - 60_000), "reply_to_id": str(answered)},
        # an old sequential id carries no time
        {"post_id": "3", "account_id": "brand", "created_at": at(answered_ms), "reply_to_id": "20"},
        # the answered message is in the store: the turn-based figures time it
        {"post_id": "4", "account_id": "brand", "created_at": at(answered_ms + 60_000), "reply_to_id": "5"},
        {"post_id": "5", "account_id": "ana", "created_at": at(answered_ms), "text": "@brand hola"},
        # an audience reply to an unstored tweet is not the brand's
        {"post_id": "6", "account_id": "ana", "created_at": at(answered_ms + 60_000), "reply_to_id": str(answered)},
    ]
    path = tmp_path / "replies.jsonl"
    path.write_text(
        "\n".join(json.dumps({"platform": "twitter", "text": "@x ok", "handle": p["account_id"], **p}) for p in posts),
        encoding="utf-8",
    )
    workspace.add_brands(["@brand"])
    workspace.ingest(path)
    unstored = workspace.conversation()["replies_to_unstored_messages"]
    assert unstored == {
        "replies": 1,
        "median_minutes": 30.0,
        "p90_minutes": 30.0,
        "replies_dated_before_their_message": 1,
    }
