"""Rebuild conversations: a parent, a conversation id and a depth for every post.

Links are found in this order (``threads.link`` records which one decided each post):

``reply_to``
    the export gives the id of the message answered (X API, Mastodon, Bluesky, Graph API).
``conversation_order``
    no reply-to id, but the export groups messages into conversations (IBM customer care, X
    ``conversation_id``): the parent is the previous message of that conversation.
``handle_time``
    no ids at all, as in exports that lost them (CORPOELEC 2018, Citibanamex 2021): a message
    that starts with ``@handle`` answers the latest message by ``handle`` that mentioned its
    author (or, for a brand's reply, mentioned any brand account) within ``link_window_hours``
    before it.
``root``
    none of the above: the message starts a conversation.

Authors and addressees are keyed ``platform:handle`` (lower case) so that one person's
messages meet across exports that number accounts differently.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from equilibrio.errors import ConfigurationError
from equilibrio.store.duck import Store

logger = logging.getLogger(__name__)

DEFAULT_LINK_WINDOW_HOURS: Final = 48.0
_MAX_JUMPS: Final = 40

# Texts are parsed once here: the handles a message mentions, and the handles it starts with.
_MESSAGES_SQL = r"""
CREATE OR REPLACE TEMP TABLE thr_msg AS
WITH parsed AS (
SELECT p.post_id, p.platform, p.account_id, p.created_at, p.time_precision, p.kind, p.is_brand, p.reply_to_id,
       p.conversation_id AS source_conversation_id,
       coalesce(p.platform || ':' || lower(ltrim(a.handle, '@')), p.account_id) AS author_key,
       CASE WHEN p.kind <> 'repost' AND contains(p.text, '@')
            THEN list_transform(regexp_extract_all(p.text, '@(\w+)', 1),
                                lambda handle: p.platform || ':' || lower(handle))
       END AS mentioned_keys,
       CASE WHEN p.kind <> 'repost' AND contains(p.text, '@')
            THEN regexp_extract(p.text, '^(\s*@\w+)+', 0)
       END AS lead_run
FROM posts p LEFT JOIN accounts a USING (account_id)
)
-- The leading handles are the first mentions: as many as the leading run has @ signs.
SELECT * EXCLUDE (lead_run),
       CASE WHEN lead_run <> '' THEN mentioned_keys[1:length(lead_run) - length(replace(lead_run, '@', ''))]
       END AS lead_keys
