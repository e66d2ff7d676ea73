"""What every command shares: the typer app, the consoles, common options and helpers."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from equilibrio.api import Workspace
from equilibrio.errors import ConfigurationError
from equilibrio.nlp.analyze import mode_for_backlog
from equilibrio.nlp.intent import MODES, Mode
from equilibrio.store.duck import Store

app = typer.Typer(
    name="equilibrio",
    help="Is your brand's social media a conversation or a megaphone, and does it pay?",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",  # a docstring's single line breaks are rewrapped, as in Markdown
)
console = Console()
errors = Console(stderr=True)

DbOption = Annotated[Path, typer.Option("--db", help="DuckDB store file (created if missing).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the figures as one JSON object.")]

eval_app = typer.Typer(
    help="Score equilibrio's models on labelled data.", no_args_is_help=True, rich_markup_mode="markdown"
)
app.add_typer(eval_app, name="eval")


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


def progress_bar(counts_bytes: bool = True) -> Progress:
    """A transient bar on stderr; ``counts_bytes=False`` counts items (posts) instead of bytes."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn() if counts_bytes else MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
    )


ModeOption = Annotated[
    str, typer.Option("--mode", help="Intent tier: fast, accurate, or routed (fast, uncertain posts to accurate).")
]


def parse_mode(value: str) -> Mode:
    if value not in MODES:
        raise ConfigurationError(f"unknown --mode {value!r}; choose one of {', '.join(MODES)}")
    return value


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


def require_store(db: Path) -> None:
    """Commands that read a store refuse a path with none, instead of creating an empty one."""
    if not db.exists():
        raise ConfigurationError(f"no store at {db}: import something first with `equilibrio ingest PATH --db {db}`")


def open_store(db: Path, *, analyze_first: bool = False) -> Workspace:
    """The store at ``db``; with ``analyze_first``, new posts are labelled before any figure is read."""
    require_store(db)
    workspace = Workspace(Store(db))
    if analyze_first:
        try:
            analyze_quietly(workspace)
        except BaseException:
            workspace.close()
            raise
    return workspace


def analyze_quietly(workspace: Workspace) -> None:
    def choose_mode(pending: int) -> Mode:
        mode = mode_for_backlog(pending)
        if mode == "fast":
            errors.print(
                f"{pending:,} posts are not labelled yet: labelling them with the fast tier alone. "
                "To send the uncertain ones to the accurate tier (about 60 posts/s), run "
                "`equilibrio analyze` on this store first."
            )
        return mode

    with progress_bar(counts_bytes=False) as progress:
        task = progress.add_task("labelling new posts", total=None)
        workspace.analyze(
            progress=lambda done, total: progress.update(task, completed=done, total=total),
            on_stage=lambda stage: progress.reset(task, total=None, description=f"{stage} (new posts)"),
            choose_mode=choose_mode,
        )


def parse_business_hours(span: str | None, timezone: str) -> Any:
    from equilibrio.metrics.conversation import BusinessHours

    return None if span is None else BusinessHours.parse(span, timezone)


def fmt(value: Any, suffix: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and suffix == "%":
        return f"{value:.0%}"
    return f"{value:,}{suffix}" if isinstance(value, int) else f"{value}{suffix}"
