"""Train the shipped sentiment model on the xlm-t tweets and score it on their held-out split.

    python training/train_sentiment.py

Training uses only ``train_{text,labels}.txt`` of ../shared/data/sentiment/xlmt_es and xlmt_en;
``val`` is never seen in training and gives the figures in docs/evaluation.md. The routing
threshold is chosen by 5-fold cross-validation on train (the lowest fast-tier confidence that
keeps the routed mode within 0.01 macro-F1 of the accurate tier), never on val.
Embeddings are cached by ``training/embed.py``'s cache (about 30 texts/s the first time).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from equilibrio.nlp.evaluation import scores_by_language
from equilibrio.nlp.sentiment import (
    SENTIMENT_LABELS,
    SentimentModel,
    accurate_sentiment_features,
    fast_sentiment_features,
)
from equilibrio.nlp.sentiment_eval import read_labelled_text

sys.path.insert(0, str(Path(__file__).parent))
from embed import embed_texts, load_cache

ROOT = Path(__file__).parents[1]
DATA = ROOT.parent / "shared/data/sentiment"
MODELS = ROOT / "src/equilibrio/models"
SCORES = Path(__file__).parent / "_cache/sentiment_scores.json"
FAST_C = 4.0
ACCURATE_C = 4.0
SEED = 0


def split(name: str) -> tuple[list[str], list[str], list[str]]:
    texts: list[str] = []
    labels: list[str] = []
    langs: list[str] = []
    for lang in ("es", "en"):
        t, y = read_labelled_text(DATA / f"xlmt_{lang}/{name}_text.txt", DATA / f"xlmt_{lang}/{name}_labels.txt")
        texts += t
        labels += y
        langs += [lang] * len(t)
    return texts, labels, langs


@dataclass(frozen=True)
class Splits:
    """xlm-t train and val (es + en) with their e5 vectors, label indices and the train CV folds."""

    train_texts: list[str]
    train_labels: list[str]
    train_langs: list[str]
    train_vectors: np.ndarray
    y: np.ndarray
    val_texts: list[str]
    val_labels: list[str]
    val_langs: list[str]
    val_vectors: np.ndarray
    val_y: np.ndarray
    folds: list[tuple[np.ndarray, np.ndarray]]
    """5 folds of train, stratified by language and label: the same folds for every script."""


def load_splits(cache: dict[str, np.ndarray]) -> Splits:
    train_texts, train_labels, train_langs = split("train")
    val_texts, val_labels, val_langs = split("val")
    y = np.array([SENTIMENT_LABELS.index(label) for label in train_labels])
    strata = [f"{lang}:{label}" for lang, label in zip(train_langs, train_labels, strict=True)]
    return Splits(
        train_texts=train_texts,
        train_labels=train_labels,
        train_langs=train_langs,
        train_vectors=embed_texts(train_texts, cache),
        y=y,
        val_texts=val_texts,
        val_labels=val_labels,
        val_langs=val_langs,
        val_vectors=embed_texts(val_texts, cache),
        val_y=np.array([SENTIMENT_LABELS.index(label) for label in val_labels]),
        folds=list(StratifiedKFold(5, shuffle=True, random_state=SEED).split(y, strata)),
    )


def macro_f1_by_language(gold: np.ndarray, predicted: np.ndarray, langs: list[str]) -> dict[str, float]:
    """Macro-F1 of predicted class indices, per language (the figure the experiments compare)."""
    mask = np.array(langs)
    return {
        lang: round(float(f1_score(gold[mask == lang], predicted[mask == lang], average="macro")), 4)
        for lang in ("es", "en")
    }


def fit(texts: list[str], y: np.ndarray, langs: list[str], vectors: np.ndarray) -> tuple[LogisticRegression, ...]:
    fast = LogisticRegression(C=FAST_C, max_iter=3000).fit(fast_sentiment_features(texts, langs), y)
    accurate = LogisticRegression(C=ACCURATE_C, max_iter=3000).fit(
        accurate_sentiment_features(vectors, texts, langs), y
    )
    return fast, accurate


def tiers_proba(models: tuple[LogisticRegression, ...], texts: list[str], langs: list[str], vectors: np.ndarray):
    fast_model, accurate_model = models
    fast = fast_model.predict_proba(fast_sentiment_features(texts, langs))
    embedded = accurate_model.predict_proba(accurate_sentiment_features(vectors, texts, langs))
    return fast, (fast + embedded) / 2


def routed(fast: np.ndarray, accurate: np.ndarray, threshold: float) -> np.ndarray:
    out = fast.copy()
    uncertain = fast.max(axis=1) < threshold
    out[uncertain] = accurate[uncertain]
    return out


def main() -> None:
    data = load_splits(load_cache())
    train_texts, train_langs, train_vectors, y = data.train_texts, data.train_langs, data.train_vectors, data.y
    val_texts, val_labels, val_langs, val_vectors = data.val_texts, data.val_labels, data.val_langs, data.val_vectors

    # Routing threshold from out-of-fold predictions on train only.
    oof_fast = np.zeros((len(y), 3))
    oof_accurate = np.zeros((len(y), 3))
    for fold, (fit_rows, held_rows) in enumerate(data.folds):
        pick = lambda rows, seq: [seq[i] for i in rows]  # noqa: E731
        models = fit(pick(fit_rows, train_texts), y[fit_rows], pick(fit_rows, train_langs), train_vectors[fit_rows])
        fast, accurate = tiers_proba(
            models, pick(held_rows, train_texts), pick(held_rows, train_langs), train_vectors[held_rows]
        )
        oof_fast[held_rows], oof_accurate[held_rows] = fast, accurate
        print(f"fold {fold + 1}/5 done", flush=True)
    accurate_f1 = f1_score(y, oof_accurate.argmax(1), average="macro")
    threshold = 1.0
    for candidate in np.arange(0.40, 1.0001, 0.025):
        if f1_score(y, routed(oof_fast, oof_accurate, candidate).argmax(1), average="macro") >= accurate_f1 - 0.01:
            threshold = float(round(candidate, 3))
            break

    models = fit(train_texts, y, train_langs, train_vectors)
    fast, accurate = tiers_proba(models, val_texts, val_langs, val_vectors)
    results = {}
    for tier, proba in (("fast", fast), ("accurate", accurate), ("routed", routed(fast, accurate, threshold))):
        predicted = [SENTIMENT_LABELS[i] for i in proba.argmax(1)]
        scores = scores_by_language(val_labels, predicted, val_langs, SENTIMENT_LABELS, proba)
        results[tier] = {lang: {k: s[k] for k in ("macro_f1", "accuracy", "ece")} for lang, s in scores.items()}
        print(tier, json.dumps(results[tier]))
    results["routed_share"] = float((fast.max(axis=1) < threshold).mean())
    results["oof_train_macro_f1"] = {
        "fast": round(float(f1_score(y, oof_fast.argmax(1), average="macro")), 4),
        "accurate": round(float(accurate_f1), 4),
    }
    fast_model, accurate_model = models
    digest = hashlib.sha1(np.concatenate([fast_model.coef_.ravel(), accurate_model.coef_.ravel()]).tobytes())
    model = SentimentModel(
        version=f"sentiment-{dt.date.today():%Y%m%d}-{digest.hexdigest()[:8]}",
        fast_coef=fast_model.coef_.astype(np.float32),
        fast_intercept=fast_model.intercept_.astype(np.float32),
        accurate_coef=accurate_model.coef_.astype(np.float32),
        accurate_intercept=accurate_model.intercept_.astype(np.float32),
        route_threshold=threshold,
        meta={
            "trained_on": "xlm-t train (es, en)",
            "held_out": "xlm-t val",
            "val_scores": results,
            "fast_C": FAST_C,
            "accurate_C": ACCURATE_C,
        },
    )
    model.save(MODELS)
    SCORES.write_text(json.dumps(results, indent=2))
    print(f"threshold {threshold}, routed share on val {results['routed_share']:.2f}; wrote {model.version}")


if __name__ == "__main__":
    main()
