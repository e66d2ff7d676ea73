"""The attribute model: engagement against informative and brand-personality content.

After Lee, Hosanagar & Nair (2018, *Management Science*), who found on 106,316 Facebook brand
messages that brand-personality content (emotion, humour...) goes with more likes, comments and
shares, while directly informative content (price, deals...) goes with less when used alone and
with more when combined with brand personality.

Here each labelled brand message with known interactions is one observation:

    log(1 + interactions) = sum_a beta_a * attribute_a
                            + gamma * (any informative AND any personality)
                            + cell fixed effect + error

where the cell is platform x month x paid status x kind (post or reply), removed by demeaning
within cells, so each coefficient compares messages of the same platform, month, paid status and
kind. ``exp(beta) - 1`` is the relative difference in interactions. Intervals are 95%, from
standard errors clustered by week (messages of one week share the audience's mood and the
platform's delivery); with fewer than 20 weeks, heteroskedasticity-robust (HC1) errors are used
instead and the result says so. Observational: associations, not effects of changing a post.

The grouping of our attributes is ours, following the paper's coding: informative = price, deal,
contest, brand or product mention (the paper's price, deal and product-mention variables);
brand personality = emotion, humour, holiday; the rest (question, call to action, link) are
prompts and format, kept as controls and reported too.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt

from equilibrio.store.duck import Store

INFORMATIVE: Final = ("price", "deal", "contest", "brand_mention")
PERSONALITY: Final = ("emotion", "humour", "holiday")
PROMPTS_AND_FORMAT: Final = ("question", "call_to_action", "link")
ATTRIBUTE_GROUPS: Final[dict[str, str]] = {
    **{name: "informative" for name in INFORMATIVE},
    **{name: "personality" for name in PERSONALITY},
    **{name: "prompt_or_format" for name in PROMPTS_AND_FORMAT},
}
COMBINED: Final = "informative_with_personality"
MIN_POSTS: Final = 100
MIN_POSTS_WITH_ATTRIBUTE: Final = 10
MIN_WEEKS_FOR_CLUSTERING: Final = 20

# Column names come from the constant tuple above, never from input.
_MODEL_SQL: Final = f"""
SELECT ln(1 + e.interactions) AS log_interactions,
       dense_rank() OVER (ORDER BY e.platform, date_trunc('month', e.created_at), e.paid_status, e.kind) - 1 AS cell,
       dense_rank() OVER (ORDER BY date_trunc('week', e.created_at)) - 1 AS week,
       {", ".join(f"CAST(l.attr_{name} AS TINYINT) AS {name}" for name in ATTRIBUTE_GROUPS)}
