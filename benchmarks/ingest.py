"""Ingest throughput and peak memory: equilibrio vs a straightforward pandas implementation.

    python benchmarks/ingest.py                 # 1M and 10M posts
    python benchmarks/ingest.py --sizes 100000  # quick run

Posts are generated from the real corpora in ../shared/data (or the bundled sample when it is
absent): texts are real texts resampled, and the reply share, languages and engagement counts
follow the corpora's empirical distributions. Every implementation runs in its own process so
peak RSS is its own; all of them run in the same invocation on the same file. Each child
imports its modules before its clock starts and reports that time apart ("import s").
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _runner import build_atomically, report_from_child, run_child

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "brand_posts"
DATA_DIR = Path(__file__).resolve().parent / "_data"
KINDS = ("post", "reply", "repost", "quote", "comment", "mention", "dm")


def corpus_profile() -> dict[str, list[object]]:
    """Texts, kinds, languages and like/share counts observed in the real brand corpora."""
    texts: list[str] = []
    kinds: list[str] = []
    langs: list[str] = []
    likes: list[int] = []
    shares: list[int] = []
    files = sorted(SHARED.glob("*.csv")) if SHARED.is_dir() else []
    for path in files:
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                text = row.get("text") or row.get("full_text") or row.get("content") or ""
                texts.append(text)
                reply = bool(row.get("reply_to_status_id")) or text.startswith("@")
                kinds.append("repost" if text.startswith("RT @") else "reply" if reply else "post")
                langs.append(row.get("lang") or ("es" if path.name.startswith("es_") else "en"))
                for key, sink in (("favorite_count", likes), ("like_count", likes), ("retweet_count", shares)):
                    value = row.get(key)
                    if value and value.isdigit():
                        sink.append(int(value))
    if not texts:  # no shared data: fall back to the bundled IBM sample
        sample = ROOT / "src" / "equilibrio" / "data" / "ibm_customer_care_sample.json"
        for conversation in json.loads(sample.read_text(encoding="utf-8")):
            for turn in conversation["dialogContent"]:
                texts.append(turn["message"])
                kinds.append("reply" if turn["message"].startswith("@") else "post")
                langs.append("en")
        likes, shares = [0, 1, 2, 5], [0, 0, 1]
    return {"text": texts, "kind": kinds, "lang": langs, "likes": likes, "shares": shares}


def generate(path: Path, n_posts: int, *, simple: bool = False) -> None:
    """Write ``n_posts`` canonical JSONL posts sampled from the corpus profile (DuckDB does the bulk work)."""
    import duckdb
    import pyarrow as pa

    profile = corpus_profile()
    con = duckdb.connect()
    con.register(
        "texts",
        pa.table(
            {
                "i": range(len(profile["text"])),
                "text": profile["text"],
                "kind": profile["kind"],
                "lang": profile["lang"],
            }
        ),
    )
    con.register("likes", pa.table({"i": range(len(profile["likes"])), "v": profile["likes"]}))
    con.register("shares", pa.table({"i": range(len(profile["shares"])), "v": profile["shares"]}))
    n_texts, n_likes, n_shares = len(profile["text"]), len(profile["likes"]), len(profile["shares"])
    n_accounts = max(n_posts // 10, 10)
    con.execute(
        f"""
        COPY (
          SELECT 'p' || g.id AS post_id, 'twitter' AS platform,
                 'u' || (hash(g.id) % {n_accounts}) AS account_id,
                 'user' || (hash(g.id) % {n_accounts}) AS handle,
                 strftime(TIMESTAMP '2018-01-01' + to_seconds((hash(g.id * 7) % 157680000)::BIGINT),
                          '%Y-%m-%dT%H:%M:%SZ') AS created_at,
                 {"left(t.text, 40)" if simple else "t.text"} AS text, t.lang, t.kind,
                 CASE WHEN t.kind = 'reply' AND g.id > 0 THEN 'p' || (hash(g.id * 3) % g.id) END AS reply_to_id,
                 l.v AS likes, s.v AS shares
          FROM range({n_posts}) AS g(id)
          JOIN texts t ON t.i = hash(g.id * 11) % {n_texts}
          JOIN likes l ON l.i = hash(g.id * 13) % {n_likes}
          JOIN shares s ON s.i = hash(g.id * 17) % {n_shares}
          ORDER BY g.id
        ) TO '{path}' (FORMAT json)
        """
    )


# -- the implementations, each run in a child process --------------------------------


def run_equilibrio(path: Path, db: Path) -> int:
    from equilibrio.store.duck import Store
    from equilibrio.store.ingest import ingest_file

    with Store(db, memory_limit=os.environ.get("EQUILIBRIO_MEMORY_LIMIT", "2GB")) as store:
        result = ingest_file(store, path, format="jsonl")
    return result.rows_stored


def run_pandas(path: Path, db: Path) -> int:
    """What a competent analyst would write: chunked read_json, validate, dedupe, append to DuckDB."""
    import duckdb
    import pandas as pd

    con = duckdb.connect(str(db))
    con.execute(
        "CREATE TABLE posts (post_id VARCHAR, platform VARCHAR, account_id VARCHAR, handle VARCHAR, "
        "created_at TIMESTAMPTZ, text VARCHAR, lang VARCHAR, kind VARCHAR, reply_to_id VARCHAR, "
        "likes BIGINT, shares BIGINT)"
    )
    seen: set[str] = set()
    stored = 0
    columns = [
        "post_id",
        "platform",
        "account_id",
        "handle",
        "created_at",
        "text",
        "lang",
        "kind",
        "reply_to_id",
        "likes",
        "shares",
    ]
    for chunk in pd.read_json(path, lines=True, chunksize=200_000, dtype={"post_id": str, "account_id": str}):
        chunk = chunk.reindex(columns=columns)
        chunk["created_at"] = pd.to_datetime(chunk["created_at"], utc=True, errors="coerce")
        valid = (
            chunk["post_id"].notna()
            & chunk["account_id"].notna()
            & chunk["created_at"].notna()
            & chunk["kind"].isin(KINDS)
            & (chunk["created_at"] >= pd.Timestamp("2004-01-01", tz="UTC"))
        )
        chunk = chunk[valid]
        # A set lookup per id: Series.isin(set) would convert the whole growing set every chunk.
        unseen = [post_id not in seen for post_id in chunk["post_id"]]
        chunk = chunk[~chunk["post_id"].duplicated() & pd.Series(unseen, index=chunk.index)]
        seen.update(chunk["post_id"])
        chunk["post_id"] = "twitter:" + chunk["post_id"]
        chunk["account_id"] = "twitter:" + chunk["account_id"]
        con.register("chunk", chunk)
        con.execute("INSERT INTO posts SELECT * FROM chunk")
        con.unregister("chunk")
        stored += len(chunk)
    con.close()
    return stored


def run_duckdb_read_json(path: Path, db: Path) -> int:
    """Reference only: DuckDB's own reader straight into a table, no validation or normalisation."""
    import duckdb

    con = duckdb.connect(str(db))
    con.execute(f"CREATE TABLE posts AS SELECT * FROM read_json('{path}', format='newline_delimited')")
    (count,) = con.execute("SELECT count(*) FROM posts").fetchall()[0]
    con.close()
    return int(count)


