"""Ingest: run an importer, validate every staged row in one place, merge, log. One transaction.

Invariant reported for every source: ``rows_read == rows_stored + rows_rejected`` where
``rows_stored = inserted + updated + unchanged``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from equilibrio.errors import InputError
from equilibrio.io import detect_format, get_importer
from equilibrio.io._base import Batch, ImportOptions, Reject, Source
from equilibrio.schema import (
    COUNT_COLUMNS,
    EARLIEST_PLAUSIBLE,
    KINDS,
    PLATFORMS,
    STAGED_CONVERSION_SCHEMA,
    STAGED_POST_SCHEMA,
    TIME_PRECISIONS,
)
from equilibrio.store.duck import Store
from equilibrio.store.pseudonym import Pseudonymizer

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]
"""Called with (bytes done, bytes total) while a file is read."""


@dataclass
class IngestResult:
    source: str
    format: str
    ingest_id: int
    rows_read: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    rows_rejected: int = 0
    notes: list[str] = field(default_factory=list)
    reject_reasons: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rows_stored(self) -> int:
        return self.rows_inserted + self.rows_updated + self.rows_unchanged

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["rows_stored"] = self.rows_stored
        return data


def _sql_list(values: Iterable[str]) -> str:
    # Only ever called on the constant tuples of equilibrio.schema, never on user input.
    return ", ".join(f"'{value}'" for value in values)


# In both templates a CASE, unlike OR and AND, evaluates a branch only for the rows that reach
# it, so the costly string work runs on the few values that need it (1M realistic posts: three
# blank checks 0.04 CPU-s instead of 0.27 with trim on every value; five ids qualified 0.15
# instead of 0.22).
_QUALIFY = (
    "CASE WHEN {col} IS NULL THEN NULL WHEN starts_with({col}, platform || ':') THEN {col} "
    "ELSE platform || ':' || {col} END"
)
# Whether trim() leaves {col} empty. trim() strips only characters below '!' or outside ASCII,
# so a value that starts with neither cannot be blank.
_BLANK = "CASE WHEN {col} IS NULL THEN TRUE WHEN {col} < '!' OR {col} >= chr(128) THEN trim({col}) = '' ELSE FALSE END"

# Validation and normalisation run once per row, into ``_rowcheck``; rejects, accounts and
# posts are then read from it without evaluating the checks again. The bulk JSONL path feeds it
# straight from DuckDB's reader, so a clean file is parsed, checked and stored without a
# staging copy. ``{source}`` is ``_stage_posts`` or that reader (constants of this module).
_LOCATION = "coalesce('line ' || source_line, source_record, 'record ' || seq)"
_CHECKED_POSTS = f"""
WITH parsed AS (
    SELECT *, TRY_CAST(created_at AS TIMESTAMPTZ) AS ts
    FROM {{source}}
)
SELECT * REPLACE (
        {_QUALIFY.format(col="post_id")} AS post_id,
        {_QUALIFY.format(col="account_id")} AS account_id,
        {_QUALIFY.format(col="reply_to_id")} AS reply_to_id,
        {_QUALIFY.format(col="conversation_id")} AS conversation_id,
        {_QUALIFY.format(col="quoted_id")} AS quoted_id,
        nullif(ltrim(trim(quoted_handle), '@'), '') AS quoted_handle,
        coalesce(time_precision, 'second') AS time_precision,
        -- sources without a kind column: a message that answers another is a reply
        coalesce(kind, CASE WHEN reply_to_id IS NOT NULL THEN 'reply' ELSE 'post' END) AS kind),
    CASE
        WHEN {_BLANK.format(col="post_id")} THEN 'missing required field "post_id"'
        WHEN platform IS NULL THEN 'missing required field "platform"'
        WHEN platform NOT IN ({_sql_list(PLATFORMS)}) THEN 'unknown platform "' || platform || '"'
        WHEN {_BLANK.format(col="account_id")} THEN 'missing required field "account_id"'
        -- a blank created_at has no timestamp either: only those rows are trimmed
        WHEN ts IS NULL THEN CASE WHEN {_BLANK.format(col="created_at")} THEN 'missing required field "created_at"'
                                  ELSE 'unparseable timestamp "' || created_at || '"' END
        WHEN ts < TIMESTAMPTZ '{EARLIEST_PLAUSIBLE}' THEN
            'impossible timestamp ' || created_at || ' (before {EARLIEST_PLAUSIBLE[:4]})'
        WHEN ts > now() + INTERVAL 2 DAY THEN 'impossible timestamp ' || created_at || ' (in the future)'
        WHEN kind NOT IN ({_sql_list(KINDS)}) THEN 'unknown kind "' || kind || '"'
        WHEN coalesce(time_precision, 'second') NOT IN ({_sql_list(TIME_PRECISIONS)})
            THEN 'unknown time_precision "' || time_precision || '"'
        WHEN least({", ".join(f"coalesce({c}, 0)" for c in COUNT_COLUMNS)}, coalesce(followers, 0)) < 0
            THEN 'negative engagement count'
        WHEN meta IS NOT NULL AND NOT coalesce(json_valid(meta), FALSE) THEN 'field "meta" is not valid JSON'
    END AS reason
