"""Scoring labelled data: accuracy, macro-F1, per-class precision/recall, confusion, calibration.

Pure functions over label lists and probability arrays, shared by ``equilibrio eval`` and the
training scripts so that the figures in docs/evaluation.md and the CLI are computed one way.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt


def expected_calibration_error(probabilities: npt.NDArray[np.float64], truth: Sequence[int], bins: int = 10) -> float:
    """ECE over equal-width confidence bins of the top class (Guo et al., 2017).

    >>> round(expected_calibration_error(np.array([[0.9, 0.1], [0.6, 0.4]]), [0, 1]), 3)
    0.35
    """
    if len(truth) == 0:
        return 0.0
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == np.asarray(truth)
    edges = np.linspace(0.0, 1.0, bins + 1)
    total = 0.0
    for low, high in pairwise(edges):
        in_bin = (confidence > low) & (confidence <= high)
        if in_bin.any():
            total += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(total)


def classification_scores(
    truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str], probabilities: npt.NDArray[np.float64] | None
) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class precision/recall/F1/support, confusion matrix and ECE."""
    # Imported here: scikit-learn's metrics pull in scipy.stats, about 2 s that every command's
    # start-up would pay for the one that evaluates.
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    if not truth:
        return {"n": 0}
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=list(labels), zero_division=0
    )
    scores: dict[str, Any] = {
        "n": len(truth),
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(float(f1_score(truth, predicted, labels=list(labels), average="macro", zero_division=0)), 4),
        "per_class": {
            label: {
                "precision": round(float(p), 4),
                "recall": round(float(r), 4),
                "f1": round(float(f), 4),
                "support": int(s),
            }
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
        },
        "confusion": {
            "labels": list(labels),
            "matrix": confusion_matrix(truth, predicted, labels=list(labels)).tolist(),
        },
    }
    if probabilities is not None:
        index = {label: i for i, label in enumerate(labels)}
        scores["ece"] = round(expected_calibration_error(probabilities, [index[t] for t in truth]), 4)
    return scores


def scores_by_language(
    truth: Sequence[str],
    predicted: Sequence[str],
    langs: Sequence[str],
    labels: Sequence[str],
    probabilities: npt.NDArray[np.float64] | None = None,
    languages: Sequence[str] = ("es", "en"),
) -> dict[str, dict[str, Any]]:
    """:func:`classification_scores` for each language and for ``all``."""
    result: dict[str, dict[str, Any]] = {}
    lang_array = np.asarray(langs)
    for lang in (*languages, "all"):
        mask = np.ones(len(truth), dtype=bool) if lang == "all" else lang_array == lang
        picked = np.where(mask)[0]
        result[lang] = classification_scores(
            [truth[i] for i in picked],
            [predicted[i] for i in picked],
            labels,
            None if probabilities is None else probabilities[picked],
        )
    return result
