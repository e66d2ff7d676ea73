"""Worker processes for labelling big batches: how they start, and what to say when they die."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from equilibrio.errors import ConfigurationError


def spawn_pool(
    workers: int, initializer: Callable[..., object] | None = None, initargs: tuple[Any, ...] = ()
) -> ProcessPoolExecutor:
    """``workers`` fresh processes, each running ``initializer(*initargs)`` once as it starts.

    "spawn", not fork: the parent may already run Polars' and DuckDB's thread pools, which a
    forked child would inherit in an undefined state.
    """
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=initializer,
        initargs=initargs,
    )


def workers_stopped(what: str) -> ConfigurationError:
    """The error for a pool whose processes died (``what`` names them, e.g. "the 2 intent worker processes").

    >>> str(workers_stopped("the 2 intent worker processes")).split(".")[0]
    'the 2 intent worker processes stopped before finishing'
    """
    return ConfigurationError(
        f"{what} stopped before finishing. The usual cause is a script that starts them without "
        '`if __name__ == "__main__":` around its top-level code (each spawned worker imports the script '
        "again); otherwise a worker ran out of memory. Use workers=1 to stay in one process."
    )
