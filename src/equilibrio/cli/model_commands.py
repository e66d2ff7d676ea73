"""Commands on the models: analyze, check, adapt, eval intent, eval sentiment."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from equilibrio.api import Workspace
from equilibrio.cli._shared import (
    DbOption,
    JsonOption,
    ModeOption,
    app,
    console,
    emit_json,
    errors,
    eval_app,
    parse_mode,
    progress_bar,
    require_store,
)
from equilibrio.errors import ConfigurationError
from equilibrio.nlp.intent import INTENT_LABELS
from equilibrio.store.duck import Store


@app.command()
def analyze(
    db: DbOption = Path("equilibrio.duckdb"),
    mode: ModeOption = "routed",
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Processes that label posts. Default: 2 on a machine with 2+ cores when 50,000+ posts are pending, "
            "else 1.",
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Label language, intent (cues, attributes) and open questions on every post not yet labelled."""
    require_store(db)
    with (
        Workspace(Store(db)) as workspace,
        progress_bar(counts_bytes=False) as progress,
    ):
        task = progress.add_task("labelling posts", total=None)
        result = workspace.analyze(
            parse_mode(mode),
            progress=lambda done, total: progress.update(task, completed=done, total=total),
            on_stage=lambda stage: progress.reset(task, total=None, description=stage),
            workers=workers,
        )
        mix = workspace.content_mix()
    if json_output:
        emit_json({**asdict(result), "content_mix": mix})
        return
    console.print(
        f"Labelled {result.labelled:,} posts ({result.brand_posts:,} brand, {result.audience_posts:,} audience; "
        f"{result.routed_to_accurate:,} sent to the accurate tier) with {result.model_version} "
        f"in {result.seconds:.1f} s; {result.already_current:,} were already labelled. Sentiment of "
        f"{result.sentiment_labelled:,} audience messages with {result.sentiment_model_version}."
    )
    assert isinstance(mix, dict)
    if mix["posts"]:
        shares = ", ".join(f"{label} {share:.0%}" for label, share in mix["shares"].items())
        console.print(f"Content mix of {mix['posts']:,} brand posts: {shares}")