FROM parsed
"""
_CHECK_POSTS = "CREATE OR REPLACE TEMP TABLE _rowcheck_rows AS\n" + _CHECKED_POSTS


def _collect_rejects(view: str, key: str, excerpt: str) -> str:
    """SQL for ``_rejected``: rows ``view`` rejects, and every repeat of ``key`` after its first row.

    ``view``, ``key`` and ``excerpt`` are constants of this module, never user input.
    Locations (:data:`_LOCATION`) are only spelled out for rejected rows.
    """
    return f"""
CREATE OR REPLACE TEMP TABLE _rejected AS
WITH repeated AS (
    SELECT {key} FROM {view} WHERE reason IS NULL GROUP BY {key} HAVING count(*) > 1
), dups AS (
    SELECT {key}, min(seq) AS first_seq, arg_min({_LOCATION}, seq) AS first_location
    FROM {view} SEMI JOIN repeated USING ({key}) WHERE reason IS NULL GROUP BY {key}
)
SELECT seq, {_LOCATION} AS location, reason, {excerpt} AS excerpt
FROM {view} WHERE reason IS NOT NULL
UNION ALL
SELECT seq, {_LOCATION}, 'duplicate {key} ' || {key} || ' (first seen at ' || first_location || ')', {excerpt}
FROM {view} JOIN dups USING ({key})
WHERE reason IS NULL AND seq <> first_seq
"""


def _accepted(name: str, view: str) -> str:
    """SQL for a view of the rows of ``view`` that are not in ``_rejected``."""
    return f"""
CREATE OR REPLACE TEMP VIEW {name} AS
SELECT * FROM {view} AS c WHERE c.reason IS NULL AND NOT EXISTS (SELECT 1 FROM _rejected AS r WHERE r.seq = c.seq)
"""


# One row per account of the rows of ``{source}``: the latest handle, display name and follower
# count they carry.
_ACCOUNTS_OF = """
SELECT account_id,
       any_value(platform) AS platform,
       arg_max(handle, ts) FILTER (WHERE handle IS NOT NULL) AS handle,
       arg_max(display_name, ts) FILTER (WHERE display_name IS NOT NULL) AS display_name,
       arg_max(followers, ts) FILTER (WHERE followers IS NOT NULL) AS followers,
       bool_or(coalesce(declared_brand, FALSE)) AS declared_brand
FROM {source} GROUP BY account_id
"""
_MERGE_ACCOUNTS_FROM = """
MERGE INTO accounts USING ({incoming}) AS incoming
ON accounts.account_id = incoming.account_id
WHEN MATCHED THEN UPDATE SET
    handle = coalesce(incoming.handle, accounts.handle),
    display_name = coalesce(incoming.display_name, accounts.display_name),
    followers = coalesce(incoming.followers, accounts.followers),
    declared_brand = accounts.declared_brand OR incoming.declared_brand,
    last_ingest_id = $ingest_id
WHEN NOT MATCHED THEN INSERT
    (account_id, platform, handle, display_name, followers, declared_brand, is_brand, last_ingest_id)
    VALUES (incoming.account_id, incoming.platform, incoming.handle, incoming.display_name,
            incoming.followers, incoming.declared_brand, FALSE, $ingest_id)
