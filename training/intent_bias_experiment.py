"""Intent experiment: a per-language class bias on the out-of-fold probabilities, chosen nested.

    python training/intent_bias_experiment.py

The folds are train_intent.py's. For each language and each held-out fold, a shift of the
promotion and value log-probabilities (grid -1..1, step 0.1; conversation fixed at 0) is chosen
to maximise macro-F1 on the out-of-fold predictions of the *other* four folds, then applied to
the held-out fold. Results are in docs/evaluation.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from equilibrio.nlp.intent import INTENT_LABELS

sys.path.insert(0, str(Path(__file__).parent))
import train_intent as recipe
from embed import embed_texts, load_cache

GRID = np.round(np.arange(-1.0, 1.01, 0.1), 2)


def main() -> None:
    gold = recipe.read_gold(recipe.GOLD)
    texts = [r["text"] for r in gold]
    langs = np.array([r["lang"] for r in gold])
    y = np.array([INTENT_LABELS.index(r["label"]) for r in gold])
    fast_x = recipe.fast_features(texts, list(langs))
    accurate_x = recipe.accurate_features(embed_texts(texts, load_cache()), texts, list(langs))
    strata = [f"{r['lang']}-{r['label']}" for r in gold]
    folds = list(StratifiedKFold(recipe.FOLDS, shuffle=True, random_state=recipe.SEED).split(texts, strata))
    fast_logits = np.zeros((len(y), 3))
    embedded_logits = np.zeros((len(y), 3))
    fold_of = np.zeros(len(y), dtype=int)
    for k, (train, test) in enumerate(folds):
        fast_logits[test] = recipe._logits(recipe._fit(fast_x[train], y[train], recipe.FAST_C), fast_x[test])
        embedded_logits[test] = recipe._logits(
            recipe._fit(accurate_x[train], y[train], recipe.ACCURATE_C), accurate_x[test]
        )
        fold_of[test] = k
    fast_p = recipe.softmax(fast_logits / recipe._temperature(fast_logits, y))
    accurate_p = (fast_p + recipe.softmax(embedded_logits / recipe._temperature(embedded_logits, y))) / 2

    def shifted(log_p: np.ndarray, bias: tuple[float, float]) -> np.ndarray:
        return (log_p + np.array([bias[0], 0.0, bias[1]])).argmax(1)

    for tier, proba in (("fast", fast_p), ("accurate", accurate_p)):
        log_p = np.log(proba + 1e-9)
        for lang in ("es", "en"):
            in_lang = langs == lang
            predicted = np.zeros(len(y), dtype=int)
            for k in range(len(folds)):
                fit = in_lang & (fold_of != k)
                held = in_lang & (fold_of == k)
                best = max(
                    ((p, v) for p in GRID for v in GRID),
                    key=lambda bias: f1_score(y[fit], shifted(log_p[fit], bias), average="macro"),
                )
                predicted[held] = shifted(log_p[held], best)
            plain = f1_score(y[in_lang], proba[in_lang].argmax(1), average="macro")
            nested = f1_score(y[in_lang], predicted[in_lang], average="macro")
            print(f"{tier} {lang}: plain {plain:.4f}, nested bias {nested:.4f}", flush=True)


if __name__ == "__main__":
    main()