FROM parsed
"""

_MENTIONS_SQL = """
CREATE OR REPLACE TEMP TABLE thr_mention AS
SELECT post_id, created_at, author_key, unnest(mentioned_keys) AS mentioned_key
FROM thr_msg WHERE mentioned_keys IS NOT NULL
"""

_BRAND_KEYS_SQL = """
CREATE OR REPLACE TEMP TABLE thr_brand_key AS
SELECT DISTINCT author_key FROM thr_msg WHERE is_brand
"""

_LEADING_SQL = """
CREATE OR REPLACE TEMP TABLE thr_lead AS
SELECT post_id, created_at, author_key, is_brand, unnest(lead_keys) AS lead_key
FROM thr_msg
WHERE reply_to_id IS NULL AND source_conversation_id IS NULL AND lead_keys IS NOT NULL
"""

# ASOF joins find, for each leading handle, the latest earlier message by that handle that
# addressed the author (or any brand, when the author is a brand); the latest wins. Mentions are
# first cut to the (author, addressee) pairs some leading handle asks for: the ASOF join then
# sorts those instead of every mention (8.7 s -> 3.7 s at 10M posts, same links).
_HANDLE_TIME_SQL = """
CREATE OR REPLACE TEMP TABLE thr_handle_time AS
WITH wanted AS (
    SELECT * FROM thr_mention m
    SEMI JOIN thr_lead l ON l.lead_key = m.author_key AND l.author_key = m.mentioned_key
), wanted_brand AS (
    -- messages that mention a brand account, by authors some brand reply leads with: candidates
    -- for a brand's id-less reply (cut before DISTINCT: 4.5-4.8 s -> 3.7-3.9 s at 10M, same links)
    SELECT DISTINCT m.post_id, m.created_at, m.author_key FROM thr_mention m
    SEMI JOIN (SELECT DISTINCT lead_key FROM thr_lead WHERE is_brand) l ON l.lead_key = m.author_key
    SEMI JOIN thr_brand_key b ON b.author_key = m.mentioned_key
), addressed AS (
    SELECT l.post_id, c.post_id AS parent_id, c.created_at AS parent_at, l.created_at
    FROM thr_lead l ASOF JOIN wanted c
      ON c.author_key = l.lead_key AND c.mentioned_key = l.author_key AND l.created_at > c.created_at
), addressed_brand AS (
    SELECT l.post_id, c.post_id AS parent_id, c.created_at AS parent_at, l.created_at
    FROM (SELECT * FROM thr_lead WHERE is_brand) l ASOF JOIN wanted_brand c
      ON c.author_key = l.lead_key AND l.created_at > c.created_at
), candidates AS (
    SELECT * FROM addressed UNION ALL SELECT * FROM addressed_brand
)
SELECT post_id, arg_max(parent_id, parent_at) AS parent_id
FROM candidates
WHERE epoch(created_at) - epoch(parent_at) <= ? * 3600
GROUP BY post_id
"""

# Guessed parents (conversation order, handle + time) are few; stored first, so that DuckDB joins
# them to the 10M messages as the small side (as one query it built its hash table on the
# messages, lists of mentions included).
_GUESSED_SQL = """
CREATE OR REPLACE TEMP TABLE thr_guessed AS
WITH ordered AS (
    SELECT post_id, reply_to_id, kind,
           lag(post_id) OVER (PARTITION BY source_conversation_id ORDER BY created_at, post_id) AS previous_id
    FROM thr_msg WHERE source_conversation_id IS NOT NULL
), ordered_safe AS (
    -- Exports with clock errors can date a reply before the message it answers; never let the
    -- order fallback point back at a message that explicitly answers this one.
    SELECT o.post_id, o.previous_id FROM ordered o JOIN thr_msg prev ON prev.post_id = o.previous_id
    WHERE prev.reply_to_id IS DISTINCT FROM o.post_id AND o.reply_to_id IS NULL AND o.kind <> 'repost'
)
-- the two never overlap: handle + time only links messages outside any export conversation
SELECT post_id, previous_id AS parent_ref, 'conversation_order' AS link FROM ordered_safe
UNION ALL
SELECT post_id, parent_id, 'handle_time' FROM thr_handle_time
"""

# thr_node is narrow on purpose: the posts' own columns stay in thr_msg and meet the links once,
# when threads is written; carried through these joins they doubled the thread build at 10M.
_PARENTS_SQL = """
CREATE OR REPLACE TEMP TABLE thr_node AS
SELECT m.rowid AS row_key,
       coalesce(m.reply_to_id, g.parent_ref) AS parent_ref,
       CASE WHEN m.reply_to_id IS NOT NULL THEN 'reply_to' ELSE coalesce(g.link, 'root') END AS link,
       x.rowid AS parent_key, x.author_key AS parent_author_key
FROM thr_msg m
LEFT JOIN thr_guessed g USING (post_id)
LEFT JOIN thr_msg x ON x.post_id = coalesce(m.reply_to_id, g.parent_ref)
"""

# Row keys (thr_msg's rowid) stand for posts from here on: the tree is walked in NumPy and
# joined back on integers, several times faster at 10M posts than joins on the post ids.
_PARENT_LINKS_SQL = "SELECT row_key, parent_key, link = 'reply_to' AS explicit FROM thr_node"
_CREATED_SQL = "SELECT rowid AS row_key, epoch_us(created_at) AS created_us FROM thr_msg"

# Each post's place in its conversation, on row keys only: a kept link's parent is the post
# ``parent_ref`` names, and its author came along with the parent lookup; only the roots are
# joined back to name the conversations.
_LINK_SQL = """
CREATE OR REPLACE TEMP TABLE thr_link AS
WITH roots AS (
    SELECT r.row_key, m.source_conversation_id,
           -- a conversation whose first message answers one the export does not hold is
           -- named after that missing message, so later exports that hold it agree
           CASE WHEN n.parent_ref IS NOT NULL AND n.parent_key IS NULL THEN n.parent_ref ELSE m.post_id END
               AS own_name
    FROM thr_root r JOIN thr_node n ON n.row_key = r.row_key JOIN thr_msg m ON m.rowid = r.row_key
)
SELECT t.row_key, CASE WHEN t.parent_key IS NOT NULL THEN n.parent_ref END AS parent_id,
       root.source_conversation_id AS root_conversation_id, root.own_name,
       CASE WHEN t.cut THEN 'cycle_cut' ELSE n.link END AS link, t.depth,
       CASE WHEN t.parent_key IS NOT NULL THEN n.parent_author_key END AS parent_author_key
