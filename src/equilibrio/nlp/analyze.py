"""Label the store: language on every post, intent and attributes on brand posts, questions and
sentiment on audience messages. Incremental: only posts without a label from the current model are read.

Each batch is written in its own transaction, so an interrupted run keeps what it finished and
the next run resumes where it stopped.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

import pyarrow as pa

from equilibrio.errors import ConfigurationError
from equilibrio.nlp.cues import ATTRIBUTES, attributes_from_cues, find_cues_batch
from equilibrio.nlp.intent import INTENT_LABELS, IntentModel, Mode
from equilibrio.nlp.language import detect_languages
from equilibrio.nlp.questions import detect_question
from equilibrio.nlp.sentiment import SENTIMENT_LABELS, SentimentModel
from equilibrio.nlp.workers import spawn_pool, workers_stopped
from equilibrio.store.duck import Store

DEFAULT_BATCH = 5_000
# Below this many pending posts, starting worker processes (each imports equilibrio and loads the
# models, a few seconds) costs more than it saves.
PARALLEL_MIN_POSTS = 50_000

# Above this many new posts, commands that label on the way use the fast tier alone. Routed mode
# sends the fast tiers' uncertain posts to the e5 tier, which encodes about 60 texts/s here (49% of
# held-out tweets for sentiment, 10% of brand posts for intent): on a 10M-post store, hours of work
# behind `equilibrio conversation`. `equilibrio analyze` always uses the mode it is given.
ROUTED_BACKLOG_LIMIT = 50_000


def routed_backlog_limit() -> int:
    """:data:`ROUTED_BACKLOG_LIMIT`, or the ``EQUILIBRIO_ROUTED_BACKLOG`` environment variable."""
    value = os.environ.get("EQUILIBRIO_ROUTED_BACKLOG", str(ROUTED_BACKLOG_LIMIT))
    try:
        return int(value)
    except ValueError:
        raise ConfigurationError(f"EQUILIBRIO_ROUTED_BACKLOG must be a whole number of posts, not {value!r}") from None


def mode_for_backlog(pending: int) -> Mode:
    """Routed up to :func:`routed_backlog_limit` pending posts, the fast tier alone beyond.

    >>> mode_for_backlog(10), mode_for_backlog(10_000_000)
    ('routed', 'fast')
    """
    return "routed" if pending <= routed_backlog_limit() else "fast"


_PENDING_SQL = """
SELECT p.post_id, p.text, p.lang, p.is_brand, p.kind, a.handle
FROM posts p
LEFT JOIN post_labels l ON l.post_id = p.post_id
LEFT JOIN accounts a ON a.account_id = p.account_id
WHERE l.post_id IS NULL
   OR l.model_version <> CASE WHEN p.is_brand AND p.kind <> 'repost' THEN ? ELSE ? END
   -- the post changed sides since it was labelled (`equilibrio brands --add`): an intent row has a tier
   OR (l.tier IS NULL) = (p.is_brand AND p.kind <> 'repost')
"""

_PENDING_SENTIMENT_SQL = """
SELECT p.post_id, p.text, l.lang
FROM posts p
JOIN post_labels l ON l.post_id = p.post_id
LEFT JOIN post_sentiment s ON s.post_id = p.post_id
WHERE NOT p.is_brand AND p.kind <> 'repost' AND l.lang IN ('es', 'en') AND coalesce(p.text, '') <> ''
  AND (s.post_id IS NULL OR s.model_version <> ?)