"""
_MERGE_ACCOUNTS = _MERGE_ACCOUNTS_FROM.format(incoming=_ACCOUNTS_OF.format(source="_checked"))

# Columns a newer export may update; NULL in the newer export keeps what the store had.
_UPDATABLE = (
    "text",
    "lang",
    "reply_to_id",
    "conversation_id",
    "quoted_id",
    "quoted_handle",
    "url",
    "paid",
    *COUNT_COLUMNS,
    "meta",
)

# Target columns are named: migrations append columns (quoted_id, quoted_handle), so the
# table's physical order is not the canonical model's order.
# ``{carried_columns}`` and ``{carried_values}``: see _insert_jsonl_directly.
_INSERT_POSTS_FROM = """
INSERT INTO posts (post_id, platform, account_id, created_at, time_precision, text, lang, kind,
                   reply_to_id, conversation_id, quoted_id, quoted_handle, is_brand, url, paid,
                   likes, shares, comments, impressions, reach, clicks, meta, first_ingest_id, last_ingest_id
                   {carried_columns})
SELECT v.post_id, v.platform, v.account_id, v.ts, v.time_precision, v.text, v.lang, v.kind,
       v.reply_to_id, v.conversation_id, v.quoted_id, v.quoted_handle, FALSE, v.url, v.paid,
       v.likes, v.shares, v.comments, v.impressions, v.reach, v.clicks, v.meta::JSON, $ingest_id, $ingest_id
       {carried_values}
FROM {source} AS v
"""
_INSERT_POSTS = (
    _INSERT_POSTS_FROM.format(source="_checked", carried_columns="", carried_values="")
    + "WHERE NOT EXISTS (SELECT 1 FROM posts AS p WHERE p.post_id = v.post_id)\n"
)

# A newer export may also date a post better (an IBM closing turn dated by its tweet id instead
# of the header; a date-only row refined by its id), never worse: a coarser precision ("day")
# leaves a finer stored time ("second") alone.
_AS_PRECISE = (  # TIME_PRECISIONS runs from the finest to the coarsest
    f"list_position([{_sql_list(TIME_PRECISIONS)}], v.time_precision)"
    f" <= list_position([{_sql_list(TIME_PRECISIONS)}], posts.time_precision)"
)
# CASE, not AND: DuckDB evaluates both sides of AND on every row, a CASE branch only where it is reached
_REDATED = (
    "CASE WHEN v.ts IS DISTINCT FROM posts.created_at OR v.time_precision <> posts.time_precision "
    f"THEN {_AS_PRECISE} ELSE FALSE END"
)
_UPDATE_POSTS = (
    "UPDATE posts SET "
    + ", ".join(f"{c} = coalesce(v.{c}{'::JSON' if c == 'meta' else ''}, posts.{c})" for c in _UPDATABLE)
    + f", created_at = CASE WHEN {_AS_PRECISE} THEN v.ts ELSE posts.created_at END"
    + f", time_precision = CASE WHEN {_AS_PRECISE} THEN v.time_precision ELSE posts.time_precision END"
    + ", last_ingest_id = $ingest_id FROM _checked AS v WHERE posts.post_id = v.post_id AND ("
    + " OR ".join(
        f"(v.{c} IS NOT NULL AND v.{c}{'::JSON' if c == 'meta' else ''} IS DISTINCT FROM posts.{c})" for c in _UPDATABLE
    )
    + f" OR {_REDATED})"
)

_CHECK_CONVERSIONS = f"""
CREATE OR REPLACE TEMP VIEW _rowcheck_conv AS
WITH parsed AS (
    SELECT *, TRY_CAST(occurred_at AS TIMESTAMPTZ) AS ts
    FROM _stage_conversions
)
SELECT *, CASE
    WHEN {_BLANK.format(col="conversion_id")} THEN 'missing required field "conversion_id"'
    WHEN {_BLANK.format(col="occurred_at")} THEN 'missing required field "occurred_at"'
    WHEN ts IS NULL THEN 'unparseable timestamp "' || occurred_at || '"'
    WHEN ts < TIMESTAMPTZ '{EARLIEST_PLAUSIBLE}' OR ts > now() + INTERVAL 2 DAY
        THEN 'impossible timestamp ' || occurred_at
    WHEN value < 0 THEN 'negative conversion value'
