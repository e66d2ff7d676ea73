"""The balance analysis: content mix against a target, engagement and conversions per intent, the
balance curve, and a 0-100 balance score made of transparent parts with recommendations.

Every part's formula is in ``docs/metrics.md`` and is repeated in the report next to its value.
"""

from __future__ import annotations

import math
from typing import Any, Final, Literal

from equilibrio.errors import ConfigurationError
from equilibrio.metrics.attributes import attribute_model
from equilibrio.metrics.attribution import attribution
from equilibrio.metrics.balance import balance_curve, weekly_balance
from equilibrio.metrics.content_mix import check_promotion_target, intent_labelling
from equilibrio.metrics.conversation import conversation_health, net_sentiment_by_period, unanswered_queue
from equilibrio.metrics.engagement import engagement_by_intent, median_interactions_by_category, prepare_engagement
from equilibrio.nlp.intent import INTENT_LABELS
from equilibrio.nlp.sentiment import net_sentiment
from equilibrio.store.duck import Store

Rule = Literal["80/20", "thirds"]
Lang = Literal["en", "es"]
TARGETS: Final[dict[str, float]] = {"80/20": 0.20, "thirds": 1 / 3}
_UNDERSELL_SHARE: Final = 0.05
# A timeline export holds few audience messages (mostly reposted ones); fewer than this many
# audience turns say little about how the brand answers, so responsiveness is not scored.
MIN_AUDIENCE_TURNS: Final = 30

_MIX_SQL = """
SELECT {dimension} AS key, count(*) AS posts,
       count(*) FILTER (WHERE intent = 'promotion') AS promotion,
       count(*) FILTER (WHERE intent = 'conversation') AS conversation,
       count(*) FILTER (WHERE intent = 'value') AS value
FROM eng_post e LEFT JOIN accounts a USING (account_id)
WHERE intent IS NOT NULL
GROUP BY ALL ORDER BY 1
"""

_MIX_DIMENSIONS: Final = {
    "week": "CAST(date_trunc('week', e.created_at) AS DATE)",
    "month": "CAST(date_trunc('month', e.created_at) AS DATE)",
    "account": "coalesce(e.platform || ':' || a.handle, e.account_id)",
    "platform": "e.platform",
}

_EXTREME_POSTS_SQL = """
SELECT e.post_id, e.platform, coalesce(a.handle, e.account_id) AS account, e.created_at, e.text, e.url,
       e.intent, e.interactions, l.p_promotion, l.p_conversation, l.cues
FROM eng_post e JOIN post_labels l USING (post_id) LEFT JOIN accounts a USING (account_id)
WHERE e.text IS NOT NULL AND e.intent = ?
ORDER BY {order} DESC, e.created_at DESC, e.post_id
LIMIT ?
"""

CADENCE_MIN_WEEKS: Final = 4
_CADENCE_SQL = """
WITH weekly AS (
    SELECT account_id, date_trunc('week', created_at) AS week, count(*) AS posts FROM eng_post GROUP BY ALL
), span AS (
    SELECT account_id, unnest(range(min(week), max(week) + INTERVAL 1 WEEK, INTERVAL 1 WEEK)) AS week
    FROM weekly GROUP BY account_id
), per_account AS (
    SELECT s.account_id, count(*) AS weeks, avg(coalesce(w.posts, 0)) AS mean_posts,
           stddev_pop(coalesce(w.posts, 0)) AS std_posts, sum(coalesce(w.posts, 0)) AS posts
    FROM span s LEFT JOIN weekly w USING (account_id, week)
    GROUP BY s.account_id HAVING count(*) >= $min_weeks
)
-- accounts weighted by their messages: the busiest accounts set the brand's rhythm
SELECT sum(weeks), sum(posts * mean_posts) / sum(posts), sum(posts * std_posts) / sum(posts), count(*)
FROM per_account
"""


def _mix_row(key: Any, posts: int, counts: dict[str, int], target: float) -> dict[str, Any]:
    shares = {label: round(counts[label] / posts, 4) for label in INTENT_LABELS}
    return {
        "key": str(key),
        "posts": posts,
        "counts": counts,
        "shares": shares,
        "above_target": shares["promotion"] > target,
    }


