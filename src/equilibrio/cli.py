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
from equilibrio.nlp.analyze import routed_backlog_limit
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
    _require_store(db)
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
    if not add:
        _require_store(db)  # listing must not leave an empty store behind a mistyped name
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
    _require_store(db)
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
                "conversation": result.conversation,
                "network": result.network,
                "report": str(result.report_path),
                "balance_score": result.balance_score,
            }
        )
        return
    _print_results(result.ingests)
    mix = result.content_mix
    if mix["posts"]:
        shares = ", ".join(f"{label} {share:.0%}" for label, share in mix["shares"].items())
        console.print(f"Content mix of {mix['posts']:,} brand posts (intent model): {shares}")
    response = result.conversation["response"]
    console.print(
        f"Conversation: {response['audience_turns']:,} audience turns, response rate "
        f"{_fmt(response['response_rate'], '%')} within 24 h, median first response "
        f"{_fmt(response['median_first_response_minutes'])} min (p90 {_fmt(response['p90_first_response_minutes'])}).",
        highlight=False,
    )
    if result.network["shape"]:
        console.print(f"Network: {result.network['nodes']:,} accounts, shape «{result.network['shape']['shape']}».")
    console.print(f"Balance score: {_fmt(result.balance_score)}/100 (parts and advice in the report).")
    console.print(
        f"\nStore: {result.db_path}\nImport overview: {result.html_path}\n"
        f"Open the balance report: [bold green]{result.report_path}[/]\n"
        f"Or browse the store and check drafts in the web app: equilibrio serve --db {result.db_path}"
    )


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
    _require_store(db)
    with (
        Workspace(Store(db)) as workspace,
        _progress(counts_bytes=False) as progress,
    ):
        task = progress.add_task("labelling posts", total=None)
        result = workspace.analyze(
            _mode(mode),
            progress=lambda done, total: progress.update(task, completed=done, total=total),
            on_stage=lambda stage: progress.reset(task, total=None, description=stage),
            workers=workers,
        )
        mix = workspace.content_mix()
    if json_output:
        _emit_json({**asdict(result), "content_mix": mix})
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

    if db is not None:
        _require_store(db)
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

    _require_store(db)
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
        _emit_json(figures)
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


WindowOption = Annotated[
    float, typer.Option("--window-hours", help="A turn counts as answered when the brand replied within this time.")
]
BusinessOption = Annotated[
    str | None, typer.Option("--business-hours", help="Count response time in opening hours only, e.g. 09:00-18:00.")
]
TimezoneOption = Annotated[str, typer.Option("--timezone", help="Time zone of the business hours (IANA name).")]
AnalyzeFirstOption = Annotated[
    bool, typer.Option("--analyze/--no-analyze", help="Label new posts first (questions, sentiment).")
]


def _require_store(db: Path) -> None:
    """Commands that read a store refuse a path with none, instead of creating an empty one."""
    if not db.exists():
        raise ConfigurationError(f"no store at {db}: import something first with `equilibrio ingest PATH --db {db}`")


def _open_store(db: Path, *, analyze_first: bool = False) -> Workspace:
    """The store at ``db``; with ``analyze_first``, new posts are labelled before any figure is read."""
    _require_store(db)
    workspace = Workspace(Store(db))
    if analyze_first:
        try:
            _analyze_quietly(workspace)
        except BaseException:
            workspace.close()
            raise
    return workspace


def _analyze_quietly(workspace: Workspace) -> None:
    limit = routed_backlog_limit()

    def choose_mode(pending: int) -> Mode:
        if pending <= limit:
            return "routed"
        errors.print(
            f"{pending:,} posts are not labelled yet: labelling them with the fast tier alone. "
            "To send the uncertain ones to the accurate tier (about 60 posts/s), run "
            "`equilibrio analyze` on this store first."
        )
        return "fast"

    with _progress(counts_bytes=False) as progress:
        task = progress.add_task("labelling new posts", total=None)
        workspace.analyze(
            progress=lambda done, total: progress.update(task, completed=done, total=total),
            on_stage=lambda stage: progress.reset(task, total=None, description=f"{stage} (new posts)"),
            choose_mode=choose_mode,
        )


