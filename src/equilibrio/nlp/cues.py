"""Cues: the visible signals behind an intent decision, in Spanish and English.

A cue is a small, named pattern ("a price", "a call to buy", "a reply to a person") that a person
would point at to explain why a post reads as promotion, conversation or value. The intent models
use cue counts as features, the draft checker turns them into suggestions, and the balance
analysis uses the Lee, Hosanagar & Nair (2018) attributes that some cues stand for.

The lexicons are deliberately short and readable: they were written from the labelling guideline
(../shared/data/intent/GUIDELINE.md), not mined from the gold labels, so that the cross-validated
figures in docs/evaluation.md are not flattered by patterns copied from the test folds. Their
exceptions ("try the steps", "your sale", Spanish "la compra") come from where they misfired: brand
agents' care replies (IBM customer-care conversations, dev.json) and the unlabelled brand corpora.
Words inside links are never cues (except for ``link`` itself).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
import polars as pl

INTENTS = ("promotion", "conversation", "value")

# The attributes of Lee, Hosanagar & Nair (2018), "Advertising Content and Consumer Engagement on
# Social Media: Evidence from Facebook", Management Science 64(11), as booleans per post.
ATTRIBUTES = (
    "price",
    "deal",
    "contest",
    "call_to_action",
    "question",
    "emotion",
    "humour",
    "link",
    "brand_mention",
    "holiday",
)


@dataclass(frozen=True, slots=True)
class Cue:
    """One named signal: what it points to and how to say it in each language."""

    name: str
    intent: str | None  # the label it argues for; None for neutral signals the model weighs
    attribute: str | None  # the Lee et al. attribute it stands for, if any
    label_es: str
    label_en: str
    pattern: re.Pattern[str]

    def label(self, lang: str) -> str:
        return self.label_es if lang == "es" else self.label_en


@dataclass(frozen=True, slots=True)
class CueMatch:
    """A cue found in a text, with the words that triggered it."""

    cue: str
    intent: str | None
    evidence: str


def _words(*alternatives: str) -> re.Pattern[str]:
    # \b on both sides, case-insensitive; alternatives may hold their own regex.
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


_EMOJI = "[\U0001f300-\U0001faff\u2600-\u27bf\u2b50\u2764]"

CUES: tuple[Cue, ...] = (
    # --- promotion -----------------------------------------------------------------------------
    Cue(
        "price",
        "promotion",
        "price",
        "precio",
        "price",
        re.compile(
            r"(?:(?:US)?\$|€|£|MXN\s?\$?)\s?\d+(?:[.,]\d+)*|\d+(?:[.,]\d+)*\s?(?:pesos|euros|€|d[oó]lares|usd|bs\.?)(?!\w)"
            r"|(?<!\w)(?:precio|precios|cuesta|tarifa|price|prices|priced|only \$|for just)(?!\w)(?! gouging)",
            re.IGNORECASE,
        ),
    ),
    Cue(
        "deal",
        "promotion",
        "deal",
        "descuento u oferta",
        "discount or deal",
        _words(
            r"\d+\s?%\s?(?:de descuento|off|dto)",
            "descuentos?",
            "ofertas?",
            "promoci[oó]n(?:es)?",
            "promos?",
            "rebajas?",
            "meses sin intereses",
            r"(?<![./\\])msi",  # not a file extension (".msi")
            "cashback",
            "bonificaci[oó]n",
            "2x1",
            "3x2",
            "env[ií]o gratis",
            "gratis",
            "c[oó]digo promocional",
            "cup[oó]n(?:es)?",
            "discounts?",
            # English phrases only: Spanish "sale" is a verb ("no me sale"), "your sale" a transaction
            "(?:on|for) sale",
            "sale (?:ends|starts|now|price|event|items?|today)",
            "(?:big|summer|winter|spring|fall|autumn|holiday|flash|clearance|annual|huge|final|anniversary) sale",
            "#sale",
            "deals?",
            "offers?",
            # not "save your data", nor the how-to of a tip ("5 ways to save money on groceries")
            r"(?<!ways to )(?<!how to )(?<!tips to )save "
            r"(?:up to|\d[\d.,]*\s?%?|[$€£]\s?\d[\d.,]*|big|more|money|on|with|when)",
            "savings",
            "free shipping",
            "promo codes?",
            "coupons?",
            "bogo",
            "for free",
            "limited time",
            "por tiempo limitado",
            # sale events: the name alone announces the offers
            r"black\s?friday",
            r"cyber\s?monday",
            r"hot\s?sale",
            r"buen\s?fin(?! de (?:semana|a[ñn]o))",  # Mexico's sale weekend, not "¡buen fin de semana!"
            r"todo al \d+\s?%",
        ),
    ),
    Cue(
        "contest",
        "promotion",
        "contest",
        "concurso o sorteo",
        "contest or giveaway",
        _words(
            "sorteos?",
            "concursos?",
            "participa y gana",
            "gana(?:r|dores?)?",
            "giveaways?",
            "contests?",
            "sweepstakes",
            "enter to win",
            "chance to win",
            "win",
            "winners?",
            "prizes?",
        ),
    ),
    Cue(
        "call_to_buy",
        "promotion",
        "call_to_action",
        "llamada a comprar, reservar o suscribirse",
        "call to buy, book or subscribe",
        _words(
            # the imperative, not the noun ("la compra", "tu compra" in care replies)
            "(?<!la )(?<!una )(?<!esa )(?<!esta )(?<!tu )(?<!su )(?<!mi )(?<!de )(?<!tus )(?<!sus )(?<!cada )c[oó]mpra",
            "c[oó]mpr(?:alo|ala|ar)",
            "adquier(?:e|elo|ela)",
            "contrat(?:a|alo|ala)",
            "solicita (?:tu|ya)",
            "solic[ií]ta(?:lo|la)",
            "reserva(?: ya| tu)?",
            "hazte cliente",
            "abre tu cuenta",
            "descarga(?: la| nuestra)? app",
            "desc[aá]rgala",
            "reg[ií]strate",
            "inscr[ií]bete",
            "suscr[ií]bete",
            "(?<!te )(?<!se )(?<!le )(?<!nos )(?<!me )p[ií]de(?:lo|la)?",  # not "te pide confirmar"
            "ordena(?: ya)?",
            "aprovecha",
            "no te (?:lo|la|los|las) pierdas",
            "no te quedes sin",
            "cotiza",
            "(?:da|haz) clic",
            "link en (?:la )?bio",
            "buy(?: now)?",
            "shop(?: now)?",
            "order (?:now|today|online|yours)",
            "book (?:now|today|your)",
            "reserve(?! bank)",  # not "the Reserve Bank"
            "subscribe(?! to (?:updates|notifications|the thread|this thread))",
            "sign up",
            "register(?: now| today)?",
            # a call ("Download the KFC Alexa Skill", "download the app"), not the help of a care reply
            # ("did you download the update", "the download via PC")
            "(?<!the )download(?! (?:the |your |this |a |any )?(?:drivers?|updates?|firmware|files?|data|speed|via"
            "|installer|software|latest|purchases?|content|issues?|errors?|steps|and (?:re)?install))",
            "get (?:yours|tickets|it now)",
            # care replies say "get your money / account / invoice back"
            "get your(?! (?:money|account|invoice|refund|issue|order status|device|data|password|problem|question))",
            "pre-?orders?",
            "schedule a test drive",
            "test drive",
            "apply (?:now|today)",
            "upgrade (?:now|today)",
            "open an? (?:new |free )?(?:\\w+ )?account",  # the English of "abre tu cuenta"
            "link in bio",
            "tap the link",
            "grab (?:yours|one)",
            # not "try the steps / the following / our troubleshooting", the help a care reply gives
            "try (?:it|a|the|our)(?! (?:steps?|following|troubleshoot\\w*|solutions?|recommendations?|instructions"
            "|guide|article|link|workaround|fix|suggestions?|tips?|hard reset|reset|restart|reinstall)(?!\\w))",
        ),
    ),
    Cue(
        "product_pitch",
        "promotion",
        "brand_mention",
        "anuncio de producto",
        "product announcement",
        _words(
            # the Spanish of "new model / product / menu / app / card / feature / collection / flavour"
            "(?:nuev[oa]s?|lanzamos|hemos lanzado|presentamos) "
            "(?:tarjeta|app|servicio|producto|modelo|seguro|cuenta|cr[eé]dito|colecci[oó]n|sabor|men[uú]"
            "|funci[oó]n|funcionalidad)(?:e?s)?",
            "lanzamos",
            "hemos lanzado",
            "ya est[aá] aqu[ií]",
            "ya disponibles?",
            "nuestr[oa]s? (?:seguros?|p[oó]lizas?|tarjetas?|app|productos?|servicios?|coberturas?"
            "|cuentas?(?! (?:de|en) (?:redes|twitter|facebook|instagram))|cr[eé]ditos?|expertos|soluciones)",
            "te ofrecemos(?! (?:una |nuestras |nuevamente )?disculpas?)",
            "te ofrece",
            "introducing",
            "meet the(?: new)?",
            "now available",
            "available now",
            "now serving",
            "launch(?:es|ed|ing)?",
            "new (?:model|product|menu|app|card|feature|collection|flavou?r)",
            "our (?:new|products?(?! team)|services?(?! status| team)|app|card|menu|solutions?)",
            "all-new",
        ),
    ),
    Cue(
        "self_praise",
        "promotion",
        "brand_mention",
        "autoelogio",
        "self-praise",
        _words(
            "(?:el|la) mejor(?:es)? (?:banco|empresa|app|experiencia|servicio)",
            "mejor banco",
            "l[ií]der(?:es)?",
            "reconocid[oa]s? (?:como|por)",
            "galard[oó]n",
            "galardonad[oa]s?",
            "n[uú]mero (?:uno|1(?!\\d))",
            "n[º°o]\\.? ?1",
            "récord",  # the accent: Spanish "récord" is a feat; "record" alone is also a verb
            "r[eé]cord (?:hist[oó]rico|de ventas|de clientes)",
            "nuevo r[eé]cord",
            "orgullos[oa]s? de",
            "best (?:bank|company|employer|place to work|in class)",
            "#1",
            "no\\. 1",
            "number one",
            "award(?:s|ed)?",
            "named (?:one of|the|a|to)",
            "recogni[sz]ed (?:as|by|for|on)",
            "ranked",
            # a feat, not the verb or "keeps a record of", "on record", "for the record"
            "record(?:-setting|-breaking)",
            r"record (?:digital|pace|high|year|sales|numbers?|quarter|revenue|growth|profits?|\d[\d,.]*)",
            "(?:new|world|all-time|industry) record",
            "a record(?! of)",
            r"(?:set|sets|setting|broke|breaks|break|beat|beats) (?:a |the |new )?(?:[\w-]+ ){0,2}record",
            "industry[- ]leading",
            "world'?s (?:largest|fastest|safest|best|first|most)",
            "fastest-growing",
            "most (?:innovative|admired|trusted)",
            "safest",
            "proud to (?:be|announce)",
        ),
    ),
    Cue(
        "event_pitch",
        "promotion",
        "call_to_action",
        "invitación a un evento propio",
        "invitation to an own event",
        _words(
            "te esperamos",
            "acomp[aá][ñn]anos",
            "en vivo",
            "webinars?",
            "pl[aá]tica",
            "join us",
            "join (?:the team|our)",
            "live (?:on|at|now)",
            "register now",
            "watch (?:on-demand|now|live)",
            "save the date",
        ),
    ),
    # --- neutral (the model weighs them) -------------------------------------------------------
    Cue(
        "learn_more",
        None,
        "call_to_action",
        "invitación a saber más",
        "invitation to learn more",
        _words(
            "descubre",
            "conoce(?: m[aá]s)?",
            "ent[eé]rate",
            "m[aá]s informaci[oó]n",
            "m[aá]s info",
            "consulta",
            "learn more",
            "find out",
            "discover",
            "read (?:more|on)",
            "check (?:out|it out)",
            "see how",
            "more info",
        ),
    ),
    # --- conversation --------------------------------------------------------------------------
    Cue(
        "reply_to_person",
        "conversation",
        None,
        "respuesta a una persona",
        "reply to a person",
        re.compile(r"^\s*(?:[@＠][A-Za-z0-9_]+|<mention>)", re.IGNORECASE),
    ),
    Cue(
        "greeting",
        "conversation",
        None,
        "saludo personal",
        "personal greeting",
        _words(r"hola,?(?: \w+)?", r"buen(?:os|as) (?:d[ií]as|tardes|noches)", r"hi,? \w+", "hello", "hey"),
    ),
    Cue(
        "thanks",
        "conversation",
        None,
        "agradecimiento a una persona",
        "thanks to a person",
        _words(
            "gracias por (?:escribirnos|tu|su|comunicarte|contactarnos|la|el|compartir)",
            "agradecemos",
            "thanks? (?:you )?for",
            "glad you",
            "happy to hear",
            "thank you",
        ),
    ),
    Cue(
        "apology",
        "conversation",
        None,
        "disculpa",
        "apology",
        _words(
            "lamentamos",
            "sentimos (?:las molestias|mucho|el inconveniente)",
            "disculpa(?:s|nos|)",
            "perd[oó]n",
            "sorry",
            "apologi[sz]e",
            "apologies",
        ),
    ),
    Cue(
        "private_channel",
        "conversation",
        None,
        "petición de datos o mensaje privado",
        "request for details or a private message",
        _words(
            "dm",
            "md",
            "mensaje (?:directo|privado|interno)",
            "por privado",
            "inbox",
            "env[ií]anos",
            "escr[ií]benos",
            "ll[aá]manos",
            "n[uú]mero de (?:cuenta|contrato|nic|tarjeta|cliente|tel[eé]fono)",
            "datos de contacto",
            "DM us",
            "direct message",
            "send us",
            "reach out",
            "contact us",
            "email us",
            "call us",
        ),
    ),
    Cue(
        "question",
        "conversation",
        "question",
        "pregunta",
        "question",
        re.compile(r"¿|\?(?![\w=&%])"),  # a "?" inside a URL is not a question
    ),
    Cue(
        "invite_reply",
        "conversation",
        "question",
        "invitación a responder",
        "invitation to reply",
        _words(
            "cu[eé]ntanos",
            "dinos",
            "com[eé]ntanos",
            "d[eé]janos (?:tu|en|saber)",
            # asked, not told: "¿qué opinas?", "y tú qué piensas", but not "más fácil de lo que piensas"
            "(?:¿ ?que|qué) (?:opinas|piensas|prefieres|har[ií]as)",
            "encuesta",
            "responde",
            "(?:en|a) (?:los|tus) comentarios",
            "te leemos",
            "queremos (?:saber|leerte|escucharte)",
            "nos encantar[ií]a (?:saber|leerte|escucharte)",
            "etiqueta a (?:un|una|tu|alguien)",
            "menciona a (?:un|una|tu|alguien)",
            "vota por tu",
            "¿y t[uú]\\?",
            # "tell us in the comments", not a report of what someone told ("here is what she had to tell us")
            "(?<!to )(?<!will )(?<!would )(?<!could )(?<!can )(?<!'ll )tell us",
            "let us know",
            "comment (?:below|with|which|if|your)",
            "in the comments",
            "(?:drop|leave) (?:it|them|yours|a comment|your [\\w#]+(?: [\\w#]+)?) (?:below|here)",
            "tag (?:a|your|someone|somebody)",
            "we(?:'d| would) love to hear",
            "we want to hear from you",
            "vote for your",
            "caption this",
            "(?<!to )fill in the blanks?",  # asked, not "we're left to fill in the blanks"
            "what'?s your",
            "what do you think",
            "reply with",
            # a question put to the audience ("Which one would you choose?"), not a clause ("you never
            # know which one will")
            "which (?:one|of)(?=[^.!?\\n]{0,60}\\?)",
            # the brand's own poll, not an election's ("latest European polls", "coaches poll")
            "(?:our|this|today's) poll",
            "poll below",
            "(?:take|answer|vote in) (?:our|the|this) poll",
            # not a security warning ("never share your PIN", "convince you to share your UPI PIN")
            "(?<!never )(?<!not )(?<!n't )share your(?! (?:\\w+ )?(?:pin|password|passcode|otp|cvv|card|login"
            "|credentials|account|bank)s?(?!\\w))",
        ),
    ),
    # --- value ---------------------------------------------------------------------------------
    Cue(
        "service_notice",
        "value",
        None,
        "aviso de servicio",
        "service notice",
        _words(
            "mantenimientos?",
            "interrupci[oó]n",
            "suspensi[oó]n",
            "servicio el[eé]ctrico",
            "suministro",
            "restablec\\w*",
            "fallas?",
            "aver[ií]as?",
            "horarios?",
            "cortes?",
            "cuadrillas?",
            "trabajos",
            "avisos?",
            "comunicado",
            "nunca (?:te|le|les) (?:pediremos|pedimos|solicitamos)",
            "nunca solicita",
            "fraudes?",
            "phishing",
            "outages?",
            "maintenance",
            "scheduled",
            "service (?:update|alert)",
            "hours",
            "closed",
            "reopen\\w*",
            "scams?",
            "fraud",
            "never ask",
        ),
    ),
    Cue(
        "tip",
        "value",
        None,
        "consejo",
        "tip",
        _words(
            "tips?",
            "consejos?",
            "recomendaciones",
            "c[oó]mo (?:puedes|hacer|ahorrar|evitar|proteger)",
            "aprende",
            "sab[ií]as que",
            "te explicamos",
            "gu[ií]a",
            "paso a paso",
            "educaci[oó]n financiera",
            "how to",
            # a how-to list ("5 ways to save money", "3 pasos para ahorrar")
            "(?:\\d+|three|four|five|six|seven|eight|nine|ten) (?:ways|steps|things|ideas|tricks|hacks) (?:to|for)",
            "(?:\\d+|tres|cuatro|cinco|seis|siete|ocho|nueve|diez) (?:formas|maneras|pasos|ideas|trucos) (?:de|para)",
            "did you know",
            "here'?s how",
            "guide",
            "learn (?:how|to)",
            "advice",
        ),
    ),
    Cue(
        "news_insight",
        "value",
        None,
        "noticia o análisis",
        "news or insight",
        _words(
            "informes?",
            "estudios?",
            "an[aá]lisis",
            "previsi[oó]n(?:es)?",
            "pib",
            "econom[ií]a",
            "inflaci[oó]n",
            "crecimiento",
            "investigaci[oó]n",
            "seg[uú]n",
            "reports?",
            "study",
            "research",
            "analysis",
            "insights?",
            "forecast",
            "according to",
            "economy",
            "survey",
            "breaking",
        ),
    ),
    Cue(
        "story",
        "value",
        None,
        "historia o causa",
        "story or cause",
        _words(
            "historias?",
            "comunidad(?:es)?",
            "voluntari\\w*",
            "fundaci[oó]n",
            "donaci[oó]n(?:es)?",
            "apoyamos",
            "causa",
            "sostenib\\w*",
            "medio ambiente",
            "inclusi[oó]n",
            "story",
            "stories",
            "community",
            "volunteer\\w*",
            "foundation",
            "donat\\w*",
            "sustainab\\w*",
            "charity",
            "culture",
            "behind the scenes",
        ),
    ),
    Cue(
        "holiday",
        "value",
        "holiday",
        "fecha festiva",
        "holiday",
        _words(
            "navidad(?:es)?",
            "feliz a[ñn]o",
            "a[ñn]o nuevo",
            "d[ií]a (?:de la madre|del padre|de muertos|de la mujer|de la independencia|del ni[ñn]o)",
            "feliz (?:d[ií]a|navidad|cumplea[ñn]os|fin de semana|lunes|viernes)",
            "semana santa",
            "halloween",
            "san valent[ií]n",
            "christmas",
            "xmas",
            "holidays?",
            "happy (?:new year|holidays|thanksgiving|mother'?s day|father'?s day|easter|birthday|friday)",
            "thanksgiving",
            "valentine'?s",
            "easter",
            "women'?s day",
            "mother'?s day",
            "father'?s day",
            "4th of july",
        ),
    ),
    Cue(
        "emotion",
        "value",
        "emotion",
        "emoción",
        "emotion",
        re.compile(
            r"!|" + _EMOJI + r"|(?<!\w)(?:incre[ií]ble|emoci\w+|feliz|amor|encanta|felicidades|love|amazing|"
            r"excited|awesome|incredible|congrat\w*)(?!\w)",
            re.IGNORECASE,
        ),
    ),
    Cue(
        "humour",
        "value",
        "humour",
        "humor",
        "humour",
        re.compile(
            r"(?<!\w)(?:ja(?:ja)+|je(?:je)+|lol|lmao|ha(?:ha)+|broma|chiste|memes?|jokes?|puns?)(?!\w)"
            r"|[\U0001f602\U0001f923\U0001f61c\U0001f609\U0001f61d]|;\)",
            re.IGNORECASE,
        ),
    ),
    Cue(
        "link",
        None,
        "link",
        "enlace",
        "link",
        re.compile(r"https?://\S+|www\.\S+|<hyperlink>", re.IGNORECASE),
    ),
)

CUE_NAMES = tuple(cue.name for cue in CUES)
CUES_BY_NAME = {cue.name: cue for cue in CUES}


# Words inside a link are not the post's words: "helpx.adobe.com/download-install" or
# "apple.com/shop/help" in a care reply are no call to buy. Every cue but ``link`` reads the text
# with its links blanked out. The pattern is the link cue's, written so that Python's engine and
# Polars' Rust one read it alike (cases spelled out; Python's \s is Rust's \s plus \x1c-\x1f,
# checked over every code point): the batch path blanks links in Rust (100k texts: 90 ms against
# 360 ms for re.sub).
_LINK_SPAN = (
    r"(?:[hH][tT][tT][pP][sS]?://|[wW][wW][wW]\.)[^\s\x1c-\x1f]+"
    r"|<[hH][yY][pP][eE][rR][lL][iI][nN][kK]>"
)
_LINK_WORDS = re.compile(_LINK_SPAN)


def _without_links(text: str) -> str:
    return _LINK_WORDS.sub(" ", text)


def find_cues(text: str) -> list[CueMatch]:
    """Every cue in ``text``, with the words that triggered it (at most three per cue).

    >>> [(m.cue, m.evidence) for m in find_cues("¡Aprovecha 20% de descuento! Compra ya")][:3]
    [('deal', '20% de descuento'), ('call_to_buy', 'Aprovecha'), ('call_to_buy', 'Compra')]
    >>> [m.cue for m in find_cues("Steps: https://helpx.adobe.com/download-install.html")]
    ['link']
    """
    text = html.unescape(text)
    words = _without_links(text)
    found: list[CueMatch] = []
    for cue in CUES:
        _append_matches(found, cue, text if cue.name == "link" else words)
    return found


def _append_matches(found: list[CueMatch], cue: Cue, text: str) -> None:
    for count, match in enumerate(cue.pattern.finditer(text)):
        if count == 3:
            break
        found.append(CueMatch(cue.name, cue.intent, match.group(0).strip()))


def find_cues_batch(texts: Sequence[str]) -> list[list[CueMatch]]:
    """:func:`find_cues` for many texts at once: the same matches, several times faster.

    Python's regex engine spends most of its time failing at every position of every text.
    Here each cue first runs as a looser pattern through Polars' Rust engine over the whole batch
    (all cores, automata instead of backtracking); the exact Python pattern then runs only on the
    texts the loose one flagged. The loose pattern matches whatever the exact one matches (see
    :func:`superset_pattern`), so the result is identical to calling :func:`find_cues` per text.
    """
    if len(texts) < _BATCH_MIN_TEXTS:
        return [find_cues(text) for text in texts]
    unescaped = [html.unescape(text) for text in texts]
    found: list[list[CueMatch]] = [[] for _ in unescaped]
    with_links = pl.Series(unescaped, dtype=pl.String)
    words_column = with_links.str.replace_all(_LINK_SPAN, " ")
    words: list[str] = words_column.to_list()
    for cue, loose in zip(CUES, _loose_patterns(), strict=True):
        read, column = (unescaped, with_links) if cue.name == "link" else (words, words_column)
        for row in _candidates(column, loose):
            _append_matches(found[row], cue, read[row])
    return found


def _candidates(column: pl.Series, loose: str | None) -> Iterable[int]:
    """The rows of ``column`` a cue's loose pattern flags (all rows when it has none)."""
    if loose is None:
        return range(len(column))
    flagged: npt.NDArray[np.bool_] = column.str.contains(loose).to_numpy()
    return np.flatnonzero(flagged).tolist()


