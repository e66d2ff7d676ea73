"""The balance curve: weekly promotion share against engagement and against conversions.

Each week with labelled brand posts is one point: x = the share of promotion among the brand's
labelled messages, y = the mean interactions per brand message (or the conversions attributed to
that week's posts, last touch). A cubic B-spline with a ridge penalty (scikit-learn) is fitted to
the points and refitted on bootstrap resamples of the weeks; the 5th and 95th percentiles of the
refits form the band. The data "can tell" where more promotion stops paying only when the fitted
peak lies inside the observed range in at least 80% of the resamples and those peaks span less
than 0.3 of share; otherwise the result says it cannot tell. Weeks are observational: a curve is
an association, never a proof that promotion causes what follows.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt

from equilibrio.store.duck import Store

MIN_WEEKS: Final = 8
BOOTSTRAP_SAMPLES: Final = 300
SEED: Final = 0
_GRID_POINTS: Final = 41

WEEKLY_SQL: Final = """
WITH brand AS (
    SELECT date_trunc('week', e.created_at) AS week, e.post_id, e.intent, e.interactions
    FROM eng_post e WHERE e.intent IS NOT NULL
), conv AS (
    SELECT date_trunc('week', p.created_at) AS week, sum(a.last_touch_conversions) AS conversions,
           sum(a.last_touch_revenue) AS revenue
    FROM attr_post a JOIN posts p USING (post_id) GROUP BY ALL
)
SELECT CAST(b.week AS DATE) AS week, count(*) AS posts,
       count(*) FILTER (WHERE b.intent = 'promotion') AS promotion,
       count(*) FILTER (WHERE b.intent = 'conversation') AS conversation,
       count(*) FILTER (WHERE b.intent = 'value') AS value,
       avg(b.interactions) AS mean_interactions,
       count(b.interactions) AS posts_with_interactions,
       any_value(c.conversions) AS conversions, any_value(c.revenue) AS revenue