def _business(span: str | None, timezone: str) -> Any:
    from equilibrio.metrics.conversation import BusinessHours

    return None if span is None else BusinessHours.parse(span, timezone)


def _fmt(value: Any, suffix: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and suffix == "%":
        return f"{value:.0%}"
    return f"{value:,}{suffix}" if isinstance(value, int) else f"{value}{suffix}"


@app.command()
def conversation(
    db: DbOption = Path("equilibrio.duckdb"),
    window_hours: WindowOption = 24.0,
    business_hours: BusinessOption = None,
    timezone: TimezoneOption = "UTC",
    analyze_first: AnalyzeFirstOption = True,
    json_output: JsonOption = False,
) -> None:
    """Response rate and times, bidirectionality and audience sentiment (definitions: docs/metrics.md)."""
    with _open_store(db, analyze_first=analyze_first) as workspace:
        health = workspace.conversation(window_hours, _business(business_hours, timezone))
    if json_output:
        _emit_json(health)
        return
    table = Table(title=f"Response (answered within {window_hours:g} h; as of {health['as_of']})")
    columns = (
        ("key", "key", ""),
        ("turns", "audience_turns", ""),
        ("response rate", "response_rate", "%"),
        ("question rate", "question_response_rate", "%"),
        ("median first (min)", "median_first_response_minutes", ""),
        ("p90 first (min)", "p90_first_response_minutes", ""),
        ("mean fastest 90% (min)", "mean_fastest_90pct_first_response_minutes", ""),
    )
    for title, _, _ in columns:
        table.add_column(title, justify="left" if title == "key" else "right")
    for row in [health["response"], *health["response_by_platform"], *health["response_by_account"]]:
        table.add_row(*(_fmt(row[key], suffix) for _, key, suffix in columns))
    console.print(table)
    both = health["bidirectionality"]
    console.print(
        f"Brand replies {both['brand_replies']:,} vs broadcasts {both['brand_broadcasts']:,} "
        f"(replies per broadcast {_fmt(both['replies_per_broadcast'])}); the brand joined "
        f"{_fmt(both['joined_share'], '%')} of {both['audience_started_threads']:,} audience-started threads; "
        f"threads with replies average {_fmt(both['mean_thread_messages'])} messages, depth "
        f"{_fmt(both['mean_thread_depth'])}.",
        highlight=False,
    )
    weeks = health["sentiment_by_week"]
    if weeks:
        positive = sum(w["positive"] for w in weeks)
        negative = sum(w["negative"] for w in weeks)
        from equilibrio.nlp.sentiment import net_sentiment

        console.print(
            f"Audience sentiment: {positive:,} positive, {negative:,} negative messages; net sentiment "
            f"{_fmt(net_sentiment(positive, negative))} (per week in --json).",
            highlight=False,
        )


@app.command()
def inbox(
    db: DbOption = Path("equilibrio.duckdb"),
    limit: Annotated[int, typer.Option(help="How many waiting messages to list.")] = 20,
    business_hours: BusinessOption = None,
    timezone: TimezoneOption = "UTC",
    analyze_first: AnalyzeFirstOption = True,
    json_output: JsonOption = False,
) -> None:
    """Audience messages still waiting for a brand reply, most urgent first, with the reasons."""
    with _open_store(db, analyze_first=analyze_first) as workspace:
        queue = workspace.inbox(limit, _business(business_hours, timezone))
    if json_output:
        _emit_json(queue)
        return
    if not queue:
        console.print("Nothing is waiting: no audience message addressed to the brand lacks a reply.")
        return
    table = Table(title="Unanswered queue", show_lines=True)
    for column in ("#", "priority", "author", "message", "why"):
        table.add_column(column, justify="right" if column in {"#", "priority"} else "left")
    for item in queue:
        text = (item["text"] or "").replace("\n", " ")
        table.add_row(
            str(item["rank"]),
            f"{item['priority']:.0f}",
            item["author"],
            text[:140] + ("…" if len(text) > 140 else ""),
            "; ".join(item["reasons"]),
        )
    console.print(table, markup=False)


@app.command()
def network(
    db: DbOption = Path("equilibrio.duckdb"),
    export: Annotated[Path | None, typer.Option("--export", help="Write the graph (.gexf or .graphml).")] = None,
    since: Annotated[str | None, typer.Option(help="Only messages from this date (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="Only messages before this date (YYYY-MM-DD).")] = None,
    analyze_first: AnalyzeFirstOption = True,
    json_output: JsonOption = False,
) -> None:
    """Who talks with whom: communities, advocates, detractors, bridges and the network's shape."""
    from datetime import datetime

    def day(value: str | None, option: str) -> datetime | None:
        if value is None:
            return None
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise ConfigurationError(f"{option} {value!r} is not a date like 2024-01-31") from None

    with _open_store(db, analyze_first=analyze_first) as workspace:
        graph = workspace.network(day(since, "--since"), day(until, "--until"))
    summary = dict(graph.summary)
    if export is not None:
        summary["exported"] = str(graph.export(export))
    if json_output:
        _emit_json(summary)
        return
    by_kind = summary.get("interactions_by_kind") or {}
    detail = f" ({', '.join(f'{count:,} {kind}' for kind, count in by_kind.items())})" if by_kind else ""
    console.print(
        f"{summary['nodes']:,} accounts, {summary['edges']:,} links, {summary['interactions']:,} interactions{detail}.",
        highlight=False,
    )
    if summary["shape"]:
        console.print(f"[bold]Shape: {summary['shape']['shape']}[/] — ", end="")
        console.print(summary["shape"]["explanation"], markup=False, highlight=False)
        console.print(f"{summary['community_count']:,} communities (modularity {summary['modularity']}).")
    for role in ("advocates", "detractors", "bridges"):
        people = ", ".join(p["account"] for p in summary.get(role, [])[:5]) or "none found"
        console.print(f"{role}: {people}", markup=False, highlight=False)
    if export is not None:
        console.print(f"Graph written to {export}")


RuleOption = Annotated[
    str, typer.Option("--rule", help="Promotion target rule: 80/20 (at most 20% promotion) or thirds (a third).")
]
TargetOption = Annotated[float | None, typer.Option("--target", help="Promotion share target (0-1); overrides --rule.")]
LangOption = Annotated[str, typer.Option("--lang", help="Language of recommendations and report: en or es.")]


@app.command()
def balance(
    db: DbOption = Path("equilibrio.duckdb"),
    rule: RuleOption = "80/20",
    target: TargetOption = None,
    lang: LangOption = "en",
    attribute_model: Annotated[
        bool,
        typer.Option(
            "--attribute-model/--no-attribute-model",
            help="Fit engagement against informative vs brand-personality attributes (Lee, Hosanagar & Nair 2018).",
        ),
    ] = True,
    analyze_first: AnalyzeFirstOption = True,
    json_output: JsonOption = False,
) -> None:
    """Are we selling too much? Content mix vs target, engagement and conversions per intent, the
    balance curve, the 0-100 balance score and recommendations (definitions: docs/metrics.md)."""
    with _open_store(db, analyze_first=analyze_first) as workspace:
        figures = workspace.balance(rule=rule, promotion_target=target, lang=lang, attribute_model=attribute_model)
    if json_output:
        _emit_json(figures)
        return
    overall = figures["content_mix"]["overall"]
    if overall:
        shares = ", ".join(f"{label} {share:.0%}" for label, share in overall["shares"].items())
        console.print(
            f"Content mix of {overall['posts']:,} brand posts: {shares} (promotion target "
            f"{figures['content_mix']['promotion_target']:.0%}; "
            f"{figures['content_mix']['weeks_above_target']} weeks above).",
            highlight=False,
        )
    table = Table(title="Engagement per intent (like with like: platform, paid/organic)")
    for column in ("platform", "paid", "intent", "posts", "median interactions", "median index"):
        table.add_column(column, justify="left" if column in ("platform", "paid", "intent") else "right")
    for row in figures["engagement_by_intent"]:
        table.add_row(
            row["platform"],
            row["paid_status"],
            row["intent"],
            f"{row['posts']:,}",
            _fmt(row["median_interactions"]),
            _fmt(row["median_engagement_index"]),
        )
    console.print(table)
    categories = figures["median_interactions_by_category"]
    if categories:
        console.print(
            "Median interactions by UCI category: "
            + ", ".join(f"{name} {c['median_interactions']:g}" for name, c in categories.items()),
            highlight=False,
        )
    conversions = figures["conversions"]
    if conversions["conversions"]:
        console.print(
            f"Conversions: {conversions['attributed']:,} of {conversions['conversions']:,} attributed to posts "
            f"({conversions['unattributed_not_from_social']:,} came from non-social sources).",
            highlight=False,
        )
    for name, curve in figures["balance_curve"].items():
        console.print(f"Balance curve ({name}): {curve['statement']}", markup=False, highlight=False)
    console.print(f"Attribute model: {figures['attribute_model']['statement']}", markup=False, highlight=False)
    score = figures["score"]
    parts = ", ".join(f"{name.replace('_', ' ')} {part['value']:g}" for name, part in score["parts"].items())
    console.print(
        f"[bold]Balance score {_fmt(score['value'])}/100[/]" + (f" ({parts})" if parts else ""), highlight=False
    )
    for line in figures["recommendations"]:
        console.print(f"• {line}", markup=False, highlight=False)


@app.command()
def report(
    db: DbOption = Path("equilibrio.duckdb"),
    out: Annotated[Path, typer.Option("-o", "--out", help="HTML file to write.")] = Path("equilibrio-report.html"),
    rule: RuleOption = "80/20",
    target: TargetOption = None,
    lang: LangOption = "en",
    analyze_first: AnalyzeFirstOption = True,
) -> None:
    """Write the balance report: one self-contained HTML file with charts that opens offline."""
    from equilibrio.api import report as write_report

    with _open_store(db, analyze_first=analyze_first) as workspace:
        path = write_report(workspace, out, lang=lang, rule=rule, promotion_target=target)
    console.print(f"Report written: [bold green]{path.resolve()}[/]")


@app.command()
def serve(
    db: DbOption = Path("equilibrio.duckdb"),
    host: Annotated[
        str, typer.Option(help="Address to listen on; the default answers this machine only.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    target: TargetOption = None,
    analyze_first: AnalyzeFirstOption = True,
) -> None:
    """Open the web app on a store: the balance at a glance, the draft checker, the unanswered queue.

    The app holds the store while it runs (DuckDB lets one process write a file): stop it (Ctrl+C)
    before ingesting more.
    """
    from equilibrio.app import create_app
    from equilibrio.app import serve as run_app

    if host not in ("127.0.0.1", "localhost", "::1"):
        errors.print(
            f"Listening on {host}: the app has no login, so anyone who can reach this address reads the store "
            "and its audience's messages."
        )
    with _open_store(db, analyze_first=analyze_first) as workspace:
        web_app = create_app(workspace, promotion_target=target)
        console.print(f"equilibrio on [bold green]http://{host}:{port}/[/] (Ctrl+C to stop)")
        try:
            run_app(web_app, host=host, port=port)
        except KeyboardInterrupt:  # uvicorn shuts down on Ctrl+C, then raises it again for the caller
            console.print("stopped; the store is closed")


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
    report = evaluate_sentiment_files(text_file, labels, lang, _mode(mode))
    if json_output:
        _emit_json(report)
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
