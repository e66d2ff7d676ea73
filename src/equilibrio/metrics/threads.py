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

from equilibrio.errors import ConfigurationError
from equilibrio.store.duck import Store

logger = logging.getLogger(__name__)

DEFAULT_LINK_WINDOW_HOURS: Final = 48.0
_MAX_JUMPS: Final = 40

# Texts are parsed once here: the handles a message mentions, and the handles it starts with.
_MESSAGES_SQL = r"""
CREATE OR REPLACE TEMP TABLE thr_msg AS
SELECT p.post_id, p.platform, p.created_at, p.kind, p.is_brand, p.reply_to_id,
       p.conversation_id AS source_conversation_id,
       coalesce(p.platform || ':' || lower(ltrim(a.handle, '@')), p.account_id) AS author_key,
       CASE WHEN p.kind <> 'repost' AND contains(p.text, '@')
            THEN list_transform(regexp_extract_all(p.text, '@(\w+)', 1),
                                lambda handle: p.platform || ':' || lower(handle))
       END AS mentioned_keys,
       CASE WHEN p.kind <> 'repost' AND regexp_matches(p.text, '^\s*@\w')
            THEN list_transform(regexp_extract_all(regexp_extract(p.text, '^(\s*@\w+)+', 0), '@(\w+)', 1),
                                lambda handle: p.platform || ':' || lower(handle))
       END AS lead_keys
FROM posts p LEFT JOIN accounts a USING (account_id)
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

# Messages that mention a brand account: candidates for a brand's id-less reply.
_MENTIONS_BRAND_SQL = """
CREATE OR REPLACE TEMP TABLE thr_mention_brand AS
SELECT DISTINCT m.post_id, m.created_at, m.author_key
FROM thr_mention m JOIN thr_brand_key b ON b.author_key = m.mentioned_key
"""

_LEADING_SQL = """
CREATE OR REPLACE TEMP TABLE thr_lead AS
SELECT post_id, created_at, author_key, is_brand, unnest(lead_keys) AS lead_key
FROM thr_msg
WHERE reply_to_id IS NULL AND source_conversation_id IS NULL AND lead_keys IS NOT NULL
"""

# ASOF joins find, for each leading handle, the latest earlier message by that handle that
# addressed the author (or any brand, when the author is a brand); the latest wins.
_HANDLE_TIME_SQL = """
CREATE OR REPLACE TEMP TABLE thr_handle_time AS
WITH addressed AS (
    SELECT l.post_id, c.post_id AS parent_id, c.created_at AS parent_at, l.created_at
    FROM thr_lead l ASOF JOIN thr_mention c
      ON c.author_key = l.lead_key AND c.mentioned_key = l.author_key AND l.created_at > c.created_at
), addressed_brand AS (
    SELECT l.post_id, c.post_id AS parent_id, c.created_at AS parent_at, l.created_at
    FROM (SELECT * FROM thr_lead WHERE is_brand) l ASOF JOIN thr_mention_brand c
      ON c.author_key = l.lead_key AND l.created_at > c.created_at
), candidates AS (
    SELECT * FROM addressed UNION ALL SELECT * FROM addressed_brand
)
SELECT post_id, arg_max(parent_id, parent_at) AS parent_id
FROM candidates
WHERE epoch(created_at) - epoch(parent_at) <= ? * 3600
GROUP BY post_id
"""

_PARENTS_SQL = """
CREATE OR REPLACE TEMP TABLE thr_node AS
WITH ordered AS (
    SELECT post_id, reply_to_id,
           lag(post_id) OVER (PARTITION BY source_conversation_id ORDER BY created_at, post_id) AS previous_id
    FROM thr_msg WHERE source_conversation_id IS NOT NULL
), ordered_safe AS (
    -- Exports with clock errors can date a reply before the message it answers; never let the
    -- order fallback point back at a message that explicitly answers this one.
    SELECT o.post_id, o.previous_id FROM ordered o JOIN thr_msg prev ON prev.post_id = o.previous_id
    WHERE prev.reply_to_id IS DISTINCT FROM o.post_id
), chosen AS (
    SELECT m.post_id, m.platform, m.source_conversation_id, m.author_key, m.mentioned_keys, m.lead_keys[1] AS lead_key,
           CASE WHEN m.reply_to_id IS NOT NULL THEN m.reply_to_id
                WHEN o.previous_id IS NOT NULL AND m.kind <> 'repost' THEN o.previous_id
                ELSE h.parent_id END AS parent_ref,
           CASE WHEN m.reply_to_id IS NOT NULL THEN 'reply_to'
                WHEN o.previous_id IS NOT NULL AND m.kind <> 'repost' THEN 'conversation_order'
                WHEN h.parent_id IS NOT NULL THEN 'handle_time'
                ELSE 'root' END AS link
    FROM thr_msg m
    LEFT JOIN ordered_safe o USING (post_id)
    LEFT JOIN thr_handle_time h USING (post_id)
)
SELECT c.*, x.post_id AS parent_id
FROM chosen c LEFT JOIN thr_msg x ON x.post_id = c.parent_ref
"""

_JUMP_INIT_SQL = """
CREATE OR REPLACE TEMP TABLE thr_jump AS
SELECT post_id, parent_id AS ancestor, CAST(parent_id IS NOT NULL AS BIGINT) AS distance FROM thr_node
"""

# Pointer jumping: each round doubles the reach, so a chain of n replies needs log2(n) rounds.
_JUMP_STEP_SQL = """
CREATE OR REPLACE TEMP TABLE thr_jump_next AS
SELECT j.post_id, coalesce(k.ancestor, j.ancestor) AS ancestor, j.distance + coalesce(k.distance, 0) AS distance
FROM thr_jump j LEFT JOIN thr_jump k ON k.post_id = j.ancestor
"""

_JUMP_CHANGED_SQL = """
SELECT count(*) FROM thr_jump_next n JOIN thr_jump j USING (post_id) WHERE n.ancestor IS DISTINCT FROM j.ancestor
"""

_WRITE_SQL = """
INSERT INTO threads
WITH brand_mention AS (
    SELECT post_id, min(mb.mentioned_key) AS brand_key
    FROM thr_mention mb JOIN thr_brand_key b ON b.author_key = mb.mentioned_key
    GROUP BY post_id
)
SELECT n.post_id, n.parent_id,
       coalesce(root.source_conversation_id, n.source_conversation_id,
                CASE WHEN root.parent_ref IS NOT NULL AND root.parent_id IS NULL THEN root.parent_ref END,
                coalesce(j.ancestor, n.post_id)) AS conversation_id,
       n.link, CAST(least(j.distance, 2147483647) AS INTEGER), n.author_key,
       coalesce(parent.author_key, n.lead_key, bm.brand_key) AS addressee_key,
       n.mentioned_keys
