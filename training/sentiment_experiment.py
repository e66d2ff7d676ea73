"""Sentiment experiment: emotion probabilities (EmoEvent) stacked into the accurate tier's features.

    python training/sentiment_experiment.py

An emotion model (logistic regression on e5 embeddings plus a language flag) is trained on all
EmoEvent tweets, which are disjoint from xlm-t. Its log-probabilities are appended to the accurate
tier's features. Each variant is scored by 5-fold CV on the xlm-t train split (the figure that
decides adoption) and once on the held-out val split. Results are in docs/evaluation.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.linear_model import LogisticRegression

from equilibrio.nlp.sentiment import accurate_sentiment_features, fast_sentiment_features

sys.path.insert(0, str(Path(__file__).parent))
from embed import embed_texts, load_cache
from train_sentiment import ACCURATE_C, DATA, FAST_C, load_splits, macro_f1_by_language


def language_flag(langs: list[str]) -> np.ndarray:
    return np.array([[1.0 if lang == "es" else 0.0] for lang in langs], dtype=np.float32)


def main() -> None:
    cache = load_cache()
    emotion_texts: list[str] = []
    emotions: list[str] = []
    emotion_langs: list[str] = []
    for lang in ("es", "en"):
        for part in ("train", "dev"):
            frame = pl.read_csv(DATA / f"emoevent/{lang}_{part}.tsv", separator="\t", quote_char=None)
            emotion_texts += frame["tweet"].to_list()
            emotions += frame["emotion"].to_list()
            emotion_langs += [lang] * frame.height
    emotion_names = sorted(set(emotions))
    emotion_model = LogisticRegression(C=1.0, max_iter=3000).fit(
        np.hstack([embed_texts(emotion_texts, cache), language_flag(emotion_langs)]),
        np.array([emotion_names.index(e) for e in emotions]),
    )

    def features(variant: str, vectors: np.ndarray, texts: list[str], langs: list[str]) -> np.ndarray:
        base = accurate_sentiment_features(vectors, texts, langs)
        if variant == "shipped":
            return base
        emotion = np.log(emotion_model.predict_proba(np.hstack([vectors, language_flag(langs)])) + 1e-4)
        return np.hstack([base, emotion.astype(np.float32)])

    def accurate_proba(
        variant: str,
        fit_texts: list[str],
        fit_langs: list[str],
        fit_vectors: np.ndarray,
        fit_y: np.ndarray,
        texts: list[str],
        langs: list[str],
        vectors: np.ndarray,
    ) -> np.ndarray:
        fast = LogisticRegression(C=FAST_C, max_iter=3000).fit(fast_sentiment_features(fit_texts, fit_langs), fit_y)
        embedded = LogisticRegression(C=ACCURATE_C, max_iter=3000).fit(
            features(variant, fit_vectors, fit_texts, fit_langs), fit_y
        )
        return (
            fast.predict_proba(fast_sentiment_features(texts, langs))
            + embedded.predict_proba(features(variant, vectors, texts, langs))
        ) / 2

    data = load_splits(cache)
    train_texts, train_langs, train_vectors, y = data.train_texts, data.train_langs, data.train_vectors, data.y
    val_texts, val_langs, val_vectors, val_y = data.val_texts, data.val_langs, data.val_vectors, data.val_y
    for variant in ("shipped", "with emotions"):
        out_of_fold = np.zeros((len(y), 3))
        for fit_rows, held_rows in data.folds:
            pick = lambda rows, seq: [seq[i] for i in rows]  # noqa: E731
            out_of_fold[held_rows] = accurate_proba(
                variant,
                pick(fit_rows, train_texts),
                pick(fit_rows, train_langs),
                train_vectors[fit_rows],
                y[fit_rows],
                pick(held_rows, train_texts),
                pick(held_rows, train_langs),
                train_vectors[held_rows],
            )
        held_out = accurate_proba(
            variant, train_texts, train_langs, train_vectors, y, val_texts, val_langs, val_vectors
        )
        print(
            f"{variant}: train CV {macro_f1_by_language(y, out_of_fold.argmax(1), train_langs)}, "
            f"val {macro_f1_by_language(val_y, held_out.argmax(1), val_langs)}",
            flush=True,
        )


if __name__ == "__main__":
    main()
