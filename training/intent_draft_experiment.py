"""Short drafts: the guideline's own examples as training data, or its rule 2 after the tiers?

The draft checker sees short texts ("Reserva ya tu mesa") unlike the long real posts of
dev_gold. Two fixes are compared, each out of fold on dev_gold (5 folds, seed 0, as
``intent_experiment.py``) and on ``DRAFTS``, 23 short drafts written for this check that are in
no training set:

1. ``guideline_examples.jsonl`` (52 short posts paraphrasing GUIDELINE.md's examples) added to
   every training fold at weight 0, 1 or 3;
2. the guideline's rules (``train_intent.apply_rules``: commercial push, invitation to reply) applied
   to the tiers' probabilities.

    python training/intent_draft_experiment.py

The accurate tier here is the mean of the two linear tiers, without temperatures and without the
vote of the most similar labelled posts that the shipped model adds (docs/evaluation.md), so its
draft counts describe those two fixes, not the shipped model. The shipped model's own count:
``equilibrio.nlp.intent.IntentModel.load().classify(...)`` on ``DRAFTS``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from intent_experiment import LABELS, gold_matrices, report  # type: ignore[import-not-found]
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from train_intent import ACCURATE_C, FAST_C, apply_rules, rule_readings  # type: ignore[import-not-found]

from equilibrio.nlp.embeddings import embed
from equilibrio.nlp.features import accurate_features, fast_features

EXAMPLES = Path(__file__).parent / "guideline_examples.jsonl"

DRAFTS = (
    ("promotion", "es", "Compra ya"),
    ("promotion", "en", "Buy now!"),
    ("promotion", "en", "Shop now: 20% off!"),
    ("promotion", "en", "Get yours today"),
    ("promotion", "es", "Reserva tu habitación hoy mismo"),
    ("promotion", "es", "Pide ya tu tarjeta"),
    ("promotion", "en", "Download our new app today"),
    ("promotion", "es", "¡Gana un viaje a Cancún! Participa aquí"),
    ("promotion", "en", "Save 30% this weekend only"),
    ("promotion", "es", "Black Friday: todo al 50%"),
    ("promotion", "en", "Join our webinar to grow your sales - register now"),
    ("promotion", "en", "Awarded best airline of the year!"),
    ("promotion", "en", "Pre-order the new phone today"),
    ("conversation", "en", "What's your go-to snack?"),
    ("conversation", "es", "¿Cuál es tu plan para este finde?"),
    ("conversation", "es", "@ana Gracias por escribirnos, te enviamos un DM"),
    ("conversation", "en", "@mike We're sorry for the delay, can you DM us your order number?"),
    ("conversation", "en", "Thank you all for the birthday wishes!"),
    ("value", "en", "Happy Friday everyone!"),
    ("value", "es", "Recuerda: nunca compartas tu NIP"),
    ("value", "en", "Our offices will be closed on Monday for the holiday"),
    ("value", "en", "5 tips to save energy at home"),
    ("value", "es", "Hoy celebramos el Día de la Mujer"),
)


def _fit(x: object, y: np.ndarray, weights: np.ndarray | None, c: float) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=3000).fit(x, y, sample_weight=weights)


def main() -> None:
    gold, texts, _langs, y, _emb, fast_x, accurate_x, strata = gold_matrices()
    examples = [json.loads(line) for line in EXAMPLES.open(encoding="utf-8")]
    example_texts = [r["text"] for r in examples]
    example_langs = [r["lang"] for r in examples]
    example_y = np.array([LABELS.index(r["label"]) for r in examples])
    example_fast = fast_features(example_texts, example_langs)
    example_accurate = accurate_features(embed(example_texts), example_texts, example_langs)
    draft_texts = [text for _, _, text in DRAFTS]
    draft_langs = [lang for _, lang, _ in DRAFTS]
    draft_y = np.array([LABELS.index(label) for label, _, _ in DRAFTS])
    draft_fast = fast_features(draft_texts, draft_langs)
    draft_accurate = accurate_features(embed(draft_texts), draft_texts, draft_langs)
    gold_readings = rule_readings(texts)
    draft_readings = rule_readings(draft_texts)
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(texts, strata))

    def with_examples(x: object, extra: object, rows: np.ndarray, weight: float) -> tuple[object, np.ndarray, object]:
        if not weight:
            return x[rows], y[rows], None  # type: ignore[index]
        stack = sp.vstack if sp.issparse(x) else np.vstack
        weights = np.concatenate([np.ones(len(rows)), np.full(len(example_y), weight)])
        return stack([x[rows], extra]), np.concatenate([y[rows], example_y]), weights  # type: ignore[index]

    for weight in (0.0, 1.0, 3.0):
        fast_oof, accurate_oof = np.zeros((len(y), 3)), np.zeros((len(y), 3))
        for train, test in folds:
            fast_oof[test] = _fit(*with_examples(fast_x, example_fast, train, weight), FAST_C).predict_proba(
                fast_x[test]
            )
            accurate_oof[test] = _fit(
                *with_examples(accurate_x, example_accurate, train, weight), ACCURATE_C
            ).predict_proba(accurate_x[test])
        everything = np.arange(len(y))
        fast_model = _fit(*with_examples(fast_x, example_fast, everything, weight), FAST_C)
        accurate_model = _fit(*with_examples(accurate_x, example_accurate, everything, weight), ACCURATE_C)
        draft_fast_p = fast_model.predict_proba(draft_fast)
        draft_accurate_p = (draft_fast_p + accurate_model.predict_proba(draft_accurate)) / 2
        for rule in (False, True):
            name = f"examples weight {weight:g}" + (" + guideline rules" if rule else "")
            tiers = (("fast", fast_oof, draft_fast_p), ("accurate", (fast_oof + accurate_oof) / 2, draft_accurate_p))
            for tier, oof, drafts in tiers:
                if rule:
                    oof, drafts = apply_rules(oof, gold_readings), apply_rules(drafts, draft_readings)
                report(f"{name}, {tier}", gold, oof)
                wrong = [draft_texts[i] for i in np.flatnonzero(drafts.argmax(1) != draft_y)]
                print(f"    drafts right {len(DRAFTS) - len(wrong)}/{len(DRAFTS)}; wrong: {wrong}", flush=True)


if __name__ == "__main__":
    main()
