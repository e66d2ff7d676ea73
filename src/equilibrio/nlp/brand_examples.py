"""A brand's own labelled posts, kept in its store, and the intent model adapted to them.

``equilibrio adapt LABELS.jsonl --db brand.duckdb`` stores the posts (the gold format of
``equilibrio eval intent``: one JSON object per line with ``lang``, ``text`` and ``label``);
from then on ``analyze`` and the draft checker on that store use the shipped model adapted to
them (:func:`equilibrio.nlp.intent_adapt.adapt_intent_model`), and store their labels under the
adapted model's version, so the brand's posts are labelled again once. Without stored examples, nothing
changes: the shipped model is used.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from equilibrio.errors import InputError
from equilibrio.nlp.intent import INTENT_LABELS, IntentModel
from equilibrio.nlp.intent_eval import read_gold
from equilibrio.store.duck import Store

Example = tuple[str, str, str]
"""(text, lang, label)."""


@dataclass(frozen=True)
class ExamplesResult:
    """What one ``adapt`` run read and kept."""

    source: str
    rows_read: int
    rows_stored: int
    """New texts plus texts whose label or language changed."""
    rows_unchanged: int
    examples: int
    """All the examples the store now holds."""


def add_intent_examples(store: Store, path: Path) -> ExamplesResult:
    """Store the labelled posts of ``path`` (a later label for the same text replaces the earlier one).

    A file that labels one text twice, differently, is refused: which label is meant is unclear.
    """
    rows = read_gold(path)
    labels: dict[str, tuple[str, str]] = {}
    for row in rows:
        text = row["text"]
        earlier = labels.get(text)
        if earlier is not None and earlier[1] != row["label"]:
            raise InputError(
                f"{path}: the text {text[:60]!r} is labelled both {earlier[1]!r} and {row['label']!r}; keep one"
            )
        labels[text] = (row["lang"], row["label"])
    stored_now = store_intent_examples(store, [(t, lang, label) for t, (lang, label) in labels.items()], str(path))
    return ExamplesResult(
        source=str(path),
        rows_read=len(rows),
        rows_stored=stored_now,
        rows_unchanged=len(rows) - stored_now,
        examples=len(stored_intent_examples(store)),
    )


def store_intent_examples(store: Store, examples: Sequence[Example], source: str) -> int:
    """Keep ``examples`` (text, lang, label) in the store, from ``source``; returns how many were
    new or changed. A text already stored gets the new label: the latest word of the brand counts.

    >>> with Store(None) as store:
    ...     store_intent_examples(store, [("Gracias por escribirnos", "es", "conversation")], "web app")
    1
    """
    for text, lang, label in examples:
        if not text.strip():
            raise InputError(f"{source}: an example has an empty text")
        if label not in INTENT_LABELS:
            raise InputError(f"{source}: label must be one of {', '.join(INTENT_LABELS)}, not {label!r}")
        if lang not in ("es", "en"):
            raise InputError(f"{source}: lang must be 'es' or 'en', not {lang!r}")
    stored = {text: (lang, label) for text, lang, label in stored_intent_examples(store)}
    changed = {text: (lang, label) for text, lang, label in examples if stored.get(text) != (lang, label)}
    now = dt.datetime.now(dt.UTC)
    with store.transaction():
        for text, (lang, label) in changed.items():
            store.execute(
                "INSERT OR REPLACE INTO intent_examples (text, lang, label, source, added_at) VALUES (?, ?, ?, ?, ?)",
                [text, lang, label, source, now],
            )
    return len(changed)


_LEAST_SURE_SQL = """
SELECT p.post_id, p.text, l.lang, l.intent, greatest(l.p_promotion, l.p_conversation, l.p_value) AS confidence
FROM posts p JOIN post_labels l USING (post_id)
WHERE p.is_brand AND l.intent IS NOT NULL AND l.lang IN ('es', 'en')
  AND p.text NOT IN (SELECT text FROM intent_examples)
QUALIFY row_number() OVER (PARTITION BY p.text ORDER BY p.post_id) = 1
ORDER BY confidence, p.post_id
LIMIT ?
"""


def brand_post_to_label(store: Store, post_id: str) -> tuple[str, str] | None:
    """The text and language of a labelled brand post in Spanish or English (None when there is none)."""
    rows = store.fetchall(
        "SELECT p.text, l.lang FROM posts p JOIN post_labels l USING (post_id) "
        "WHERE p.post_id = ? AND p.is_brand AND l.lang IN ('es', 'en')",
        [post_id],
    )
    return (str(rows[0][0]), str(rows[0][1])) if rows else None


def posts_to_label(store: Store, limit: int = 20) -> list[dict[str, Any]]:
    """The brand's labelled posts the intent model is least sure of, not yet among the examples.

    What a person labels here teaches the model most per post (uncertainty sampling); each text
    appears once, however often the brand repeated it.
    """
    rows = store.fetchall(_LEAST_SURE_SQL, [limit])
    return [
        {"post_id": post_id, "text": text, "lang": lang, "intent": intent, "confidence": round(float(conf), 4)}
        for post_id, text, lang, intent, conf in rows
    ]


def examples_by_label(store: Store) -> dict[str, Any]:
    """How many examples the store holds, in all and per label.

    >>> examples_by_label(Store(None))
    {'examples': 0, 'by_label': {'promotion': 0, 'conversation': 0, 'value': 0}}
    """
    counts = Counter(label for _, _, label in stored_intent_examples(store))
    return {"examples": counts.total(), "by_label": {label: counts[label] for label in INTENT_LABELS}}


def intent_examples_summary(store: Store) -> dict[str, Any]:
    """How many examples the store holds, per label, and the intent model they make."""
    return {**examples_by_label(store), "model_version": intent_model_for(store).version}


def clear_intent_examples(store: Store) -> int:
    """Forget every stored example; returns how many there were. The shipped model applies again."""
    count = int(store.fetchone("SELECT count(*) FROM intent_examples")[0])
    store.execute("DELETE FROM intent_examples")
    return count


def stored_intent_examples(store: Store) -> list[Example]:
    """The store's examples in a fixed order, so that the adapted model's version is reproducible."""
    return [(str(t), str(lang), str(label)) for t, lang, label in store.fetchall(_EXAMPLES_SQL)]


def intent_model_for(store: Store) -> IntentModel:
    """The shipped intent model, adapted to the store's examples when it holds any."""
    return _adapted(tuple(stored_intent_examples(store)))


def intent_version_for(store: Store) -> str:
    """The version of :func:`intent_model_for`'s model, without adapting it (which takes seconds)."""
    shipped = IntentModel.load().version
    examples = stored_intent_examples(store)
    if not examples:
        return shipped
    from equilibrio.nlp.intent_adapt import adapted_version

    texts, langs, labels = (list(column) for column in zip(*examples, strict=True))
    return adapted_version(shipped, texts, langs, labels)


_EXAMPLES_SQL = "SELECT text, lang, label FROM intent_examples ORDER BY text"


@lru_cache(maxsize=4)
def _adapted(examples: tuple[Example, ...]) -> IntentModel:
    # Adapting takes seconds (the fast tier's fine-tune); analyze and the draft checker ask for
    # the model again and again with the same examples.
    shipped = IntentModel.load()
    if not examples:
        return shipped
    from equilibrio.nlp.intent_adapt import adapt_intent_model  # scipy's optimiser, only when needed

    texts, langs, labels = (list(column) for column in zip(*examples, strict=True))
    return adapt_intent_model(shipped, texts, langs, labels)
