"""The normalisers skip patterns that cannot match; their output must be what running every pattern gives."""

from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from equilibrio.nlp import text as normalise


def reference_normalize_for_model(text: str) -> str:
    """Every substitution, always, in order: the specification of normalize_for_model."""
    text = html.unescape(text)
    text = normalise._URL.sub(" http ", text)
    text = re.sub(r"<(?:hyperlink|url)>", " http ", text, flags=re.IGNORECASE)
    text = re.sub(r"<(?:mention|user)>", " @user ", text, flags=re.IGNORECASE)
    text = normalise._MENTION.sub(" @user ", text)
    return normalise._SPACES.sub(" ", text).strip()


def reference_words_only(text: str) -> str:
    text = html.unescape(text)
    text = normalise._RETWEET.sub("", text)
    for pattern in (normalise._URL, normalise._PLACEHOLDER, normalise._MENTION, normalise._HASHTAG):
        text = pattern.sub(" ", text)
    text = normalise._NOT_WORDS.sub(" ", text)
    text = text.replace(" :", " ").strip(" :")
    return normalise._SPACES.sub(" ", text).strip()


PIECES = [
    "http://x.co/a",
    "HTTPS://Y.org",
    "hTtP://z",
    "www.ejemplo.es",
    "WWW.X.COM",
    "t.co/abc",
    "T.CO/X",
    "<hyperlink>",
    "<URL>",
    "<Mention>",
    "<user>",
    "&amp;",
    "&lt;hyperlink&gt;",
    "&#64;ana",
    "&commat;bob",
    "@ana",
    "＠ana",
    "a@b.com",
    "@x@mastodon.social",
    "#tag",
    "#",
    "RT @x:",
    "ſ",
    "K",
    "İ",
    "¿Qué?",
    "🎉",
    " ",
    "\n",
    ":",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES) | st.text(max_size=4), max_size=12))
def test_skipping_patterns_changes_nothing(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert normalise.normalize_for_model(text) == reference_normalize_for_model(text)
    assert normalise.words_only(text) == reference_words_only(text)