IMPLEMENTATIONS = {
    "equilibrio": run_equilibrio,
    "pandas (chunked read_json + validation)": run_pandas,
    "duckdb read_json (reference, no validation)": run_duckdb_read_json,
}
# What each implementation imports. The child imports them before the clock starts and reports
# that time in a column of its own: a user pays it once per process, not per post.
MODULES = {
    "equilibrio": ("equilibrio.store.duck", "equilibrio.store.ingest"),
    "pandas (chunked read_json + validation)": ("duckdb", "pandas"),
    "duckdb read_json (reference, no validation)": ("duckdb",),
}


def child(name: str, path: str) -> None:
    started = time.perf_counter()
    for module in MODULES[name]:
        importlib.import_module(module)
    import_seconds = time.perf_counter() - started

    def work() -> dict[str, Any]:
        with tempfile.TemporaryDirectory(dir=DATA_DIR) as folder:
            stored = IMPLEMENTATIONS[name](Path(path), Path(folder) / "bench.duckdb")
        return {"stored": stored, "import_seconds": import_seconds}

    report_from_child(work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--generate", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument(
        "--profile",
        choices=["realistic", "simple"],
        default="realistic",
        help="realistic: real texts (~340 bytes a line); simple: texts cut to 40 characters (~190 bytes)",
    )
    parser.add_argument("--skip", nargs="*", default=[], help="implementations to skip (by first word)")
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.generate:
        target, n_posts, profile = args.generate
        build_atomically(Path(target), lambda partial: generate(partial, int(n_posts), simple=profile == "simple"))
        return
    DATA_DIR.mkdir(exist_ok=True)
    rows = []
    for n_posts in args.sizes:
        path = DATA_DIR / f"posts_{args.profile}_{n_posts}.jsonl"
        if not path.exists():
            print(f"generating {n_posts:,} {args.profile} posts -> {path}", file=sys.stderr)
            # In a child process: on Linux ru_maxrss survives fork+exec, so a big driver would
            # inflate every later child's peak.
            subprocess.run([sys.executable, __file__, "--generate", str(path), str(n_posts), args.profile], check=True)
        size_mb = path.stat().st_size / 2**20
        for name in IMPLEMENTATIONS:
            if name.split()[0] in args.skip:
                continue
            print(f"{n_posts:,} posts: {name} ...", file=sys.stderr)
            figures = run_child(__file__, "--child", name, str(path))
            rows.append((n_posts, args.profile, size_mb, name, figures))
    header = (
        "posts",
        "profile",
        "file MB",
        "implementation",
        "stored",
        "import s",
        "seconds",
        "posts/s",
        "peak RSS MB",
    )
    print("\n| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    for n_posts, profile, size_mb, name, f in rows:
        rate = n_posts / f["seconds"]
        cells = (
            f"{n_posts:,}",
            profile,
            f"{size_mb:.0f}",
            name,
            f"{f['stored']:,}",
            f"{f['import_seconds']:.2f}",
            f"{f['seconds']:.1f}",
            f"{rate:,.0f}",
            f"{f['peak_mb']:,.0f}",
        )
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
