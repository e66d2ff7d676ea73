"""``equilibrio eval sentiment``: score the sentiment model on labelled text in the xlm-t format.

One message per line in the text file, one label per line in the labels file: ``0`` negative,
``1`` neutral, ``2`` positive. Lines pair up by number.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from equilibrio.errors import InputError
from equilibrio.nlp.evaluation import scores_by_language
from equilibrio.nlp.language import detect_languages
from equilibrio.nlp.sentiment import SENTIMENT_LABELS, Mode, SentimentModel


def _lines(path: Path) -> list[str]:
    if not path.exists():
        raise InputError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")


def read_labelled_text(text_path: Path, labels_path: Path) -> tuple[list[str], list[str]]:
    """Texts and their labels; errors name the file and line."""
    texts = _lines(text_path)
    raw_labels = _lines(labels_path)
    if not texts or texts == [""]:
        raise InputError(f"{text_path}: no messages")
    if len(texts) != len(raw_labels):
        raise InputError(
            f"{labels_path}: {len(raw_labels)} labels for {len(texts)} lines of {text_path.name}; "
            "they must pair up line by line"
        )
    labels: list[str] = []
    for line_number, raw in enumerate(raw_labels, start=1):
        value = raw.strip()
        if value not in ("0", "1", "2"):
            raise InputError(f"{labels_path}, line {line_number}: label {value!r} is not 0, 1 or 2")
        labels.append(SENTIMENT_LABELS[int(value)])
    return texts, labels


def evaluate_sentiment_files(
    text_path: Path,
    labels_path: Path,
    lang: str | None = None,
    mode: Mode = "routed",
    model: SentimentModel | None = None,
) -> dict[str, Any]:
    """Accuracy and macro-F1 keyed by language (``--lang`` for all lines, else detected) and ``all``."""
    model = model or SentimentModel.load()
    texts, truth = read_labelled_text(text_path, labels_path)
    langs = [lang] * len(texts) if lang else detect_languages(texts)
    probabilities, tiers = model.predict_proba(texts, langs, mode)
    predicted = [SENTIMENT_LABELS[i] for i in probabilities.argmax(axis=1)]
    present = [code for code in ("es", "en") if code in langs]
    by_language = scores_by_language(truth, predicted, langs, SENTIMENT_LABELS, probabilities, languages=present)
    return {
        "text_file": str(text_path),
        "labels_file": str(labels_path),
        "model_version": model.version,
        "mode": mode,
        "n": len(texts),
        "routed_to_accurate": int((tiers == "accurate").sum()),
        "macro_f1": {key: scores.get("macro_f1") for key, scores in by_language.items()},
        "accuracy": {key: scores.get("accuracy") for key, scores in by_language.items()},
        "by_language": by_language,
    }