"""

SENTIMENT_SCHEMA = pa.schema(
    [
        ("post_id", pa.string()),
        ("model_version", pa.string()),
        ("labelled_at", pa.timestamp("us", tz="UTC")),
        ("sentiment", pa.string()),
        ("p_negative", pa.float64()),
        ("p_neutral", pa.float64()),
        ("p_positive", pa.float64()),
    ]
)

LABEL_SCHEMA = pa.schema(
    [
        ("post_id", pa.string()),
        ("model_version", pa.string()),
        ("labelled_at", pa.timestamp("us", tz="UTC")),
        ("lang", pa.string()),
        ("intent", pa.string()),
        ("p_promotion", pa.float64()),
        ("p_conversation", pa.float64()),
        ("p_value", pa.float64()),
        ("tier", pa.string()),
        ("cues", pa.list_(pa.string())),
        *[(f"attr_{name}", pa.bool_()) for name in ATTRIBUTES],
        ("asks_question", pa.bool_()),
        ("question_evidence", pa.string()),
    ]
)


@dataclass(frozen=True, slots=True)
class AnalyzeResult:
    """What one ``analyze`` run did."""

    model_version: str
    labelled: int
    brand_posts: int
    audience_posts: int
    routed_to_accurate: int
    already_current: int
    seconds: float
    sentiment_model_version: str = ""
    sentiment_labelled: int = 0


def _brand_terms(handle: str | None) -> tuple[str, ...]:
    # "bbva_mex" -> ("bbva_mex", "bbva"): a post naming the company counts as a brand mention.
    if not handle:
        return ()
    name = handle.lstrip("@").lower()
    head = name.split("_")[0]
    return tuple({name, head} - {""}) if len(head) >= 3 else (name,)


NO_TEXT_TIER = "no_text"
"""The tier of a brand post with no text to label: no intent, but the post was seen as the brand's."""


def base_version(model: IntentModel) -> str:
    """The version stored on posts the intent model does not label (audience messages, reposts).

    Their labels (language, questions) do not depend on the intent model, so a model adapted to
    the brand's own posts relabels only the brand's: its base version stands for the rest.

    >>> base_version(IntentModel.load()) == IntentModel.load().version
    True
    """
    adapted = model.meta.get("adapted")
    return str(adapted["base_version"]) if isinstance(adapted, dict) else model.version


def label_batch(rows: list[dict[str, object]], model: IntentModel, mode: Mode) -> pa.Table:
    """Labels for a batch of posts (dicts with post_id, text, lang, is_brand, kind, handle)."""
    others_version = base_version(model)
    texts = [str(r["text"] or "") for r in rows]
    langs = detect_languages(texts, [r["lang"] if isinstance(r["lang"], str) else None for r in rows])
    intent_rows = [bool(r["is_brand"]) and r["kind"] != "repost" for r in rows]  # as _PENDING_SQL decides
    brand_rows = [i for i, r in enumerate(rows) if intent_rows[i] and texts[i].strip()]
    brand_cues = find_cues_batch([texts[i] for i in brand_rows])
    proba, tiers = model.predict_proba([texts[i] for i in brand_rows], [langs[i] for i in brand_rows], mode, brand_cues)
    by_row = {row: k for k, row in enumerate(brand_rows)}
    now = datetime.now(UTC)
    columns: dict[str, list[object]] = {field.name: [] for field in LABEL_SCHEMA}
    for i, row in enumerate(rows):
        k = by_row.get(i)
        cues = brand_cues[k] if k is not None else []
        attributes = attributes_from_cues(
            cues, _brand_terms(row["handle"] if isinstance(row["handle"], str) else None), texts[i]
        )
        question = detect_question(texts[i]) if not row["is_brand"] else None
        columns["post_id"].append(row["post_id"])
        columns["model_version"].append(model.version if intent_rows[i] else others_version)
        columns["labelled_at"].append(now)
        columns["lang"].append(langs[i])
        columns["intent"].append(INTENT_LABELS[int(proba[k].argmax())] if k is not None else None)
        for j, label in enumerate(INTENT_LABELS):
            columns[f"p_{label}"].append(float(proba[k, j]) if k is not None else None)
        columns["tier"].append(str(tiers[k]) if k is not None else NO_TEXT_TIER if intent_rows[i] else None)
        columns["cues"].append(sorted({c.cue for c in cues}) if k is not None else None)
        for name in ATTRIBUTES:
            columns[f"attr_{name}"].append(attributes[name] if k is not None else None)
        columns["asks_question"].append(question.asks if question else None)
        columns["question_evidence"].append(question.evidence if question else None)
    return pa.table(columns, schema=LABEL_SCHEMA)


