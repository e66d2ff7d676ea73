"""Conversions and revenue attributed to brand posts (rules in ``docs/metrics.md``).

A conversion finds its candidate posts by the first rule that yields any, each within the lookback
window before the conversion:

1. ``utm_content`` names a post: its id, or the last segment of its id or URL;
2. the landing page (without its query) appears in a brand post's text or URL;
3. ``utm_source`` names a platform the store holds (``bluesky``, ``twitter``/``x``/``t.co``,
   ``facebook``/``fb``/``instagram``/``ig``, ``mastodon``): that platform's brand broadcasts.

*Last touch* gives the whole conversion to the latest candidate; *time decay* splits it over all
candidates with weights 2^(-hours before the conversion / half-life). Conversions with no
candidate stay unattributed, counted with the reason.
"""

from __future__ import annotations

from typing import Any, Final

from equilibrio.errors import ConfigurationError
from equilibrio.store.duck import Store

DEFAULT_LOOKBACK_DAYS: Final = 7.0
DEFAULT_HALF_LIFE_HOURS: Final = 24.0

_PLATFORM_ALIASES: Final = (
    ("bluesky", "bluesky"),
    ("bsky", "bluesky"),
    ("twitter", "twitter"),
    ("x", "twitter"),
    ("t.co", "twitter"),
    ("facebook", "facebook"),
    ("fb", "facebook"),
    ("m.facebook.com", "facebook"),
    ("instagram", "facebook"),
    ("ig", "facebook"),
    ("mastodon", "mastodon"),
)

_CANDIDATES_SQL = """
CREATE OR REPLACE TEMP TABLE attr_candidate AS
WITH conv AS (
    SELECT c.conversion_id, c.occurred_at, coalesce(c.value, 0) AS value, c.utm_content,
           nullif(split_part(c.landing_url, '?', 1), '') AS landing_page, s.platform AS source_platform
    FROM conversions c LEFT JOIN attr_source s ON s.alias = lower(c.utm_source)
), brand AS (
    SELECT post_id, platform, created_at, coalesce(text, '') AS text, url, kind,
           regexp_extract(post_id, '[^/:]+$') AS post_tail, regexp_extract(coalesce(url, ''), '[^/]+$') AS url_tail
    FROM posts WHERE is_brand AND kind <> 'repost'
), in_window AS (
    SELECT v.*, b.post_id, b.created_at, b.platform, b.text, b.url, b.kind, b.post_tail, b.url_tail
    FROM conv v JOIN brand b
      ON b.created_at <= v.occurred_at
     AND b.created_at >= v.occurred_at - to_seconds(CAST($lookback_seconds AS BIGINT))
), ruled AS (
    SELECT *,
           CASE WHEN utm_content IS NOT NULL AND utm_content IN (post_id, post_tail, url_tail) THEN 1
                WHEN landing_page IS NOT NULL AND (contains(text, landing_page) OR url = landing_page) THEN 2
                WHEN source_platform = platform AND kind IN ('post', 'quote') THEN 3 END AS rule
    FROM in_window
), best AS (
    SELECT *, min(rule) OVER (PARTITION BY conversion_id) AS best_rule FROM ruled WHERE rule IS NOT NULL
)
SELECT conversion_id, occurred_at, value, post_id, created_at, rule,
       pow(2, -(epoch(occurred_at) - epoch(created_at)) / 3600.0 / $half_life_hours) AS decay
FROM best WHERE rule = best_rule
"""

_ATTRIBUTED_SQL = """
CREATE OR REPLACE TEMP TABLE attr_post AS
WITH weighted AS (
    SELECT *, decay / sum(decay) OVER (PARTITION BY conversion_id) AS decay_share,
           row_number() OVER (PARTITION BY conversion_id ORDER BY created_at DESC, post_id) = 1 AS last_touch
    FROM attr_candidate
)
SELECT post_id,
       count(*) FILTER (WHERE last_touch) AS last_touch_conversions,
       coalesce(sum(value) FILTER (WHERE last_touch), 0) AS last_touch_revenue,
       sum(decay_share) AS time_decay_conversions,
       sum(decay_share * value) AS time_decay_revenue
FROM weighted GROUP BY post_id
"""

