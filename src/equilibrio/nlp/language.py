"""Language identification for short social posts: ``es``, ``en`` or ``other``.

lingua (offline, models inside the wheel) reads the words only (no URLs, handles, hashtags or
emoji). Spanish and English are the languages equilibrio analyses, so their confidences get a
prior over the other candidate languages, which exist so that Portuguese or French is not forced
into Spanish or English. When the words are too few to tell, the source's own language tag
decides if it is ``es`` or ``en``; otherwise the answer is ``other``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Final

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from equilibrio.nlp.text import words_only

LANGUAGES: Final = ("es", "en", "other")
_TARGETS: Final = {Language.SPANISH: "es", Language.ENGLISH: "en"}
_DISTRACTORS: Final = (Language.PORTUGUESE, Language.FRENCH, Language.ITALIAN, Language.GERMAN, Language.CATALAN)
TARGET_PRIOR: Final = 3.0
"""Weight of es/en confidence against the other candidates (tuned on dev_gold, see docs)."""
MIN_LETTERS: Final = 3
# Sale events that Spanish posts name in English ("Black Friday: todo al 50% en toda la tienda"):
# the names say nothing about the post's language, and lingua reads them as English.
_BORROWED_NAMES: Final = re.compile(r"(?<!\w)(?:black\s?friday|cyber\s?(?:monday|day|week)|hot\s?sale)(?!\w)", re.I)


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*_TARGETS, *_DISTRACTORS).build()


def _decide(confidences: Sequence[tuple[Language, float]]) -> str:
    weighted = {language: value * (TARGET_PRIOR if language in _TARGETS else 1.0) for language, value in confidences}
    best = max(weighted, key=lambda language: weighted[language])
    if best in _TARGETS:
        return _TARGETS[best]
    return "other"


def detect_languages(texts: Sequence[str | None], source_langs: Sequence[str | None] | None = None) -> list[str]:
    """``es``/``en``/``other`` for each text (batch; uses all cores).

    >>> detect_languages(["¿Dónde está mi tarjeta? @BBVA", "Thanks for reaching out!", "Obrigado pela ajuda"])
    ['es', 'en', 'other']
    """
    sources = list(source_langs) if source_langs is not None else [None] * len(texts)
    cleaned = [_without_borrowed_names(words_only(text or "")) for text in texts]
    answerable = [i for i, text in enumerate(cleaned) if _enough_letters(text)]
    results = [s if s in ("es", "en") else "other" for s in sources]
    if answerable:
        all_confidences = _detector().compute_language_confidence_values_in_parallel([cleaned[i] for i in answerable])
        for index, confidences in zip(answerable, all_confidences, strict=True):
            results[index] = _decide([(c.language, c.value) for c in confidences])
    return results


def _enough_letters(text: str) -> bool:
    """Whether ``text`` holds at least MIN_LETTERS letters; stops counting there (most texts: a word in)."""
    count = 0
    for character in text:
        if character.isalpha():
            count += 1
            if count >= MIN_LETTERS:
                return True
    return False


def _without_borrowed_names(words: str) -> str:
    """``words`` without the English names of sale events, unless nothing else would be left to read."""
    stripped = _BORROWED_NAMES.sub(" ", words)
    return stripped if _enough_letters(stripped) else words