END AS reason
FROM parsed
"""


class _Staging:
    """Appends batches to temporary staging tables and keeps the running counts."""

    def __init__(self, store: Store, ingest_id: int, source_name: str, pseudonymizer: Pseudonymizer | None):
        self.store = store
        self.ingest_id = ingest_id
        self.source_name = source_name
        self.pseudonymizer = pseudonymizer
        self.rows_read = 0
        self.seq = 0
        self.has_posts = False
        self.has_conversions = False
        self.early_rejects = 0
        seq = pa.field("seq", pa.int64())
        store.create_temp_table("_stage_posts", STAGED_POST_SCHEMA.append(seq))
        store.create_temp_table("_stage_conversions", STAGED_CONVERSION_SCHEMA.append(seq))

    def _with_seq(self, table: pa.Table) -> pa.Table:
        seq = pa.array(range(self.seq, self.seq + table.num_rows), pa.int64())
        self.seq += table.num_rows
        return table.append_column("seq", seq)

    def add(self, batch: Batch) -> None:
        self.rows_read += batch.rows_read
        if batch.rejects:
            self._store_rejects(batch.rejects)
        if batch.posts is not None and batch.posts.num_rows:
            posts = batch.posts
            if self.pseudonymizer is not None:
                posts = self.pseudonymizer.apply(posts)
            self.store.append_arrow("_stage_posts", self._with_seq(posts))
            self.has_posts = True
        if batch.conversions is not None and batch.conversions.num_rows:
            self.store.append_arrow("_stage_conversions", self._with_seq(batch.conversions))
            self.has_conversions = True

    def _store_rejects(self, rejects: list[Reject]) -> None:
        self.early_rejects += len(rejects)
        table = pa.table(
            {
                "ingest_id": pa.array([self.ingest_id] * len(rejects), pa.int32()),
                "source": pa.array([self.source_name] * len(rejects), pa.string()),
                "location": [r.location for r in rejects],
                "reason": [r.reason for r in rejects],
                "excerpt": pa.array([r.excerpt for r in rejects], pa.string()),
            }
        )
        self.store.append_arrow("ingest_rejects", table)


def _check_posts(
    store: Store, source: str = "_stage_posts", params: dict[str, Any] | None = None, *, number_rows: bool = False
) -> int:
    """Validate posts from ``source``: rejects into ``_rejected``, the rest seen through ``_checked``.

    ``source`` is ``_stage_posts`` or the bulk reader's SELECT, both built in this module. With
    ``number_rows`` the source has no ``seq`` column and rows are numbered by their place in the
    checked table: on the bulk reader, a sequence cost a third of the checks (0.57 of 1.75 s for
    1M posts), and that path gives way to the block reader, which numbers lines, at any reject.
    """
    store.execute(_CHECK_POSTS.format(source=source), params)
    seq = ", rowid AS seq" if number_rows else ""
    store.execute(f"CREATE OR REPLACE TEMP VIEW _rowcheck AS SELECT *{seq} FROM _rowcheck_rows")  # constant SQL
    store.execute(_collect_rejects("_rowcheck", "post_id", "left(coalesce(text, post_id, ''), 120)"))
    store.execute(_accepted("_checked", "_rowcheck"))
    return int(store.fetchone("SELECT count(*) FROM _rejected")[0])


def _merge_posts(store: Store, ingest_id: int, source_name: str) -> tuple[int, int, int]:
    """Merge ``_checked`` (see :func:`_check_posts`) into the canonical tables."""
    params = {"ingest_id": ingest_id}
    store.execute(
        "INSERT INTO ingest_rejects SELECT $ingest_id, $source, location, reason, excerpt FROM _rejected",
        {"ingest_id": ingest_id, "source": source_name},
    )
    store.execute(_MERGE_ACCOUNTS, params)
    staged, rejected = store.fetchone("SELECT (SELECT count(*) FROM _rowcheck), (SELECT count(*) FROM _rejected)")
    valid = int(staged) - int(rejected)
    # Update existing posts first, so rows inserted below are not compared with themselves.
    updated = int(store.fetchone(_UPDATE_POSTS, params)[0])
    inserted = int(store.fetchone(_INSERT_POSTS, params)[0])
    _drop_checks(store)
    return inserted, updated, valid - inserted - updated


def _merge_conversions(store: Store, ingest_id: int, source_name: str) -> tuple[int, int, int]:
    store.execute(_CHECK_CONVERSIONS)
    store.execute(_collect_rejects("_rowcheck_conv", "conversion_id", "conversion_id"))
    store.execute(_accepted("_checked_conv", "_rowcheck_conv"))
    store.execute(
        "INSERT INTO ingest_rejects SELECT $ingest_id, $source, location, reason, excerpt FROM _rejected",
        {"ingest_id": ingest_id, "source": source_name},
    )
    existing = int(store.fetchone("SELECT count(*) FROM _checked_conv JOIN conversions USING (conversion_id)")[0])
    valid = int(store.fetchone("SELECT count(*) FROM _checked_conv")[0])
    store.execute("DELETE FROM conversions WHERE conversion_id IN (SELECT conversion_id FROM _checked_conv)")
    store.execute(
        "INSERT INTO conversions SELECT conversion_id, ts, value, currency, utm_source, utm_medium, utm_campaign, "
        "utm_content, landing_url, post_id, $ingest_id FROM _checked_conv",
        {"ingest_id": ingest_id},
    )
    for statement in ("DROP VIEW _checked_conv", "DROP VIEW _rowcheck_conv", "DROP TABLE _rejected"):
        store.execute(statement)
    # Re-importing a conversion replaces it; we count it as updated.
    return valid - existing, existing, 0


_SIMPLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_DUCKDB_TYPES = {pa.string(): "VARCHAR", pa.int64(): "BIGINT", pa.bool_(): "BOOLEAN"}


def _jsonl_reader(path: Path, options: ImportOptions) -> tuple[str, dict[str, Any]] | None:
    """DuckDB's parallel reader over a JSON Lines file, as a SELECT of staged post columns.

    ``mojibake_hint`` flags texts that look like mojibake: the scan rides along with the parse
    rather than reading every text again. None when the mapping names keys the reader cannot
    address (nested or unusual names): the block reader handles those.
    """
    from equilibrio.io._base import MOJIBAKE_HINT, MOJIBAKE_LEADS
    from equilibrio.io.jsonl import resolve_mapping

    mapping = resolve_mapping(options.mapping)
    if not all(_SIMPLE_NAME.match(name) for name in mapping.values()):
        return None
    # Column names are checked against _SIMPLE_NAME above; values come in as parameters.
    columns = ", ".join(
        f"'{mapping[f.name]}': '{_DUCKDB_TYPES[f.type]}'" for f in STAGED_POST_SCHEMA if f.name in mapping
    )
    select = ", ".join(
        f'"{mapping[f.name]}" AS {f.name}' if f.name in mapping else f"NULL::{_DUCKDB_TYPES[f.type]} AS {f.name}"
        for f in STAGED_POST_SCHEMA
    )
    params: dict[str, Any] = {"path": str(path)}
    if options.platform:
        select = select.replace('"platform" AS platform', 'coalesce("platform", $platform) AS platform')
        params["platform"] = options.platform
    reader = f"SELECT {select} FROM read_json($path, format = 'newline_delimited', columns = {{{columns}}})"
    # The expression only runs on texts holding a lead character: 10M posts spent about 2 s of
    # CPU in it when it ran on every text.
    leads = " OR ".join(f"contains(text, $mojibake_lead_{i})" for i in range(len(MOJIBAKE_LEADS)))
    hint = f"CASE WHEN {leads} THEN regexp_matches(text, $mojibake) ELSE FALSE END"
    reader = f"SELECT *, {hint} AS mojibake_hint FROM ({reader})"
    params["mojibake"] = MOJIBAKE_HINT.pattern
    params.update({f"mojibake_lead_{i}": lead for i, lead in enumerate(MOJIBAKE_LEADS)})
    return f"({reader})", params


def _stage_jsonl_natively(store: Store, staging: _Staging, path: Path, options: ImportOptions) -> bool:
    """Bulk path for clean JSON Lines: DuckDB's parallel reader straight into the row checks.

    Returns False (leaving no checks behind) whenever the file is not perfectly clean: a parse or
    type error, a row that validation would reject, or visible mojibake. The block reader then
    takes over and names every offending line, which DuckDB's reader cannot do.
    """
    reader = _jsonl_reader(path, options)
    if reader is None:
        return False
    try:
        rejected = _check_posts(store, *reader, number_rows=True)
    except duckdb.Error as exc:
        logger.info("bulk JSONL path declined for %s (%s); reading block by block", path, exc)
        _drop_checks(store)
        return False
    staged, mojibake = store.fetchone("SELECT count(*), count(*) FILTER (WHERE mojibake_hint) FROM _rowcheck")
    if staged == 0 or mojibake or rejected:
        _drop_checks(store)
        return False
    staging.rows_read = int(staged)
    staging.has_posts = True
    return True


class _Declined(Exception):
    """The direct JSONL path cannot take this file; the checked paths will."""


def _first_post_is_new(store: Store, source: Source, options: ImportOptions) -> bool:
    """Whether the file's first post is not in the store yet: a re-import skips the direct path.

    A newer export of posts already stored must be merged, which the direct path cannot do; it
    would find out only after writing every post, and roll them all back.
    """
    from equilibrio.io.jsonl import map_record, resolve_mapping

    first_line = source.head().split(b"\n", 1)[0]
    try:
        record = orjson.loads(first_line)
        row = map_record(record, resolve_mapping(options.mapping), options.platform) if isinstance(record, dict) else {}
    except (orjson.JSONDecodeError, ValueError):
        return False  # the checked paths name the problem
    post_id, platform = row.get("post_id"), row.get("platform")
    if not post_id or not platform:
        return False
    # Qualified by the same rule as every ingested id.
    qualified = f"(SELECT {_QUALIFY.format(col='post_id')} FROM (SELECT ?::VARCHAR AS post_id, ?::VARCHAR AS platform))"
    return not store.fetchone(f"SELECT count(*) FROM posts WHERE post_id = {qualified}", [post_id, platform])[0]


# Account columns the direct path carries in ``posts`` for the length of its transaction.
_CARRIED = {"handle": "VARCHAR", "display_name": "VARCHAR", "followers": "BIGINT", "declared_brand": "BOOLEAN"}


def _insert_jsonl_directly(store: Store, path: Path, options: ImportOptions, ingest_id: int) -> int:
    """Fastest path: a clean file of new posts goes from DuckDB's reader straight into ``posts``.

    Runs inside the ingest's transaction and returns the number of posts stored. Any row that
    validation would reject, visible mojibake, or a post id seen twice (in the file or already in
    the store) raises, and the caller rolls the transaction back and takes the checked path,
    which names every such row.

    The file is parsed once. SQL writes one table per statement and the accounts need columns
    that posts do not keep (handle, display name, followers), so ``posts`` carries them in extra
    columns for the length of the transaction: the accounts are grouped from those, and the
    columns are dropped before the commit. 10M realistic posts, three interleaved pairs of runs:
    21.3 / 24.2 / 22.2 s against 22.2 / 25.4 / 22.5 s with a second parse of the file for the
    accounts (the accounts 2.2-2.6 s instead of 5.2-6.2 s; the wider insert costs part of it back).
    """
    posts_reader = _jsonl_reader(path, options)
    if posts_reader is None:
        raise _Declined("the mapping names keys DuckDB's reader cannot address")
    posts_source, params = posts_reader
    # error() stops the statement at the first row the checked paths would reject or repair.
    guarded = (
        "(SELECT *, CASE WHEN reason IS NOT NULL THEN error('row rejected: ' || reason) "
        "WHEN mojibake_hint THEN error('mojibake') END AS declined "
        f"FROM ({_CHECKED_POSTS.format(source=posts_source)}))"
    )
    for column, sql_type in _CARRIED.items():
        store.execute(f"ALTER TABLE posts ADD COLUMN _carried_{column} {sql_type}")
    insert = _INSERT_POSTS_FROM.format(
        source=guarded,
        carried_columns="".join(f", _carried_{column}" for column in _CARRIED),
        carried_values="".join(f", v.{column}" for column in _CARRIED),
    )
    inserted = int(store.fetchone(insert + "WHERE v.declined IS NULL", {**params, "ingest_id": ingest_id})[0])
    if inserted == 0:
        raise _Declined("no posts")
    # The new ids are grouped by their 64-bit hash, which is much cheaper than grouping the
    # strings (10M posts: 3.8 s by id). Distinct hashes prove distinct ids; a shared hash, a
    # repeat or a rare collision, declines, and the checked path then compares the ids themselves.
    # Against the posts stored before, the new ids are looked up (a hash join built on the new
    # ones): 10k new posts into a 10M-post store no longer group all 10M (1.3 s).
    repeated = store.fetchone(
        "SELECT count(*) FROM (SELECT hash(post_id) AS id_hash FROM posts WHERE first_ingest_id = $ingest_id "
        "GROUP BY id_hash HAVING count(*) > 1)",
        {"ingest_id": ingest_id},
    )[0]
    stored_before = store.fetchone(
        "SELECT count(*) FROM posts WHERE first_ingest_id <> $ingest_id "
        "AND post_id IN (SELECT post_id FROM posts WHERE first_ingest_id = $ingest_id)",
        {"ingest_id": ingest_id},
    )[0]
    if repeated or stored_before:
        raise _Declined(f"{repeated} post ids seen twice or sharing a hash, {stored_before} stored before")
    carried = (
        "(SELECT account_id, platform, created_at AS ts, "
        + ", ".join(f"_carried_{c} AS {c}" for c in _CARRIED)
        + " FROM posts WHERE first_ingest_id = $ingest_id)"
    )
    incoming = _ACCOUNTS_OF.format(source=carried)
    store.execute(_MERGE_ACCOUNTS_FROM.format(incoming=incoming), {"ingest_id": ingest_id})
    for column in _CARRIED:
        store.execute(f"ALTER TABLE posts DROP COLUMN _carried_{column}")
    return inserted


def _drop_checks(store: Store) -> None:
    store.execute("DROP VIEW IF EXISTS _checked")
    store.execute("DROP VIEW IF EXISTS _rowcheck")
    store.execute("DROP TABLE IF EXISTS _rowcheck_rows")
    store.execute("DROP TABLE IF EXISTS _rejected")


@contextmanager
def _reporting_file_progress(store: Store, progress: ProgressCallback | None, total: int) -> Iterator[None]:
    """While DuckDB's reader runs in the block, report how much of the file (``total`` bytes) it has read."""
    if progress is None:
        yield
        return
    furthest = 0.0

    def report(fraction: float) -> None:
        nonlocal furthest
        # Each later statement of the block counts from 0 again: the bar never goes back.
        if fraction > furthest:
            furthest = fraction
            progress(int(total * fraction), total)

    with store.reporting_progress(report):
        yield


