"""Feature extraction shared by training and inference of the intent models.

Fast tier: hashed word and character n-grams (no vocabulary to ship, so the model file is only
its weights) beside dense cue and structure counts. Accurate tier: the same dense block beside
multilingual-e5-small embeddings. Training and inference call these same functions, so a model
can never see features built differently from the ones it was trained on.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

from equilibrio.nlp.cues import CUES, CueMatch, cue_counts, find_cues
from equilibrio.nlp.text import normalize_for_model

HASH_FEATURES = 2**18

_WORD_HASHER = HashingVectorizer(
    n_features=HASH_FEATURES,
    analyzer="word",
    ngram_range=(1, 2),
    token_pattern=r"(?u)[@#]?\b\w+\b|[?¿!]",
    alternate_sign=False,
    norm="l2",
    lowercase=True,
)
_CHAR_HASHER = HashingVectorizer(
    n_features=HASH_FEATURES,
    analyzer="char_wb",
    ngram_range=(3, 5),
    alternate_sign=False,
    norm="l2",
    lowercase=True,
)

_HANDLE = re.compile(r"@user")
_LINK = re.compile(r"\bhttp\b")
_HASHTAG = re.compile(r"#\w+")
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")

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
    texts: Sequence[str], langs: Sequence[str], cues: Sequence[Sequence[CueMatch]] | None = None
) -> npt.NDArray[np.float32]:
    """Cue counts (capped at 3) and structure, scaled to roughly [0, 1].

    ``cues`` are the texts' :func:`find_cues` matches when the caller already has them.
    """
    if cues is None:
        cues = [find_cues(text) for text in texts]
    counts = np.asarray(cue_counts(cues), dtype=np.float32).reshape(len(texts), len(CUES)) / 3.0
    structure = np.zeros((len(texts), len(STRUCTURE_NAMES)), dtype=np.float32)
    for row, (raw, lang) in enumerate(zip(texts, langs, strict=True)):
        text = normalize_for_model(raw)
        words = text.split()
        structure[row] = (
            float(text.startswith("@user")),
            min(len(_HANDLE.findall(text)), 3) / 3,
            min(len(_LINK.findall(text)), 3) / 3,
            min(len(_HASHTAG.findall(text)), 5) / 5,
            min(len(_EMOJI.findall(text)), 5) / 5,
            math.log1p(len(words)) / 4,
            float(text.rstrip().endswith("?")),
            float(any(ch.isdigit() for ch in text)),
            float(lang == "es"),
        )
    return np.hstack([counts, structure])


def hashed_text(texts: Sequence[str]) -> sp.csr_matrix:
    """Word 1-2 grams and character 3-5 grams, hashed, of the normalised texts."""
    normalized = [normalize_for_model(t) for t in texts]
    return sp.hstack([_WORD_HASHER.transform(normalized), _CHAR_HASHER.transform(normalized)], format="csr")


def fast_features(
    texts: Sequence[str], langs: Sequence[str], cues: Sequence[Sequence[CueMatch]] | None = None
) -> sp.csr_matrix:
    """The fast tier's input: hashed n-grams beside the dense cue block."""
    dense = sp.csr_matrix(dense_features(texts, langs, cues))
    return sp.hstack([hashed_text(texts), dense], format="csr")


def accurate_features(
    embeddings: npt.NDArray[np.float32],
    texts: Sequence[str],
    langs: Sequence[str],
    cues: Sequence[Sequence[CueMatch]] | None = None,
) -> npt.NDArray[np.float32]:
    """The accurate tier's input: e5 embeddings beside the dense cue block."""
    return np.hstack([embeddings, dense_features(texts, langs, cues)]).astype(np.float32)