@eval_app.command("intent")
def eval_intent(
    gold: Annotated[Path, typer.Argument(help="JSONL with item, lang, text, label (exclude rows are skipped).")],
    mode: ModeOption = "routed",
    model_dir: Annotated[
        Path | None,
        typer.Option(
            "--model",
            help="Folder with an intent model written by training/train_intent.py --out (default: the shipped one).",
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Accuracy, macro-F1, per-class precision/recall, confusion and calibration (ECE), per language."""
    from equilibrio.nlp.intent import IntentModel
    from equilibrio.nlp.intent_eval import evaluate_intent_file

    model = IntentModel.load(model_dir) if model_dir is not None else None
    report = evaluate_intent_file(gold, parse_mode(mode), model)
    if json_output:
        emit_json(report)
        return
    if report["seen_in_training"]:
        errors.print(
            f"[yellow]warning:[/] {report['seen_in_training']} of {report['n']} posts were in the model's training "
            "data; figures on them are not held-out (see docs/evaluation.md for cross-validated figures)."
        )
    table = Table(title=f"intent on {gold.name} ({report['model_version']}, mode {mode})")
    for column in ("lang", "n", "accuracy", "macro-F1", "ECE", *(f"P/R {label}" for label in INTENT_LABELS)):
        table.add_column(column, justify="right")
    for lang, scores in report["by_language"].items():
        if not scores.get("n"):
            continue
        per_class = [
            f"{scores['per_class'][label]['precision']:.2f}/{scores['per_class'][label]['recall']:.2f}"
            for label in INTENT_LABELS
        ]
        table.add_row(
            lang,
            str(scores["n"]),
            f"{scores['accuracy']:.3f}",
            f"{scores['macro_f1']:.3f}",
            f"{scores['ece']:.3f}",
            *per_class,
        )
    console.print(table)
    confusion = report["by_language"]["all"]["confusion"]
    matrix = Table(title="confusion (rows: gold, columns: predicted)")
    matrix.add_column("")
    for label in confusion["labels"]:
        matrix.add_column(label, justify="right")
    for label, row in zip(confusion["labels"], confusion["matrix"], strict=True):
        matrix.add_row(label, *(str(v) for v in row))
    console.print(matrix)


@app.command()
def check(
    text: Annotated[str, typer.Argument(help="The draft post.")],
    db: Annotated[Path | None, typer.Option("--db", help="Weigh this week's content mix from this store.")] = None,
    target: Annotated[float, typer.Option(help="Highest share of promotion you aim for.")] = 0.20,
    mode: ModeOption = "routed",
    json_output: JsonOption = False,
) -> None:
    """Score a draft before publishing: label, probabilities, cues and suggestions in its language."""
    from equilibrio.api import check_draft

    if db is not None:
        require_store(db)
    workspace = Workspace(Store(db)) if db is not None else None
    try:
        result = check_draft(text, workspace, promotion_target=target, mode=parse_mode(mode))
    finally:
        if workspace is not None:
            workspace.close()
    if json_output:
        emit_json(result.to_dict())
        return
    probabilities = "  ".join(f"{label} {p:.0%}" for label, p in result.probabilities.items())
    console.print(f"[bold]{result.label}[/]  ({probabilities})  lang {result.lang}", highlight=False)
    if result.cues:
        console.print("cues: " + "; ".join(f"{c['label']} «{c['evidence']}»" for c in result.cues), markup=False)
    if "decided_by" in result.details:
        console.print(result.details["decided_by"], markup=False, highlight=False)
    for suggestion in result.suggestions:
        console.print(f"• {suggestion}", markup=False)


@app.command()
def adapt(
    labels: Annotated[
        Path | None, typer.Argument(help="JSON Lines of your own labelled posts: lang, text, label per line.")
    ] = None,
    db: DbOption = Path("equilibrio.duckdb"),
    clear: Annotated[
        bool, typer.Option("--clear", help="Forget the stored examples: the shipped model again.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Adapt the intent model to your brand with your own labelled posts (about 40 is worth it).

    The posts are kept in the store; from then on `analyze` and `check --db` use the shipped model
    fine-tuned on them, and `analyze` labels every post again once. Labels: promotion, conversation,
    value (the guideline's). Without a file, shows what the store holds.
    """
    from equilibrio.nlp.brand_examples import add_intent_examples, clear_intent_examples, intent_examples_summary

    require_store(db)
    if labels is not None and clear:
        raise ConfigurationError("pass a file of labelled posts or --clear, not both")
    with Workspace(Store(db)) as workspace:
        figures: dict[str, Any]
        if clear:
            figures = {"cleared": clear_intent_examples(workspace.store)}
        elif labels is not None:
            with console.status("adapting the intent model to your posts"):
                figures = asdict(add_intent_examples(workspace.store, labels))
        else:
            figures = {}
        figures.update(intent_examples_summary(workspace.store))
    if json_output:
        emit_json(figures)
        return
    if "rows_read" in figures:
        console.print(
            f"{figures['source']}: {figures['rows_read']} labelled posts read, {figures['rows_stored']} stored, "
            f"{figures['rows_unchanged']} already there with the same label.",
            highlight=False,
        )
    if "cleared" in figures:
        console.print(f"{figures['cleared']} examples forgotten.", highlight=False)
    counts = ", ".join(f"{label} {n}" for label, n in figures["by_label"].items())
    console.print(f"The store holds {figures['examples']} examples ({counts}).", highlight=False)
    console.print(f"Intent model: {figures['model_version']}. Run `equilibrio analyze --db {db}` to relabel.")


@eval_app.command("sentiment")
def eval_sentiment(
    text_file: Annotated[Path, typer.Argument(help="One message per line (xlm-t *_text.txt).")],
    labels: Annotated[Path, typer.Option("--labels", help="One label per line: 0 negative, 1 neutral, 2 positive.")],
    lang: Annotated[
        str | None, typer.Option("--lang", help="Language of every line (es or en); else detected.")
    ] = None,
    mode: ModeOption = "routed",
    json_output: JsonOption = False,
) -> None:
    """Accuracy and macro-F1 of audience sentiment on labelled text, per language."""
    from equilibrio.nlp.sentiment_eval import evaluate_sentiment_files

    if lang is not None and lang not in ("es", "en"):
        raise ConfigurationError(f"--lang must be es or en, not {lang!r}")
    report = evaluate_sentiment_files(text_file, labels, lang, parse_mode(mode))
    if json_output:
        emit_json(report)
        return
    table = Table(title=f"sentiment on {text_file.name} ({report['model_version']}, mode {mode})")
    for column in ("lang", "n", "accuracy", "macro-F1", "ECE"):
        table.add_column(column, justify="right")
    for key, scores in report["by_language"].items():
        if scores.get("n"):
            table.add_row(
                key, str(scores["n"]), f"{scores['accuracy']:.3f}", f"{scores['macro_f1']:.3f}", f"{scores['ece']:.3f}"
            )
    console.print(table)