def ingest_file(
    store: Store,
    path: str | Path,
    *,
    format: str | None = None,
    options: ImportOptions | None = None,
    pseudonymize: bool = False,
    progress: ProgressCallback | None = None,
) -> IngestResult:
    """Import one file into the store in a single transaction and return what happened."""
    path = Path(path)
    if not path.exists():
        raise InputError("no such file", path=path)
    if path.is_dir():
        raise InputError("is a folder; pass the files inside it", path=path)
    options = options or ImportOptions()
    options = ImportOptions(
        mapping=options.mapping, platform=options.platform, brands=frozenset(store.brand_handles()) | options.brands
    )
    source = Source(path)
    importer = get_importer(format) if format else detect_format(path, source.head())
    started = datetime.now(UTC)
    clock = time.perf_counter()
    total = max(source.size, 1)
    ingest_id = store.next_ingest_id()  # the store file is locked to this process: no race
    result = IngestResult(source=str(path), format=importer.name, ingest_id=ingest_id)
    # DuckDB's reader can take the file on the direct and the bulk paths below: plain or gzipped
    # JSON Lines, nothing to pseudonymize row by row, and no caller's transaction to abort.
    duckdb_reads_it = (
        importer.name == "jsonl" and not pseudonymize and not store.in_transaction and source.readable_as_is
    )
    if duckdb_reads_it and _first_post_is_new(store, source, options):
        # Its own transaction: DuckDB aborts a transaction on a failed statement, and this path
        # is allowed to fail; the store is then exactly as it was and the checked paths run.
        try:
            with store.transaction():
                with _reporting_file_progress(store, progress, total):
                    result.rows_read = result.rows_inserted = _insert_jsonl_directly(store, path, options, ingest_id)
                _finish(store, result, source, started, clock)
        except (_Declined, duckdb.Error) as exc:
            logger.info("direct JSONL path declined for %s (%s); checking every row first", path, exc)
            result = IngestResult(source=str(path), format=importer.name, ingest_id=ingest_id)
        else:
            if progress is not None:
                progress(total, total)
            _log_result(result)
            return result
    pseudonymizer = Pseudonymizer(store.pseudonym_salt(), options.brands) if pseudonymize else None
    staging = _Staging(store, ingest_id, str(path), pseudonymizer)
    # The bulk path only fills temporary tables, so it runs before the transaction: DuckDB
    # aborts a transaction on a failed statement, and the bulk path is allowed to fail.
    bulk = False
    if duckdb_reads_it:
        with _reporting_file_progress(store, progress, total):
            bulk = _stage_jsonl_natively(store, staging, path, options)
    with store.transaction():
        if bulk:
            if progress is not None:
                progress(total, total)
        else:
            for batch in importer.read(source, options):
                staging.add(batch)
                if progress is not None:
                    progress(batch.bytes_done if batch.bytes_done is not None else 0, total)
            if staging.has_posts:
                _check_posts(store)
        result.rows_read = staging.rows_read
        counts = [0, 0, 0]
        for has_rows, merge in ((staging.has_posts, _merge_posts), (staging.has_conversions, _merge_conversions)):
            if has_rows:
                counts = [a + b for a, b in zip(counts, merge(store, ingest_id, str(path)), strict=True)]
        result.rows_inserted, result.rows_updated, result.rows_unchanged = counts
        store.execute("DROP TABLE _stage_posts")
        store.execute("DROP TABLE _stage_conversions")
        if pseudonymize:
            source.notes.append("audience accounts pseudonymized with the workspace salt")
        _finish(store, result, source, started, clock)
    _log_result(result)
    return result


