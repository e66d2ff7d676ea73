"""Conversation benchmark: threads, response metrics, inbox and network at scale; sentiment throughput.

    python benchmarks/conversation.py                              # 10M posts, 1M accounts
    python benchmarks/conversation.py --posts 1000000 --accounts 100000

A synthetic store is written straight into DuckDB (ingest has its own benchmark): conversations
of five messages in which an audience member writes to the brand (@brand) and the brand's care
account (@brandhelp) answers in 80% of turns, someone else in the rest; one conversation in ten is
started by the brand. Texts are real texts resampled from ../shared/data/brand_posts; one reply in
ten has lost its reply-to id, so the handle + time fallback does real work; one audience
message in twenty also mentions another person (audience-to-audience edges for the network).
Reply delays are heavy-tailed (one minute to about a day). Sentiment labels in the store are
synthetic (30% negative, 40% neutral, 30% positive); the sentiment *model* is measured
separately on real tweets.

Each implementation runs in its own child process, so peak RSS is its own:

- **equilibrio**: `build_threads`, `conversation_health`, `unanswered_queue`, `build_network`.
- **pandas**: the same response metrics (audience turns, first response median/p90, response
  rate within 24 h with censoring) written as a competent analyst would, from the threads table
  equilibrio built; its figures must agree with equilibrio's (printed).
- **sentiment**: texts/s of each tier on real xlm-t tweets.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _runner import build_atomically, report_from_child, run_child

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(__file__).resolve().parent / "_data"
SENTIMENT_DIR = ROOT.parent / "shared" / "data" / "sentiment"
MESSAGES_PER_CONVERSATION = 5


def generate(db: Path, n_posts: int, n_accounts: int) -> None:
    """Write the synthetic store (schema from equilibrio's own migrations)."""
    import pyarrow as pa

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from equilibrio.store.duck import Store
    from ingest import corpus_profile

    profile = corpus_profile()
    texts = [t.lstrip("@") for t in profile["text"] if t and not t.startswith("RT @")]
    langs = [lang for t, lang in zip(profile["text"], profile["lang"], strict=True) if t and not t.startswith("RT @")]
    with Store(db) as store:
        text_table = pa.table({"i": pa.array(range(len(texts)), pa.int64()), "text": texts, "lang": langs})
        store.create_temp_table("texts", text_table.schema)
        store.append_arrow("texts", text_table)
        store.execute(
            """
            INSERT INTO accounts (account_id, platform, handle, followers, declared_brand, is_brand, last_ingest_id)
            SELECT 'a' || i, 'twitter', CASE i WHEN 0 THEN 'brand' WHEN 1 THEN 'brandhelp' ELSE 'user' || i END,
                   CAST(floor(pow(10, (hash(i) % 6000) / 1000.0)) AS BIGINT), i < 2, i < 2, 1
            FROM range($n_accounts) r(i)
            """,
            {"n_accounts": n_accounts},
        )
        store.execute("INSERT INTO brands VALUES ('brand', now()), ('brandhelp', now())")
        store.execute(
            """
            CREATE TEMP TABLE gen AS
            WITH base AS (
                SELECT i, i // 5 AS c, i % 5 AS k,
                       (i // 5) % 10 = 0 AS brand_started,
                       2 + hash(i // 5) % ($n_accounts - 2) AS u,
                       2 + hash((i // 5) * 7) % ($n_accounts - 2) AS v,
                       hash(i * 31) % 100 < 80 AS brand_answers
                FROM range($n_posts) r(i)
            ), authored AS (
                SELECT *,
                       CASE WHEN brand_started AND k = 0 THEN 0
                            WHEN brand_started AND k % 2 = 1 THEN u
                            WHEN NOT brand_started AND k % 2 = 0 THEN u
                            WHEN brand_answers THEN 1
                            ELSE v END AS author
                FROM base
            )
            SELECT a.*, lag(author) OVER (PARTITION BY c ORDER BY k) AS parent_author,
                   TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(CAST(hash(c * 13) % 31536000 AS BIGINT))
                   + to_seconds(CAST(sum(CASE WHEN k = 0 THEN 0
                                             ELSE 60 + pow(hash(i * 17) % 1000, 2) / 10 END)
                                         OVER (PARTITION BY c ORDER BY k) AS BIGINT)) AS created_at
            FROM authored a
            """,
            {"n_posts": n_posts, "n_accounts": n_accounts},
        )
        store.execute(
            """
            INSERT INTO posts (post_id, platform, account_id, created_at, text, lang, kind, reply_to_id,
                               is_brand, likes, shares, first_ingest_id, last_ingest_id)
            SELECT 'p' || g.i, 'twitter', 'a' || g.author, g.created_at,
                   CASE WHEN g.k = 0 AND g.author = 0 THEN t.text
                        WHEN g.k = 0 THEN '@brand ' || t.text
                        ELSE '@' || CASE WHEN g.parent_author < 2 THEN 'brand' ELSE 'user' || g.parent_author END
                             || ' ' || t.text END
                   || CASE WHEN g.author >= 2 AND hash(g.i * 23) % 20 = 0
                           THEN ' cc @user' || (2 + hash(g.i * 29) % ($n_accounts - 2)) ELSE '' END,
                   t.lang,
                   CASE WHEN g.k = 0 AND g.author = 0 THEN 'post' WHEN g.k = 0 THEN 'mention' ELSE 'reply' END,
                   CASE WHEN g.k > 0 AND hash(g.i * 19) % 10 <> 0 THEN 'p' || (g.i - 1) END,
                   g.author < 2, hash(g.i * 37) % 20, hash(g.i * 41) % 5, 1, 1
            FROM gen g JOIN texts t ON t.i = hash(g.i * 11) % $n_texts
            ORDER BY g.i
            """,
            {"n_accounts": n_accounts, "n_texts": len(texts)},
        )
        store.execute(
            """
            INSERT INTO post_sentiment
            SELECT post_id, 'synthetic', now(),
                   CASE WHEN h < 30 THEN 'negative' WHEN h < 70 THEN 'neutral' ELSE 'positive' END,
                   CASE WHEN h < 30 THEN 0.7 ELSE 0.15 END, CASE WHEN h BETWEEN 30 AND 69 THEN 0.7 ELSE 0.15 END,
                   CASE WHEN h >= 70 THEN 0.7 ELSE 0.15 END
            FROM (SELECT post_id, hash(post_id) % 100 AS h FROM posts WHERE NOT is_brand)
            """
        )
        store.execute("CHECKPOINT")


def _timed(phases: dict[str, float], name: str, work: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    result = work()
    phases[name] = time.perf_counter() - start
    return result


def run_equilibrio(db: Path) -> dict[str, Any]:
    from equilibrio.metrics.conversation import conversation_health, unanswered_queue
    from equilibrio.metrics.threads import build_threads
    from equilibrio.network.graph import build_network
    from equilibrio.store.duck import Store

    phases: dict[str, float] = {}
    with Store(db, memory_limit=os.environ.get("EQUILIBRIO_MEMORY_LIMIT")) as store:
        threads = _timed(phases, "threads", lambda: build_threads(store))
        health = _timed(phases, "response metrics + bidirectionality", lambda: conversation_health(store))
        queue = _timed(
            phases, "unanswered queue (top 50, same turns)", lambda: unanswered_queue(store, 50, turns_prepared=True)
        )
        network = _timed(phases, "network (graph, Leiden, roles, shape)", lambda: build_network(store))
    response = health["response"]
    return {
        "phases": phases,
        "links": threads.links,
        "audience_turns": response["audience_turns"],
        "median_first_response_minutes": response["median_first_response_minutes"],
        "p90_first_response_minutes": response["p90_first_response_minutes"],
        "response_rate": response["response_rate"],
        "queue": len(queue),
        "nodes": network.summary["nodes"],
        "edges": network.summary["edges"],
        "communities": network.summary["community_count"],
        "shape": network.summary["shape"]["shape"],
    }


def run_pandas(db: Path) -> dict[str, Any]:
    """Audience turns and first-response figures with pandas, from the posts and threads tables."""
    import duckdb
    import numpy as np
    import pandas as pd

    phases: dict[str, float] = {}
    start = time.perf_counter()
    con = duckdb.connect(str(db), read_only=True)
    frame = con.execute(
        """SELECT p.post_id, p.created_at, p.is_brand, p.kind, t.conversation_id, t.author_key,
                  t.addressee_key, t.parent_id
           FROM posts p JOIN threads t USING (post_id)"""
    ).df()
    con.close()
    phases["load into pandas"] = time.perf_counter() - start
    start = time.perf_counter()
    frame = frame[frame["kind"] != "repost"]
    brand_keys = set(frame.loc[frame["is_brand"], "author_key"].unique())
    brand_parents = set(frame.loc[frame["is_brand"] & frame["parent_id"].notna(), "parent_id"])
    audience = frame[~frame["is_brand"]]
    inbound = audience[
        audience["addressee_key"].isin(brand_keys)
        | audience["kind"].isin(["comment", "mention", "dm"])
        | audience["post_id"].isin(brand_parents)
    ]
    outbound = frame[frame["is_brand"] & frame["addressee_key"].notna() & ~frame["addressee_key"].isin(brand_keys)]
    left = inbound[["post_id", "created_at", "conversation_id", "author_key"]].sort_values("created_at")
    right = (
        outbound[["post_id", "created_at", "conversation_id", "addressee_key"]]
        .rename(columns={"post_id": "response_id", "created_at": "responded_at", "addressee_key": "author_key"})
        .sort_values("responded_at")
    )
    met = pd.merge_asof(
        left,
        right,
        left_on="created_at",
        right_on="responded_at",
        by=["conversation_id", "author_key"],
        direction="forward",
        allow_exact_matches=True,
    )
    met["response_id"] = met["response_id"].fillna("")
    turns = (
        met.groupby(["conversation_id", "author_key", "response_id"], sort=False)
        .agg(started_at=("created_at", "min"), responded_at=("responded_at", "min"))
        .reset_index()
    )
    turns = turns.sort_values("started_at")
    turns["first_turn"] = turns.groupby(["conversation_id", "author_key"], sort=False).cumcount() == 0
    minutes = (turns["responded_at"] - turns["started_at"]).dt.total_seconds() / 60
    first = minutes[turns["first_turn"]].dropna()
    as_of = frame["created_at"].max()
    window = pd.Timedelta(hours=24)
    eligible = turns["started_at"] <= as_of - window
    answered = turns["responded_at"].notna() & (turns["responded_at"] - turns["started_at"] <= window)
    phases["response metrics"] = time.perf_counter() - start
    return {
        "phases": phases,
        "audience_turns": len(turns),
        "median_first_response_minutes": round(float(np.median(first)), 1),
        "p90_first_response_minutes": round(float(np.quantile(first, 0.9)), 1),
        "response_rate": round(float((eligible & answered).sum() / eligible.sum()), 4),
    }


def run_sentiment(_: Path) -> dict[str, Any]:
    from equilibrio.nlp.sentiment import SentimentModel

    texts: list[str] = []
    langs: list[str] = []
    for lang in ("es", "en"):
        path = SENTIMENT_DIR / f"xlmt_{lang}" / "train_text.txt"
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else ["Gracias por la ayuda"]
        texts += lines
        langs += [lang] * len(lines)
    model = SentimentModel.load()
    model.predict_proba(texts[:10], langs[:10], mode="accurate")  # load the embedding model first
    phases: dict[str, float] = {}
    rates: dict[str, float] = {}
    for mode, count in (("fast", 50_000), ("routed", 600), ("accurate", 300)):
        repeat = (count + len(texts) - 1) // len(texts)
        sample, sample_langs = (texts * repeat)[:count], (langs * repeat)[:count]
        seconds = _timed(phases, mode, lambda s=sample, sl=sample_langs, m=mode: _predict(model, s, sl, m))
        rates[mode] = count / seconds
    return {"phases": phases, "texts_per_second": rates}


def _predict(model: Any, texts: list[str], langs: list[str], mode: str) -> float:
    start = time.perf_counter()
    model.predict_proba(texts, langs, mode=mode)
    return time.perf_counter() - start


IMPLEMENTATIONS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "equilibrio": run_equilibrio,
    "pandas": run_pandas,
    "sentiment": run_sentiment,
}


def child(name: str, db: str) -> None:
    report_from_child(lambda: IMPLEMENTATIONS[name](Path(db)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=10_000_000)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--skip", nargs="*", default=[], help="implementations to skip: equilibrio, pandas, sentiment")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--generate", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.generate:
        target, n_posts, n_accounts = args.generate
        build_atomically(Path(target), lambda partial: generate(partial, int(n_posts), int(n_accounts)))
        return
    if args.posts % MESSAGES_PER_CONVERSATION:
        parser.error(f"--posts must be a multiple of {MESSAGES_PER_CONVERSATION}")
    DATA_DIR.mkdir(exist_ok=True)
    db = DATA_DIR / f"conversation_{args.posts}_{args.accounts}.duckdb"
    if not db.exists():
        print(f"generating {args.posts:,} posts from {args.accounts:,} accounts -> {db}", file=sys.stderr)
        start = time.perf_counter()
        command = [sys.executable, __file__, "--generate", str(db), str(args.posts), str(args.accounts)]
        subprocess.run(command, check=True)
        print(f"  generated in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    results: dict[str, dict[str, Any]] = {}
    for name in IMPLEMENTATIONS:  # equilibrio first: pandas reads the threads it built
        if name in args.skip:
            continue
        print(f"{name} ...", file=sys.stderr)
        results[name] = run_child(__file__, "--child", name, str(db))
    print(f"\n{args.posts:,} posts, {args.accounts:,} accounts\n")
    print("| implementation | phase | seconds |\n|---|---|---|")
    for name, figures in results.items():
        for phase, seconds in figures["phases"].items():
            print(f"| {name} | {phase} | {seconds:.1f} |")
        print(f"| {name} | **total (peak RSS {figures['peak_mb']:,.0f} MB)** | **{figures['seconds']:.1f}** |")
    keys = ("audience_turns", "median_first_response_minutes", "p90_first_response_minutes", "response_rate")
    if "equilibrio" in results and "pandas" in results:
        print("\n| figure | equilibrio | pandas |\n|---|---|---|")
        for key in keys:
            print(f"| {key} | {results['equilibrio'][key]} | {results['pandas'][key]} |")
    if "equilibrio" in results:
        e = results["equilibrio"]
        print(
            f"\nthreads links {e['links']}; network {e['nodes']:,} nodes, {e['edges']:,} edges, "
            f"{e['communities']:,} communities, shape: {e['shape']}; inbox rows {e['queue']}"
        )
    if "sentiment" in results:
        print("\n| sentiment tier | texts/s |\n|---|---|")
        for mode, rate in results["sentiment"]["texts_per_second"].items():
            print(f"| {mode} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