FROM thr_tree t JOIN thr_node n ON n.row_key = t.row_key JOIN roots root ON root.row_key = t.root_key
"""

# One join of the messages (with the post columns threads carries) and their links.
_WRITE_SQL = """
INSERT INTO threads (post_id, parent_id, conversation_id, link, depth, author_key, addressee_key, mentioned_keys,
                     platform, account_id, created_at, time_precision, kind, is_brand)
SELECT m.post_id, l.parent_id,
       coalesce(l.root_conversation_id, m.source_conversation_id, l.own_name) AS conversation_id,
       l.link, l.depth, m.author_key,
       -- with neither a parent nor a leading handle, the first brand account the message names
       coalesce(l.parent_author_key, m.lead_keys[1],
                list_min(list_filter(m.mentioned_keys, lambda key: list_contains($brand_keys, key)))) AS addressee_key,
       m.mentioned_keys, m.platform, m.account_id, m.created_at, m.time_precision, m.kind, m.is_brand
FROM thr_msg m JOIN thr_link l ON l.row_key = m.rowid
"""

_TEMP_TABLES: Final = (
    "thr_msg",
    "thr_mention",
    "thr_brand_key",
    "thr_lead",
    "thr_handle_time",
    "thr_guessed",
    "thr_node",
    "thr_tree",
    "thr_root",
    "thr_link",
)


@dataclass(frozen=True)
class _Tree:
    """Every post's parent (after any cycle cuts), root and depth, by position in ``row_keys``."""

    row_keys: npt.NDArray[np.int64]
    parent: npt.NDArray[np.int64]
    root: npt.NDArray[np.int64]
    depth: npt.NDArray[np.int64]
    cut: npt.NDArray[np.bool_]
    rounds: int


def _jump_to_roots(parent: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], int]:
    """Pointer jumping: each round doubles the reach, so a chain of n replies needs log2(n) rounds.

    Returns each post's furthest ancestor found (-1 for roots), its distance, and the rounds run.
    Posts in or below a reply cycle never settle; they still move after ``_MAX_JUMPS`` rounds.
    """
    ancestor = parent.copy()
    distance = (parent >= 0).astype(np.int64)
    moving = np.flatnonzero(parent >= 0)
    rounds = 0
    while moving.size and rounds < _MAX_JUMPS:
        rounds += 1
        hop = ancestor[moving]
        beyond = ancestor[hop]
        keeps_moving = beyond >= 0
        moving, hop, beyond = moving[keeps_moving], hop[keeps_moving], beyond[keeps_moving]
        # Both right-hand sides are read before either array is written: one synchronous round.
        distance[moving] = distance[moving] + distance[hop]
        ancestor[moving] = beyond
    return ancestor, distance, rounds


