"""Conversation health: does the brand answer, how fast, and does it talk or only broadcast.

Every figure is defined in ``docs/metrics.md``. The unit of response is the *audience turn*: the
consecutive messages one person addresses to the brand in one conversation before a brand
reply to that person (people often split one question across several posts). A turn is
answered by the first brand message in the same conversation that replies to its author.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from equilibrio.errors import ConfigurationError
from equilibrio.metrics.threads import build_threads, threads_are_current
from equilibrio.nlp.sentiment import net_sentiment
from equilibrio.store.duck import Store

DEFAULT_RESPONSE_WINDOW_HOURS: Final = 24.0


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours on weekdays (Monday to Friday) in one time zone; holidays are not known."""

    opens: str = "09:00"
    closes: str = "18:00"
    timezone: str = "UTC"

    def minutes(self) -> tuple[int, int]:
        try:
            opens = _clock_minutes(self.opens)
            closes = _clock_minutes(self.closes)
        except ValueError as exc:
            raise ConfigurationError(f"business hours must look like 09:00-18:00: {exc}") from exc
        if not 0 <= opens < closes <= 24 * 60:
            raise ConfigurationError(f"business hours {self.opens}-{self.closes}: opening must come before closing")
        return opens, closes

    @classmethod
    def parse(cls, span: str, timezone: str = "UTC") -> BusinessHours:
        """``"09:00-18:00"`` -> BusinessHours("09:00", "18:00", timezone)."""
        opens, separator, closes = span.partition("-")
        if not separator:
            raise ConfigurationError(f"business hours must look like 09:00-18:00, not {span!r}")
        hours = cls(opens.strip(), closes.strip(), timezone)
        hours.minutes()
        return hours


def _clock_minutes(clock: str) -> int:
    hours, _, minutes = clock.partition(":")
    value = int(hours) * 60 + int(minutes or 0)
    if not 0 <= int(minutes or 0) < 60:
        raise ValueError(f"{clock!r} is not a time of day")
    return value


# Audience messages addressed to the brand, and brand messages addressed to a person.
# Brand messages are selected once; the brand's keys, the messages it answered and its replies
# to people all come from that one table. ``threads`` carries the post columns read here.
_INBOUND_SQL = """
CREATE OR REPLACE TEMP TABLE cv_brand_msg AS
SELECT post_id, created_at, time_precision = 'second' AS timed, conversation_id, author_key, addressee_key, parent_id
FROM threads
WHERE is_brand;

CREATE OR REPLACE TEMP TABLE cv_brand AS
SELECT DISTINCT author_key FROM cv_brand_msg;

CREATE OR REPLACE TEMP TABLE cv_in AS
SELECT t.post_id, t.platform, t.created_at, t.time_precision = 'second' AS timed,
       t.conversation_id, t.author_key, t.addressee_key, l.asks_question,
       s.p_negative, a.followers
FROM threads t
LEFT JOIN post_labels l USING (post_id)
LEFT JOIN post_sentiment s USING (post_id)
LEFT JOIN accounts a ON a.account_id = t.account_id
WHERE NOT t.is_brand AND t.kind <> 'repost'
  AND (t.addressee_key IN (SELECT author_key FROM cv_brand)
       OR t.kind IN ('comment', 'mention', 'dm')
       OR t.post_id IN (SELECT parent_id FROM cv_brand_msg));

CREATE OR REPLACE TEMP TABLE cv_out AS
SELECT post_id, created_at, timed, conversation_id, addressee_key, author_key AS responder_key
FROM cv_brand_msg
WHERE addressee_key IS NOT NULL AND addressee_key NOT IN (SELECT author_key FROM cv_brand);

DROP TABLE cv_brand_msg;
"""