def content_mix_against_target(store: Store, target: float) -> dict[str, Any]:
    """Shares per intent overall and per week, month, account and platform, flagged against the target."""
    result: dict[str, Any] = {"promotion_target": round(target, 4)}
    overall = {label: 0 for label in INTENT_LABELS}
    for name, expression in _MIX_DIMENSIONS.items():
        rows = []
        sql = _MIX_SQL.format(dimension=expression)  # expression: a fixed string from _MIX_DIMENSIONS
        for key, posts, promotion, conversation, value in store.fetchall(sql):
            counts = {"promotion": int(promotion), "conversation": int(conversation), "value": int(value)}
            rows.append(_mix_row(key, int(posts), counts, target))
            if name == "platform":
                for label in INTENT_LABELS:
                    overall[label] += counts[label]
        result[f"by_{name}"] = rows
    total = sum(overall.values())
    result["overall"] = _mix_row("all", total, overall, target) if total else None
    weeks = result["by_week"]
    result["weeks_above_target"] = sum(1 for w in weeks if w["above_target"])
    return result


def extreme_posts(store: Store, limit: int = 5) -> dict[str, list[dict[str, Any]]]:
    """The most promotional and the most conversational brand posts (by the model's probability)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for intent, order in (("promotion", "l.p_promotion"), ("conversation", "l.p_conversation")):
        sql = _EXTREME_POSTS_SQL.format(order=order)  # order: one of two fixed column names
        out[f"most_{'promotional' if intent == 'promotion' else 'conversational'}"] = [
            {
                "post_id": post_id,
                "platform": platform,
                "account": account,
                "created_at": created_at.isoformat(),
                "text": text,
                "url": url,
                "interactions": interactions,
                "probability": round(float(p_promotion if intent == "promotion" else p_conversation), 3),
                "cues": list(cues or []),
            }
            for (
                post_id,
                platform,
                account,
                created_at,
                text,
                url,
                _,
                interactions,
                p_promotion,
                p_conversation,
                cues,
            ) in (store.fetchall(sql, [intent, limit]))
        ]
    return out


# -- the score ------------------------------------------------------------------------------


def promotion_pressure_score(share: float, target: float) -> float:
    """100 at or under the target, falling linearly to 0 at 100% promotion; below 5% promotion the
    brand barely sells, so the part falls towards 50 at 0%.

    >>> promotion_pressure_score(0.2, 0.2), promotion_pressure_score(0.6, 0.2), promotion_pressure_score(0.0, 0.2)
    (100.0, 50.0, 50.0)
    """
    if share > target:
        return round(100 * max(0.0, 1 - (share - target) / (1 - target)), 1)
    if share < _UNDERSELL_SHARE:
        return round(50 + 50 * share / _UNDERSELL_SHARE, 1)
    return 100.0


_MISSING_REASONS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "promotion_pressure": "no brand post has an intent label yet (equilibrio analyze labels them)",
        "bidirectionality": "no brand broadcast to set its replies against, and no thread started by the audience",
        "cadence": f"no brand account has posted over a span of {CADENCE_MIN_WEEKS} weeks or more",
        "sentiment": "no audience message is clearly positive or negative (equilibrio analyze scores them)",
        "responsiveness": "no audience message needed an answer",
        "too_few_turns": "{turns} audience messages needed an answer; at least {minimum} are needed to judge "
        "responsiveness",
        "unstored": "the store holds no audience messages to answer; the brand's {replies} replies to messages "
        "outside it came a median {minutes} min after them (timed by their X ids), but a response rate needs the "
        "messages themselves: import the mentions or comments too",
    },
    "es": {
        "promotion_pressure": "ninguna publicación de la marca tiene aún etiqueta de intención (equilibrio analyze "
        "las etiqueta)",
        "bidirectionality": "no hay publicaciones propias con las que comparar las respuestas ni hilos iniciados por "
        "la audiencia",
        "cadence": f"ninguna cuenta de la marca ha publicado durante {CADENCE_MIN_WEEKS} semanas o más",
        "sentiment": "ningún mensaje de la audiencia es claramente positivo o negativo (equilibrio analyze los puntúa)",
        "responsiveness": "ningún mensaje de la audiencia pedía respuesta",
        "too_few_turns": "{turns} mensajes de la audiencia pedían respuesta; hacen falta al menos {minimum} para "
        "juzgar la capacidad de respuesta",
        "unstored": "el almacén no tiene mensajes de la audiencia que responder; las {replies} respuestas de la marca "
        "a mensajes de fuera llegaron con una mediana de {minutes} min (medidas por sus ids de X), pero la tasa de "
        "respuesta necesita los propios mensajes: importa también las menciones o los comentarios",
    },
}


def _missing_reason(part: str, response: dict[str, Any], unstored: dict[str, Any], lang: Lang) -> str:
    """Why a score part could not be computed, in words a reader can act on."""
    reasons = _MISSING_REASONS[lang]
    if part != "responsiveness":
        return reasons[part]
    if response["audience_turns"]:
        return reasons["too_few_turns"].format(turns=response["audience_turns"], minimum=MIN_AUDIENCE_TURNS)
    if unstored["replies"]:
        return reasons["unstored"].format(replies=f"{unstored['replies']:,}", minutes=unstored["median_minutes"])
    return reasons["responsiveness"]


def responsiveness_score(response_rate: float, median_first_response_minutes: float | None) -> float:
    """100 x response rate x speed; speed is 1 within an hour, 0 at a day, log-linear between.

    >>> responsiveness_score(0.9, 60.0), responsiveness_score(1.0, 1440.0)
    (90.0, 0.0)
    """
    if median_first_response_minutes is None:
        speed = 1.0
    else:
        minutes = max(median_first_response_minutes, 60.0)
        speed = max(0.0, 1 - math.log(minutes / 60) / math.log(24))
    return round(100 * response_rate * speed, 1)


def bidirectionality_score(replies_per_broadcast: float | None, joined_share: float | None) -> float | None:
    """Mean of min(replies per broadcast, 1) and the share of audience-started threads joined, x 100."""
    parts = [
        p
        for p in (None if replies_per_broadcast is None else min(replies_per_broadcast, 1.0), joined_share)
        if p is not None
    ]
    return round(100 * sum(parts) / len(parts), 1) if parts else None


def cadence_score(weekly_mean: float, weekly_std: float) -> float:
    """100 x (1 - coefficient of variation of weekly brand posts), floored at 0.

    >>> cadence_score(10.0, 0.0), cadence_score(10.0, 5.0)
    (100.0, 50.0)
    """
    return round(100 * max(0.0, 1 - weekly_std / weekly_mean), 1) if weekly_mean > 0 else 0.0


def sentiment_score(net: float) -> float:
    """Net sentiment mapped from [-1, 1] to [0, 100]."""
    return round(50 * (net + 1), 1)


_TEXT: Final[dict[str, dict[str, str]]] = {
    "en": {
        "promotion_high": "Promotion is {share:.0%} of your posts, above your {target:.0%} target. Swap about "
        "{swap} promotional posts a week for tips, stories or questions to your audience.",
        "promotion_low": "Only {share:.0%} of your posts sell anything. A clear offer now and then is fine: "
        "people follow brands also for their deals.",
        "slow": "Half of the people who write to you wait more than {minutes} before a first reply. Aim for "
        "under an hour in opening hours.",
        "unanswered": "{rate:.0%} of messages that needed an answer got none within {hours} h. Start with the "
        "unanswered queue: {queue} are waiting, questions and unhappy customers first.",
        "broadcast": "You publish {ratio:.2f} replies per broadcast post: the audience hears a megaphone. Reply "
        "to comments and join the threads people start.",
        "cadence": "Your weekly rhythm is irregular (some weeks {max} posts, others {min}). A steadier cadence "
        "keeps the conversation alive.",
        "sentiment": "Net audience sentiment is {net:+.2f}. Read the detractors list and answer their complaints "
        "in public before promoting again.",
        "curve": "Balance curve: {statement}.",
        "no_conversions": "no attributed conversions",
        "good": "The balance looks healthy: keep the current mix and response times.",
        "no_brand": "No brand posts found, so there is no balance to score: mark the brand's accounts with "
        "`equilibrio brands --db ... --add @handle` (or `--brand` at ingest).",
        "model_shipped": "Intents labelled by the shipped model {version}. On a brand it was not trained on, expect "
        "it to be wrong more often in English than in Spanish; about 40 of your own labelled posts "
        "(`equilibrio adapt`) make it read your brand better.",
        "model_adapted": "Intents labelled by {version}: the shipped model adapted to {examples} of your own "
        "labelled posts.",
        "model_stale": "Labels from more than one intent model ({versions}), or made before your labelled posts "
        "were added or cleared: run `equilibrio analyze` so that every post is labelled by the current one.",
    },
    "es": {
        "promotion_high": "La promoción es el {share:.0%} de tus publicaciones, por encima de tu objetivo del "
        "{target:.0%}. Cambia unas {swap} publicaciones promocionales por semana por consejos, historias o "
        "preguntas a tu audiencia.",
        "promotion_low": "Solo el {share:.0%} de tus publicaciones vende algo. Una oferta clara de vez en cuando "
        "está bien: la gente también sigue a las marcas por sus promociones.",
        "slow": "La mitad de quienes te escriben esperan más de {minutes} para una primera respuesta. Apunta a "
        "menos de una hora en horario de atención.",
        "unanswered": "El {rate:.0%} de los mensajes que pedían respuesta no la recibió en {hours} h. Empieza "
        "por la bandeja de pendientes: {queue} esperan, primero preguntas y clientes molestos.",
        "broadcast": "Publicas {ratio:.2f} respuestas por cada publicación propia: la audiencia oye un megáfono. "
        "Responde comentarios y únete a las conversaciones que inicia la gente.",
        "cadence": "Tu ritmo semanal es irregular (algunas semanas {max} publicaciones, otras {min}). Una "
        "cadencia estable mantiene viva la conversación.",
        "sentiment": "El sentimiento neto de la audiencia es {net:+.2f}. Revisa la lista de detractores y "
        "responde sus quejas en público antes de volver a promocionar.",
        "curve": "Curva de equilibrio: {statement}.",
        "no_conversions": "no hay conversiones atribuidas",
        "good": "El equilibrio se ve sano: mantén la mezcla actual y los tiempos de respuesta.",
        "no_brand": "No hay publicaciones de la marca, así que no hay equilibrio que puntuar: marca sus cuentas "
        "con `equilibrio brands --db ... --add @cuenta` (o `--brand` al importar).",
        "model_shipped": "Intenciones etiquetadas por el modelo incluido {version}. En una marca con la que no fue "
        "entrenado, espera más errores en inglés que en español; unas 40 publicaciones tuyas etiquetadas "
        "(`equilibrio adapt`) le enseñan a leer tu marca.",
        "model_adapted": "Intenciones etiquetadas por {version}: el modelo incluido adaptado a {examples} "
        "publicaciones tuyas etiquetadas.",
        "model_stale": "Hay etiquetas de más de un modelo de intención ({versions}), o anteriores a que añadieras o "
        "borraras tus publicaciones etiquetadas: ejecuta `equilibrio analyze` para que todas sean del actual.",
    },
}


ATTRIBUTE_NAMES: Final[dict[str, dict[str, str]]] = {
    "en": {
        "price": "a price",
        "deal": "a deal",
        "contest": "a contest",
        "brand_mention": "a brand or product mention",
        "emotion": "emotion",
        "humour": "humour",
        "holiday": "a holiday",
        "question": "a question",
        "call_to_action": "a call to action",
        "link": "a link",
        "informative_with_personality": "informative and personality content together",
    },
    "es": {
        "price": "un precio",
        "deal": "una oferta",
        "contest": "un concurso",
        "brand_mention": "una mención de marca o producto",
        "emotion": "emoción",
        "humour": "humor",
        "holiday": "una festividad",
        "question": "una pregunta",
        "call_to_action": "una llamada a la acción",
        "link": "un enlace",
        "informative_with_personality": "contenido informativo y de personalidad juntos",
    },
}
_ATTRIBUTE_TEXT: Final[dict[str, dict[str, str]]] = {
    "en": {
        "fitted": "Compared with messages of the same platform, month, paid status and kind ({posts} messages, 95% "
        "intervals): {findings}. Lee, Hosanagar & Nair (2018) found that emotion and humour go with "
        "more engagement and price or deals alone with less. Associations, not effects of editing a post.",
        "more": "messages with {items} had more interactions",
        "fewer": "messages with {items} had fewer",
        "unclear": "no clear difference for {items}",
        "none": "no attribute shows a clear difference",
        "too_few_posts": "The attribute model needs at least {min_posts} labelled brand messages with known "
        "interactions; this store has {posts}.",
        "no_variation": "The attribute model cannot be fitted: no attribute varies enough among the labelled "
        "brand messages.",
        "not_requested": "The attribute model was not requested.",
    },
    "es": {
        "fitted": "Frente a mensajes de la misma plataforma, mes, pago y tipo ({posts} mensajes, intervalos del "
        "95%): {findings}. Lee, Hosanagar y Nair (2018) encontraron que la emoción y el humor van con "
        "más interacción y el precio o las ofertas solos con menos. Son asociaciones, no efectos de editar un "
        "mensaje.",
        "more": "los mensajes con {items} tuvieron más interacciones",
        "fewer": "los mensajes con {items} tuvieron menos",
        "unclear": "sin diferencia clara para {items}",
        "none": "ningún atributo muestra una diferencia clara",
        "too_few_posts": "El modelo de atributos necesita al menos {min_posts} mensajes de la marca etiquetados y "
        "con interacciones conocidas; este almacén tiene {posts}.",
        "no_variation": "No se puede ajustar el modelo de atributos: ningún atributo varía lo suficiente entre los "
        "mensajes etiquetados de la marca.",
        "not_requested": "No se pidió el modelo de atributos.",
    },
}


def attribute_statement(model: dict[str, Any], lang: Lang = "en") -> str:
    """The attribute model's result in one paragraph, with each clear difference and its interval."""
    text = _ATTRIBUTE_TEXT[lang]
    if model["status"] != "fitted":
        return text[model["status"]].format(posts=model.get("posts"), min_posts=model.get("min_posts"))
    names = ATTRIBUTE_NAMES[lang]

    def item(c: dict[str, Any]) -> str:
        low, high = c["relative_interval"]
        return f"{names[c['attribute']]} ({c['relative_difference']:+.0%}; {low:+.0%} / {high:+.0%})"

    more = [item(c) for c in model["coefficients"] if c["clear"] and c["coefficient"] > 0]
    fewer = [item(c) for c in model["coefficients"] if c["clear"] and c["coefficient"] < 0]
    unclear = [names[c["attribute"]] for c in model["coefficients"] if not c["clear"]]
    parts = []
    if more:
        parts.append(text["more"].format(items=", ".join(more)))
    if fewer:
        parts.append(text["fewer"].format(items=", ".join(fewer)))
    if not parts:
        parts.append(text["none"])
    if unclear:
        parts.append(text["unclear"].format(items=", ".join(unclear)))
    return text["fitted"].format(posts=model["posts"], findings="; ".join(parts))