FROM thr_node n
JOIN thr_jump j USING (post_id)
JOIN thr_node root ON root.post_id = coalesce(j.ancestor, n.post_id)
LEFT JOIN thr_node parent ON parent.post_id = n.parent_id
LEFT JOIN brand_mention bm ON bm.post_id = n.post_id
"""

_TEMP_TABLES: Final = (
    "thr_msg",
    "thr_mention",
    "thr_brand_key",
    "thr_mention_brand",
    "thr_lead",
    "thr_handle_time",
    "thr_node",
    "thr_jump",
    "thr_jump_next",
)


_UNSETTLED_SQL = """
SELECT count(*) FROM thr_jump j JOIN thr_node a ON a.post_id = j.ancestor WHERE a.parent_id IS NOT NULL
"""

# Cut the cycles: first the guessed links, then replies dated after their parent... then any.
_BREAK_CYCLES_SQL = (
    "AND n.link <> 'reply_to'",
    "AND (SELECT created_at FROM thr_msg WHERE post_id = n.parent_id) >= "
    "(SELECT created_at FROM thr_msg WHERE post_id = n.post_id)",
    "",
)


def _jump_until_settled(store: Store) -> int:
    store.execute(_JUMP_INIT_SQL)
    rounds = 0
    while rounds < _MAX_JUMPS:
        rounds += 1
        store.execute(_JUMP_STEP_SQL)
        changed = int(store.fetchone(_JUMP_CHANGED_SQL)[0])
        store.execute("DROP TABLE thr_jump")
        store.execute("ALTER TABLE thr_jump_next RENAME TO thr_jump")
        if changed == 0:
            break
    return rounds


def _settle_roots(store: Store) -> int:
    """Find every post's root; exports with clock errors or bad ids can contain reply cycles."""
    rounds = _jump_until_settled(store)
    for condition in _BREAK_CYCLES_SQL:
        unsettled = int(store.fetchone(_UNSETTLED_SQL)[0])
        if unsettled == 0:
            break
        logger.warning("%d posts sit in reply cycles; cutting links to settle them", unsettled)
        store.execute(
            "UPDATE thr_node n SET parent_id = NULL, link = 'cycle_cut' "
            "WHERE n.post_id IN (SELECT j.post_id FROM thr_jump j JOIN thr_node a ON a.post_id = j.ancestor "
            f"WHERE a.parent_id IS NOT NULL) {condition}"  # condition: one of the fixed strings above
        )
        rounds += _jump_until_settled(store)
    return rounds


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
        for sql in (_MESSAGES_SQL, _MENTIONS_SQL, _BRAND_KEYS_SQL, _MENTIONS_BRAND_SQL, _LEADING_SQL):
            store.execute(sql)
        store.execute(_HANDLE_TIME_SQL, [link_window_hours])
        store.execute(_PARENTS_SQL)
        rounds = _settle_roots(store)
        store.execute("DELETE FROM threads")
        store.execute(_WRITE_SQL)
        links = {str(link): int(n) for link, n in store.fetchall("SELECT link, count(*) FROM threads GROUP BY link")}
        posts, conversations = store.fetchone("SELECT count(*), count(DISTINCT conversation_id) FROM threads")
        for name in _TEMP_TABLES:
            store.execute(f"DROP TABLE IF EXISTS {name}")  # fixed names from _TEMP_TABLES
        store.set_setting(_SOURCE_SETTING, threads_source(store))
    return ThreadSummary(posts=int(posts), conversations=int(conversations), links=links, jump_rounds=rounds)