# Each inbound message meets the first brand reply to its author at or after it (ASOF join);
# the messages that meet the same reply (or none yet) form one turn. The join's result is
# stored before it is grouped: fed straight from the ASOF join, the group-by took 11 s at 10M
# posts; from the stored table 4.7 s, so the two statements take 9.8 s instead of 14-15 s.
_TURNS_SQL = """
CREATE OR REPLACE TEMP TABLE cv_met AS
SELECT i.*, o.post_id AS response_id, o.created_at AS responded_at, o.timed AS response_timed, o.responder_key
FROM cv_in i ASOF LEFT JOIN cv_out o
  ON o.conversation_id = i.conversation_id AND o.addressee_key = i.author_key AND i.created_at <= o.created_at;

CREATE OR REPLACE TEMP TABLE cv_turn AS
WITH turns AS (
    -- one arg_min over a struct: the first message's fields all come from the same row, and
    -- at 10M posts it is 1.3 s faster than three arg_mins
    SELECT conversation_id, author_key, response_id,
           arg_min({'post_id': post_id, 'platform': platform, 'addressee_key': addressee_key}, created_at)
               AS first_message,
           min(created_at) AS started_at,
           count(*) AS messages,
           coalesce(bool_or(asks_question), FALSE) AS asks_question,
           bool_or(asks_question IS NOT NULL) AS question_known,
           arg_min(post_id, created_at) FILTER (WHERE asks_question) AS question_post_id,  -- the first question
           max(p_negative) AS p_negative,
           max(followers) AS followers,
           min(responded_at) AS responded_at,
           any_value(responder_key) AS responder_key,
           bool_and(timed) AND coalesce(bool_and(response_timed), TRUE) AS timed
    FROM cv_met GROUP BY conversation_id, author_key, response_id
)
SELECT * EXCLUDE (first_message),
       first_message.post_id AS first_post_id, first_message.platform AS platform,
       first_message.addressee_key AS addressee_key,
       row_number() OVER (PARTITION BY conversation_id, author_key ORDER BY started_at) = 1 AS first_turn,
       coalesce(responder_key, CASE WHEN first_message.addressee_key IN (SELECT author_key FROM cv_brand)
                                THEN first_message.addressee_key END)
           AS brand_key,
       CASE WHEN responded_at IS NOT NULL AND timed
            THEN (epoch(responded_at) - epoch(started_at)) / 60.0 END AS response_minutes
FROM turns;

DROP TABLE cv_met;
"""

# Business minutes between two instants = B(end) - B(start), where B(t) counts the opening minutes
# from a Monday long ago up to t in local time: five open days per week plus today's part.
_BUSINESS_MINUTES_SQL = """
CREATE OR REPLACE MACRO cv_business_clock(ts, tz, opens, closes) AS (
    WITH local AS (SELECT timezone(tz, ts) AS t)
    SELECT (5 * (d // 7) + least(d % 7, 5)) * (closes - opens)
           + CASE WHEN d % 7 < 5 THEN greatest(least(m - opens, closes - opens), 0) ELSE 0 END
    FROM (SELECT date_diff('day', DATE '1970-01-05', CAST(t AS DATE)) AS d,
                 hour(t) * 60 + minute(t) + second(t) / 60.0 AS m FROM local)
);
UPDATE cv_turn SET response_minutes =
    cv_business_clock(responded_at, ?, ?, ?) - cv_business_clock(started_at, ?, ?, ?)
WHERE response_minutes IS NOT NULL;
"""

_DIMENSIONS: Final = {
    "overall": "'all'",
    "platform": "platform",
    "account": "coalesce(brand_key, 'unassigned')",
    "week": "CAST(date_trunc('week', started_at) AS DATE)",
}

_RESPONSE_SQL = """
WITH keyed AS (
    SELECT {dimension} AS dimension, *,
           responded_at IS NOT NULL
               AND epoch(responded_at) - epoch(started_at) <= $window_seconds AS answered_in_window,
           epoch(started_at) <= $eligible_before AS eligible
    FROM cv_turn
), first_times AS (
    SELECT dimension, response_minutes,
           quantile_cont(response_minutes, 0.9) OVER (PARTITION BY dimension) AS p90
    FROM keyed WHERE first_turn AND response_minutes IS NOT NULL
), fastest AS (
    SELECT dimension, avg(response_minutes) FILTER (WHERE response_minutes <= p90) AS mean_fastest_90
    FROM first_times GROUP BY dimension
)
SELECT k.dimension,
       count(*) AS audience_turns,
       count(*) FILTER (WHERE k.responded_at IS NOT NULL) AS turns_answered,
       count(*) FILTER (WHERE k.eligible) AS turns_old_enough,
       count(*) FILTER (WHERE k.eligible AND k.answered_in_window) AS answered_in_window,
       count(*) FILTER (WHERE k.eligible AND k.asks_question) AS question_turns,
       count(*) FILTER (WHERE k.eligible AND k.asks_question AND k.answered_in_window) AS questions_answered,
       count(*) FILTER (WHERE k.question_known) AS turns_with_question_flag,
       quantile_cont(k.response_minutes, 0.5) FILTER (WHERE k.first_turn) AS median_first_response_minutes,
       quantile_cont(k.response_minutes, 0.9) FILTER (WHERE k.first_turn) AS p90_first_response_minutes,
       any_value(f.mean_fastest_90) AS mean_fastest_90pct_first_response_minutes,
       quantile_cont(k.response_minutes, 0.5) AS median_reply_minutes,
       count(k.response_minutes) FILTER (WHERE k.first_turn) AS timed_first_responses
FROM keyed k LEFT JOIN fastest f USING (dimension)
GROUP BY k.dimension ORDER BY k.dimension
"""

