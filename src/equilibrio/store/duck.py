"""DuckDB backend: the only module that talks SQL to the engine.

Everything above the store asks for tables through :class:`Store`; swapping DuckDB for a
bigger engine means reimplementing this module, not the analyses.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import duckdb
import pyarrow as pa

from equilibrio.errors import ConfigurationError, StoreError
from equilibrio.store.migrations import CURRENT_VERSION, MIGRATIONS

logger = logging.getLogger(__name__)

TABLES: Final = (
    "accounts",
    "posts",
    "conversions",
    "ingest_log",
    "ingest_rejects",
    "brands",
    "post_labels",
    "threads",
    "post_sentiment",
)


def normalise_handle(handle: str) -> str:
    """``"@Tesla "`` -> ``"tesla"``: handles compare case-insensitively without the ``@``."""
    cleaned = handle.strip().lstrip("@").strip().lower()
    if not cleaned:
        raise ConfigurationError(f"empty brand handle {handle!r}")
    return cleaned


# Timestamps are stored and compared in UTC whatever the machine's zone is.
_UTC_SESSION = "SET TimeZone = 'UTC'"
# DuckDB draws its own progress bar on standard output for any statement over two seconds, even
# when output goes to a file or a pipe (one 15 s statement wrote 11 KB of bars into a redirected
# stdout), where a `--json` command writes its JSON. equilibrio reports progress itself, on stderr:
# DuckDB keeps measuring it (Store.reporting_progress reads it) but never prints it.
_QUIET_SESSION = "SET enable_progress_bar = true; SET enable_progress_bar_print = false"


class Store:
    """A canonical store in one DuckDB file (or in memory when ``path`` is None).

    >>> store = Store(None)
    >>> store.schema_version() == CURRENT_VERSION  # a new store gets every migration
    True
    """

    def __init__(self, path: str | Path | None = None, *, memory_limit: str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        try:
            self._con = duckdb.connect(str(self.path) if self.path else ":memory:")
        except duckdb.Error as exc:
            raise StoreError(f"cannot open store {self.path}: {exc}") from exc
        self._run(_UTC_SESSION)
        self._run(_QUIET_SESSION)
        if memory_limit:
            self._run("SET memory_limit = ?", [memory_limit])
        self._in_transaction = False
        self._migrate()

    # -- lifecycle -------------------------------------------------------
    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _migrate(self) -> None:
        self._run(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, description VARCHAR, applied_at TIMESTAMPTZ)"
        )
        applied = {row[0] for row in self._con.execute("SELECT version FROM schema_migrations").fetchall()}
        if applied and max(applied) > CURRENT_VERSION:
            raise StoreError(
                f"store {self.path} has schema version {max(applied)}, newer than this equilibrio "
                f"understands ({CURRENT_VERSION}); upgrade equilibrio"
            )
        for version, description, ddl in MIGRATIONS:
            if version in applied:
                continue
            # Upgrading a store that holds data can take a while (migration 8 copies every
            # post), so the user is told; a new store's migrations stay quiet.
            log = logger.warning if applied else logger.info
            log("upgrading store %s to schema version %d: %s", self.path or "(in memory)", version, description)
            with self.transaction():
                self._run(ddl)
                self._run(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                    [version, description, datetime.now(UTC)],
                )

    def schema_version(self) -> int:
        row = self.fetchone("SELECT max(version) FROM schema_migrations")
        return int(row[0]) if row and row[0] is not None else 0

    # -- transactions and queries ---------------------------------------
    @property
    def in_transaction(self) -> bool:
        return self._in_transaction

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All-or-nothing: on any exception the store is left exactly as it was."""
        if self._in_transaction:
            yield
            return
        self._run("BEGIN TRANSACTION")
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self._run("ROLLBACK")
            raise
        else:
            self._run("COMMIT")
        finally:
            self._in_transaction = False

    @contextmanager
    def reporting_progress(self, report: Callable[[float], None], every_seconds: float = 0.25) -> Iterator[None]:
        """While the block runs, call ``report`` from a thread with the running statement's progress, 0 to 1.

        DuckDB measures how far a statement's scans have got; a long ``INSERT ... SELECT`` from a
        file reports how much of the file it has read.
        """
        stop = threading.Event()

        def poll() -> None:
            while not stop.wait(every_seconds):
                percent = self._con.query_progress()
                if percent >= 0:  # -1: no statement running, or none that can tell
                    report(min(percent, 100.0) / 100)

        poller = threading.Thread(target=poll, name="duckdb-progress", daemon=True)
        poller.start()
        try:
            yield
        finally:
            stop.set()
            poller.join()

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> None:
        self._run(sql, params)

    def _run(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> None:
        # DuckDB 2 keeps a statement's result open until it is consumed; consume it here.
        self._con.execute(sql, params or []).fetchall()

    def fetchall(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return self._con.execute(sql, params or []).fetchall()

    def fetchone(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> tuple[Any, ...]:
        # fetchall, not fetchone: DuckDB 2 blocks the connection until a result is drained.
        rows = self._con.execute(sql, params or []).fetchall()
        row = rows[0] if rows else None
        if row is None:
            raise StoreError(f"query returned no row: {sql[:80]}")
        return row

    def arrow(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> pa.Table:
        return self._con.sql(sql, params=params or None).to_arrow_table()

    def stream(
        self, sql: str, params: Sequence[Any] | None = None, rows_per_batch: int = 10_000
    ) -> Iterator[pa.RecordBatch]:
        """The rows of ``sql`` in Arrow batches, without holding them all in memory.

        The query runs on a second connection to the same database, so the caller can write
        through this store between batches; the batches keep showing the data as it was when
        the query started.
        """
        cursor = self._con.cursor()
        try:
            cursor.execute(_UTC_SESSION)  # settings are per connection
            reader = cursor.sql(sql, params=params or None).to_arrow_reader(rows_per_batch)
            yield from reader
        finally:
            cursor.close()

    def table(self, name: str) -> pa.Table:
        """A canonical table as Arrow."""
        if name not in TABLES:
            raise ConfigurationError(f"unknown table {name!r}; expected one of {', '.join(TABLES)}")
        return self.arrow(f"SELECT * FROM {name}")  # name checked against TABLES above

    def create_temp_table(self, name: str, schema: pa.Schema) -> None:
        """An empty temporary table (this connection only) with the columns of ``schema``.

        The table is declared column by column, with the types DuckDB reads from ``schema``. Not
        ``CREATE TABLE AS`` an empty Arrow table: in DuckDB 2.0.0, when such a table then
        receives a row group or more from Arrow in the same transaction, its statistics stay
        those of the empty table and queries that consult them (min/max, joins) see no rows.
        """
        self._con.register("_shape", schema.empty_table())
        try:
            columns = self.fetchall("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM _shape)")
        finally:
            self._con.unregister("_shape")
        declared = ", ".join(f"{_quote_identifier(column)} {column_type}" for column, column_type in columns)
        self._run(f"CREATE OR REPLACE TEMP TABLE {name} ({declared})")  # types as DuckDB spelled them

    def append_arrow(self, table_name: str, data: pa.Table) -> None:
        """Append an Arrow table to an existing table with the same column order."""
        self._con.register("_incoming", data)
        try:
            self._run(f"INSERT INTO {table_name} SELECT * FROM _incoming")
        finally:
            self._con.unregister("_incoming")

    # -- workspace settings ----------------------------------------------
    def setting(self, key: str) -> str | None:
        rows = self.fetchall("SELECT value FROM settings WHERE key = ?", [key])
        row = rows[0] if rows else None
        return None if row is None else str(row[0])

    def set_setting(self, key: str, value: str) -> None:
        self._run(
            "INSERT INTO settings VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )

    def pseudonym_salt(self) -> str:
        """The workspace's secret salt, created on first use and kept in the store."""
        salt = self.setting("pseudonym_salt")
        if salt is None:
            salt = secrets.token_hex(16)
            self.set_setting("pseudonym_salt", salt)
        return salt

    def brand_handles(self) -> list[str]:
        return [row[0] for row in self._con.execute("SELECT handle FROM brands ORDER BY handle").fetchall()]

    def add_brands(self, handles: Sequence[str]) -> None:
        with self.transaction():
            for handle in handles:
                self._run(
                    "INSERT INTO brands VALUES (?, ?) ON CONFLICT DO NOTHING",
                    [normalise_handle(handle), datetime.now(UTC)],
                )
            self.refresh_brand_flags()

    def refresh_brand_flags(self) -> None:
        """Recompute ``is_brand`` on accounts and posts from declared brands and the brand list."""
        self._run(
            """
            UPDATE accounts SET is_brand = new_flag FROM (
                SELECT account_id AS id,
                       declared_brand OR coalesce(lower(handle) IN (SELECT handle FROM brands), FALSE)
                           AS new_flag
                FROM accounts) AS flags
            WHERE accounts.account_id = flags.id AND accounts.is_brand IS DISTINCT FROM flags.new_flag
            """
        )
        # Two updates that each filter on posts.is_brand first, rather than one that joins every
        # post to its account: brand accounts are few, and a fresh ingest of 10M posts spent
        # 0.6 s on that join only to change nothing.
        self._run(
            """
            UPDATE posts SET is_brand = TRUE
            WHERE NOT is_brand AND account_id IN (SELECT account_id FROM accounts WHERE is_brand)
            """
        )
        self._run(
            """
            UPDATE posts SET is_brand = FALSE
            WHERE is_brand AND account_id NOT IN (SELECT account_id FROM accounts WHERE is_brand)
            """
        )

    def next_ingest_id(self) -> int:
        return int(self.fetchone("SELECT coalesce(max(ingest_id), 0) + 1 FROM ingest_log")[0])


def _quote_identifier(name: str) -> str:
    """A column name as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'