_SUMMARY_SQL = """
SELECT count(*) AS conversions,
       coalesce(sum(value), 0) AS revenue,
       count(*) FILTER (WHERE conversion_id IN (SELECT conversion_id FROM attr_candidate)) AS attributed,
       count(*) FILTER (WHERE conversion_id IN (SELECT conversion_id FROM attr_candidate WHERE rule = 1)) AS by_content,
       count(*) FILTER (WHERE conversion_id IN (SELECT conversion_id FROM attr_candidate WHERE rule = 2)) AS by_landing,
       count(*) FILTER (WHERE conversion_id IN (SELECT conversion_id FROM attr_candidate WHERE rule = 3)) AS by_source,
       count(*) FILTER (WHERE conversion_id NOT IN (SELECT conversion_id FROM attr_candidate)
                         AND coalesce(lower(utm_source), '') NOT IN (SELECT alias FROM attr_source))
           AS unattributed_not_social,
       min(currency) AS currency, count(DISTINCT currency) AS currencies
FROM conversions
"""

_BY_INTENT_SQL = """
SELECT coalesce(l.intent, 'unlabelled') AS intent,
       sum(a.last_touch_conversions) AS last_touch_conversions,
       sum(a.last_touch_revenue) AS last_touch_revenue,
       sum(a.time_decay_conversions) AS time_decay_conversions,
       sum(a.time_decay_revenue) AS time_decay_revenue
FROM attr_post a LEFT JOIN post_labels l USING (post_id)
GROUP BY ALL ORDER BY intent
"""


def prepare_attribution(
    store: Store,
    lookback_days: float = DEFAULT_LOOKBACK_DAYS,
    half_life_hours: float = DEFAULT_HALF_LIFE_HOURS,
) -> None:
    """Fill the temporary ``attr_candidate`` and ``attr_post`` tables for this connection."""
    if not lookback_days > 0 or not half_life_hours > 0:
        raise ConfigurationError("attribution lookback and half-life must be positive")
    store.execute("CREATE OR REPLACE TEMP TABLE attr_source (alias VARCHAR, platform VARCHAR)")
    for alias, platform in _PLATFORM_ALIASES:
        store.execute("INSERT INTO attr_source VALUES (?, ?)", [alias, platform])
    store.execute(_CANDIDATES_SQL, {"lookback_seconds": int(lookback_days * 86400), "half_life_hours": half_life_hours})
    store.execute(_ATTRIBUTED_SQL)


def attribution(
    store: Store,
    lookback_days: float = DEFAULT_LOOKBACK_DAYS,
    half_life_hours: float = DEFAULT_HALF_LIFE_HOURS,
) -> dict[str, Any]:
    """Conversions and revenue per intent under last touch and time decay, and what stayed unattributed.

    >>> attribution(Store(None))["conversions"]
    0
    """
    prepare_attribution(store, lookback_days, half_life_hours)
    (conversions, revenue, attributed, by_content, by_landing, by_source, not_social, currency, currencies) = (
        store.fetchone(_SUMMARY_SQL)
    )
    by_intent = [
        {
            "intent": intent,
            "last_touch_conversions": int(lt_n or 0),
            "last_touch_revenue": round(float(lt_rev or 0), 2),
            "time_decay_conversions": round(float(td_n or 0), 3),
            "time_decay_revenue": round(float(td_rev or 0), 2),
        }
        for intent, lt_n, lt_rev, td_n, td_rev in store.fetchall(_BY_INTENT_SQL)
    ]
    return {
        "lookback_days": lookback_days,
        "half_life_hours": half_life_hours,
        "conversions": int(conversions),
        "revenue": round(float(revenue), 2),
        "currency": currency if int(currencies) == 1 else None,
        "attributed": int(attributed),
        "attributed_by": {
            "utm_content": int(by_content),
            "landing_page": int(by_landing),
            "utm_source": int(by_source),
        },
        "unattributed": int(conversions) - int(attributed),
        "unattributed_not_from_social": int(not_social),
        "by_intent": by_intent,
    }
