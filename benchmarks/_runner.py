"""What every benchmark driver here shares: child processes, their JSON report, atomic data files.

Each implementation runs in a child process of its own so that its peak RSS (``ru_maxrss``) is
its own: on Linux ``ru_maxrss`` survives fork+exec, so a big parent would inflate every child.
A child prints one JSON line as its last line of output; the parent reads that line.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def peak_rss_mb() -> float:
    """This process's peak resident memory, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report_from_child(work: Callable[[], dict[str, Any]]) -> None:
    """In a child: run ``work``, add its wall time and peak memory, print the JSON line."""
    start = time.perf_counter()
    figures = work()
    figures["seconds"] = time.perf_counter() - start
    figures["peak_mb"] = peak_rss_mb()
    print(json.dumps(figures, default=str))


def run_child(script: str | Path, *arguments: str) -> dict[str, Any]:
    """In the parent: run ``script`` with ``arguments`` in a new interpreter, return its JSON line."""
    done = subprocess.run([sys.executable, str(script), *arguments], capture_output=True, text=True, check=True)
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def build_atomically(target: Path, build: Callable[[Path], None]) -> None:
    """Write ``target`` through a ``.partial`` file, so an interrupted run never leaves a short one."""
    partial = target.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    build(partial)
    partial.rename(target)
