"""What adapting the intent model to a brand's own labelled posts buys, on brands it never saw.

    python training/intent_adapt_cv.py                    # 40 posts per brand, penalty 1, three draws
    python training/intent_adapt_cv.py --posts 20 --penalties 0.3,1,3
    python training/intent_adapt_cv.py --pick random,uncertain --test-share 0.4   # which posts to label

Folds hold out whole organisations (as training/intent_grouped_cv.py, fold seed 0). For each
held-out organisation with at least ``posts`` + 5 gold posts, ``posts`` of them, drawn at random,
play the brand's own labels: equilibrio.nlp.intent_adapt.adapt_intent_model fine-tunes the fold's
model on them. Both the fold's model and the adapted one then score the organisation's other
posts in accurate mode, through the library's own predict_proba (the guideline's rules included). The fold's
model is train_intent.py's recipe fitted on the training folds and the developers' labels of the
other organisations, with the shipped model's temperatures and settings. Results: docs/evaluation.md.

``--pick`` compares ways of choosing the posts a brand labels. Then each organisation's posts are
first split, per draw, into a test share and a pool, the same for every way: ``random`` draws the
labelled posts from the pool; ``uncertain`` takes them in rounds of ``--round`` posts, each round
the pool's posts the current model (the fold's, then the adapted one) is least sure of in accurate
mode, as the web app's "teach the model" page offers them. Both are scored on the same test posts.
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
    parser.add_argument("--pick", default="", help="compare ways to choose the posts: random,uncertain")
    parser.add_argument("--test-share", type=float, default=0.4, help="with --pick: each brand's test posts")
    parser.add_argument("--round", type=int, default=20, help="with --pick uncertain: posts per round")
    args = parser.parse_args()

    data = GoldArrays.load()
    gold, texts, langs, y = data.gold, data.texts, data.langs, data.y
    unit, fast_x, accurate_x = data.unit, data.fast_x, data.accurate_x
    language = np.array(langs)
    strata = [f"{r['lang']}-{r['label']}" for r in gold]
    orgs = np.array([organisation(r["account"]) for r in gold])
    shipped = IntentModel.load()

    extra = recipe.read_developer_labels()
    fold_models = []
    folds = list(StratifiedGroupKFold(recipe.FOLDS, shuffle=True, random_state=0).split(texts, strata, orgs))
    for train, test in folds:
        more = extra.outside(data.posts.subset(test), "organisation")
        fast = recipe._fit_with(fast_x[train], y[train], more.fast_x, more.y, recipe.FAST_C)
        embedded = recipe._fit_with(accurate_x[train], y[train], more.accurate_x, more.y, recipe.ACCURATE_C)
        fold_models.append(
            dataclasses.replace(
                shipped,
                version="fold",
                fast_coef=fast.coef_.astype(np.float32),
                fast_intercept=fast.intercept_.astype(np.float32),
                accurate_coef=embedded.coef_.astype(np.float32),
                accurate_intercept=embedded.intercept_.astype(np.float32),
                neighbour_embeddings=np.vstack([unit[train], more.unit]),
                neighbour_labels=np.concatenate([y[train], more.y]).astype(np.int8),
            )
        )

    if args.pick:
        compare_picks(args, data, folds, fold_models, orgs, language)
        return
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
                    adapted = _adapt(model, data, own, penalty)
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


def _adapt(model: IntentModel, data: GoldArrays, own: np.ndarray, penalty: float) -> IntentModel:
    """``model`` adapted to the gold posts ``own`` (indices), as a brand's own labels."""
    texts, langs = [data.texts[i] for i in own], [data.langs[i] for i in own]
    return adapt_intent_model(model, texts, langs, [INTENT_LABELS[data.y[i]] for i in own], penalty=penalty)


def _least_sure(model: IntentModel, texts: list[str], langs: list[str], candidates: np.ndarray, n: int) -> np.ndarray:
    proba = model.predict_proba([texts[i] for i in candidates], [langs[i] for i in candidates], "accurate")[0]
    return candidates[np.argsort(proba.max(axis=1), kind="stable")[:n]]


def compare_picks(
    args: argparse.Namespace,
    data: GoldArrays,
    folds: list[tuple[np.ndarray, np.ndarray]],
    fold_models: list[IntentModel],
    orgs: np.ndarray,
    language: np.ndarray,
) -> None:
    texts, langs, y = data.texts, data.langs, data.y
    penalty = float(args.penalties.split(",")[0])
    picks = args.pick.split(",")
    scores: dict[str, dict[str, list[float]]] = {p: {"es": [], "en": []} for p in ["before", *picks]}
    for draw in range(args.draws):
        rng = np.random.default_rng(draw)
        proba = {p: np.zeros((len(y), 3)) for p in scores}
        scored = np.zeros(len(y), dtype=bool)
        for (_, test), model in zip(folds, fold_models, strict=True):
            for name in sorted(set(orgs[test])):
                posts = rng.permutation(test[orgs[test] == name])
                n_test = round(args.test_share * len(posts))
                held, pool = posts[:n_test], posts[n_test:]
                if len(pool) < args.posts + 5:
                    continue
                held_texts, held_langs = [texts[i] for i in held], [langs[i] for i in held]
                proba["before"][held] = model.predict_proba(held_texts, held_langs, "accurate")[0]
                scored[held] = True
                for pick in picks:
                    if pick == "random":
                        own = rng.choice(pool, args.posts, replace=False)
                    elif pick == "uncertain":
                        own, current = np.array([], dtype=int), model
                        while len(own) < args.posts:
                            left = np.setdiff1d(pool, own)
                            own = np.concatenate([own, _least_sure(current, texts, langs, left, args.round)])
                            current = _adapt(model, data, own, penalty)
                        own = own[: args.posts]
                    else:
                        raise SystemExit(f"--pick: random or uncertain, not {pick!r}")
                    adapted = _adapt(model, data, own, penalty)
                    proba[pick][held] = adapted.predict_proba(held_texts, held_langs, "accurate")[0]
        for pick, by_lang in scores.items():
            for lang in ("es", "en"):
                mask = scored & (language == lang)
                by_lang[lang].append(recipe._macro_f1(y[mask], proba[pick][mask]))
        print(
            f"draw {draw}: " + ", ".join(f"{p} es {v['es'][-1]:.3f} en {v['en'][-1]:.3f}" for p, v in scores.items()),
            flush=True,
        )
    print(
        f"{args.posts} posts, penalty {penalty}, test share {args.test_share}, mean of {args.draws} draws: "
        + ", ".join(f"{p} es {np.mean(v['es']):.3f} en {np.mean(v['en']):.3f}" for p, v in scores.items()),
        flush=True,
    )


if __name__ == "__main__":
    main()
