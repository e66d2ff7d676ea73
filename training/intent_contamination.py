"""What happens to a test figure when the test posts are among the developers' labelled posts.

    python training/intent_contamination.py [--seeds 0,1]

The developers label posts of the unlabelled pool (training/developer_labels.jsonl), and the
project's separate test set is most likely drawn from the same corpora, so some test posts may be
among them. This measures the effect on dev_gold, where one developer's blind labels of every gold
post exist (training/blind_relabel.jsonl): train_intent.py's random folds, first as shipped, then
with each test fold's posts added to the developer-labelled posts under the blind labels (weight
0.5, as any developer-labelled post). The second figure is what a test set made entirely of
developer-labelled posts would show; the reader's own agreement with gold is printed beside it.
Results: docs/evaluation.md, "Labelling the pool and the test set".
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).parent))
import train_intent as recipe
from blind_relabel import RELABEL, read_jsonl
from intent_grouped_cv import GoldArrays


def out_of_fold(
    data: GoldArrays,
    extra: recipe.LabelledPosts,
    folds: list[tuple[np.ndarray, np.ndarray]],
    test_labels: np.ndarray | None,
) -> dict[str, np.ndarray]:
    """The fast and accurate tiers' probabilities; with ``test_labels`` each fold's test posts join ``extra``."""
    gold, y = data.posts, data.y
    fast_logits, embedded_logits = np.zeros((len(y), 3)), np.zeros((len(y), 3))
    votes, gate = np.zeros((len(y), 3)), np.zeros(len(y))
    for train, test in folds:
        more = extra
        if test_labels is not None:
            more = extra.joined(dataclasses.replace(gold.subset(test), y=test_labels[test]))
        fast_logits[test], embedded_logits[test], votes[test], gate[test] = recipe.fold_tiers(gold, train, test, more)
    fast_p = recipe._calibrated(fast_logits, y)
    mean = (fast_p + recipe._calibrated(embedded_logits, y)) / 2
    return {"fast": fast_p, "accurate": recipe._with_vote(mean, votes, gate, y)[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1", help="fold seeds, comma-separated")
    args = parser.parse_args()

    data = GoldArrays.load()
    extra = recipe.read_developer_labels()
    relabel = read_jsonl(RELABEL)
    blind = np.array([recipe.INTENT_LABELS.index(str(relabel[row["item"]]["label"])) for row in data.gold])
    y, language = data.y, np.array(data.langs)
    readings = recipe.rule_readings(data.texts)
    strata = [f"{r['lang']}-{r['label']}" for r in data.gold]

    def scores(proba: np.ndarray) -> str:
        final = recipe.apply_rules(proba, readings)
        by_language = (recipe._macro_f1(y[language == lang], final[language == lang]) for lang in ("es", "en"))
        return " / ".join(f"{f1:.3f}" for f1 in by_language)

    reader = np.eye(3)[blind]
    print(f"the reader's blind labels against gold, es / en: {scores(reader)}")
    for seed in (int(s) for s in args.seeds.split(",")):
        folds = list(StratifiedKFold(recipe.FOLDS, shuffle=True, random_state=seed).split(data.texts, strata))
        for name, labels in (("as shipped", None), ("test posts among the labelled ones", blind)):
            tiers = out_of_fold(data, extra, folds, labels)
            print(f"seed {seed}, {name}: " + " | ".join(f"{tier} {scores(p)}" for tier, p in tiers.items()), flush=True)


if __name__ == "__main__":
    main()
