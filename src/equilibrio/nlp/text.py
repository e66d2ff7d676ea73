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


def normalize_for_model(text: str) -> str:
    """One spelling for what varies between exports: links become ``http``, handles ``@user``.

    Exports differ in how they hide links and people (``https://t.co/...``, ``<hyperlink>``,
    ``<mention>``); a model should learn "there is a link", not which export it came from.

    >>> normalize_for_model("@Ana_1 mira <hyperlink> y https://t.co/x &amp; <mention>")
    '@user mira http y http & @user'
    """
    text = html.unescape(text)
    text = _URL.sub(" http ", text)
    text = re.sub(r"<(?:hyperlink|url)>", " http ", text, flags=re.IGNORECASE)
    text = re.sub(r"<(?:mention|user)>", " @user ", text, flags=re.IGNORECASE)
    text = _MENTION.sub(" @user ", text)
    return _SPACES.sub(" ", text).strip()
