"""The web app under load from one client: start-up, pages and the draft checker over loopback HTTP.

    python benchmarks/app.py                       # the demo sample (IBM care + UCI Facebook)
    python benchmarks/app.py --db store.duckdb     # a copy of any store, e.g. benchmarks/_data/balance_1000000.duckdb

``equilibrio serve`` runs in a process of its own (as a user starts it), on a copy of the store,
and this process is the client, so the two do not share an interpreter. Measured: seconds from
the command to the first page (labelling new posts on the way, loading the models, computing the
figures), then the latency of each route, and the server's peak memory (VmHWM). The drafts are
the store's own brand posts, one request each, in routed mode (the app's default). Last, five
posts are labelled and the store relabelled with the adapted model, and drafts are checked
while that runs (the checker serves the model and week it kept; the relabel has both cores).
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path


def _get(url: str, body: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    with urllib.request.urlopen(request, timeout=600) as response:
        return response.status, response.read()


def _timed(url: str, body: bytes | None = None) -> float:
    start = time.perf_counter()
    status, _ = _get(url, body)
    if status != 200:
        raise RuntimeError(f"{url}: HTTP {status}")
    return (time.perf_counter() - start) * 1000


def _row(name: str, times_ms: list[float]) -> str:
    if not times_ms:
        return f"| {name} | 0 | – | – | – |"
    ordered = sorted(times_ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"| {name} | {len(times_ms)} | {statistics.median(times_ms):,.1f} | {p95:,.1f} | {max(times_ms):,.1f} |"


def _drafts_during_a_relabel(base: str, drafts: list[str]) -> tuple[float, list[float]]:
    """Label five posts, relabel the store with the adapted model, and time drafts until it is done."""
    offered = json.loads(_get(f"{base}/api/to-label?limit=5")[1])
    for post in offered:
        _get(f"{base}/api/examples", json.dumps({"post_id": post["post_id"], "label": "conversation"}).encode())
    started = time.perf_counter()
    _get(f"{base}/api/relabel", b"")
    during: list[float] = []
    while json.loads(_get(f"{base}/api/relabel")[1])["status"] == "running":
        during.append(_timed(f"{base}/api/check", json.dumps({"text": drafts[len(during) % len(drafts)]}).encode()))
    state = json.loads(_get(f"{base}/api/relabel")[1])
    if state["status"] != "done":
        raise RuntimeError(f"the relabel ended {state}")
    return time.perf_counter() - started, during


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="a store to copy (default: the demo sample, ingested here)")
    parser.add_argument("--drafts", type=int, default=200, help="draft checks to time")
    args = parser.parse_args()

    from equilibrio.api import Workspace
    from equilibrio.demo import sample_path
    from equilibrio.store.duck import Store

    folder = Path(tempfile.mkdtemp(prefix="equilibrio-app-bench-"))
    db = folder / "store.duckdb"
    if args.db:
        shutil.copy(args.db, db)
    else:
        with Workspace(Store(db)) as workspace:
            workspace.ingest(sample_path("ibm_customer_care_sample.json"), sample_path("facebook_metrics_uci.csv"))
    with Workspace(Store(db)) as workspace:
        posts = workspace.store.fetchone("SELECT count(*) FROM posts")[0]
        drafts = [
            str(text)
            for (text,) in workspace.store.fetchall(
                "SELECT text FROM posts WHERE is_brand AND coalesce(text, '') <> '' ORDER BY post_id LIMIT ?",
                [args.drafts],
            )
        ]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "equilibrio", "serve", "--db", str(db), "--port", str(port)]
    started = time.perf_counter()
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        while True:
            try:
                _get(f"{base}/")
                break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None:
                    raise RuntimeError(f"equilibrio serve stopped: {server.communicate()[1]}") from None
                time.sleep(0.1)
        first_page_s = time.perf_counter() - started
        rows = [
            _row("GET / (figures cached)", [_timed(f"{base}/") for _ in range(20)]),
            _row("GET /report, first in Spanish (computed)", [_timed(f"{base}/report?lang=es")]),
            _row("GET /report (cached)", [_timed(f"{base}/report?lang=es") for _ in range(5)]),
            _row("GET /api/summary", [_timed(f"{base}/api/summary") for _ in range(20)]),
            _row("GET /api/inbox?limit=50", [_timed(f"{base}/api/inbox?limit=50") for _ in range(20)]),
            _row(
                "POST /api/check, one draft each",
                [_timed(f"{base}/api/check", json.dumps({"text": text}).encode("utf-8")) for text in drafts],
            ),
        ]
        relabel_s, during = _drafts_during_a_relabel(base, drafts)
        rows.append(_row(f"POST /api/check while a relabel runs ({relabel_s:.1f} s)", during))
        status = Path(f"/proc/{server.pid}/status").read_text(encoding="utf-8")
        peak_mb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))) / 1024
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
    print(f"store: {args.db or 'demo sample'} ({posts:,} posts); first page {first_page_s:.1f} s after the command")
    print(f"server peak RSS {peak_mb:,.0f} MB\n")
    print("| request | n | median ms | p95 ms | max ms |\n|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