def _finish(store: Store, result: IngestResult, source: Source, started: datetime, clock: float) -> None:
    """Count the rejects, check read = stored + rejected, flag brand posts and log the ingest."""
    reasons = store.fetchall(
        "SELECT reason, count(*) FROM ingest_rejects WHERE ingest_id = ? GROUP BY reason ORDER BY 2 DESC",
        [result.ingest_id],
    )
    result.reject_reasons = {reason_family(r): 0 for r, _ in reasons}
    for reason, count in reasons:
        result.reject_reasons[reason_family(reason)] += int(count)
    result.rows_rejected = sum(result.reject_reasons.values())
    if result.rows_read != result.rows_stored + result.rows_rejected:
        raise AssertionError(  # an internal bug, not bad input: never hide it
            f"ingest accounting broken for {result.source}: read {result.rows_read} != stored "
            f"{result.rows_stored} + rejected {result.rows_rejected}"
        )
    # accounts has no primary key (migration 9): the merge keeps each id once by construction,
    # and this proves it for every account the ingest wrote.
    repeated = store.fetchone(
        "SELECT count(*) FROM (SELECT account_id FROM accounts WHERE account_id IN "
        "(SELECT account_id FROM accounts WHERE last_ingest_id = ?) GROUP BY account_id HAVING count(*) > 1)",
        [result.ingest_id],
    )[0]
    if repeated:
        raise AssertionError(f"ingest of {result.source} left {repeated} account ids stored twice")
    result.notes = source.final_notes()
    store.refresh_brand_flags()
    result.seconds = time.perf_counter() - clock
    store.execute(
        "INSERT INTO ingest_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            result.ingest_id,
            result.source,
            result.format,
            started,
            datetime.now(UTC),
            result.rows_read,
            result.rows_inserted,
            result.rows_updated,
            result.rows_unchanged,
            result.rows_rejected,
            result.notes,
        ],
    )


def _log_result(result: IngestResult) -> None:
    logger.info(
        "ingested %s as %s: read %d = stored %d + rejected %d",
        result.source,
        result.format,
        result.rows_read,
        result.rows_stored,
        result.rows_rejected,
    )


_VALUE_AFTER = re.compile(r"\b(timestamp|got|kind|platform|duration|post_id|conversion_id) ('[^']*'|\"[^\"]*\"|\S+)")


def reason_family(reason: str) -> str:
    """Group reasons that differ only in the value they quote ("duplicate post_id X ...")."""
    reason = reason.split(" (first seen at ", 1)[0]
    return _VALUE_AFTER.sub(lambda m: f"{m.group(1)} …", reason)
