"""Command line: a thin layer over the Python API (typer + rich)."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from equilibrio._version import __version__
from equilibrio.api import Workspace
from equilibrio.errors import ConfigurationError, EquilibrioError
from equilibrio.io import IMPORTERS
from equilibrio.nlp.intent import INTENT_LABELS, MODES, Mode
from equilibrio.store.duck import Store
from equilibrio.store.ingest import IngestResult

app = typer.Typer(
    name="equilibrio",
    help="Is your brand's social media a conversation or a megaphone, and does it pay?",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
errors = Console(stderr=True)

DbOption = Annotated[Path, typer.Option("--db", help="DuckDB store file (created if missing).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the figures as one JSON object.")]


def _emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


def _progress(counts_bytes: bool = True) -> Progress:
    """A transient bar on stderr; ``counts_bytes=False`` counts items (posts) instead of bytes."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn() if counts_bytes else MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
    )


def _ingest_with_progress(workspace: Workspace, paths: list[Path], quiet: bool, **kwargs: Any) -> list[IngestResult]:
    results: list[IngestResult] = []
    with _progress() as progress:
        for path in paths:
            task = progress.add_task(path.name, total=max(path.stat().st_size if path.exists() else 1, 1))

            def advance(done: int, total: int, task: Any = task) -> None:
                progress.update(task, completed=done, total=total)

            results.extend(workspace.ingest(path, progress=None if quiet else advance, **kwargs))
            progress.remove_task(task)
    return results


def _print_results(results: list[IngestResult]) -> None:
    table = Table(title="Ingest", show_lines=False)
    for column in ("source", "format", "read", "inserted", "updated", "unchanged", "rejected", "seconds"):
        table.add_column(column, justify="left" if column in {"source", "format"} else "right")
    for r in results:
        table.add_row(
            Path(r.source).name,
            r.format,
            f"{r.rows_read:,}",
            f"{r.rows_inserted:,}",
            f"{r.rows_updated:,}",
            f"{r.rows_unchanged:,}",
            f"[red]{r.rows_rejected:,}[/]" if r.rows_rejected else "0",
            f"{r.seconds:.2f}",
        )
    console.print(table)
    for r in results:
        for note in r.notes:
            console.print(f"[yellow]note[/] {Path(r.source).name}: {note}")
        for reason, count in r.reject_reasons.items():
            console.print(f"[red]rejected[/] {Path(r.source).name}: {count:,} × {reason}")
        console.print(
            f"{Path(r.source).name}: read {r.rows_read:,} = stored {r.rows_stored:,} + rejected {r.rows_rejected:,}"
        )
    if any(r.rows_rejected for r in results):
        console.print("See every rejected record with: [bold]equilibrio rejects --db ...[/]")