# Below this, a Polars call per cue costs more than scanning the few texts directly.
_BATCH_MIN_TEXTS = 64


@cache
def _loose_patterns() -> tuple[str | None, ...]:
    return tuple(superset_pattern(cue.pattern) for cue in CUES)


# Python's \w is str.isalnum() or "_", which includes numerals such as "½" that Rust's \w leaves
# out; Python's \s includes the separators \x1c-\x1f that Rust's \s leaves out.
_WIDER_ESCAPES = {"w": r"\w\p{N}", "s": r"\s\x1c-\x1f"}
_SAME_ESCAPES = set("dS") | set(".^$*+?{}[]()|\\/-&~#%!@:,;'\"<>=_ ")
_CODE_POINT_DIGITS = {"x": 2, "u": 4, "U": 8}
# Python's IGNORECASE also equates i and I with the Turkish dotless ı and dotted İ; Rust's does not.
_TURKISH_I = "ıİ"
_LOOKAROUND = re.compile(r"\(\?<?[=!]")


def superset_pattern(pattern: re.Pattern[str]) -> str | None:
    """A Rust-regex (Polars) pattern that matches every text ``pattern`` matches, or None.

    Lookarounds and ``\\b`` are dropped (removing a condition only widens a pattern), ``\\w`` and
    ``\\s`` are widened to cover Python's larger classes, case-insensitive patterns also accept the
    Turkish i's that Python folds to i, and DOTALL lets ``.`` match newlines.
    Anything this function does not know to be safe (``$``, ``\\W``, back-references...) gives None,
    and the caller then runs the exact pattern on every text.
    """
    source = pattern.pattern
    ignore_case = bool(pattern.flags & re.IGNORECASE)
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(source):
        char = source[i]
        if char == "\\":
            if i + 1 >= len(source):
                return None
            escaped = source[i + 1]
            if escaped in _WIDER_ESCAPES:
                widened = _WIDER_ESCAPES[escaped]
                out.append(widened if in_class else f"[{widened}]")
            elif escaped == "b" and not in_class:
                pass
            elif escaped in _SAME_ESCAPES:
                out.append(char + escaped)
            elif escaped in _CODE_POINT_DIGITS:  # \xhh, \uhhhh, \Uhhhhhhhh read the same in Rust
                digits = _CODE_POINT_DIGITS[escaped]
                out.append(source[i : i + 2 + digits])
                i += digits
            else:
                return None
            i += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
                if ignore_case:
                    if out[-1] == "-":  # a literal "-" before "]" would become a range with the i's
                        out[-1] = "\\-"
                    out.append(_TURKISH_I)
            out.append(char)
            i += 1
            continue
        if char == "[":
            if source.startswith("[^", i) or source.startswith("[]", i):
                return None  # negated classes would need their complement widened
            in_class = True
        elif char == "$":
            return None  # Python's $ also matches before a final newline
        elif char == "(" and source.startswith("(?", i) and not source.startswith("(?:", i):
            if not _LOOKAROUND.match(source, i):
                return None  # inline flags, named groups, conditionals: not translated
            end = _group_end(source, i)
            if end is None:
                return None
            i = end + 1
            continue
        elif ignore_case and char in "iI":
            char = f"[iI{_TURKISH_I}]"
        out.append(char)
        i += 1
    flags = "s" + ("i" if ignore_case else "") + ("m" if pattern.flags & re.MULTILINE else "")
    return f"(?{flags})" + "".join(out)


