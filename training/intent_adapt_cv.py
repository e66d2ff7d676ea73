"""What adapting the intent model to a brand's own labelled posts buys, on brands it never saw.

    python training/intent_adapt_cv.py                    # 40 posts per brand, penalty 1, three draws
    python training/intent_adapt_cv.py --posts 20 --penalties 0.3,1,3

Folds hold out whole organisations (as training/intent_grouped_cv.py, fold seed 0). For each
held-out organisation with at least ``posts`` + 5 gold posts, ``posts`` of them, drawn at random,
play the brand's own labels: equilibrio.nlp.intent_adapt.adapt_intent_model fine-tunes the fold's
model on them. Both the fold's model and the adapted one then score the organisation's other
posts in accurate mode, through the library's own predict_proba (push rule included). The fold's
model is train_intent.py's recipe fitted on the training folds, with the shipped model's
temperatures and settings. Results: docs/evaluation.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from equilibrio.nlp.intent import INTENT_LABELS, IntentModel
from equilibrio.nlp.intent_adapt import adapt_intent_model

sys.path.insert(0, str(Path(__file__).parent))
import train_intent as recipe
from intent_grouped_cv import GoldArrays, organisation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=40, help="labelled posts per brand")
    parser.add_argument("--penalties", default="1", help="comma-separated")
    parser.add_argument("--draws", type=int, default=3)
    args = parser.parse_args()

    data = GoldArrays.load()
    gold, texts, langs, y = data.gold, data.texts, data.langs, data.y
    unit, fast_x, accurate_x = data.unit, data.fast_x, data.accurate_x
    language = np.array(langs)
    strata = [f"{r['lang']}-{r['label']}" for r in gold]
    orgs = np.array([organisation(r["account"]) for r in gold])
    shipped = IntentModel.load()

    fold_models = []
    folds = list(StratifiedGroupKFold(recipe.FOLDS, shuffle=True, random_state=0).split(texts, strata, orgs))
    for train, _ in folds:
        fast = recipe._fit(fast_x[train], y[train], recipe.FAST_C)
        embedded = recipe._fit(accurate_x[train], y[train], recipe.ACCURATE_C)
        fold_models.append(
            dataclasses.replace(
                shipped,
                version="fold",
                fast_coef=fast.coef_.astype(np.float32),
                fast_intercept=fast.intercept_.astype(np.float32),
                accurate_coef=embedded.coef_.astype(np.float32),
                accurate_intercept=embedded.intercept_.astype(np.float32),
                neighbour_embeddings=unit[train],
                neighbour_labels=y[train].astype(np.int8),
            )
        )

    for penalty in (float(p) for p in args.penalties.split(",")):
        scores: dict[str, list[float]] = {"es": [], "en": [], "es before": [], "en before": []}
        for draw in range(args.draws):
            rng = np.random.default_rng(draw)
            adapted_p = np.zeros((len(y), 3))
            base_p = np.zeros((len(y), 3))
            scored = np.zeros(len(y), dtype=bool)
            for (_, test), model in zip(folds, fold_models, strict=True):
                for name in sorted(set(orgs[test])):
                    posts = test[orgs[test] == name]
                    if len(posts) < args.posts + 5:
                        continue
                    own = rng.choice(posts, args.posts, replace=False)
                    rest = np.setdiff1d(posts, own)
                    adapted = adapt_intent_model(
                        model,
                        [texts[i] for i in own],
                        [langs[i] for i in own],
                        [INTENT_LABELS[y[i]] for i in own],
                        penalty=penalty,
                    )
                    rest_texts, rest_langs = [texts[i] for i in rest], [langs[i] for i in rest]
                    adapted_p[rest] = adapted.predict_proba(rest_texts, rest_langs, "accurate")[0]
                    base_p[rest] = model.predict_proba(rest_texts, rest_langs, "accurate")[0]
                    scored[rest] = True
            for lang in ("es", "en"):
                mask = scored & (language == lang)
                scores[lang].append(recipe._macro_f1(y[mask], adapted_p[mask]))
                scores[f"{lang} before"].append(recipe._macro_f1(y[mask], base_p[mask]))
            print(
                f"penalty {penalty} draw {draw}: " + ", ".join(f"{k} {v[-1]:.3f}" for k, v in scores.items()),
                flush=True,
            )
        print(
            f"penalty {penalty}, {args.posts} posts, mean of {args.draws} draws: "
            + ", ".join(f"{k} {np.mean(v):.3f}" for k, v in scores.items()),
            flush=True,
        )


if __name__ == "__main__":
    main()
