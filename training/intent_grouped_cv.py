"""Intent figures on brands the model never saw: folds that hold out whole accounts or organisations.

    python training/intent_grouped_cv.py                      # organisations, fold seeds 0-3
    python training/intent_grouped_cv.py --groups account --seeds 0,1
    python training/intent_grouped_cv.py --groups none        # train_intent.py's random folds, seeds 0-3

train_intent.py's folds are stratified at random, so most test posts have posts of the same
account in the training folds (Tesla and yumbrands are two thirds of the English gold posts, and
some accounts post near-identical templates). A user's own brand is usually in no training set.
Here the folds are grouped (scikit-learn's StratifiedGroupKFold): with ``--groups account`` no
account has posts on both sides; with ``--groups organisation`` neither has any organisation, the
accounts of one company being merged (all BBVA accounts, the three Corpoelec ones, Citibanamex and
its contact account, Indigo and Chapters, Foot Locker and Kids Foot Locker, the AAA clubs).
Spanish has only four organisations, so there a held-out fold is often "all of BBVA".

Every recipe is train_intent.py's, with its settings, fitted on each training fold; temperatures
are fitted on the out-of-fold predictions as there. Printed per fold seed, macro-F1 es / en:
the fast tier, the e5 logistic regression alone, the accurate tier without the vote, with the vote
for every post (the recipe before the similarity gate) and as shipped (the vote only for posts
close to a labelled one). The guideline's rules (commercial push, invitation to reply) are applied
to all. Results: docs/evaluation.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

sys.path.insert(0, str(Path(__file__).parent))
import train_intent as recipe

organisation = recipe.organisation


@dataclass(frozen=True)
class GoldArrays:
    """dev_gold's rows and what train_intent.py builds from them (labels, e5 embeddings, both tiers' features)."""

    gold: list[dict[str, Any]]
    posts: recipe.LabelledPosts

    @classmethod
    def load(cls) -> GoldArrays:
        gold = recipe.read_gold(recipe.GOLD)
        posts = recipe.LabelledPosts.build(
            [r["text"] for r in gold],
            [r["lang"] for r in gold],
            [r["label"] for r in gold],
            [organisation(r["account"]) for r in gold],
            [r["account"] for r in gold],
        )
        return cls(gold=gold, posts=posts)

    @property
    def texts(self) -> list[str]:
        return self.posts.texts

    @property
    def langs(self) -> list[str]:
        return self.posts.langs

    @property
    def y(self) -> np.ndarray:
        return self.posts.y

    @property
    def embeddings(self) -> np.ndarray:
        return self.posts.embeddings

    @property
    def unit(self) -> np.ndarray:
        return self.posts.unit

    @property
    def fast_x(self) -> Any:
        return self.posts.fast_x

    @property
    def accurate_x(self) -> np.ndarray:
        return self.posts.accurate_x


def tiers_out_of_fold(
    data: GoldArrays,
    splits: Iterable[tuple[np.ndarray, np.ndarray]],
    extra: recipe.LabelledPosts | None = None,
    held_out_by: str | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """train_intent.py's fast-tier logits, e5 LR logits, neighbours' votes and vote gates, out of fold.

    ``extra`` (the developers' labels) joins every training fold, without the test fold's
    organisations or accounts when ``held_out_by`` says which.
    """
    none = data.posts.subset(np.zeros(0, dtype=np.int64))
    return recipe.tiers_out_of_fold(data.posts, extra if extra is not None else none, list(splits), held_out_by)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--groups",
        choices=("account", "organisation", "none"),
        default="organisation",
        help="what no fold shares; none: train_intent.py's folds, stratified at random",
    )
    parser.add_argument("--seeds", default="0,1,2,3", help="fold seeds, comma-separated")
    parser.add_argument(
        "--without-developer-labels", action="store_true", help="gold posts only (the recipe before session 20)"
    )
    parser.add_argument(
        "--with-session21-labels", action="store_true", help="also train on the second batch (an experiment)"
    )
    args = parser.parse_args()

    data = GoldArrays.load()
    label_files = [recipe.DEVELOPER_LABELS] + ([recipe.SESSION21_LABELS] if args.with_session21_labels else [])
    extra = None if args.without_developer_labels else recipe.read_developer_labels(label_files)
    gold, texts, langs, y = data.gold, data.texts, data.langs, data.y
    language = np.array(langs)
    groups = [r["account"].lower() if args.groups == "account" else organisation(r["account"]) for r in gold]
    by_language = {
        lang: {group for group, post_lang in zip(groups, langs, strict=True) if post_lang == lang}
        for lang in ("es", "en")
    }
    if args.groups == "none":
        print("random folds, stratified by language and label")
    else:
        print(f"{len(set(groups))} {args.groups}s: es {len(by_language['es'])}, en {len(by_language['en'])}")
    strata = [f"{r['lang']}-{r['label']}" for r in gold]
    readings = recipe.rule_readings(texts)
    every_post = float(recipe.NEIGHBOURS["weight"])

    held_out_by = None if args.groups == "none" else args.groups
    for seed in (int(s) for s in args.seeds.split(",")):
        if held_out_by is None:
            folds = list(StratifiedKFold(recipe.FOLDS, shuffle=True, random_state=seed).split(texts, strata))
        else:
            splitter = StratifiedGroupKFold(recipe.FOLDS, shuffle=True, random_state=seed)
            folds = list(splitter.split(texts, strata, groups))
            for train, test in folds:
                assert not {groups[i] for i in train} & {groups[i] for i in test}
        fast_logits, embedded_logits, votes, gated = tiers_out_of_fold(data, folds, extra, held_out_by)
        fast_p, embedded_p = recipe._calibrated(fast_logits, y), recipe._calibrated(embedded_logits, y)
        without_vote = (fast_p + embedded_p) / 2
        recipes = {
            "fast": fast_p,
            "e5 LR": embedded_p,
            "accurate, no vote": without_vote,
            "accurate, every post votes": recipe._with_vote(without_vote, votes, np.full(len(y), every_post), y)[0],
            "accurate (shipped)": recipe._with_vote(without_vote, votes, gated, y)[0],
        }
        scores = []
        for name, proba in recipes.items():
            final = recipe.apply_rules(proba, readings)
            es, en = (recipe._macro_f1(y[language == lang], final[language == lang]) for lang in ("es", "en"))
            scores.append(f"{name} {es:.3f} / {en:.3f}")
        print(f"seed {seed} (vote for {(gated > 0).mean():.0%}): " + " | ".join(scores), flush=True)


if __name__ == "__main__":
    main()
