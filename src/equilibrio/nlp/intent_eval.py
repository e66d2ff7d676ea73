"""``equilibrio eval intent``: score the intent model on a gold file in the dev_gold format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from equilibrio.errors import InputError
from equilibrio.nlp.evaluation import scores_by_language
from equilibrio.nlp.intent import INTENT_LABELS, IntentModel, Mode, legacy_text_key, training_text_key

REQUIRED_FIELDS = ("lang", "text", "label")
SKIPPED_LABELS = ("exclude",)


def read_gold(path: Path) -> list[dict[str, Any]]:
    """Gold rows with a usable label; errors name the file and line."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise InputError(f"{path}, line {line_number}: not valid JSON ({exc})") from None
            if not isinstance(row, dict):
                raise InputError(f"{path}, line {line_number}: expected a JSON object")
            missing = [name for name in REQUIRED_FIELDS if not isinstance(row.get(name), str)]
            if missing:
                raise InputError(f"{path}, line {line_number}: missing field(s) {', '.join(missing)}")
            if row["label"] in SKIPPED_LABELS:
                continue
            if row["label"] not in INTENT_LABELS:
                raise InputError(
                    f"{path}, line {line_number}: label {row['label']!r} is not one of "
                    f"{', '.join((*INTENT_LABELS, *SKIPPED_LABELS))}"
                )
            rows.append(row)
    if not rows:
        raise InputError(f"{path}: no labelled rows (promotion, conversation or value)")
    return rows


def evaluate_intent_file(path: Path, mode: Mode = "routed", model: IntentModel | None = None) -> dict[str, Any]:
    """Figures per language and overall; ``macro_f1`` is keyed ``es``, ``en`` and ``all``."""
    model = model or IntentModel.load()
    rows = read_gold(path)
    texts = [r["text"] for r in rows]
    langs = [r["lang"] for r in rows]
    proba, tiers = model.predict_proba(texts, langs, mode)
    predicted = [INTENT_LABELS[i] for i in proba.argmax(1)]
    truth = [r["label"] for r in rows]
    by_language = scores_by_language(truth, predicted, langs, INTENT_LABELS, proba)
    hashes = model.meta.get("training_text_sha1", [])
    trained = set(hashes) if isinstance(hashes, list) else set()
    # Older models stored hashes of the raw texts; a post counts as seen under either key.
    seen = sum(1 for t in texts if training_text_key(t) in trained or legacy_text_key(t) in trained)
    return {
        "file": str(path),
        "model_version": model.version,
        "mode": mode,
        "n": len(rows),
        "routed_to_accurate": int((tiers == "accurate").sum()),
        "seen_in_training": seen,
        "macro_f1": {lang: scores.get("macro_f1") for lang, scores in by_language.items()},
        "accuracy": {lang: scores.get("accuracy") for lang, scores in by_language.items()},
        "ece": {lang: scores.get("ece") for lang, scores in by_language.items()},
        "by_language": by_language,
    }
