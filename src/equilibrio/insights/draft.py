"""The draft checker: score a post before it is published and say what to change, in its language."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from equilibrio.errors import InputError
from equilibrio.metrics.content_mix import check_promotion_target, content_mix
from equilibrio.nlp.brand_examples import intent_model_for
from equilibrio.nlp.cues import CUES_BY_NAME
from equilibrio.nlp.intent import IntentModel, Mode, PushStrength
from equilibrio.nlp.language import detect_languages
from equilibrio.nlp.text import words_only
from equilibrio.store.duck import Store

DEFAULT_PROMOTION_TARGET = 0.20  # the 80/20 rule: at most one post in five sells
MAX_HASHTAGS = 3
X_CHARACTER_LIMIT = 280
_COMMERCIAL_HOOKS = ("price", "deal", "contest")

_NUMBERS_ES = {2: "dos", 3: "tres", 4: "cuatro", 5: "cinco"}
_NUMBERS_EN = {2: "two", 3: "three", 4: "four", 5: "five"}

_MESSAGES: dict[str, dict[str, str]] = {
    "calls_to_buy": {
        "es": "{n} llamadas a comprar en un solo post: deja una sola y clara.",
        "en": "{n} calls to buy in one post: keep one clear call.",
    },
    "no_invitation": {
        "es": "Sin pregunta ni invitación a responder: termina con una pregunta a tu comunidad.",
        "en": "No question or invitation to reply: end with a question to your audience.",
    },
    "self_praise": {
        "es": "Autoelogio («{evidence}»): mejor que lo digan tus clientes; cuenta una historia concreta.",
        "en": "Self-praise (“{evidence}”): let customers say it; tell a concrete story instead.",
    },
    "hooks": {
        "es": "{n} ganchos comerciales a la vez ({hooks}): elige uno.",
        "en": "{n} commercial hooks at once ({hooks}): pick one.",
    },
    "hashtags": {
        "es": "{n} hashtags: uno o dos se leen mejor.",
        "en": "{n} hashtags: one or two read better.",
    },
    "too_long": {
        "es": "{n} caracteres: no cabe en un post de X ({limit}).",
        "en": "{n} characters: too long for an X post ({limit}).",
    },
    "reply_offer": {
        "es": "Es una respuesta a una persona con una oferta: cuenta como promoción. Resuelve primero lo que pregunta.",
        "en": "A reply to a person that pushes an offer counts as promotion. Answer what they asked first.",
    },
    "mix_over": {
        "es": "La promoción ya es el {share:.0%} de los posts {window}, por encima de tu objetivo del {target:.0%}.",
        "en": "Promotion is already {share:.0%} of {window}, above your {target:.0%} target.",
    },
    "mix_ok": {
        "es": "La promoción es el {share:.0%} de los posts {window}; tu objetivo es como máximo {target:.0%}.",
        "en": "Promotion is {share:.0%} of {window}; your target is at most {target:.0%}.",
    },
    "push_rule": {
        "es": "Promoción por la regla 2 de la guía: un empuje comercial explícito ({evidence}) decide un caso dudoso.",
        "en": "Promotion by the guideline's rule 2: an explicit commercial push ({evidence}) settles a close call.",
    },
    "push_rule_reply": {
        "es": "Promoción por la regla 2 de la guía: una llamada a comprar con una oferta ({evidence}) es promoción "
        "aunque responda a una persona.",
        "en": "Promotion by the guideline's rule 2: a call to buy with an offer ({evidence}) is promotion even in a "
        "reply to a person.",
    },
    "push_rule_giveaway": {
        "es": "Promoción por la regla 2 de la guía: un sorteo propio ({evidence}) es promoción aunque el resto del "
        "texto informe o entretenga.",
        "en": "Promotion by the guideline's rule 2: a giveaway of your own ({evidence}) is promotion even when the "
        "rest of the post informs or entertains.",
    },
    "push_rule_offer": {
        "es": "Promoción por la regla 2 de la guía: una oferta con su cifra o un evento de rebajas ({evidence}) es "
        "promoción aunque el resto del texto informe o entretenga.",
        "en": "Promotion by the guideline's rule 2: an offer with its figure or a sale event ({evidence}) is "
        "promotion even when the rest of the post informs or entertains.",
    },
    "invitation_rule": {
        "es": "Conversación por la regla 3 de la guía: invita a responder ({evidence}) sin empuje comercial.",
        "en": "Conversation by the guideline's rule 3: it invites replies ({evidence}) and pushes nothing.",
    },
    "nothing_to_read": {
        "es": "Solo enlaces, menciones, hashtags o emoji: no hay palabras que leer, y la guía deja esos posts sin "
        "clasificar (regla 1). Añade una frase.",
        "en": "Only links, mentions, hashtags or emoji: there are no words to read, and the guideline leaves such "
        "posts unlabelled (rule 1). Add a sentence.",
    },
    "other_language": {
        "es": "El borrador no parece estar en español ni en inglés, los idiomas que aprendió el modelo: su etiqueta "
        "es solo orientativa.",
        "en": "The draft does not read as Spanish or English, the two languages the model learned: its label is "
        "only indicative.",
    },
    "balanced": {
        "es": "Buen equilibrio: nada que corregir.",
        "en": "Balanced: nothing to fix.",
    },
}


@dataclass(frozen=True, slots=True)
class DraftCheck:
    """What the checker says about one draft."""

    text: str
    lang: str
    label: str
    probabilities: dict[str, float]
    cues: list[dict[str, str | None]]
    suggestions: list[str]
    model_version: str
    promotion_share_this_week: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _count_word(n: int, lang: str) -> str:
    words = _NUMBERS_ES if lang == "es" else _NUMBERS_EN
    word = words.get(n, str(n))
    return word[:1].upper() + word[1:]


@dataclass(frozen=True, slots=True)
class BrandWeek:
    """The brand's content mix over the week a draft is compared with (see :func:`brand_week`)."""

    start: datetime
    end: datetime
    is_current_week: bool
    mix: dict[str, Any]