# Overall and per week in one pass (GROUPING SETS): each pass groups all posts, and at
# 10M posts a second pass cost 3.7 s. ``week`` is NULL only on the overall row.
_BIDIRECTIONALITY_SQL = """
WITH brand_posts AS (
    SELECT week, count(*) FILTER (WHERE is_reply) AS replies, count(*) FILTER (WHERE is_broadcast) AS broadcasts
    FROM (SELECT CAST(date_trunc('week', created_at) AS DATE) AS week,
                 kind IN ('reply', 'comment', 'dm') OR parent_id IS NOT NULL AS is_reply,
                 kind IN ('post', 'quote') AND parent_id IS NULL AS is_broadcast
          FROM threads
          WHERE is_brand AND kind <> 'repost')
    GROUP BY GROUPING SETS ((), (week))
), conversations AS (
    SELECT conversation_id,
           arg_min(is_brand, created_at) AS brand_started,
           arg_min(post_id, created_at) IN (SELECT post_id FROM cv_in) AS to_brand,
           bool_or(is_brand) AS brand_joined,
           count(*) AS messages,
           max(depth) AS depth,
           min(created_at) AS started_at
    FROM threads
    WHERE kind <> 'repost'
    GROUP BY conversation_id
), threads_by AS (
    SELECT week,
           count(*) FILTER (WHERE NOT brand_started AND coalesce(to_brand, FALSE)) AS audience_started,
           count(*) FILTER (WHERE NOT brand_started AND coalesce(to_brand, FALSE) AND brand_joined)
               AS audience_started_joined,
           avg(depth) FILTER (WHERE messages > 1) AS mean_thread_depth,
           avg(messages) FILTER (WHERE messages > 1) AS mean_thread_messages,
           count(*) FILTER (WHERE messages > 1) AS threads_with_replies
    FROM (SELECT *, CAST(date_trunc('week', started_at) AS DATE) AS week FROM conversations)
    GROUP BY GROUPING SETS ((), (week))
)
SELECT coalesce(b.week, t.week) AS week, coalesce(b.replies, 0), coalesce(b.broadcasts, 0),
       coalesce(t.audience_started, 0), coalesce(t.audience_started_joined, 0),
       t.mean_thread_depth, t.mean_thread_messages, coalesce(t.threads_with_replies, 0)
FROM brand_posts b FULL JOIN threads_by t ON b.week IS NOT DISTINCT FROM t.week
ORDER BY 1 NULLS FIRST
"""


