"""Commands that fill and describe the store: ingest, info, brands, rejects, formats, demo."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from equilibrio.api import Workspace
from equilibrio.cli._shared import (
    DbOption,
    JsonOption,
    app,
    console,
    emit_json,
    fmt,
    progress_bar,
    require_store,
)
from equilibrio.io import IMPORTERS
from equilibrio.store.duck import Store
from equilibrio.store.ingest import IngestResult


def _ingest_with_progress(workspace: Workspace, paths: list[Path], quiet: bool, **kwargs: Any) -> list[IngestResult]:
    results: list[IngestResult] = []
    with progress_bar() as progress:
        for path in paths:
            task = progress.add_task(path.name, total=max(path.stat().st_size if path.exists() else 1, 1))

            def advance(done: int, total: int, task: Any = task) -> None:
                progress.update(task, completed=done, total=total)

            results.extend(workspace.ingest(path, progress=None if quiet else advance, **kwargs))
            progress.remove_task(task)
    return results


def _print_results(results: list[IngestResult], db: Path) -> None:
    table = Table(title="Ingest", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    # In a narrow terminal only the file's name wraps; figures and headers keep their width.
    table.add_column("source", overflow="fold", min_width=12)
    table.add_column("format", overflow="fold")
    for column in ("read", "inserted", "updated", "unchanged", "rejected", "time"):
        table.add_column(column, justify="right", no_wrap=True, min_width=len(column))
    for r in results:
        table.add_row(
            Path(r.source).name,
            r.format,
            f"{r.rows_read:,}",
            f"{r.rows_inserted:,}",
            f"{r.rows_updated:,}",
            f"{r.rows_unchanged:,}",
            f"[red]{r.rows_rejected:,}[/]" if r.rows_rejected else "0",
            f"{r.seconds:.2f} s",
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
        console.print(f"See every rejected record with: [bold]equilibrio rejects --db {shlex.quote(str(db))}[/]")


def _count(number: int, noun: str) -> str:
    """``1 account``, ``2,938 messages``."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


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
        emit_json([r.as_dict() for r in results])
    else:
        _print_results(results, db)


@app.command()
def info(db: DbOption = Path("equilibrio.duckdb"), json_output: JsonOption = False) -> None:
    """Counts per platform, account, kind and language, date ranges, and the ingest log."""
    require_store(db)
    with Workspace(Store(db)) as workspace:
        summary = workspace.info()
    if json_output:
        emit_json(summary)
        return
    console.print(
        f"[bold]{db}[/]: {_count(summary['posts'], 'message')} ({summary['brand_posts']:,} by the brand), "
        f"{_count(summary['accounts'], 'account')}, {_count(summary['conversions'], 'conversion')}, "
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
        require_store(db)  # listing must not leave an empty store behind a mistyped name
    with Workspace(Store(db)) as workspace:
        if add:
            workspace.add_brands(add)
        handles = workspace.brands
    if json_output:
        emit_json({"brands": handles})
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
    require_store(db)
    with Workspace(Store(db)) as workspace:
        rows = workspace.rejects(ingest_id).slice(0, limit).to_pylist()
    if json_output:
        emit_json(rows)
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
        emit_json([{"name": i.name, "description": i.description} for i in IMPORTERS])
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

    with progress_bar() as progress:
        task = progress.add_task("sample", total=1)
        result = run_demo(out, progress=lambda done, total: progress.update(task, completed=done, total=total))
    if json_output:
        emit_json(
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
    _print_results(result.ingests, result.db_path)
    mix = result.content_mix
    if mix["posts"]:
        shares = ", ".join(f"{label} {share:.0%}" for label, share in mix["shares"].items())
        console.print(f"Content mix of {mix['posts']:,} brand posts (intent model): {shares}")
    response = result.conversation["response"]
    console.print(
        f"Conversation: {response['audience_turns']:,} audience turns, response rate "
        f"{fmt(response['response_rate'], '%')} within 24 h, median first response "
        f"{fmt(response['median_first_response_minutes'])} min (p90 {fmt(response['p90_first_response_minutes'])}).",
        highlight=False,
    )
    if result.network["shape"]:
        console.print(f"Network: {result.network['nodes']:,} accounts, shape «{result.network['shape']['shape']}».")
    console.print(f"Balance score: {fmt(result.balance_score)}/100 (parts and advice in the report).")
    console.print(
        f"\nStore: {result.db_path}\nImport overview: {result.html_path}\n"
        f"Open the balance report: [bold green]{result.report_path}[/]\n"
        f"Or browse the store and check drafts in the web app: equilibrio serve --db {result.db_path}"
    )
