"""Feature extraction shared by training and inference of the intent models.

Fast intent tier: hashed word n-grams (no vocabulary to ship, so the model file is only its
weights) beside dense cue and structure counts. Character n-grams cost three quarters of the
featurising time and did not help intent out of fold (macro-F1 es 0.830 / en 0.740 with them,
0.853 / 0.741 without), so only the sentiment model uses them. Accurate tier: the same dense
block beside multilingual-e5-small embeddings. Training and inference call these same functions, so a model
can never see features built differently from the ones it was trained on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import polars as pl
import scipy.sparse as sp

from equilibrio.nlp.cues import CUES, CueMatch, cue_counts, find_cues_batch
from equilibrio.nlp.text import normalize_for_model

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import HashingVectorizer

HASH_FEATURES = 2**18


WORD_TOKEN = re.compile(r"(?u)[@#]?\b\w+\b|[?¿!]")


def words_and_pairs(text: str) -> list[str]:
    """The lowercased words of ``text`` and its pairs of adjacent words (word 1-2 grams).

    What scikit-learn's word analyzer gives with ``token_pattern=WORD_TOKEN``,
    ``ngram_range=(1, 2)`` and ``lowercase=True``, in a fifth less time (its n-gram loop is
    generic); the features, and so the shipped models, are identical.
    """
    words = WORD_TOKEN.findall(text.lower())
    return words + [f"{first} {second}" for first, second in pairwise(words)]


@cache
def _word_hasher() -> HashingVectorizer:
    # scikit-learn is imported on first use: it is most of equilibrio's import time (about
    # 1.4 s), which every CLI command paid, `equilibrio --help` included.
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(n_features=HASH_FEATURES, analyzer=words_and_pairs, alternate_sign=False, norm="l2")


@cache
def _char_hasher() -> HashingVectorizer:
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(
        n_features=HASH_FEATURES,
        analyzer="char_wb",
        ngram_range=(3, 5),
        alternate_sign=False,
        norm="l2",
        lowercase=True,
    )


_EMOJI = "[\U0001f300-\U0001faff\u2600-\u27bf]"

STRUCTURE_NAMES = (
    "starts_with_handle",
    "handles",
    "links",
    "hashtags",
    "emoji",
    "log_words",
    "ends_with_question",
    "digits",
    "is_spanish",
)
DENSE_NAMES = tuple(f"cue:{cue.name}" for cue in CUES) + STRUCTURE_NAMES


def dense_features(
    texts: Sequence[str],
    langs: Sequence[str],
    cues: Sequence[Sequence[CueMatch]] | None = None,
    normalized: Sequence[str] | None = None,
) -> npt.NDArray[np.float32]:
    """Cue counts (capped at 3) and structure, scaled to roughly [0, 1].

    ``cues`` are the texts' :func:`find_cues` matches and ``normalized`` their
    :func:`normalize_for_model` form, when the caller already has them.
    """
    if cues is None:
        cues = find_cues_batch(texts)
    if normalized is None:
        normalized = [normalize_for_model(text) for text in texts]
    counts = np.asarray(cue_counts(cues), dtype=np.float32).reshape(len(texts), len(CUES)) / 3.0
    return np.hstack([counts, structure_features(normalized, langs)])


def structure_features(normalized: Sequence[str], langs: Sequence[str]) -> npt.NDArray[np.float32]:
    """:data:`STRUCTURE_NAMES` of texts already passed through :func:`normalize_for_model`.

    Computed column-wise by Polars (Rust regexes over the whole batch): a per-text Python loop
    here cost more than the rest of the fast tier.
    """
    if not normalized:
        return np.zeros((0, len(STRUCTURE_NAMES)), dtype=np.float32)
    text = pl.col("text")

    def capped(pattern: str, cap: int) -> pl.Expr:
        return text.str.count_matches(pattern).clip(upper_bound=cap) / cap

    frame = pl.DataFrame({"text": list(normalized), "lang": list(langs)}, schema={"text": pl.String, "lang": pl.String})
    expressions = (
        text.str.starts_with("@user"),
        capped("@user", 3),
        capped(r"\bhttp\b", 3),
        capped(r"#\w+", 5),
        capped(_EMOJI, 5),
        text.str.count_matches(r"\S+").cast(pl.Float64).log1p() / 4,
        text.str.strip_chars_end().str.ends_with("?"),
        text.str.contains(r"\d"),
        (pl.col("lang") == "es").fill_null(False),
    )
    columns = frame.select(
        expression.cast(pl.Float32).alias(name) for expression, name in zip(expressions, STRUCTURE_NAMES, strict=True)
    )
    return columns.to_numpy()


def hashed_text(texts: Sequence[str]) -> sp.csr_matrix:
    """Word 1-2 grams and character 3-5 grams, hashed, of the normalised texts (sentiment)."""
    normalized = [normalize_for_model(t) for t in texts]
    return sp.hstack([_word_hasher().transform(normalized), _char_hasher().transform(normalized)], format="csr")


def fast_features(
    texts: Sequence[str], langs: Sequence[str], cues: Sequence[Sequence[CueMatch]] | None = None
) -> sp.csr_matrix:
    """The fast intent tier's input: hashed word n-grams beside the dense cue block."""
    normalized = [normalize_for_model(text) for text in texts]
    dense = sp.csr_matrix(dense_features(texts, langs, cues, normalized))
    return sp.hstack([_word_hasher().transform(normalized), dense], format="csr")


def accurate_features(
    embeddings: npt.NDArray[np.float32],
    texts: Sequence[str],
    langs: Sequence[str],
    cues: Sequence[Sequence[CueMatch]] | None = None,
) -> npt.NDArray[np.float32]:
    """The accurate tier's input: e5 embeddings beside the dense cue block."""
    return np.hstack([embeddings, dense_features(texts, langs, cues)]).astype(np.float32)