# Brand replies to X/Twitter messages the store does not hold (a brand's own archive or timeline
# export names the tweet each reply answers, not its text). The answered tweet's id still carries
# the moment it was posted (equilibrio.io._base.snowflake_time: milliseconds since 1288834974657 in
# the bits above the lowest 22; ids below 2**35 are older, sequential ones). A reply dated before
# the message it answers is counted apart, not timed.
_UNSTORED_PARENT_SQL = """
-- The few candidate replies first, then the lookup among stored ids: left to the planner, the
-- lookup ran over every post first (10M posts: 0.6-1.0 s, materialised 0.3 s).
WITH candidates AS MATERIALIZED (
    SELECT p.created_at, p.reply_to_id FROM posts p
    WHERE p.is_brand AND p.platform = 'twitter' AND p.time_precision = 'second' AND p.kind <> 'repost'
      AND p.reply_to_id IS NOT NULL
      -- decimal digits only: DuckDB would also cast "1.060707716988e+18", an id a spreadsheet rounded
      AND regexp_full_match(split_part(p.reply_to_id, ':', 2), '[0-9]{11,19}')
      AND try_cast(split_part(p.reply_to_id, ':', 2) AS BIGINT) >= 34359738368  -- 2**35
), replies AS (
    SELECT epoch(c.created_at)
               - ((try_cast(split_part(c.reply_to_id, ':', 2) AS BIGINT) >> 22) + 1288834974657) / 1000.0
               AS latency_seconds
    FROM candidates c
    WHERE NOT EXISTS (SELECT 1 FROM posts q WHERE q.post_id = c.reply_to_id)
)
SELECT count(*) FILTER (WHERE latency_seconds >= 0),
       count(*) FILTER (WHERE latency_seconds < 0),
       quantile_cont(latency_seconds / 60, 0.5) FILTER (WHERE latency_seconds >= 0),
       quantile_cont(latency_seconds / 60, 0.9) FILTER (WHERE latency_seconds >= 0)
FROM replies
"""


