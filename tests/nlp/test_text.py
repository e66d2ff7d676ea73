"""The text helpers take shortcuts (patterns skipped, a lighter n-gram loop); their output must be the reference's."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from equilibrio.nlp import features
from equilibrio.nlp import text as normalise
from equilibrio.nlp.intent_eval import read_gold


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


def _sklearn_word_analyzer() -> Callable[[str], list[str]]:
    from sklearn.feature_extraction.text import HashingVectorizer

    analyzer: Callable[[str], list[str]] = HashingVectorizer(
        analyzer="word", ngram_range=(1, 2), token_pattern=features.WORD_TOKEN.pattern, lowercase=True
    ).build_analyzer()
    return analyzer


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*PIECES, "hola", "Hola", "mundo", "ÉXITO", "?", "!", "¿"]) | st.text(max_size=4)))
def test_word_pairs_are_scikit_learns_word_ngrams(pieces: list[str]) -> None:
    # The fast tier's hashed features (and so the shipped weights) rest on this equality.
    text = " ".join(pieces)
    assert features.words_and_pairs(text) == _sklearn_word_analyzer()(text)


def test_word_pairs_on_real_brand_posts(shared_data: Path) -> None:
    analyzer = _sklearn_word_analyzer()
    texts = [row["text"] for row in read_gold(shared_data / "intent/dev_gold.jsonl")]
    for text in (*texts, *(normalise.normalize_for_model(t) for t in texts)):
        assert features.words_and_pairs(text) == analyzer(text)
