"""Text normalisation shared by the language, intent and sentiment models."""

from __future__ import annotations

import html
import re

_URL = re.compile(r"(?:https?://|www\.)\S+|\bt\.co/\S+", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"<(?:hyperlink|mention|url|user)>", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])[@＠][A-Za-z0-9_][A-Za-z0-9_.]*(?:@[A-Za-z0-9.-]+)?")
_HASHTAG = re.compile(r"(?<!\w)#\w+")
_RETWEET = re.compile(r"^\s*RT\s*:?\s*", re.IGNORECASE)
_NOT_WORDS = re.compile(r"[^\w\s'’¿?¡!.,;:-]+")
_SPACES = re.compile(r"\s+")


def words_only(text: str) -> str:
    """The words a person wrote: no URLs, @handles, #hashtags, emoji or HTML entities.

    >>> words_only("RT @BBVA: ¡Gracias! 🙌 #Finanzas https://t.co/x &amp; más")
    '¡Gracias! más'
    """
    text = html.unescape(text)
    text = _RETWEET.sub("", text)
    for pattern in (_URL, _PLACEHOLDER, _MENTION, _HASHTAG):
        text = pattern.sub(" ", text)
    text = _NOT_WORDS.sub(" ", text)
    text = text.replace(" :", " ").strip(" :")
    return _SPACES.sub(" ", text).strip()
