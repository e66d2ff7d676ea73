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
_LINK_PLACEHOLDER = re.compile(r"<(?:hyperlink|url)>", re.IGNORECASE)
_PERSON_PLACEHOLDER = re.compile(r"<(?:mention|user)>", re.IGNORECASE)


# Every model reads every text through these functions, so each pattern runs only on texts that
# hold the character it needs (most posts have no entity, handle or placeholder): the same
# output at about twice the speed.
def _may_hold_url(text: str) -> bool:
    lower = text.lower()
    return "http" in lower or "www." in lower or "t.co/" in lower


def _may_hold_handle(text: str) -> bool:
    return "@" in text or "＠" in text


def words_only(text: str) -> str:
    """The words a person wrote: no URLs, @handles, #hashtags, emoji or HTML entities.

    >>> words_only("RT @BBVA: ¡Gracias! 🙌 #Finanzas https://t.co/x &amp; más")
    '¡Gracias! más'
    """
    if "&" in text:
        text = html.unescape(text)
    text = _RETWEET.sub("", text)
    if _may_hold_url(text):
        text = _URL.sub(" ", text)
    if "<" in text:
        text = _PLACEHOLDER.sub(" ", text)
    if _may_hold_handle(text):
        text = _MENTION.sub(" ", text)
    if "#" in text:
        text = _HASHTAG.sub(" ", text)
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
    if "&" in text:
        text = html.unescape(text)
    if _may_hold_url(text):
        text = _URL.sub(" http ", text)
    if "<" in text:
        text = _LINK_PLACEHOLDER.sub(" http ", text)
        text = _PERSON_PLACEHOLDER.sub(" @user ", text)
    if _may_hold_handle(text):
        text = _MENTION.sub(" @user ", text)
    return _SPACES.sub(" ", text).strip()
