"""How far a careful reader of the guideline agrees with dev_gold, beside the model's out-of-fold figures.

    python training/train_intent.py --out /tmp/model --predictions /tmp/oof.jsonl   # optional, ~1 min
    python training/blind_relabel.py [--predictions /tmp/oof.jsonl]

``training/blind_relabel.jsonl`` holds one developer's labels for all 689 usable dev_gold posts,
given in session 21 from a file of item, account and text only (shuffled, no labels). It asks
whether the issue's 0.85 macro-F1 lies within reach of a reader, i.e. how much of the gap is
annotation noise and how much is the model. Caveats (docs/evaluation.md): the reader had read
gold labels in earlier sessions and follows the conventions learned there; four of the items
(g0004, g0006, g0007, g0009) had been seen with their labels in the same session.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sklearn.metrics import cohen_kappa_score, confusion_matrix, f1_score

sys.path.insert(0, str(Path(__file__).parent))
from train_intent import GOLD

from equilibrio.nlp.intent import INTENT_LABELS

RELABEL = Path(__file__).parent / "blind_relabel.jsonl"
SURENESS = {3: "clear", 2: "probable", 1: "coin flip"}


def read_jsonl(path: Path) -> dict[str, dict[str, object]]:
    rows = (json.loads(line) for line in path.open(encoding="utf-8") if line.strip())
    return {str(row["item"]): row for row in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--predictions", type=Path, help="train_intent.py --predictions output (out-of-fold)")
    parser.add_argument("--tier", default="accurate", choices=("fast", "accurate", "routed"))
    args = parser.parse_args()

    gold = {item: row for item, row in read_jsonl(GOLD).items() if row["label"] in INTENT_LABELS}
    relabel = read_jsonl(RELABEL)
    missing = sorted(set(gold) - set(relabel))
    if missing:
        raise SystemExit(f"{RELABEL}: {len(missing)} gold items have no relabel ({missing[:5]}...)")
    predicted = read_jsonl(args.predictions) if args.predictions else {}
    labels = list(INTENT_LABELS)
    for lang in ("es", "en"):
        items = sorted(item for item, row in gold.items() if row["lang"] == lang)
        truth = [str(gold[item]["label"]) for item in items]
        reader = [str(relabel[item]["label"]) for item in items]

        def macro_f1(expected: list[str], given: list[str]) -> float:
            return float(f1_score(expected, given, labels=labels, average="macro"))

        line = (
            f"{lang} ({len(items)} posts): reader vs gold macro-F1 {macro_f1(truth, reader):.3f}, "
            f"accuracy {sum(t == r for t, r in zip(truth, reader, strict=True)) / len(items):.3f}, "
            f"Cohen's kappa {cohen_kappa_score(truth, reader):.3f}"
        )
        if predicted:
            model = [str(predicted[item][args.tier]) for item in items]
            line += (
                f"; model ({args.tier}, out of fold) vs gold {macro_f1(truth, model):.3f}, "
                f"model vs reader {macro_f1(reader, model):.3f}"
            )
        print(line)
        print(f"  confusion (rows gold, columns reader; {', '.join(labels)}):")
        for row in confusion_matrix(truth, reader, labels=labels):
            print("   ", " ".join(f"{count:4d}" for count in row))
        for sure, name in SURENESS.items():
            rows = [i for i, item in enumerate(items) if relabel[item]["sure"] == sure]
            if not rows:
                continue
            agreement = sum(truth[i] == reader[i] for i in rows) / len(rows)
            text = f"  {name} ({len(rows)}): reader agrees with gold on {agreement:.1%}"
            if predicted:
                text += f", the model on {sum(truth[i] == model[i] for i in rows) / len(rows):.1%}"
            print(text)


if __name__ == "__main__":
    main()
