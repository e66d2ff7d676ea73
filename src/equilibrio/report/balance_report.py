"""The balance report: one self-contained HTML file (Plotly inlined, opens offline).

Post text and account names are untrusted: the page is rendered by Jinja with autoescape, chart
labels are HTML-escaped before they reach Plotly (which renders a subset of HTML in labels), and
the chart JSON is embedded with ``<``, ``>`` and ``&`` as Unicode escapes so no text can close
the script element.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Final

import numpy as np
import plotly.graph_objects as go
import plotly.offline

from equilibrio._version import __version__
from equilibrio.insights.balance import ATTRIBUTE_NAMES, Lang, Rule, balance_analysis
from equilibrio.network.graph import AudienceNetwork, build_network
from equilibrio.nlp.cues import CUES_BY_NAME
from equilibrio.report._jinja import localized_number, template_environment
from equilibrio.store.duck import Store

COLOURS: Final = {"promotion": "#d1495b", "conversation": "#00798c", "value": "#edae49"}
NETWORK_NODES: Final = 300

_ENV = template_environment("equilibrio.report")

_LABELS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "title": "Conversation or megaphone?",
        "score": "Balance score",
        "mix": "Content mix per week",
        "curve_engagement": "Balance curve: promotion share and engagement",
        "curve_conversions": "Balance curve: promotion share and conversions",
        "engagement": "Engagement per intent",
        "conversions": "Conversions per intent",
        "network": "The audience network",
        "queue": "Waiting for an answer",
        "promotional": "Most promotional posts",
        "conversational": "Most conversational posts",
        "advice": "What to do",
        "share": "share of posts",
        "week": "week",
        "interactions": "mean interactions per post",
        "median_interactions": "median interactions per post",
        "conversions_axis": "conversions (last touch)",
        "promotion_share": "promotion share of the week",
        "fit": "fit",
        "band": "90% bootstrap band",
        "weeks": "weeks",
        "target": "target",
        "categories": "Median interactions by post category (UCI Facebook metrics)",
        "parts": "part",
        "formula": "formula",
        "value": "value",
        "no_data": "Not enough data for this chart",
        "response": "Conversation health",
        "response_weekly": "per week, by when the messages arrived",
        "median_first_response": "median first response (min)",
        "response_rate_axis": "answered within {hours:g} h",
        "response_ticks": "1|10|60|600|1,440 (1 d)|10,080 (1 wk)|43,200 (30 d)",
        "attributes": "What content goes with engagement (attribute model)",
        "relative_difference": "difference in interactions vs comparable posts (95% interval)",
        "labelled_posts": "labelled brand posts",
        "not_scored": "Not scored",
        "footer": "Charts show associations across weeks and posts, not causes. Definitions: docs/metrics.md in "
        "the equilibrio repository.",
        "charts_unsupported": "This browser cannot unpack the charts (it lacks DecompressionStream): open the file "
        "in a recent Chrome, Edge, Firefox or Safari.",
    },
    "es": {
        "title": "¿Conversación o megáfono?",
        "score": "Puntuación de equilibrio",
        "mix": "Mezcla de contenido por semana",
        "curve_engagement": "Curva de equilibrio: promoción e interacción",
        "curve_conversions": "Curva de equilibrio: promoción y conversiones",
        "engagement": "Interacción por intención",
        "conversions": "Conversiones por intención",
        "network": "La red de la audiencia",
        "queue": "Esperando respuesta",
        "promotional": "Publicaciones más promocionales",
        "conversational": "Publicaciones más conversacionales",
        "advice": "Qué hacer",
        "share": "proporción de publicaciones",
        "week": "semana",
        "interactions": "interacciones medias por publicación",
        "median_interactions": "mediana de interacciones por publicación",
        "conversions_axis": "conversiones (último contacto)",
        "promotion_share": "proporción de promoción de la semana",
        "fit": "ajuste",
        "band": "banda bootstrap del 90%",
        "weeks": "semanas",
        "target": "objetivo",
        "categories": "Mediana de interacciones por categoría (UCI Facebook metrics)",
        "parts": "parte",
        "formula": "fórmula",
        "value": "valor",
        "no_data": "No hay datos suficientes para este gráfico",
        "response": "Salud de la conversación",
        "response_weekly": "por semana, según llegaron los mensajes",
        "median_first_response": "mediana de primera respuesta (min)",
        "response_rate_axis": "respondidos en {hours:g} h",
        "response_ticks": "1|10|60|600|1.440 (1 d)|10.080 (1 sem)|43.200 (30 d)",
        "attributes": "Qué contenido va con la interacción (modelo de atributos)",
        "relative_difference": "diferencia en interacciones frente a publicaciones comparables (intervalo del 95%)",
        "labelled_posts": "publicaciones de la marca etiquetadas",
        "not_scored": "Sin puntuar",
        "footer": "Los gráficos muestran asociaciones entre semanas y publicaciones, no causas. Definiciones: "
        "docs/metrics.md en el repositorio de equilibrio.",
        "charts_unsupported": "Este navegador no puede desempaquetar los gráficos (le falta DecompressionStream): "
        "abre el archivo en un Chrome, Edge, Firefox o Safari recientes.",
    },
}


# Names of score parts and conversation figures as the report shows them.
_TERMS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "unstored_replies": "replies to messages not in the store (timed by their X ids)",
        "unstored_median_minutes": "median time to those replies (min)",
        "unstored_p90_minutes": "p90 time to those replies (min)",
    },
    "es": {
        "promotion_pressure": "presión promocional",
        "responsiveness": "capacidad de respuesta",
        "bidirectionality": "bidireccionalidad",
        "cadence": "regularidad",
        "sentiment": "sentimiento",
        "audience_turns": "turnos de la audiencia",
        "response_rate": "tasa de respuesta",
        "question_response_rate": "tasa de respuesta a preguntas",
        "median_first_response_minutes": "mediana de primera respuesta (min)",
        "p90_first_response_minutes": "p90 de primera respuesta (min)",
        "brand_replies": "respuestas de la marca",
        "brand_broadcasts": "publicaciones propias",
        "replies_per_broadcast": "respuestas por publicación propia",
        "joined_share": "conversaciones de la audiencia atendidas",
        "mean_thread_depth": "profundidad media de los hilos",
        "unstored_replies": "respuestas a mensajes que no están en el almacén (medidas por sus ids de X)",
        "unstored_median_minutes": "mediana del tiempo hasta esas respuestas (min)",
        "unstored_p90_minutes": "p90 del tiempo hasta esas respuestas (min)",
    },
}


def _term(key: str, lang: Lang) -> str:
    return _TERMS[lang].get(key, key.replace("_", " "))


# Conversation figures that are shares: a reader wants "86%", not 0.8567.
_SHARES: Final = frozenset({"response_rate", "question_response_rate", "joined_share"})


def _figure(key: str, value: Any, lang: Lang) -> str:
    """A conversation figure as the report's language writes it (shares in %).

    >>> _figure("response_rate", 0.8567, "en"), _figure("brand_replies", 1535, "es")
    ('86%', '1.535')
    """
    return localized_number(value, lang, share=key in _SHARES)


def _cue_label(name: str, lang: Lang) -> str:
    """A stored cue name as a reader says it ("call_to_buy" -> "call to buy, book or subscribe")."""
    cue = CUES_BY_NAME.get(name)
    return cue.label(lang) if cue is not None else name.replace("_", " ")


@cache
def _packed_plotly_js() -> str:
    """plotly.js, gzipped and in base64, for the page to unpack: the library is 4.8 MB as text and 2.0 MB so,
    and the report carries it to open offline (the browser's DecompressionStream unpacks it)."""
    library = str(plotly.offline.get_plotlyjs()).encode("utf-8")
    return base64.b64encode(gzip.compress(library, mtime=0)).decode("ascii")


def _safe(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _mix_chart(analysis: dict[str, Any], words: dict[str, str]) -> go.Figure | None:
    weeks = analysis["content_mix"]["by_week"]
    if not weeks:
        return None
    figure = go.Figure()
    for label, colour in COLOURS.items():
        figure.add_bar(
            x=[w["key"] for w in weeks], y=[w["shares"][label] for w in weeks], name=label, marker_color=colour
        )
    target = analysis["content_mix"]["promotion_target"]
    figure.add_hline(y=target, line_dash="dash", annotation_text=f"{words['target']} {target:.0%}")
    figure.update_layout(barmode="stack", yaxis_tickformat=".0%", yaxis_title=words["share"], xaxis_title=words["week"])
    return figure


def _curve_chart(curve: dict[str, Any], outcome: str, axis: str, words: dict[str, str]) -> go.Figure | None:
    if not curve.get("curve"):
        return None
    grid = [c["promotion_share"] for c in curve["curve"]]
    figure = go.Figure()
    figure.add_scatter(
        x=grid + grid[::-1],
        y=[c["high"] for c in curve["curve"]] + [c["low"] for c in curve["curve"]][::-1],
        fill="toself",
        line={"width": 0},
        fillcolor="rgba(0,121,140,0.2)",
        name=words["band"],
        hoverinfo="skip",
    )
    figure.add_scatter(
        x=grid, y=[c["fit"] for c in curve["curve"]], mode="lines", name=words["fit"], line_color="#00798c"
    )
    figure.add_scatter(
        x=[p["promotion_share"] for p in curve["points"]],
        y=[p[outcome] for p in curve["points"]],
        mode="markers",
        name=words["weeks"],
        marker={"color": "#30343f", "size": 6, "opacity": 0.6},
    )
    if curve.get("turning_point_share") is not None:
        figure.add_vline(x=curve["turning_point_share"], line_dash="dot")
    figure.update_layout(xaxis_tickformat=".0%", xaxis_title=words["promotion_share"], yaxis_title=axis)
    return figure


def _engagement_chart(analysis: dict[str, Any], words: dict[str, str]) -> go.Figure | None:
    rows = [
        r for r in analysis["engagement_by_intent"] if r["intent"] in COLOURS and r["median_interactions"] is not None
    ]
    if not rows:
        return None
    figure = go.Figure()
    for label, colour in COLOURS.items():
        mine = [r for r in rows if r["intent"] == label]
        figure.add_bar(
            x=[_safe(f"{r['platform']} · {r['paid_status']}") for r in mine],
            y=[r["median_interactions"] for r in mine],
            name=label,
            marker_color=colour,
        )
    figure.update_layout(barmode="group", yaxis_title=words["median_interactions"])
    return figure


def _response_chart(analysis: dict[str, Any], words: dict[str, str]) -> go.Figure | None:
    """Per week: the share of messages answered in time (bars) and the median first response (points)."""
    conversation = analysis["conversation"]
    weeks = [w for w in conversation["response_by_week"] if w["turns_old_enough"]]
    if len(weeks) < 2:
        return None
    answered = words["response_rate_axis"].format(hours=conversation["response_window_hours"])
    figure = go.Figure()
    figure.add_bar(
        x=[w["key"] for w in weeks],
        y=[w["response_rate"] for w in weeks],
        name=answered,
        marker_color="#c9e3e8",
    )
    # Points, not a line: weeks without messages would be bridged. Response times are heavy-tailed
    # (minutes to weeks), so their axis is logarithmic; it overlays the bars so they never hide a point.
    figure.add_scatter(
        x=[w["key"] for w in weeks],
        y=[w["median_first_response_minutes"] for w in weeks],
        mode="markers",
        name=words["median_first_response"],
        marker={"color": "#00798c", "size": 7},
        yaxis="y2",
    )
    figure.update_layout(
        xaxis_title=words["week"],
        yaxis={"title": answered, "tickformat": ".0%", "range": [0, 1]},
        yaxis2={
            "title": words["median_first_response"],
            "type": "log",
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
            # minutes people read at a glance: a minute, ten, an hour, ten hours, a day, a week, a month
            "tickvals": [1, 10, 60, 600, 1440, 10080, 43200],
            "ticktext": words["response_ticks"].split("|"),
        },
        legend={"orientation": "h", "y": -0.25},
    )
    return figure


def _conversions_chart(analysis: dict[str, Any], words: dict[str, str]) -> go.Figure | None:
    rows = analysis["conversions"]["by_intent"]
    if not rows:
        return None
    figure = go.Figure()
    figure.add_bar(x=[r["intent"] for r in rows], y=[r["last_touch_conversions"] for r in rows], name="last touch")
    figure.add_bar(x=[r["intent"] for r in rows], y=[r["time_decay_conversions"] for r in rows], name="time decay")
    figure.update_layout(barmode="group", yaxis_title=words["conversions_axis"])
    return figure


def _category_chart(analysis: dict[str, Any], words: dict[str, str]) -> go.Figure | None:
    categories = analysis["median_interactions_by_category"]
    if not categories:
        return None
    figure = go.Figure()
    figure.add_bar(
        x=list(categories), y=[c["median_interactions"] for c in categories.values()], marker_color="#30343f"
    )
    figure.update_layout(yaxis_title=words["median_interactions"])
    return figure


def _attributes_chart(analysis: dict[str, Any], words: dict[str, str], lang: Lang) -> go.Figure | None:
    """Each attribute's relative difference in interactions with its 95% interval, clear ones dark."""
    model = analysis["attribute_model"]
    rows = model.get("coefficients") or []
    if not rows:
        return None
    names = ATTRIBUTE_NAMES[lang]
    ordered = sorted(rows, key=lambda c: c["relative_difference"])
    figure = go.Figure()
    figure.add_scatter(
        x=[c["relative_difference"] for c in ordered],
        y=[names[c["attribute"]] for c in ordered],
        mode="markers",
        error_x={
            "type": "data",
            "symmetric": False,
            "array": [c["relative_interval"][1] - c["relative_difference"] for c in ordered],
            "arrayminus": [c["relative_difference"] - c["relative_interval"][0] for c in ordered],
        },
        marker={"size": 9, "color": ["#30343f" if c["clear"] else "#bbb" for c in ordered]},
        text=[f"n={c['posts_with']}" for c in ordered],
        showlegend=False,
    )
    figure.add_vline(x=0, line_dash="dash")
    figure.update_layout(xaxis_tickformat="+.0%", xaxis_title=words["relative_difference"])
    return figure


def _network_chart(network: AudienceNetwork) -> go.Figure | None:
    """The busiest accounts (by weighted degree) laid out by force, coloured by community."""
    if network.nodes.num_rows == 0:
        return None
    sub = network.busiest(NETWORK_NODES)
    layout = sub.layout_fruchterman_reingold(seed=[(np.cos(i), np.sin(i)) for i in range(sub.vcount())], niter=300)
    coords = np.asarray(layout.coords)
    edge_x: list[float | None] = []
    edge_y: list[float | None] = []
    for source, target in sub.get_edgelist():
        edge_x += [coords[source, 0], coords[target, 0], None]
        edge_y += [coords[source, 1], coords[target, 1], None]
    figure = go.Figure()
    figure.add_scatter(
        x=edge_x, y=edge_y, mode="lines", line={"width": 0.5, "color": "#bbb"}, hoverinfo="skip", showlegend=False
    )
    sizes = np.asarray(sub.strength(mode="all", weights="weight"), dtype=float)
    figure.add_scatter(
        x=coords[:, 0],
        y=coords[:, 1],
        mode="markers",
        text=[
            _safe(f"@{v['label']} · community {v['community']}" + (" · brand" if v["is_brand"] else "")) for v in sub.vs
        ],
        hoverinfo="text",
        marker={
            "size": 5 + 20 * np.sqrt(sizes / max(sizes.max(), 1)),
            "color": sub.vs["community"],
            "colorscale": "Turbo",
            "line": {"width": [2 if b else 0 for b in sub.vs["is_brand"]], "color": "#000"},
        },
        showlegend=False,
    )
    figure.update_layout(xaxis={"visible": False}, yaxis={"visible": False})
    return figure


def _embed(figure: go.Figure | None) -> str | None:
    if figure is None:
        return None
    figure.update_layout(margin={"l": 50, "r": 20, "t": 20, "b": 50}, height=360, template="plotly_white")
    payload = str(figure.to_json())
    return payload.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def report_data(
    store: Store, *, lang: Lang = "en", rule: Rule = "80/20", promotion_target: float | None = None
) -> dict[str, Any]:
    """The analysis plus the network summary: everything the report shows, JSON-ready."""
    analysis = balance_analysis(store, lang=lang, rule=rule, promotion_target=promotion_target)
    network = build_network(store)
    return {"analysis": analysis, "network": network.summary, "_network": network}


def render_report(
    store: Store,
    path: Path,
    *,
    lang: Lang = "en",
    rule: Rule = "80/20",
    promotion_target: float | None = None,
    title: str | None = None,
    data: dict[str, Any] | None = None,
) -> Path:
    """Write the balance report to ``path`` and return it.

    ``data`` is a :func:`report_data` result the caller already has (computed with the same
    ``lang``, ``rule`` and target), so the analysis is not run twice.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     render_report(Store(None), Path(folder) / "report.html").stat().st_size > 1_000_000
    True
    """
    html_text = report_html(store, lang=lang, rule=rule, promotion_target=promotion_target, title=title, data=data)
    path.write_text(html_text, encoding="utf-8")
    return path


def report_html(
    store: Store,
    *,
    lang: Lang = "en",
    rule: Rule = "80/20",
    promotion_target: float | None = None,
    title: str | None = None,
    data: dict[str, Any] | None = None,
) -> str:
    """The balance report as one self-contained HTML page (what :func:`render_report` writes)."""
    if data is None:
        data = report_data(store, lang=lang, rule=rule, promotion_target=promotion_target)
    analysis, network = data["analysis"], data["_network"]
    words = _LABELS[lang]
    curves = analysis["balance_curve"]
    charts = {
        "mix": _embed(_mix_chart(analysis, words)),
        "curve_engagement": _embed(
            _curve_chart(curves["engagement"], "mean_interactions", words["interactions"], words)
        ),
        "curve_conversions": _embed(
            _curve_chart(curves["conversions"], "conversions", words["conversions_axis"], words)
        ),
        "engagement": _embed(_engagement_chart(analysis, words)),
        "response": _embed(_response_chart(analysis, words)),
        "conversions": _embed(_conversions_chart(analysis, words)),
        "categories": _embed(_category_chart(analysis, words)),
        "attributes": _embed(_attributes_chart(analysis, words, lang)),
        "network": _embed(_network_chart(network)),
    }
    return _ENV.get_template("balance.html.j2").render(
        a=analysis,
        network=data["network"],
        charts=charts,
        words=words,
        term=lambda key: _term(key, lang),
        cue_label=lambda name: _cue_label(name, lang),
        figure=lambda key, value: _figure(key, value, lang),
        lang=lang,
        title=title or words["title"],
        packed_plotly_js=_packed_plotly_js(),
        version=__version__,
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def report_json(data: dict[str, Any]) -> str:
    """The report's data as JSON (the graph object left out), for golden files and ``--json``."""
    return json.dumps({k: v for k, v in data.items() if not k.startswith("_")}, indent=1, sort_keys=True, default=str)