FROM brand b LEFT JOIN conv c USING (week)
GROUP BY b.week ORDER BY b.week
"""


def weekly_balance(store: Store) -> list[dict[str, Any]]:
    """One row per week: posts per intent, promotion share, mean interactions, attributed conversions.

    Needs the ``eng_post`` and ``attr_post`` temporary tables (see :mod:`equilibrio.metrics.engagement`
    and :mod:`equilibrio.metrics.attribution`).
    """
    rows = []
    for (
        week,
        posts,
        promotion,
        conversation,
        value,
        mean_interactions,
        with_interactions,
        conv,
        revenue,
    ) in store.fetchall(WEEKLY_SQL):
        rows.append(
            {
                "week": week.isoformat(),
                "posts": int(posts),
                "promotion": int(promotion),
                "conversation": int(conversation),
                "value": int(value),
                "promotion_share": round(int(promotion) / int(posts), 4),
                "mean_interactions": None if mean_interactions is None else round(float(mean_interactions), 2),
                "posts_with_interactions": int(with_interactions),
                "conversions": int(conv or 0),
                "revenue": round(float(revenue or 0), 2),
            }
        )
    return rows


def _design(x: npt.NDArray[np.float64], low: float, high: float) -> Any:
    from sklearn.preprocessing import SplineTransformer

    knots = np.linspace(low, high, 4).reshape(-1, 1)
    return SplineTransformer(degree=3, knots=knots, extrapolation="linear").fit(knots).transform(x.reshape(-1, 1))


def _fit(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], grid: npt.NDArray[np.float64]) -> Any:
    from sklearn.linear_model import Ridge

    low, high = float(grid[0]), float(grid[-1])
    model = Ridge(alpha=1.0).fit(_design(x, low, high), y)
    return model.predict(_design(grid, low, high))


_OUTCOME_NAMES: Final[dict[str, dict[str, str]]] = {
    "en": {"mean_interactions": "mean interactions", "conversions": "conversions"},
    "es": {"mean_interactions": "las interacciones medias", "conversions": "las conversiones"},
}
_STATEMENTS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "too_few_weeks": "only {weeks} weeks have at least {min_posts} labelled brand posts with {outcome} known; "
        "the curve needs {needed}",
        "no_variation": "promotion share stayed between {low:.0%} and {high:.0%}: too little variation to tell how "
        "the outcome responds to it",
        "turning_point": "in weeks above about {peak:.0%} promotion, {outcome} stopped rising (90% interval of the "
        "turning point {peak_low:.0%}–{peak_high:.0%}, {weeks} weeks); an association across weeks, not proof of "
        "cause",
        "uncertain": "the data cannot tell where more promotion stops paying: over {weeks} weeks the turning point "
        "falls inside the observed range in {inside:.0%} of bootstrap refits{anywhere}; rank correlation between "
        "promotion share and {outcome} is {rho:+.2f}",
        "anywhere": ", anywhere from {peak_low:.0%} to {peak_high:.0%}",
    },
    "es": {
        "too_few_weeks": "solo {weeks} semanas tienen al menos {min_posts} publicaciones de la marca etiquetadas y "
        "con {outcome} conocidas; la curva necesita {needed}",
        "no_variation": "la proporción de promoción se quedó entre el {low:.0%} y el {high:.0%}: muy poca variación "
        "para saber cómo responde el resultado",
        "turning_point": "en las semanas con más de un {peak:.0%} de promoción, {outcome} dejaron de crecer "
        "(intervalo del 90% del punto de inflexión {peak_low:.0%}–{peak_high:.0%}, {weeks} semanas); una "
        "asociación entre semanas, no una prueba de causa",
        "uncertain": "los datos no permiten saber dónde deja de rendir más promoción: en {weeks} semanas el punto "
        "de inflexión cae dentro del rango observado en el {inside:.0%} de los reajustes bootstrap{anywhere}; la "
        "correlación de rangos entre la proporción de promoción y {outcome} es {rho:+.2f}",
        "anywhere": ", en cualquier punto entre el {peak_low:.0%} y el {peak_high:.0%}",
    },
}


def describe_curve(curve: dict[str, Any], lang: str = "en") -> str:
    """The plain-language statement of a :func:`balance_curve` result, in English or Spanish."""
    text = _STATEMENTS[lang]
    outcome = _OUTCOME_NAMES[lang].get(curve["outcome"], curve["outcome"].replace("_", " "))
    status = curve["status"]
    if status == "too_few_weeks":
        return text[status].format(
            weeks=curve["weeks"], min_posts=curve["min_posts_per_week"], outcome=outcome, needed=MIN_WEEKS
        )
    if status == "no_variation":
        low, high = curve["observed_range"]
        return text[status].format(low=low, high=high)
    interval = curve["turning_point_interval"]
    peak_low, peak_high = interval if interval else (None, None)
    if status == "turning_point":
        return text[status].format(
            peak=curve["turning_point_share"],
            outcome=outcome,
            peak_low=peak_low,
            peak_high=peak_high,
            weeks=curve["weeks"],
        )
    anywhere = text["anywhere"].format(peak_low=peak_low, peak_high=peak_high) if interval else ""
    return text["uncertain"].format(
        weeks=curve["weeks"],
        inside=curve["peak_inside_range_share"],
        anywhere=anywhere,
        outcome=outcome,
        rho=curve["spearman_rho"],
    )


def balance_curve(weeks: list[dict[str, Any]], outcome: str, *, min_posts: int = 3, lang: str = "en") -> dict[str, Any]:
    """Fit ``outcome`` (``mean_interactions`` or ``conversions``) against the weekly promotion share.

    The ``statement`` says what the fit shows in plain words, in ``lang`` (``en`` or ``es``).

    >>> balance_curve([], "mean_interactions")["status"]
    'too_few_weeks'
    """
    points = [
        (w["promotion_share"], float(w[outcome]))
        for w in weeks
        if w["posts"] >= min_posts and w.get(outcome) is not None
    ]
    result: dict[str, Any] = {"outcome": outcome, "weeks": len(points), "min_posts_per_week": min_posts}
    if len(points) < MIN_WEEKS:
        result["status"] = "too_few_weeks"
        result["statement"] = describe_curve(result, lang)
        return result
    x = np.array([p[0] for p in points])
    y = np.array([p[1] for p in points])
    if float(x.max() - x.min()) < 0.1:
        result.update(status="no_variation", observed_range=[round(float(x.min()), 4), round(float(x.max()), 4)])
        result["statement"] = describe_curve(result, lang)
        return result
    grid = np.linspace(float(x.min()), float(x.max()), _GRID_POINTS)
    fitted = _fit(x, y, grid)
    rng = np.random.default_rng(SEED)
    refits = []
    for _ in range(BOOTSTRAP_SAMPLES):
        pick = rng.integers(0, len(x), len(x))
        if np.ptp(x[pick]) < 0.05:
            continue
        refits.append(_fit(x[pick], y[pick], grid))
    curves = np.array(refits)
    low, high = np.percentile(curves, [5, 95], axis=0)
    peaks = grid[np.argmax(curves, axis=1)]
    interior = (peaks > grid[0] + 1e-9) & (peaks < grid[-1] - 1e-9)
    interior_share = float(interior.mean())
    peak_low, peak_high = np.percentile(peaks[interior], [5, 95]) if interior.any() else (np.nan, np.nan)
    rho = float(np.corrcoef(np.argsort(np.argsort(x)), np.argsort(np.argsort(y)))[0, 1])
    curve = [
        {
            "promotion_share": round(float(g), 4),
            "fit": round(float(f), 4),
            "low": round(float(lo), 4),
            "high": round(float(hi), 4),
        }
        for g, f, lo, hi in zip(grid, fitted, low, high, strict=True)
    ]
    found = interior_share >= 0.8 and float(peak_high - peak_low) < 0.3
    peak = float(grid[int(np.argmax(fitted))]) if found else None
    curve_result = {
        **result,
        "status": "turning_point" if found else "uncertain",
        "turning_point_share": None if peak is None else round(peak, 3),
        "turning_point_interval": None
        if not interior.any()
        else [round(float(peak_low), 3), round(float(peak_high), 3)],
        "peak_inside_range_share": round(interior_share, 3),
        "spearman_rho": round(rho, 3),
        "curve": curve,
        "points": [{"promotion_share": float(a), outcome: float(b)} for a, b in points],
    }
    curve_result["statement"] = describe_curve(curve_result, lang)
    return curve_result