def brand_week(store: Store) -> BrandWeek:
    """The last 7 days; when the store has no brand post in them, the last 7 days of data."""
    now = datetime.now(UTC)
    latest = store.fetchone("SELECT max(created_at) FROM posts WHERE is_brand")[0]
    if latest is None or latest >= now - timedelta(days=7):
        start, end, is_now = now - timedelta(days=7), now, True
    else:
        start, end, is_now = latest - timedelta(days=7), latest + timedelta(seconds=1), False
    return BrandWeek(start, end, is_now, content_mix(store, start, end))


def check_draft_text(
    text: str,
    *,
    store: Store | None = None,
    promotion_target: float = DEFAULT_PROMOTION_TARGET,
    model: IntentModel | None = None,
    mode: Mode = "routed",
    week: BrandWeek | None = None,
) -> DraftCheck:
    """Label, probabilities, cues and suggestions for ``text`` (see :func:`equilibrio.check_draft`).

    An empty draft or a target outside (0, 1) is an error rather than a verdict on nothing. With a
    store that holds the brand's own labelled posts, the model is the one adapted to them. Given
    ``model`` and ``week`` (:func:`brand_week`), the store is not read at all: the web app checks
    drafts that way while a relabel holds the store.
    """
    if not text.strip():
        raise InputError("the draft is empty: pass the text of the post to check")
    check_promotion_target(promotion_target)
    if model is None:
        model = intent_model_for(store) if store is not None else IntentModel.load()
    lang = detect_languages([text])[0]
    message_lang = lang if lang in ("es", "en") else "en"
    result = model.classify([text], [lang], mode)[0]
    cues = result.cues
    names = Counter(c.cue for c in cues)
    suggestions: list[str] = []

    def say(key: str, **values: Any) -> None:
        suggestions.append(_MESSAGES[key][message_lang].format(**values))

    # The guideline's rule 1: such a post is not interpretable, and the label says little about it.
    if not any(character.isalpha() for character in words_only(text)):
        say("nothing_to_read")
    elif lang not in ("es", "en"):
        say("other_language")
    if names["call_to_buy"] >= 2:
        say("calls_to_buy", n=_count_word(names["call_to_buy"], message_lang))
    hooks = [h for h in _COMMERCIAL_HOOKS if names[h]]
    if len(hooks) >= 2:
        labels = ", ".join(CUES_BY_NAME[h].label(message_lang) for h in hooks)
        say("hooks", n=_count_word(len(hooks), message_lang), hooks=labels)
    if names["self_praise"]:
        evidence = next(c.evidence for c in cues if c.cue == "self_praise")
        say("self_praise", evidence=evidence)
    if result.label == "promotion" and names["reply_to_person"]:
        say("reply_offer")
    if result.label == "promotion" and not (names["question"] or names["invite_reply"]):
        say("no_invitation")
    hashtags = text.count("#")
    if hashtags > MAX_HASHTAGS:
        say("hashtags", n=hashtags)
    if len(text) > X_CHARACTER_LIMIT:
        say("too_long", n=len(text), limit=X_CHARACTER_LIMIT)

    share: float | None = None
    details: dict[str, Any] = {}
    rule = model.commercial_push
    if result.by_push_rule and rule is not None:
        # the rule's own reading of the draft: a reply's call with an offer, explicit evidence, or a close call
        strength = PushStrength(int(rule.pushes([cues])[0]))
        pushing = [c for c in cues if c.cue in rule.cues]
        key = "push_rule_reply" if strength == PushStrength.REPLY_OFFER else "push_rule"
        if strength == PushStrength.EXPLICIT:
            pushing = rule.explicit_matches(cues)
            key = "push_rule_giveaway" if any(c.cue == "contest" for c in pushing) else "push_rule_offer"
        evidence = ", ".join(f"«{c.evidence}»" for c in pushing)
        details["decided_by"] = _MESSAGES[key][message_lang].format(evidence=evidence)
    invitation = model.invitation
    if result.by_invitation_rule and invitation is not None:
        evidence = ", ".join(f"«{c.evidence}»" for c in cues if c.cue in invitation.cues)
        details["decided_by"] = _MESSAGES["invitation_rule"][message_lang].format(evidence=evidence)
    if week is None and store is not None:
        week = brand_week(store)
    if week is not None:
        start, end = week.start, week.end
        share = week.mix["shares"]["promotion"]
        details["week"] = {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "is_current_week": week.is_current_week,
            **week.mix,
        }
        if share is not None:
            if week.is_current_week:
                window = "de esta semana" if message_lang == "es" else "this week's posts"
            elif message_lang == "es":
                window = f"de la última semana con datos (hasta el {end.date().isoformat()})"
            else:
                window = f"the posts in the last week of data (to {end.date().isoformat()})"
            say(
                "mix_over" if share > promotion_target else "mix_ok",
                share=share,
                window=window,
                target=promotion_target,
            )
    if not suggestions:
        say("balanced")
    return DraftCheck(
        text=text,
        lang=lang,
        label=result.label,
        probabilities=result.probabilities,
        cues=[
            {"cue": c.cue, "intent": c.intent, "evidence": c.evidence, "label": CUES_BY_NAME[c.cue].label(message_lang)}
            for c in cues
        ],
        suggestions=suggestions,
        model_version=model.version,
        promotion_share_this_week=share,
        details=details,
    )