def _duration(minutes: float, lang: Lang) -> str:
    if minutes < 90:
        return f"{minutes:.0f} min"
    hours = minutes / 60
    return f"{hours:.1f} h" if hours < 48 else (f"{hours / 24:.1f} days" if lang == "en" else f"{hours / 24:.1f} días")


def labelling_statement(labelling: dict[str, Any], lang: Lang) -> str | None:
    """What the report says about the intent model behind its mix (None when no brand post is labelled).

    >>> labelling_statement({"models": [{"model_version": "m+own-1", "brand_posts": 9}], "own_examples": 40,
    ...                      "adapted": True, "stale": False}, "en")
    'Intents labelled by m+own-1: the shipped model adapted to 40 of your own labelled posts.'
    """
    text = _TEXT[lang]
    models = labelling["models"]
    if not models:
        return None
    if labelling["stale"]:
        return text["model_stale"].format(versions=", ".join(m["model_version"] for m in models))
    version = models[0]["model_version"]
    if labelling["adapted"]:
        return text["model_adapted"].format(version=version, examples=labelling["own_examples"])
    return text["model_shipped"].format(version=version)


def balance_analysis(
    store: Store,
    *,
    rule: Rule = "80/20",
    promotion_target: float | None = None,
    lang: Lang = "en",
    response_window_hours: float = 24.0,
    with_attribute_model: bool = True,
) -> dict[str, Any]:
    """Every figure of the balance report, JSON-ready.

    >>> balance_analysis(Store(None))["score"]["value"] is None
    True
    """
    if rule not in TARGETS:
        raise ConfigurationError(f"rule must be '80/20' or 'thirds', not {rule!r}")
    if lang not in _TEXT:
        raise ConfigurationError(f"language must be 'en' or 'es', not {lang!r}")
    target = check_promotion_target(TARGETS[rule] if promotion_target is None else promotion_target)
    prepare_engagement(store)
    mix = content_mix_against_target(store, target)
    labelling = intent_labelling(store)
    labelling["statement"] = labelling_statement(labelling, lang)
    engagement = engagement_by_intent(store, prepared=True)
    conversions = attribution(store)
    weeks = weekly_balance(store)
    curves = {
        "engagement": balance_curve(weeks, "mean_interactions", lang=lang),
        "conversions": balance_curve(weeks, "conversions", lang=lang)
        if conversions["attributed"]
        else {"outcome": "conversions", "status": "no_conversions", "statement": _TEXT[lang]["no_conversions"]},
    }
    attributes = attribute_model(store) if with_attribute_model else {"status": "not_requested"}
    attributes["statement"] = attribute_statement(attributes, lang)
    conversation = conversation_health(store, response_window_hours)
    queue = unanswered_queue(store, limit=20, turns_prepared=True)
    sentiment = net_sentiment_by_period(store, "week")
    cadence_weeks, weekly_mean, weekly_std, cadence_accounts = store.fetchone(
        _CADENCE_SQL, {"min_weeks": CADENCE_MIN_WEEKS}
    )
    positive = sum(w["positive"] for w in sentiment)
    negative = sum(w["negative"] for w in sentiment)

    parts: dict[str, dict[str, Any]] = {}
    overall = mix["overall"]
    if overall:
        share = overall["shares"]["promotion"]
        parts["promotion_pressure"] = {
            "value": promotion_pressure_score(share, target),
            "inputs": {"promotion_share": share, "target": round(target, 4)},
            "formula": "100 if share <= target; 100*(1-(share-target)/(1-target)) above; 50+50*share/0.05 under 5%",
        }
    response = conversation["response"]
    unstored = conversation["replies_to_unstored_messages"]
    enough_turns = response["audience_turns"] >= MIN_AUDIENCE_TURNS
    if response["response_rate"] is not None and enough_turns:
        parts["responsiveness"] = {
            "value": responsiveness_score(response["response_rate"], response["median_first_response_minutes"]),
            "inputs": {
                "response_rate": response["response_rate"],
                "median_first_response_minutes": response["median_first_response_minutes"],
            },
            "formula": "100 * response_rate * speed; speed = 1 - ln(max(median,60)/60)/ln(24), floored at 0",
        }
    both = conversation["bidirectionality"]
    bidirectional = bidirectionality_score(both["replies_per_broadcast"], both["joined_share"])
    if bidirectional is not None:
        parts["bidirectionality"] = {
            "value": bidirectional,
            "inputs": {"replies_per_broadcast": both["replies_per_broadcast"], "joined_share": both["joined_share"]},
            "formula": "100 * mean(min(replies_per_broadcast, 1), joined_share)",
        }
    if cadence_accounts and weekly_mean:
        parts["cadence"] = {
            "value": cadence_score(float(weekly_mean), float(weekly_std or 0)),
            "inputs": {
                "accounts": int(cadence_accounts),
                "account_weeks": int(cadence_weeks),
                "weekly_mean": round(float(weekly_mean), 2),
                "weekly_std": round(float(weekly_std or 0), 2),
            },
            "formula": "100 * max(0, 1 - std/mean) of each brand account's messages per week over its active span "
            "(empty weeks included), accounts weighted by messages",
        }
    net = net_sentiment(positive, negative)
    if net is not None:
        parts["sentiment"] = {
            "value": sentiment_score(net),
            "inputs": {"net_sentiment": round(net, 4), "positive": positive, "negative": negative},
            "formula": "50 * (net + 1), net = (pos - neg) / (pos + neg)",
        }
    score = round(sum(p["value"] for p in parts.values()) / len(parts), 1) if parts else None
    missing = [
        name
        for name in ("promotion_pressure", "responsiveness", "bidirectionality", "cadence", "sentiment")
        if name not in parts
    ]

    text = _TEXT[lang]
    advice: list[str] = []
    if overall and overall["shares"]["promotion"] > target:
        weekly_posts = overall["posts"] / max(len(mix["by_week"]), 1)
        swap = max(1, round((overall["shares"]["promotion"] - target) * weekly_posts))
        advice.append(text["promotion_high"].format(share=overall["shares"]["promotion"], target=target, swap=swap))
    elif overall and overall["shares"]["promotion"] < _UNDERSELL_SHARE:
        advice.append(text["promotion_low"].format(share=overall["shares"]["promotion"]))
    median_first = response["median_first_response_minutes"]
    if median_first is not None and enough_turns and median_first > 60:
        advice.append(text["slow"].format(minutes=_duration(median_first, lang)))
    if response["response_rate"] is not None and enough_turns and response["response_rate"] < 0.9:
        advice.append(
            text["unanswered"].format(
                rate=1 - response["response_rate"], hours=f"{response_window_hours:g}", queue=len(queue)
            )
        )
    if both["replies_per_broadcast"] is not None and both["replies_per_broadcast"] < 0.5:
        advice.append(text["broadcast"].format(ratio=both["replies_per_broadcast"]))
    if "cadence" in parts and parts["cadence"]["value"] < 50:
        counts = [w["posts"] for w in mix["by_week"]] or [0]
        advice.append(text["cadence"].format(max=max(counts), min=min(counts)))
    if net is not None and net < 0:
        advice.append(text["sentiment"].format(net=net))
    if curves["engagement"].get("status") in ("turning_point", "uncertain"):
        advice.append(text["curve"].format(statement=curves["engagement"]["statement"]))
    if overall is None:
        # Without brand posts the other parts describe the audience, not the brand's balance.
        score, advice = None, [text["no_brand"]]
    if not advice:
        advice.append(text["good"])
    return {
        "rule": rule,
        "lang": lang,
        "content_mix": mix,
        "intent_labelling": labelling,
        "engagement_by_intent": engagement,
        "median_interactions_by_category": median_interactions_by_category(store, prepared=True),
        "conversions": conversions,
        "weekly": weeks,
        "balance_curve": curves,
        "attribute_model": attributes,
        "conversation": {
            "response": response,
            "bidirectionality": both,
            "replies_to_unstored_messages": unstored,
            "response_by_week": conversation["response_by_week"],
            "response_window_hours": response_window_hours,
        },
        "unanswered_queue": queue,
        "sentiment_by_week": sentiment,
        "extreme_posts": extreme_posts(store),
        "score": {
            "value": score,
            "parts": parts,
            "missing_parts": missing,
            "missing_reasons": {name: _missing_reason(name, response, unstored, lang) for name in missing},
            "weights": "equal, over the parts present",
        },
        "recommendations": advice,
    }
