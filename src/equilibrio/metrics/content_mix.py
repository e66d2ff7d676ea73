"""Content mix: the shares of promotion, conversation and value among a brand's labelled posts."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from equilibrio.errors import ConfigurationError
from equilibrio.nlp.brand_examples import intent_version_for
from equilibrio.nlp.intent import INTENT_LABELS
from equilibrio.store.duck import Store

Period = Literal["week", "month"]

_MIX_SQL = """
SELECT l.intent, count(*) AS posts
FROM post_labels l JOIN posts p USING (post_id)
WHERE p.is_brand AND l.intent IS NOT NULL AND p.created_at >= ? AND p.created_at < ?
GROUP BY l.intent
"""

_MIX_BY_PERIOD_SQL = """
SELECT date_trunc(?, p.created_at) AS period, l.intent, count(*) AS posts
FROM post_labels l JOIN posts p USING (post_id)
WHERE p.is_brand AND l.intent IS NOT NULL
GROUP BY ALL ORDER BY period, l.intent
"""

_LABELLING_MODELS_SQL = """
SELECT l.model_version, count(*) AS brand_posts
FROM post_labels l JOIN posts p USING (post_id)
WHERE p.is_brand AND l.intent IS NOT NULL
GROUP BY l.model_version ORDER BY brand_posts DESC, l.model_version
"""


def intent_labelling(store: Store) -> dict[str, Any]:
    """Which intent models labelled the brand posts, and how many of the brand's own labelled posts
    (``equilibrio adapt``) the store holds: a reader of the mix should know whose model it is.

    >>> intent_labelling(Store(None))
    {'models': [], 'own_examples': 0, 'adapted': False, 'stale': False}
    """
    models = [
        {"model_version": str(version), "brand_posts": int(posts)}
        for version, posts in store.fetchall(_LABELLING_MODELS_SQL)
    ]
    own_examples = int(store.fetchone("SELECT count(*) FROM intent_examples")[0])
    current = intent_version_for(store)
    # Labels from another model than the current one: made before the examples were added,
    # changed or cleared (analyze relabels them), or by an older shipped model.
    stale = any(m["model_version"] != current for m in models)
    return {
        "models": models,
        "own_examples": own_examples,
        "adapted": bool(models) and not stale and bool(own_examples),
        "stale": stale,
    }


def check_promotion_target(target: float) -> float:
    """``target`` itself if it is a share strictly between 0 and 1, else a clear error.

    >>> check_promotion_target(0.2)
    0.2
    """
    if not 0 < target < 1:
        raise ConfigurationError(f"promotion target must be between 0 and 1, not {target}")
    return target


def _shares(counts: dict[str, int]) -> dict[str, Any]:
    total = sum(counts.values())
    return {
        "posts": total,
        "counts": {label: counts.get(label, 0) for label in INTENT_LABELS},
        "shares": {label: (round(counts.get(label, 0) / total, 4) if total else None) for label in INTENT_LABELS},
    }


def content_mix(store: Store, start: datetime | None = None, end: datetime | None = None) -> dict[str, Any]:
    """Posts and shares per intent for brand posts created in [start, end) (all time by default)."""
    low = start or datetime(1970, 1, 1)
    high = end or datetime(9999, 1, 1)
    counts = {str(intent): int(n) for intent, n in store.fetchall(_MIX_SQL, [low, high])}
    return _shares(counts)


def content_mix_by_period(store: Store, period: Period = "week") -> list[dict[str, Any]]:
    """One :func:`content_mix`-shaped row per week or month that has labelled brand posts."""
    if period not in ("week", "month"):
        raise ValueError(f"period must be 'week' or 'month', not {period!r}")
    grouped: dict[datetime, dict[str, int]] = {}
    for start, intent, n in store.fetchall(_MIX_BY_PERIOD_SQL, [period]):
        grouped.setdefault(start, {})[str(intent)] = int(n)
    return [{"period_start": start.date().isoformat(), **_shares(counts)} for start, counts in grouped.items()]
