"""The batch cue finder gives exactly the per-text matches, and the parallel fast tier the serial result."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equilibrio.nlp.cues import CUES, find_cues, find_cues_batch, superset_pattern
from equilibrio.nlp.intent import PARALLEL_MIN_TEXTS, IntentModel
from equilibrio.nlp.intent_eval import read_gold

ALL_CHARACTERS = [chr(code) for code in range(sys.maxunicode + 1) if not 0xD800 <= code <= 0xDFFF]
EVERY_CHARACTER = "".join(ALL_CHARACTERS)


def _rust_matches(pattern: str, texts: list[str]) -> list[bool]:
    return pl.Series(texts, dtype=pl.String).str.contains(pattern).to_list()


@pytest.mark.parametrize(("python_class", "inside"), [(r"\w", "w"), (r"\s", "s"), (r"\d", "d"), (r"\S", "S")])
def test_widened_classes_cover_every_character_python_matches(python_class: str, inside: str) -> None:
    # Checked over all of Unicode: a looser pattern must never miss a character Python accepts.
    loose = superset_pattern(re.compile(python_class))
    assert loose is not None
    python = [bool(re.fullmatch(python_class, char)) for char in ALL_CHARACTERS]
    rust = _rust_matches(f"^(?:{loose})$", ALL_CHARACTERS)
    missed = [char for char, p, r in zip(ALL_CHARACTERS, python, rust, strict=True) if p and not r]
    assert not missed, [hex(ord(c)) for c in missed[:10]]


def test_case_insensitive_letters_cover_pythons_case_folding() -> None:
    letters = sorted({c for cue in CUES for c in cue.pattern.pattern if c.isalpha()})
    assert "i" in letters and "ñ" in letters
    for letter in letters:
        loose = superset_pattern(re.compile(re.escape(letter), re.IGNORECASE))
        assert loose is not None
        python = {m.group() for m in re.finditer(re.escape(letter), EVERY_CHARACTER, re.IGNORECASE)}
        rust_flags = _rust_matches(f"^(?:{loose})$", sorted(python))
        assert all(rust_flags), (letter, [c for c, ok in zip(sorted(python), rust_flags, strict=True) if not ok])


@pytest.mark.parametrize("pattern", [r"end$", r"\W", r"(?P<name>x)", r"[^a]", r"(?i:x)", r"\Bx", r"(a)\1"])
def test_untranslatable_patterns_fall_back_to_the_exact_scan(pattern: str) -> None:
    assert superset_pattern(re.compile(pattern)) is None


def test_lookarounds_are_dropped_not_kept() -> None:
    assert superset_pattern(re.compile(r"(?<!\w)(?:sale|deal)(?![\w=(])")) == "(?s)(?:sale|deal)"


def test_every_shipped_cue_gets_a_loose_pattern() -> None:
    # If a cue loses its loose pattern the batch finder still works, only slower; say so early.
    assert all(superset_pattern(cue.pattern) is not None for cue in CUES)


def test_batch_equals_one_by_one_on_real_brand_posts(shared_data: Path) -> None:
    texts = [row["text"] for row in read_gold(shared_data / "intent/dev_gold.jsonl")]
    assert len(texts) > 600
    assert find_cues_batch(texts) == [find_cues(text) for text in texts]


TRICKY = "aeiouIİıKkSsſ½²0123456789 \t\n\x1c\x85\u00a0\u0301_@#$€%?¿!¡.,:;/<>&" + "ñóáéíú😂❤"
# "gratıs" (dotless ı) is a deal to Python's IGNORECASE and is caught only by the loose pattern's i fix.
WORDS = ["promoción", "PROMOCIÓN", "gratıs", "gratis", "sale", "http://x.co/a?b=1", "<hyperlink>", "@ana", "hola"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.sampled_from(WORDS) | st.text(TRICKY, max_size=6), max_size=3), min_size=64, max_size=80))
def test_batch_equals_one_by_one_on_tricky_text(pieces: list[list[str]]) -> None:
    texts = [" ".join(words) for words in pieces]
    assert find_cues_batch(texts) == [find_cues(text) for text in texts]


def test_parallel_fast_tier_gives_the_serial_probabilities(shared_data: Path) -> None:
    gold = read_gold(shared_data / "intent/dev_gold.jsonl")
    repeats = PARALLEL_MIN_TEXTS // len(gold) + 1
    # Gold posts, which the shipped model learned, and short drafts on which the guideline's
    # commercial-push rule decides.
    texts = ([row["text"] for row in gold] + ["Compra ya", "Get yours today"]) * repeats
    langs = ([row["lang"] for row in gold] + ["es", "en"]) * repeats
    model = IntentModel.load()
    serial = model.fast_proba(texts, langs)
    parallel = model.fast_proba(texts, langs, workers=2)
    assert np.allclose(serial, parallel)
    # The workers also send back which posts make a commercial push, for the guideline's rule.
    decided, _ = model.predict_proba(texts, langs, "fast")
    assert not np.allclose(decided, serial)  # the rule acts on the drafts
    assert np.allclose(decided, model.predict_proba(texts, langs, "fast", workers=2)[0])


def test_workers_started_from_an_unguarded_script_fail_with_a_clear_error(tmp_path: Path) -> None:
    # A script without the __main__ guard: each spawned worker imports it again and dies.
    script = tmp_path / "unguarded.py"
    script.write_text(
        "from equilibrio.nlp.intent import PARALLEL_MIN_TEXTS, IntentModel\n"
        "texts = ['Compra ya con 20% de descuento'] * PARALLEL_MIN_TEXTS\n"
        "IntentModel.load().fast_proba(texts, ['es'] * len(texts), workers=2)\n",
        encoding="utf-8",
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "worker processes stopped" in done.stderr
    assert 'if __name__ == "__main__":' in done.stderr