def _replace_rows(store: Store, table: str, schema: pa.Schema, rows: pa.Table) -> None:
    with store.transaction():
        store.create_temp_table("_new_rows", schema)
        store.append_arrow("_new_rows", rows)
        # table: post_labels or post_sentiment, fixed by the callers below
        store.execute(f"DELETE FROM {table} WHERE post_id IN (SELECT post_id FROM _new_rows)")
        store.execute(f"INSERT INTO {table} SELECT * FROM _new_rows")
        store.execute("DROP TABLE _new_rows")


def sentiment_batch(rows: list[dict[str, object]], model: SentimentModel, mode: Mode) -> pa.Table:
    """Sentiment rows for a batch of audience messages (dicts with post_id, text, lang)."""
    texts = [str(r["text"]) for r in rows]
    proba, _ = model.predict_proba(texts, [str(r["lang"]) for r in rows], mode)
    now = datetime.now(UTC)
    return pa.table(
        {
            "post_id": [r["post_id"] for r in rows],
            "model_version": [model.version] * len(rows),
            "labelled_at": [now] * len(rows),
            "sentiment": [SENTIMENT_LABELS[int(i)] for i in proba.argmax(axis=1)],
            "p_negative": proba[:, 0].tolist(),
            "p_neutral": proba[:, 1].tolist(),
            "p_positive": proba[:, 2].tolist(),
        },
        schema=SENTIMENT_SCHEMA,
    )


# The models of this worker process, sent once by the pool's initializer: whatever the parent
# labels with (the shipped models, a model passed in, one adapted to the brand's own posts),
# its workers label with the same.
_worker_models: tuple[IntentModel, SentimentModel] | None = None


def _install_worker_models(intent_model: IntentModel, sentiment_model: SentimentModel) -> None:
    global _worker_models
    _worker_models = (intent_model, sentiment_model)


def _models_in_worker() -> tuple[IntentModel, SentimentModel]:
    if _worker_models is None:  # pragma: no cover - only reachable if the pool was built without the initializer
        raise RuntimeError("this worker process was started without its models")
    return _worker_models


def _label_in_worker(rows: list[dict[str, object]], mode: Mode) -> pa.Table:
    return label_batch(rows, _models_in_worker()[0], mode)


def _sentiment_in_worker(rows: list[dict[str, object]], mode: Mode) -> pa.Table:
    return sentiment_batch(rows, _models_in_worker()[1], mode)


def _in_order(
    batches: Iterable[list[dict[str, object]]],
    work: Callable[[list[dict[str, object]]], pa.Table],
    pool: ProcessPoolExecutor | None,
    workers: int = 1,
) -> Iterable[tuple[list[dict[str, object]], pa.Table]]:
    """Each batch with what ``work`` made of it, in order; in ``pool``'s processes when given.

    A few batches are in flight at once, so every worker stays busy while this process writes
    the finished ones, and memory stays bounded whatever the store's size.
    """
    if pool is None:
        for batch in batches:
            yield batch, work(batch)
        return
    in_flight: deque[tuple[list[dict[str, object]], Future[pa.Table]]] = deque()
    limit = 2 * workers
    try:
        for batch in batches:
            in_flight.append((batch, pool.submit(work, batch)))
            if len(in_flight) >= limit:
                done, future = in_flight.popleft()
                yield done, future.result()
        while in_flight:
            done, future = in_flight.popleft()
            yield done, future.result()
    except BrokenProcessPool as exc:
        raise workers_stopped("the analyze worker processes") from exc


def _count(store: Store, sql: str, params: list[object]) -> int:
    return int(store.fetchone(f"SELECT count(*) FROM ({sql})", params)[0])  # sql: this module's constants