def replies_to_unstored_messages(store: Store) -> dict[str, Any]:
    """How long the brand took to reply to X/Twitter messages the store does not hold, from their ids.

    A brand's own export lists its replies and the ids they answer, not the customers' messages,
    so the turn-based figures have nothing to measure; the ids still date the messages answered.

    >>> from equilibrio.store.duck import Store
    >>> replies_to_unstored_messages(Store(None))["replies"]
    0
    """
    timed, dated_before, median, p90 = store.fetchone(_UNSTORED_PARENT_SQL)
    return {
        "replies": int(timed),
        "median_minutes": _minutes(median),
        "p90_minutes": _minutes(p90),
        "replies_dated_before_their_message": int(dated_before),
    }


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _minutes(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else round(float(value), 1)


def _response_row(row: tuple[Any, ...], window_hours: float) -> dict[str, Any]:
    (
        dimension,
        turns,
        answered,
        old_enough,
        in_window,
        question_turns,
        questions_answered,
        with_flag,
        median_first,
        p90_first,
        mean_fastest,
        median_reply,
        timed_first,
    ) = row
    window = f"{window_hours:g}h"
    return {
        "key": str(dimension),
        "audience_turns": int(turns),
        "turns_answered": int(answered),
        "turns_old_enough": int(old_enough),
        f"answered_within_{window}": int(in_window),
        "response_rate": _ratio(int(in_window), int(old_enough)),
        "question_turns": int(question_turns),
        "question_response_rate": _ratio(int(questions_answered), int(question_turns)),
        "turns_with_question_flag": int(with_flag),
        "median_first_response_minutes": _minutes(median_first),
        "p90_first_response_minutes": _minutes(p90_first),
        "mean_fastest_90pct_first_response_minutes": _minutes(mean_fastest),
        "median_reply_minutes": _minutes(median_reply),
        "timed_first_responses": int(timed_first),
    }


def _bidirectionality_row(row: tuple[Any, ...]) -> dict[str, Any]:
    dimension, replies, broadcasts, started, joined, depth, messages, with_replies = row
    return {
        "key": str(dimension),
        "brand_replies": int(replies),
        "brand_broadcasts": int(broadcasts),
        "replies_per_broadcast": _ratio(int(replies), int(broadcasts)),
        "audience_started_threads": int(started),
        "audience_started_threads_joined": int(joined),
        "joined_share": _ratio(int(joined), int(started)),
        "mean_thread_depth": None if depth is None else round(float(depth), 2),
        "mean_thread_messages": None if messages is None else round(float(messages), 2),
        "threads_with_replies": int(with_replies),
    }


def _as_of(store: Store, as_of: datetime | None) -> datetime | None:
    if as_of is not None:
        return as_of
    latest = store.fetchone("SELECT max(created_at) FROM posts")[0]
    return latest if isinstance(latest, datetime) else None


def ensure_threads(store: Store) -> None:
    """Rebuild threads when posts or brands changed since they were last built."""
    if not threads_are_current(store):
        build_threads(store)


def prepare_turns(store: Store, business_hours: BusinessHours | None = None, *, rebuild_threads: bool = False) -> None:
    """Fill the temporary ``cv_turn`` table the response figures and the inbox read."""
    if rebuild_threads:
        build_threads(store)
    else:
        ensure_threads(store)
    for statement in (*_INBOUND_SQL.split(";"), *_TURNS_SQL.split(";")):
        if statement.strip():
            store.execute(statement)
    if business_hours is not None:
        opens, closes = business_hours.minutes()
        clock = [business_hours.timezone, opens, closes]
        macro, update = (s for s in _BUSINESS_MINUTES_SQL.split(";") if s.strip())
        store.execute(macro)
        try:
            store.execute(update, clock + clock)
        except Exception as exc:  # DuckDB names the bad zone; keep its words
            raise ConfigurationError(f"business hours time zone {business_hours.timezone!r}: {exc}") from exc


def conversation_health(
    store: Store,
    response_window_hours: float = DEFAULT_RESPONSE_WINDOW_HOURS,
    business_hours: BusinessHours | None = None,
    as_of: datetime | None = None,
    *,
    turns_prepared: bool = False,
) -> dict[str, Any]:
    """Response metrics and bidirectionality, overall and per platform, account and week.

    >>> from equilibrio.store.duck import Store
    >>> conversation_health(Store(None))["response"]["audience_turns"]
    0
    """
    if not response_window_hours > 0:
        raise ConfigurationError(f"response window must be a positive number of hours, not {response_window_hours}")
    if not turns_prepared:
        prepare_turns(store, business_hours)
    moment = _as_of(store, as_of)
    eligible_before = (moment.timestamp() if moment else 0.0) - response_window_hours * 3600
    params = {"window_seconds": response_window_hours * 3600, "eligible_before": eligible_before}
    response: dict[str, list[dict[str, Any]]] = {}
    for name, expression in _DIMENSIONS.items():
        sql = _RESPONSE_SQL.format(dimension=expression)  # expression: a fixed string from _DIMENSIONS
        response[name] = [_response_row(row, response_window_hours) for row in store.fetchall(sql, params)]
    bidirectional: dict[str, list[dict[str, Any]]] = {"overall": [], "week": []}
    for week, *figures in store.fetchall(_BIDIRECTIONALITY_SQL):
        name, key = ("overall", "all") if week is None else ("week", week)
        bidirectional[name].append(_bidirectionality_row((key, *figures)))
    empty_response = _response_row(("all", 0, 0, 0, 0, 0, 0, 0, None, None, None, None, 0), response_window_hours)
    empty_bidirectional = _bidirectionality_row(("all", 0, 0, 0, 0, None, None, 0))
    return {
        "as_of": moment.isoformat() if moment else None,
        "response_window_hours": response_window_hours,
        "business_hours": None
        if business_hours is None
        else {"opens": business_hours.opens, "closes": business_hours.closes, "timezone": business_hours.timezone},
        "response": (response["overall"] or [empty_response])[0],
        "response_by_platform": response["platform"],
        "response_by_account": response["account"],
        "response_by_week": response["week"],
        "bidirectionality": (bidirectional["overall"] or [empty_bidirectional])[0],
        "bidirectionality_by_week": bidirectional["week"],
        "replies_to_unstored_messages": replies_to_unstored_messages(store),
    }


# Priority points (documented in docs/metrics.md): age up to 40, a question 25, negative
# sentiment up to 20, the author's reach up to 15.
_QUEUE_SQL = """
WITH waiting AS (
    SELECT *, (epoch($as_of) - epoch(started_at)) / 3600.0 AS waiting_hours FROM cv_turn
    WHERE responded_at IS NULL AND started_at <= $as_of
), scored AS (
    SELECT *,
           40 * least(waiting_hours / $full_age_hours, 1.0) AS age_points,
           CASE WHEN asks_question THEN 25 ELSE 0 END AS question_points,
           20 * coalesce(p_negative, 0) AS negative_points,
           15 * least(log10(1 + coalesce(followers, 0)) / 6, 1.0) AS reach_points
    FROM waiting
), top AS (
    SELECT *, age_points + question_points + negative_points + reach_points AS priority
    FROM scored ORDER BY priority DESC, started_at LIMIT $limit
)
-- Texts are looked up for the few rows shown, not carried through every turn.
SELECT top.first_post_id, top.platform, top.conversation_id, top.author_key, top.brand_key, top.started_at,
       top.messages, top.waiting_hours, top.asks_question, evidence.question_evidence, top.p_negative, top.followers,
       first.text AS first_text, top.priority, top.age_points, top.question_points, top.negative_points,
       top.reach_points
FROM top
JOIN posts first ON first.post_id = top.first_post_id
LEFT JOIN post_labels evidence ON evidence.post_id = top.question_post_id
ORDER BY top.priority DESC, top.started_at
"""

FULL_AGE_HOURS: Final = 48.0


def _reasons(row: dict[str, Any]) -> list[str]:
    hours = float(row["waiting_hours"])
    reasons = [f"waiting {hours / 24:.1f} days" if hours >= 48 else f"waiting {hours:.1f} h"]
    if row["asks_question"]:
        evidence = row["question_evidence"]
        reasons.append(f"asks a question ({evidence})" if evidence else "asks a question")
    if row["p_negative"] is not None and row["p_negative"] >= 0.5:
        reasons.append(f"negative sentiment (p={row['p_negative']:.2f})")
    if row["followers"]:
        reasons.append(f"{int(row['followers']):,} followers")
    if row["messages"] > 1:
        reasons.append(f"{row['messages']} messages in a row")
    return reasons


def unanswered_queue(
    store: Store,
    limit: int = 50,
    as_of: datetime | None = None,
    business_hours: BusinessHours | None = None,
    *,
    turns_prepared: bool = False,
) -> list[dict[str, Any]]:
    """Audience turns still waiting for a brand reply, most urgent first, each with its reasons.

    Waiting time is counted up to ``as_of`` (default: the newest message in the store, so an
    old export is judged as of its own end, not as of today). ``turns_prepared=True`` reuses the
    turns a :func:`prepare_turns` call on this connection just built (a report needs both the
    figures and the queue; on 10M posts preparing them takes half a minute).

    >>> from equilibrio.store.duck import Store
    >>> unanswered_queue(Store(None))
    []
    """
    if limit < 1:
        raise ConfigurationError(f"limit must be at least 1, not {limit}")
    if not turns_prepared:
        prepare_turns(store, business_hours)
    moment = _as_of(store, as_of)
    if moment is None:
        return []
    rows = store.arrow(_QUEUE_SQL, {"as_of": moment, "full_age_hours": FULL_AGE_HOURS, "limit": limit}).to_pylist()
    queue = []
    for rank, row in enumerate(rows, start=1):
        queue.append(
            {
                "rank": rank,
                "post_id": row["first_post_id"],
                "platform": row["platform"],
                "conversation_id": row["conversation_id"],
                "author": row["author_key"],
                "brand_account": row["brand_key"],
                "started_at": row["started_at"].isoformat(),
                "waiting_hours": round(float(row["waiting_hours"]), 1),
                "messages": int(row["messages"]),
                "text": row["first_text"],
                "priority": round(float(row["priority"]), 1),
                "points": {
                    "age": round(float(row["age_points"]), 1),
                    "question": float(row["question_points"]),
                    "negative": round(float(row["negative_points"]), 1),
                    "reach": round(float(row["reach_points"]), 1),
                },
                "reasons": _reasons(row),
            }
        )
    return queue


_SENTIMENT_SQL = """
SELECT CAST(date_trunc(?, p.created_at) AS DATE) AS period,
       count(*) FILTER (WHERE s.sentiment = 'positive') AS positive,
       count(*) FILTER (WHERE s.sentiment = 'neutral') AS neutral,
       count(*) FILTER (WHERE s.sentiment = 'negative') AS negative
FROM post_sentiment s JOIN posts p USING (post_id)
WHERE NOT p.is_brand
GROUP BY ALL ORDER BY period
"""


def net_sentiment_by_period(store: Store, period: str = "week") -> list[dict[str, Any]]:
    """Audience messages per sentiment and net sentiment (pos - neg) / (pos + neg) per week or month."""
    if period not in ("week", "month"):
        raise ConfigurationError(f"period must be 'week' or 'month', not {period!r}")
    return [
        {
            "period_start": start.isoformat(),
            "positive": int(positive),
            "neutral": int(neutral),
            "negative": int(negative),
            "net_sentiment": net_sentiment(int(positive), int(negative)),
        }
        for start, positive, neutral, negative in store.fetchall(_SENTIMENT_SQL, [period])
    ]