FROM eng_post e JOIN post_labels l USING (post_id)
WHERE e.interactions IS NOT NULL AND l.attr_price IS NOT NULL
"""


def _demean(values: npt.NDArray[np.float64], cells: npt.NDArray[np.int64], sizes: npt.NDArray[np.float64]) -> Any:
    means = np.bincount(cells, weights=values, minlength=sizes.size) / sizes
    return values - means[cells]


def _covariance(
    design: npt.NDArray[np.float64],
    residuals: npt.NDArray[np.float64],
    weeks: npt.NDArray[np.int64],
    absorbed: int,
) -> tuple[npt.NDArray[np.float64], str, int]:
    """Sandwich covariance: clustered by week when there are enough weeks, else HC1."""
    rows, columns = design.shape
    bread = np.linalg.pinv(design.T @ design)
    scores = design * residuals[:, None]
    clusters = int(weeks.max()) + 1
    if clusters >= MIN_WEEKS_FOR_CLUSTERING:
        summed = np.column_stack([np.bincount(weeks, weights=scores[:, j], minlength=clusters) for j in range(columns)])
        correction = clusters / (clusters - 1) * (rows - 1) / max(rows - columns - absorbed, 1)
        return correction * bread @ (summed.T @ summed) @ bread, "clustered by week", clusters - 1
    correction = rows / max(rows - columns - absorbed, 1)
    return (
        correction * bread @ (scores.T @ scores) @ bread,
        "heteroskedasticity-robust (HC1)",
        rows - columns - absorbed,
    )


def attribute_model(store: Store) -> dict[str, Any]:
    """Fit the attribute model on the labelled brand messages; needs the ``eng_post`` temp table.

    >>> from equilibrio.metrics.engagement import prepare_engagement
    >>> store = Store(None); prepare_engagement(store)
    >>> attribute_model(store)["status"]
    'too_few_posts'
    """
    from scipy import stats

    table = store.arrow(_MODEL_SQL)
    posts = table.num_rows
    result: dict[str, Any] = {
        "outcome": "log(1 + interactions)",
        "controls": "platform x month x paid status x kind fixed effects",
        "posts": posts,
        "min_posts": MIN_POSTS,
    }
    if posts < MIN_POSTS:
        return {**result, "status": "too_few_posts", "coefficients": []}
    outcome = table.column("log_interactions").to_numpy().astype(np.float64)
    cells = table.column("cell").to_numpy().astype(np.int64)
    weeks = table.column("week").to_numpy().astype(np.int64)
    flags = {name: table.column(name).to_numpy().astype(np.float64) for name in ATTRIBUTE_GROUPS}
    informative_any = np.max([flags[name] for name in INFORMATIVE], axis=0)
    personality_any = np.max([flags[name] for name in PERSONALITY], axis=0)
    flags[COMBINED] = informative_any * personality_any

    counts = {name: int(values.sum()) for name, values in flags.items()}
    kept = [name for name, n in counts.items() if MIN_POSTS_WITH_ATTRIBUTE <= n <= posts - MIN_POSTS_WITH_ATTRIBUTE]
    too_rare = sorted(set(flags) - set(kept))
    if not kept:
        return {**result, "status": "no_variation", "coefficients": [], "too_rare": too_rare}

    sizes = np.bincount(cells).astype(np.float64)
    design = np.column_stack([_demean(flags[name], cells, sizes) for name in kept])
    target = _demean(outcome, cells, sizes)
    # An attribute constant within every cell is absorbed by the fixed effects: drop it rather
    # than report a coefficient the data cannot identify.
    identified = np.abs(design).sum(axis=0) > 1e-9
    too_rare += [name for name, ok in zip(kept, identified, strict=True) if not ok]
    kept = [name for name, ok in zip(kept, identified, strict=True) if ok]
    design = design[:, identified]
    if not kept:
        return {**result, "status": "no_variation", "coefficients": [], "too_rare": sorted(too_rare)}

    beta, *_ = np.linalg.lstsq(design, target, rcond=None)
    residuals = target - design @ beta
    covariance, errors, dof = _covariance(design, residuals, weeks, absorbed=int(sizes.size))
    standard_errors = np.sqrt(np.clip(np.diag(covariance), 0, None))
    critical = float(stats.t.ppf(0.975, max(dof, 1)))
    coefficients = []
    for name, b, se in zip(kept, beta, standard_errors, strict=True):
        low, high = float(b - critical * se), float(b + critical * se)
        coefficients.append(
            {
                "attribute": name,
                "group": ATTRIBUTE_GROUPS.get(name, "combination"),
                "posts_with": counts[name],
                "coefficient": round(float(b), 4),
                "interval": [round(low, 4), round(high, 4)],
                "relative_difference": round(float(np.expm1(b)), 4),
                "relative_interval": [round(float(np.expm1(low)), 4), round(float(np.expm1(high)), 4)],
                "clear": bool(low > 0 or high < 0),
            }
        )
    total = float(((target - target.mean()) ** 2).sum())
    return {
        **result,
        "status": "fitted",
        "cells": int(sizes.size),
        "weeks": int(weeks.max()) + 1,
        "standard_errors": errors,
        "interval": "95%",
        "within_r2": round(1 - float((residuals**2).sum()) / total, 4) if total > 0 else None,
        "coefficients": coefficients,
        "too_rare": sorted(too_rare),
    }