def analyze_store(
    store: Store,
    *,
    mode: Mode = "routed",
    batch_size: int = DEFAULT_BATCH,
    model: IntentModel | None = None,
    sentiment_model: SentimentModel | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
    choose_mode: Callable[[int], Mode] | None = None,
    workers: int | None = None,
) -> AnalyzeResult:
    """Label every post not yet labelled by the current models; returns counts.

    ``progress(done, total)`` is called after each batch: the intent pass counts posts, then the
    sentiment pass counts audience messages from zero again. ``on_stage(description)`` is
    called as each pass starts, so a progress bar can say which one it is counting.
    ``choose_mode(pending)``, when given, gets the number of posts to label before any is
    labelled and returns the mode to use instead of ``mode`` (the CLI's backlog limit).
    ``workers`` processes label the batches (spawned, each sent this run's models once); by
    default two when at least :data:`PARALLEL_MIN_POSTS` posts are pending and the machine has two
    cores or more. A store holding the brand's own labelled posts
    (:mod:`equilibrio.nlp.brand_examples`) is labelled by the shipped model adapted to them, in
    the workers too.
    """
    started = time.perf_counter()
    if model is None:
        from equilibrio.nlp.brand_examples import intent_model_for

        model = intent_model_for(store)  # the shipped model, adapted to the brand's examples if any
    # Pending posts are streamed batch by batch: a 10M-post store does not fit in memory as
    # Python rows, and each batch is committed before the next is read.
    pending_params: list[object] = [model.version, base_version(model)]  # brand posts', everyone else's (_PENDING_SQL)
    pending = _count(store, _PENDING_SQL, pending_params)
    if choose_mode is not None:
        mode = choose_mode(pending)
    total_posts = int(store.fetchone("SELECT count(*) FROM posts")[0])
    sentiment_model = sentiment_model or SentimentModel.load()
    if workers is None:
        workers = min(os.cpu_count() or 1, 2) if pending >= PARALLEL_MIN_POSTS else 1
    elif workers < 1:
        raise ConfigurationError(f"workers must be at least 1, got {workers}")
    pool = spawn_pool(workers, _install_worker_models, (model, sentiment_model)) if workers > 1 else None
    label = partial(_label_in_worker, mode=mode) if pool else partial(label_batch, model=model, mode=mode)
    score = (
        partial(_sentiment_in_worker, mode=mode) if pool else partial(sentiment_batch, model=sentiment_model, mode=mode)
    )
    brand = audience = routed = done = 0
    try:
        if on_stage:
            on_stage("labelling language, intent and questions")
        batches = (rows.to_pylist() for rows in store.stream(_PENDING_SQL, pending_params, rows_per_batch=batch_size))
        for batch, labels in _in_order(batches, label, pool, workers):
            brand += sum(1 for r in batch if r["is_brand"])
            audience += sum(1 for r in batch if not r["is_brand"])
            routed += sum(1 for t in labels.column("tier").to_pylist() if t == "accurate")
            _replace_rows(store, "post_labels", LABEL_SCHEMA, labels)
            done += len(batch)
            if progress:
                progress(done, pending)
        audience_pending = _count(store, _PENDING_SENTIMENT_SQL, [sentiment_model.version])
        # The e5 tier is ~100x slower than the fast one, so sentiment batches are smaller.
        sentiment_batch_size = max(1, batch_size // 10) if mode != "fast" else batch_size
        done = 0
        if on_stage:
            on_stage("scoring audience sentiment")
        chunks = (
            rows.to_pylist()
            for rows in store.stream(
                _PENDING_SENTIMENT_SQL, [sentiment_model.version], rows_per_batch=sentiment_batch_size
            )
        )
        for chunk, sentiments in _in_order(chunks, score, pool, workers):
            _replace_rows(store, "post_sentiment", SENTIMENT_SCHEMA, sentiments)
            done += len(chunk)
            if progress:
                progress(done, audience_pending)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return AnalyzeResult(
        model_version=model.version,
        labelled=pending,
        brand_posts=brand,
        audience_posts=audience,
        routed_to_accurate=routed,
        already_current=total_posts - pending,
        seconds=round(time.perf_counter() - started, 3),
        sentiment_model_version=sentiment_model.version,
        sentiment_labelled=audience_pending,
    )