def _unsettled(parent: npt.NDArray[np.int64], ancestor: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Posts whose furthest ancestor still has a parent: they sit in or below a reply cycle."""
    has_ancestor = ancestor >= 0
    unsettled = np.zeros(parent.size, dtype=bool)
    unsettled[has_ancestor] = parent[ancestor[has_ancestor]] >= 0
    return unsettled


def _positions(sorted_keys: npt.NDArray[np.int64], keys: pa.ChunkedArray) -> npt.NDArray[np.int64]:
    """Position of each row key in ``sorted_keys``; -1 for a null key."""
    present = keys.is_valid().to_numpy(zero_copy_only=False)
    positions = np.full(len(keys), -1, dtype=np.int64)
    positions[present] = np.searchsorted(sorted_keys, keys.drop_null().to_numpy())
    return positions


def _walk_tree(store: Store) -> _Tree:
    """Find every post's root; exports with clock errors or bad ids can contain reply cycles.

    Cycles are cut in this order, stopping as soon as every post has a root: first the guessed
    links (conversation order, handle and time) of the unsettled posts, then their replies dated
    no later than their parent, then any of their links.
    """
    links = store.arrow(_PARENT_LINKS_SQL).sort_by("row_key")
    row_keys = links.column("row_key").to_numpy()
    parent = _positions(row_keys, links.column("parent_key"))
    explicit = links.column("explicit").to_numpy(zero_copy_only=False)
    del links
    size = row_keys.size
    cut = np.zeros(size, dtype=bool)
    ancestor, depth, rounds = _jump_to_roots(parent)
    unsettled = _unsettled(parent, ancestor)
    if unsettled.any():
        logger.warning("%d posts sit in or below reply cycles; cutting links to settle them", int(unsettled.sum()))
    for step in ("guessed", "forward_in_time", "any"):
        if not unsettled.any():
            break
        if step == "guessed":
            to_cut = unsettled & ~explicit
        elif step == "forward_in_time":
            created_table = store.arrow(_CREATED_SQL).sort_by("row_key")
            created = created_table.column("created_us").to_numpy()
            to_cut = np.zeros(size, dtype=bool)
            candidates = np.flatnonzero(unsettled)
            to_cut[candidates] = created[parent[candidates]] >= created[candidates]
        else:
            to_cut = unsettled
        parent[to_cut] = -1
        cut |= to_cut
        ancestor, depth, more_rounds = _jump_to_roots(parent)
        rounds += more_rounds
        unsettled = _unsettled(parent, ancestor)
    root = np.where(ancestor >= 0, ancestor, np.arange(size, dtype=np.int64))
    return _Tree(row_keys=row_keys, parent=parent, root=root, depth=depth, cut=cut, rounds=rounds)


def _store_tree(store: Store, tree: _Tree) -> None:
    has_parent = tree.parent >= 0
    table = pa.table(
        {
            "row_key": pa.array(tree.row_keys),
            "parent_key": pa.array(tree.row_keys[np.where(has_parent, tree.parent, 0)], mask=~has_parent),
            "root_key": pa.array(tree.row_keys[tree.root]),
            "depth": pa.array(np.minimum(tree.depth, 2_147_483_647).astype(np.int32)),
            "cut": pa.array(tree.cut),
        }
    )
    store.create_temp_table("thr_tree", table.schema)
    store.append_arrow("thr_tree", table)
    # The roots get a table of their own although thr_tree could give them (parent_key IS NULL):
    # read through that filter, the link query took 6.4-7.0 s at 10M posts instead of 4.3-5.5 s.
    roots = pa.table({"row_key": pa.array(tree.row_keys[~has_parent])})
    store.create_temp_table("thr_root", roots.schema)
    store.append_arrow("thr_root", roots)


_SOURCE_SQL = "SELECT count(*), max(last_ingest_id), count(*) FILTER (WHERE is_brand) FROM posts"
_SOURCE_SETTING: Final = "threads_built_for"


def threads_source(store: Store) -> str:
    """What the threads depend on, cheaply: posts count, latest ingest, brand flags and handles.

    Any ingest (new or updated posts) raises the latest ingest id, and any change of brands
    changes the flags or the handles, so an unchanged value means the threads are current.
    """
    posts, latest_ingest, brand_posts = store.fetchone(_SOURCE_SQL)
    return f"{posts}|{latest_ingest}|{brand_posts}|{','.join(store.brand_handles())}"


def threads_are_current(store: Store) -> bool:
    """True when ``threads`` was built from the posts and brands the store holds now."""
    return store.setting(_SOURCE_SETTING) == threads_source(store)


@dataclass(frozen=True)
class ThreadSummary:
    """What :func:`build_threads` found."""

    posts: int
    conversations: int
    links: dict[str, int]
    jump_rounds: int


def build_threads(store: Store, link_window_hours: float = DEFAULT_LINK_WINDOW_HOURS) -> ThreadSummary:
    """Recompute the ``threads`` table from ``posts`` (one transaction; cheap enough to redo whole).

    >>> from equilibrio.store.duck import Store
    >>> build_threads(Store(None)).posts
    0
    """
    if not link_window_hours > 0:
        raise ConfigurationError(f"link window must be a positive number of hours, not {link_window_hours}")
    with store.transaction():
        for sql in (_MESSAGES_SQL, _MENTIONS_SQL, _BRAND_KEYS_SQL, _LEADING_SQL):
            store.execute(sql)
        store.execute(_HANDLE_TIME_SQL, [link_window_hours])
        store.execute(_GUESSED_SQL)
        store.execute(_PARENTS_SQL)
        tree = _walk_tree(store)
        _store_tree(store, tree)
        rounds = tree.rounds
        del tree  # its arrays are in thr_tree now; free them before the write
        store.execute(_LINK_SQL)
        store.execute("DELETE FROM threads")
        brand_keys = [str(key) for (key,) in store.fetchall("SELECT author_key FROM thr_brand_key ORDER BY 1")]
        store.execute(_WRITE_SQL, {"brand_keys": brand_keys})
        links = {str(link): int(n) for link, n in store.fetchall("SELECT link, count(*) FROM threads GROUP BY link")}
        posts, conversations = store.fetchone("SELECT count(*), count(DISTINCT conversation_id) FROM threads")
        for name in _TEMP_TABLES:
            store.execute(f"DROP TABLE IF EXISTS {name}")  # fixed names from _TEMP_TABLES
        store.set_setting(_SOURCE_SETTING, threads_source(store))
    return ThreadSummary(posts=int(posts), conversations=int(conversations), links=links, jump_rounds=rounds)
