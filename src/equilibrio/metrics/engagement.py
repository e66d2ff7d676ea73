"""Engagement per post and per intent, with the rate formulas written in ``docs/metrics.md``.

Interactions are likes + shares + comments, summing the counts the source knows (a platform that
does not report comments contributes likes + shares); a post with none of the three known has no
interaction figure, never zero. Rates divide by reach, impressions or the account's followers
when those are known. Comparisons are like with like: the *engagement index* of a post is its
interactions over the median of the posts of the same platform, month and paid/organic status.
"""

from __future__ import annotations

from typing import Any, Final

from equilibrio.store.duck import Store

UCI_CATEGORIES: Final = ("action", "product", "inspiration")

# One row per brand broadcast or reply (not reposts), with its interactions, rates and index.
POST_ENGAGEMENT_SQL: Final = """
CREATE OR REPLACE TEMP TABLE eng_post AS
WITH base AS (
    SELECT p.post_id, p.platform, p.account_id, p.created_at, p.kind, p.text, p.url,
           CASE WHEN p.paid THEN 'paid' WHEN NOT p.paid THEN 'organic' ELSE 'unknown' END AS paid_status,
           CAST(json_extract_string(p.meta, '$.category') AS VARCHAR) AS uci_category,
           CASE WHEN p.likes IS NULL AND p.shares IS NULL AND p.comments IS NULL THEN NULL
                ELSE coalesce(p.likes, 0) + coalesce(p.shares, 0) + coalesce(p.comments, 0) END AS interactions,
           p.reach, p.impressions, a.followers,
           l.intent, l.p_promotion
    FROM posts p
    LEFT JOIN accounts a USING (account_id)
    LEFT JOIN post_labels l USING (post_id)
    WHERE p.is_brand AND p.kind <> 'repost'
), cells AS (
    SELECT platform, date_trunc('month', created_at) AS month, paid_status,
           median(interactions) AS cell_median
    FROM base GROUP BY ALL
)
SELECT b.*,
       CASE WHEN b.reach > 0 THEN b.interactions / b.reach END AS rate_by_reach,
       CASE WHEN b.impressions > 0 THEN b.interactions / b.impressions END AS rate_by_impressions,
       CASE WHEN b.followers > 0 THEN b.interactions / b.followers END AS rate_by_followers,
       CASE WHEN c.cell_median > 0 THEN b.interactions / c.cell_median END AS engagement_index
FROM base b JOIN cells c
  ON c.platform = b.platform AND c.month = date_trunc('month', b.created_at) AND c.paid_status = b.paid_status
"""

_BY_INTENT_SQL = """
SELECT platform, paid_status, coalesce(intent, 'unlabelled') AS intent,
       count(*) AS posts,
       count(interactions) AS posts_with_interactions,
       median(interactions) AS median_interactions,
       avg(interactions) AS mean_interactions,
       median(rate_by_reach) AS median_rate_by_reach,
       median(rate_by_impressions) AS median_rate_by_impressions,
       median(rate_by_followers) AS median_rate_by_followers,
       median(engagement_index) AS median_engagement_index
FROM eng_post
GROUP BY ALL
ORDER BY platform, paid_status, intent
"""

_UCI_SQL = """
SELECT uci_category, count(*),
       median(coalesce(CAST(json_extract(p.meta, '$.total_interactions') AS DOUBLE), e.interactions))
FROM eng_post e JOIN posts p USING (post_id)
WHERE uci_category IS NOT NULL
GROUP BY uci_category
"""


def _round(value: Any, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


def prepare_engagement(store: Store) -> None:
    """Fill the temporary ``eng_post`` table (one row per brand message) for this connection."""
    store.execute(POST_ENGAGEMENT_SQL)


def engagement_by_intent(store: Store, *, prepared: bool = False) -> list[dict[str, Any]]:
    """Engagement per platform, paid/organic status and intent.

    >>> engagement_by_intent(Store(None))
    []
    """
    if not prepared:
        prepare_engagement(store)
    keys = (
        "platform",
        "paid_status",
        "intent",
        "posts",
        "posts_with_interactions",
        "median_interactions",
        "mean_interactions",
        "median_rate_by_reach",
        "median_rate_by_impressions",
        "median_rate_by_followers",
        "median_engagement_index",
    )
    rows = []
    for row in store.fetchall(_BY_INTENT_SQL):
        record = dict(zip(keys, row, strict=True))
        for key in keys[5:]:
            record[key] = _round(record[key], 2 if key.endswith("interactions") else 5)
        rows.append(record)
    return rows


def median_interactions_by_category(store: Store, *, prepared: bool = False) -> dict[str, Any] | None:
    """Median total interactions per UCI Facebook post category (Moro, Rita & Vala 2016), if present."""
    if not prepared:
        prepare_engagement(store)
    rows = store.fetchall(_UCI_SQL)
    if not rows:
        return None
    found = {str(category): (int(n), _round(median, 1)) for category, n, median in rows}
    return {
        category: {"posts": found[category][0], "median_interactions": found[category][1]}
        for category in UCI_CATEGORIES
        if category in found
    }
