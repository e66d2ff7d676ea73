"""Language identification, measured on tweets it was not tuned on (xlm-t sentiment sets)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from equilibrio.nlp.language import MIN_LETTERS, _enough_letters, detect_languages
from equilibrio.nlp.text import words_only


@pytest.mark.parametrize("lang", ["es", "en"])
def test_held_out_tweets(shared_data: Path, lang: str) -> None:
    texts = (shared_data / "sentiment" / f"xlmt_{lang}" / "val_text.txt").read_text(encoding="utf-8").splitlines()
    predicted = detect_languages(texts)
    accuracy = sum(p == lang for p in predicted) / len(texts)
    assert accuracy >= 0.99, accuracy


def test_mentions_urls_and_emoji_do_not_decide() -> None:
    # English handles and a URL around Spanish words; Spanish words in a hashtag around English ones.
    assert detect_languages(["@AppleSupport @TeamYouTube no funciona mi cuenta desde ayer https://t.co/x 😡"]) == ["es"]
    assert detect_languages(["#GraciasMéxico thank you all for coming to the launch"]) == ["en"]


def test_too_short_falls_back_to_the_source_tag() -> None:
    assert detect_languages(["https://t.co/abc", "👍", "https://t.co/abc"], ["en", "es", "und"]) == [
        "en",
        "es",
        "other",
    ]


def test_words_only_keeps_words() -> None:
    assert words_only("Hola @ana, mira esto: <hyperlink> #promo 🎉") == "Hola , mira esto"


def test_sale_events_named_in_english_do_not_make_a_post_english() -> None:
    texts = [
        "Black Friday: todo al 50% en toda la tienda",
        "¡Llegó el Hot Sale! Hasta 12 meses sin intereses",
        "Cyber Monday: envío gratis en toda la tienda",
        "Black Friday deals on every laptop",
        "Don't miss our Cyber Monday sale",
        "Black Friday!",  # nothing else to read: the name itself decides
    ]
    assert detect_languages(texts) == ["es", "es", "es", "en", "en", "en"]


@given(st.text(max_size=12))
def test_enough_letters_stops_counting_but_agrees_with_a_full_count(text: str) -> None:
    assert _enough_letters(text) == (sum(character.isalpha() for character in text) >= MIN_LETTERS)
