"""Audience sentiment (negative / neutral / positive) for Spanish and English messages.

Two tiers, as for intent: the fast tier is a logistic regression on hashed word and character
n-grams plus VADER's lexicon scores; the accurate tier averages it with a logistic regression on
multilingual-e5-small embeddings. ``routed`` (the default) sends only the fast tier's uncertain
messages to the accurate tier. Trained by ``training/train_sentiment.py`` on the xlm-t tweets;
held-out figures are in ``docs/evaluation.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from equilibrio.errors import ConfigurationError
from equilibrio.nlp.features import hashed_text
from equilibrio.nlp.intent import rows_for_accurate_tier, softmax
from equilibrio.nlp.model_files import WEIGHT_NAMES, read_model_files, read_shipped_model_files, write_model_files

SENTIMENT_LABELS: Final = ("negative", "neutral", "positive")
MODEL_NAME: Final = "sentiment"
Mode = Literal["fast", "accurate", "routed"]


@cache
def _vader() -> object:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def lexicon_features(texts: Sequence[str], langs: Sequence[str]) -> npt.NDArray[np.float32]:
    """VADER's neg/neu/pos/compound, and the same again for English only (its lexicon is English;
    on Spanish only its emoji and emoticon entries mean much, and the model learns that)."""
    analyzer = _vader()
    scores = np.zeros((len(texts), 8), dtype=np.float32)
    for row, (text, lang) in enumerate(zip(texts, langs, strict=True)):
        polarity = analyzer.polarity_scores(text)  # type: ignore[attr-defined]
        values = (polarity["neg"], polarity["neu"], polarity["pos"], polarity["compound"])
        scores[row, :4] = values
        if lang == "en":
            scores[row, 4:] = values
    return scores


def fast_sentiment_features(texts: Sequence[str], langs: Sequence[str]) -> sp.csr_matrix:
    return sp.hstack([hashed_text(texts), sp.csr_matrix(lexicon_features(texts, langs))], format="csr")


def accurate_sentiment_features(
    embeddings: npt.NDArray[np.float32], texts: Sequence[str], langs: Sequence[str]
) -> npt.NDArray[np.float32]:
    return np.hstack([embeddings, lexicon_features(texts, langs)]).astype(np.float32)


@dataclass(frozen=True)
class SentimentModel:
    """Weights of both tiers and the routing threshold."""

    version: str
    fast_coef: npt.NDArray[np.float32]
    fast_intercept: npt.NDArray[np.float32]
    accurate_coef: npt.NDArray[np.float32]
    accurate_intercept: npt.NDArray[np.float32]
    route_threshold: float
    meta: dict[str, object]

    @classmethod
    def load(cls, directory: Path | None = None) -> SentimentModel:
        """The shipped model, or one the training script wrote to ``directory``."""
        return _shipped_model() if directory is None else _read_model(directory)

    def save(self, directory: Path) -> None:
        meta = dict(self.meta)
        meta.update(version=self.version, route_threshold=self.route_threshold)
        write_model_files(directory, MODEL_NAME, {name: getattr(self, name) for name in WEIGHT_NAMES}, meta)

    def fast_proba(self, texts: Sequence[str], langs: Sequence[str]) -> npt.NDArray[np.float64]:
        if not texts:
            return np.zeros((0, len(SENTIMENT_LABELS)))
        logits = fast_sentiment_features(texts, langs) @ self.fast_coef.T + self.fast_intercept
        return softmax(np.asarray(logits, dtype=np.float64))

    def accurate_proba(
        self, texts: Sequence[str], langs: Sequence[str], fast: npt.NDArray[np.float64] | None = None
    ) -> npt.NDArray[np.float64]:
        from equilibrio.nlp.embeddings import embed

        if not texts:
            return np.zeros((0, len(SENTIMENT_LABELS)))
        if fast is None:
            fast = self.fast_proba(texts, langs)
        features = accurate_sentiment_features(embed(texts), texts, langs)
        embedded = softmax(np.asarray(features @ self.accurate_coef.T + self.accurate_intercept, dtype=np.float64))
        return (fast + embedded) / 2

    def predict_proba(
        self, texts: Sequence[str], langs: Sequence[str], mode: Mode = "routed"
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.str_]]:
        """Probabilities (columns in :data:`SENTIMENT_LABELS` order) and the tier behind each row.

        >>> model = SentimentModel.load()
        >>> probabilities, tiers = model.predict_proba(["Gracias, me encantó la atención"], ["es"], mode="fast")
        >>> SENTIMENT_LABELS[int(probabilities[0].argmax())]
        'positive'
        """
        if mode not in ("fast", "accurate", "routed"):
            raise ConfigurationError(f"sentiment mode must be fast, accurate or routed, not {mode!r}")
        fast = self.fast_proba(texts, langs)
        tiers = np.full(len(texts), "fast", dtype="<U8")
        if mode == "fast" or not len(texts):
            return fast, tiers
        uncertain = rows_for_accurate_tier(fast, mode, self.route_threshold)
        if uncertain.size:
            fast[uncertain] = self.accurate_proba(
                [texts[int(i)] for i in uncertain], [langs[int(i)] for i in uncertain], fast[uncertain]
            )
            tiers[uncertain] = "accurate"
        return fast, tiers


def net_sentiment(positive: int, negative: int) -> float | None:
    """(pos - neg) / (pos + neg), in [-1, 1]; None when no message is positive or negative."""
    total = positive + negative
    return round((positive - negative) / total, 4) if total else None


_TRAINING_SCRIPT = "training/train_sentiment.py"


def _model_from_files(meta: dict[str, Any], weights: dict[str, npt.NDArray[np.float32]]) -> SentimentModel:
    return SentimentModel(
        version=str(meta["version"]), **weights, route_threshold=float(meta["route_threshold"]), meta=meta
    )


def _read_model(directory: Path) -> SentimentModel:
    return _model_from_files(*read_model_files(directory, MODEL_NAME, _TRAINING_SCRIPT))


@cache
def _shipped_model() -> SentimentModel:
    return _model_from_files(*read_shipped_model_files(MODEL_NAME, _TRAINING_SCRIPT))
