"""Audience messages that ask the brand for something and so await an answer.

A message awaits an answer when it asks a question (a "?" or "¿", or a sentence that opens with
an interrogative) or makes a request for help ("necesito", "ayúdenme", "please help", "still
waiting"). Rhetorical exclamations and links with "?" in them do not count. The conversation
metrics use this flag for the question response rate and to rank the unanswered queue.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from equilibrio.nlp.cues import CUES_BY_NAME
from equilibrio.nlp.text import normalize_for_model

_QUESTION_MARK = CUES_BY_NAME["question"].pattern  # the same "?" rule as the intent cue: not inside a URL
_OPENERS = re.compile(
    r"(?:^|[.!\n]\s*)(?:@user\s+)*(?:"
    r"qu[eé]|c[oó]mo|cu[aá]ndo|d[oó]nde|por qu[eé]|cu[aá]l(?:es)?|qui[eé]n(?:es)?|cu[aá]nt[oa]s?|"
    r"puedo|pueden|podr[ií]an|podr[ií]as|me pueden|hay alguna|saben si|alguien sabe|"
    r"how|what|when|where|why|which|who|can you|could you|can i|is there|are you|do you|does|"
    r"will you|would you|should i|any update|anyone know"
    r")(?!\w)",
    re.IGNORECASE,
)
_REQUESTS = re.compile(
    r"(?<!\w)(?:necesito|necesitamos|ay[uú]d(?:a|enme|ame|arme)|urge|urgente|sigo esperando|"
    r"no me han (?:respondido|contestado|resuelto|devuelto)|nadie (?:me )?(?:responde|contesta)|"
    r"favor de|por favor (?:ay[uú]denme|resp[oó]ndan|revisen)|"
    r"please help|help me|help!|need (?:some )?help|need (?:to|assistance|support)|i need|we need|still waiting|"
    r"how (?:can|do|should) (?:i|we)|what (?:should|can) (?:i|we)|i want to|i would like to|i'd like to|"
    r"c[oó]mo (?:puedo|hago|le hago|podemos)|qu[eé] (?:debo|puedo) hacer|quiero|quisiera|necesito ayuda|"
    r"no one (?:has )?(?:replied|responded|answered)|"
    r"please (?:respond|reply|fix|advise|help)|waiting for (?:a|your) (?:reply|response|answer))(?!\w)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class QuestionFlag:
    """Whether a message awaits an answer, and the words that say so."""

    asks: bool
    evidence: str | None


def detect_question(text: str) -> QuestionFlag:
    """Does this audience message ask the brand for something?

    >>> detect_question("@BBVA ¿por qué no puedo entrar a la app?")
    QuestionFlag(asks=True, evidence='¿')
    >>> detect_question("@Tesla love my car! https://t.co/x?s=20")
    QuestionFlag(asks=False, evidence=None)
    >>> detect_question("@AskAmex still waiting for my refund")
    QuestionFlag(asks=True, evidence='still waiting')
    """
    cleaned = normalize_for_model(html.unescape(text))
    for pattern in (_QUESTION_MARK, _REQUESTS, _OPENERS):
        match = pattern.search(cleaned)
        if match:
            return QuestionFlag(True, match.group(0).strip(" .!\n"))
    return QuestionFlag(False, None)


def detect_questions(texts: Sequence[str]) -> list[QuestionFlag]:
    """:func:`detect_question` over many messages."""
    return [detect_question(text) for text in texts]