def _group_end(source: str, start: int) -> int | None:
    """Index of the parenthesis closing the group that opens at ``start``."""
    depth = 0
    in_class = False
    i = start
    while i < len(source):
        char = source[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def cue_counts(matches_per_text: Sequence[Sequence[CueMatch]]) -> list[list[int]]:
    """For each text's :func:`find_cues` matches, how often each cue of :data:`CUES` occurs (at most 3).

    Built from the matches rather than by running the patterns again, so that classifying a post and
    explaining it scan the text once.
    """
    position = {name: i for i, name in enumerate(CUE_NAMES)}
    rows = []
    for matches in matches_per_text:
        row = [0] * len(CUES)
        for match in matches:
            row[position[match.cue]] += 1
        rows.append(row)
    return rows


def attributes_from_cues(
    matches: Iterable[CueMatch], brand_terms: Iterable[str] = (), text: str = ""
) -> dict[str, bool]:
    """The Lee et al. attributes a post carries, from its cues (and the brand's own name)."""
    present = {CUES_BY_NAME[m.cue].attribute for m in matches}
    attributes = {name: name in present for name in ATTRIBUTES}
    lowered = text.lower()
    if any(term and term.lower() in lowered for term in brand_terms):
        attributes["brand_mention"] = True
    return attributes