def _parse_mapping(pairs: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs:
        canonical, sep, column = pair.partition("=")
        if not sep or not canonical.strip() or not column.strip():
            raise typer.BadParameter(f"expected canonical=column, got {pair!r}", param_hint="--map")
        mapping[canonical.strip()] = column.strip()
    return mapping


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Export files to import.")],
    db: DbOption = Path("equilibrio.duckdb"),
    format: Annotated[
        str | None, typer.Option("--format", "-f", help="Skip detection: " + ", ".join(i.name for i in IMPORTERS))
    ] = None,
    brand: Annotated[
        list[str] | None, typer.Option("--brand", "-b", help="A brand handle (repeatable), e.g. @Tesla.")
    ] = None,
    map_: Annotated[
        list[str] | None, typer.Option("--map", help="canonical=column for generic CSV/JSONL (repeatable).")
    ] = None,
    platform: Annotated[str | None, typer.Option(help="Platform for generic files that do not say.")] = None,
    pseudonymize: Annotated[bool, typer.Option(help="Replace audience handles and ids with salted hashes.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Import exports into the store. Each file is one all-or-nothing transaction."""
    with Workspace(Store(db)) as workspace:
        if brand:
            workspace.add_brands(brand)
        results = _ingest_with_progress(
            workspace,
            paths,
            json_output,
            format=format,
            mapping=_parse_mapping(map_ or []),
            platform=platform,
            pseudonymize=pseudonymize,
        )
    if json_output:
        _emit_json([r.as_dict() for r in results])
    else:
        _print_results(results)


@app.command()
def info(db: DbOption = Path("equilibrio.duckdb"), json_output: JsonOption = False) -> None:
    """Counts per platform, account, kind and language, date ranges, and the ingest log."""
    if not db.exists():
        raise EquilibrioError(f"{db}: no such store; create it with 'equilibrio ingest FILE --db {db}'")
    with Workspace(Store(db)) as workspace:
        summary = workspace.info()
    if json_output:
        _emit_json(summary)
        return
    console.print(
        f"[bold]{db}[/]: {summary['posts']:,} messages ({summary['brand_posts']:,} by the brand), "
        f"{summary['accounts']:,} accounts, {summary['conversions']:,} conversions, "
        f"{(summary['first_post'] or '—')[:10]} to {(summary['last_post'] or '—')[:10]}"
    )
    if not summary["brand_accounts"]:
        console.print(
            "[yellow]No brand accounts yet: pass --brand @handle to ingest, or use 'equilibrio brands --add'.[/]"
        )
    for title, rows in (("kind", summary["by_kind"]), ("language", summary["by_language"])):
        table = Table(title=f"by {title}")
        table.add_column(title)
        table.add_column("messages", justify="right")
        for key, count in rows.items():
            table.add_row(str(key), f"{count:,}")
        console.print(table)
    table = Table(title="by platform")
    for column in ("platform", "messages", "brand", "first", "last"):
        table.add_column(column)
    for row in summary["by_platform"]:
        table.add_row(
            row["platform"], f"{row['posts']:,}", f"{row['brand_posts']:,}", row["first"][:10], row["last"][:10]
        )
    console.print(table)
    table = Table(title="by account (top 20)")
    for column in ("account", "brand?", "messages", "first", "last"):
        table.add_column(column)
    for row in summary["by_account"]:
        table.add_row(
            row["handle"] or row["account_id"],
            "brand" if row["is_brand"] else "",
            f"{row['posts']:,}",
            row["first"][:10],
            row["last"][:10],
        )
    console.print(table)


@app.command()
def brands(
    db: DbOption = Path("equilibrio.duckdb"),
    add: Annotated[list[str] | None, typer.Option("--add", help="Handle to mark as the brand (repeatable).")] = None,
    json_output: JsonOption = False,
) -> None:
    """List the workspace's brand handles, or add some (posts are re-flagged at once)."""
    with Workspace(Store(db)) as workspace:
        if add:
            workspace.add_brands(add)
        handles = workspace.brands
    if json_output:
        _emit_json({"brands": handles})
    else:
        console.print("\n".join(f"@{h}" for h in handles) or "No brand handles set.")


@app.command()
def rejects(
    db: DbOption = Path("equilibrio.duckdb"),
    ingest_id: Annotated[int | None, typer.Option("--ingest", help="Only this ingest (see 'info').")] = None,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 50,
    json_output: JsonOption = False,
) -> None:
    """Rejected records: source, location (line/record) and reason."""
    with Workspace(Store(db)) as workspace:
        rows = workspace.rejects(ingest_id).slice(0, limit).to_pylist()
    if json_output:
        _emit_json(rows)
        return
    table = Table(title="rejected records")
    for column in ("ingest", "source", "where", "reason", "excerpt"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            str(row["ingest_id"]), Path(row["source"]).name, row["location"], row["reason"], row["excerpt"] or ""
        )
    console.print(table)


@app.command()
def formats(json_output: JsonOption = False) -> None:
    """The import formats equilibrio recognises."""
    if json_output:
        _emit_json([{"name": i.name, "description": i.description} for i in IMPORTERS])
        return
    for importer in IMPORTERS:
        console.print(f"[bold]{importer.name:<16}[/] {importer.description}")


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo's store and page.")] = Path("."),
    json_output: JsonOption = False,
) -> None:
    """Import the bundled real sample, analyse it and write an HTML page here."""
    from equilibrio.demo import run_demo

    with _progress() as progress:
        task = progress.add_task("sample", total=1)
        result = run_demo(out, progress=lambda done, total: progress.update(task, completed=done, total=total))
    if json_output:
        _emit_json(
            {
                "html": str(result.html_path),
                "db": str(result.db_path),
                "ingests": [r.as_dict() for r in result.ingests],
                "content_mix": result.content_mix,
            }
        )
        return
    _print_results(result.ingests)
    mix = result.content_mix
    if mix["posts"]:
        shares = ", ".join(f"{label} {share:.0%}" for label, share in mix["shares"].items())
        console.print(f"Content mix of {mix['posts']:,} brand posts (intent model): {shares}")
    console.print(f"\nStore: {result.db_path}\nOpen the page: [bold green]{result.html_path}[/]")


ModeOption = Annotated[
    str, typer.Option("--mode", help="Intent tier: fast, accurate, or routed (fast, uncertain posts to accurate).")
]


def _mode(value: str) -> Mode:
    if value not in MODES:
        raise ConfigurationError(f"unknown --mode {value!r}; choose one of {', '.join(MODES)}")
    return value


@app.command()
def analyze(
    db: DbOption = Path("equilibrio.duckdb"),
    mode: ModeOption = "routed",
    json_output: JsonOption = False,
) -> None:
    """Label language, intent (cues, attributes) and open questions on every post not yet labelled."""
    if not db.exists():
        raise ConfigurationError(f"no store at {db}: import something first with `equilibrio ingest PATH --db {db}`")
    with (
        Workspace(Store(db)) as workspace,
        _progress(counts_bytes=False) as progress,
    ):
        task = progress.add_task("labelling posts", total=None)
        result = workspace.analyze(
            _mode(mode), progress=lambda done, total: progress.update(task, completed=done, total=total)
        )
        mix = workspace.content_mix()
    if json_output:
        _emit_json({**asdict(result), "content_mix": mix})
        return
    console.print(
        f"Labelled {result.labelled:,} posts ({result.brand_posts:,} brand, {result.audience_posts:,} audience; "
        f"{result.routed_to_accurate:,} sent to the accurate tier) with {result.model_version} "
        f"in {result.seconds:.1f} s; {result.already_current:,} were already labelled."
    )
    assert isinstance(mix, dict)
    if mix["posts"]:
        shares = ", ".join(f"{label} {share:.0%}" for label, share in mix["shares"].items())
        console.print(f"Content mix of {mix['posts']:,} brand posts: {shares}")


eval_app = typer.Typer(help="Score equilibrio's models on labelled data.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


@eval_app.command("intent")
def eval_intent(
    gold: Annotated[Path, typer.Argument(help="JSONL with item, lang, text, label (exclude rows are skipped).")],
    mode: ModeOption = "routed",
    json_output: JsonOption = False,
) -> None:
    """Accuracy, macro-F1, per-class precision/recall, confusion and calibration (ECE), per language."""
    from equilibrio.nlp.intent_eval import evaluate_intent_file

    report = evaluate_intent_file(gold, _mode(mode))
    if json_output:
        _emit_json(report)
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

    if db is not None and not db.exists():
        raise ConfigurationError(f"no store at {db}")
    workspace = Workspace(Store(db)) if db is not None else None
    try:
        result = check_draft(text, workspace, promotion_target=target, mode=_mode(mode))
    finally:
        if workspace is not None:
            workspace.close()
    if json_output:
        _emit_json(result.to_dict())
        return
    probabilities = "  ".join(f"{label} {p:.0%}" for label, p in result.probabilities.items())
    console.print(f"[bold]{result.label}[/]  ({probabilities})  lang {result.lang}", highlight=False)
    if result.cues:
        console.print("cues: " + "; ".join(f"{c['label']} «{c['evidence']}»" for c in result.cues), markup=False)
    for suggestion in result.suggestions:
        console.print(f"• {suggestion}", markup=False)


def _version(value: bool) -> None:
    if value:
        console.print(f"equilibrio {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Is your brand's social media a conversation or a megaphone, and does it pay?"""


def main() -> None:
    try:
        app()
    except EquilibrioError as exc:
        errors.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
