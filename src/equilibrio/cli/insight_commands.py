"""Commands that read the figures: conversation, inbox, network, balance, report, serve."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from equilibrio.cli._shared import (
    AnalyzeFirstOption,
    BusinessOption,
    DbOption,
    JsonOption,
    TimezoneOption,
    WindowOption,
    app,
    console,
    emit_json,
    fmt,
    open_store,
    parse_business_hours,
)
from equilibrio.errors import ConfigurationError

RuleOption = Annotated[
    str, typer.Option("--rule", help="Promotion target rule: 80/20 (at most 20% promotion) or thirds (a third).")
]
TargetOption = Annotated[float | None, typer.Option("--target", help="Promotion share target (0-1); overrides --rule.")]
TOKEN_VARIABLE = "EQUILIBRIO_APP_TOKEN"
MIN_TOKEN_CHARACTERS = 16
LangOption = Annotated[str, typer.Option("--lang", help="Language of recommendations and report: en or es.")]


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
    with open_store(db, analyze_first=analyze_first) as workspace:
        health = workspace.conversation(window_hours, parse_business_hours(business_hours, timezone))
    if json_output:
        emit_json(health)
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
        table.add_row(*(fmt(row[key], suffix) for _, key, suffix in columns))
    console.print(table)
    both = health["bidirectionality"]
    console.print(
        f"Brand replies {both['brand_replies']:,} vs broadcasts {both['brand_broadcasts']:,} "
        f"(replies per broadcast {fmt(both['replies_per_broadcast'])}); the brand joined "
        f"{fmt(both['joined_share'], '%')} of {both['audience_started_threads']:,} audience-started threads; "
        f"threads with replies average {fmt(both['mean_thread_messages'])} messages, depth "
        f"{fmt(both['mean_thread_depth'])}.",
        highlight=False,
    )
    unstored = health["replies_to_unstored_messages"]
    if unstored["replies"]:
        console.print(
            f"Replies to messages the store does not hold: {unstored['replies']:,}, timed by the X ids of the "
            f"messages answered: median {fmt(unstored['median_minutes'])} min, p90 {fmt(unstored['p90_minutes'])}.",
            highlight=False,
        )
    weeks = health["sentiment_by_week"]
    if weeks:
        positive = sum(w["positive"] for w in weeks)
        negative = sum(w["negative"] for w in weeks)
        from equilibrio.nlp.sentiment import net_sentiment

        console.print(
            f"Audience sentiment: {positive:,} positive, {negative:,} negative messages; net sentiment "
            f"{fmt(net_sentiment(positive, negative))} (per week in --json).",
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
    with open_store(db, analyze_first=analyze_first) as workspace:
        queue = workspace.inbox(limit, parse_business_hours(business_hours, timezone))
    if json_output:
        emit_json(queue)
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

    with open_store(db, analyze_first=analyze_first) as workspace:
        graph = workspace.network(day(since, "--since"), day(until, "--until"))
    summary = dict(graph.summary)
    if export is not None:
        summary["exported"] = str(graph.export(export))
    if json_output:
        emit_json(summary)
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
    """Are we selling too much? Content mix vs target, what each intent earns, the score and advice.

    The content mix against the promotion target, engagement and conversions per intent, the
    balance curve, the 0-100 balance score and recommendations (definitions: docs/metrics.md).
    """
    with open_store(db, analyze_first=analyze_first) as workspace:
        figures = workspace.balance(rule=rule, promotion_target=target, lang=lang, attribute_model=attribute_model)
    if json_output:
        emit_json(figures)
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
            fmt(row["median_interactions"]),
            fmt(row["median_engagement_index"]),
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
        f"[bold]Balance score {fmt(score['value'])}/100[/]" + (f" ({parts})" if parts else ""), highlight=False
    )
    for name, reason in score["missing_reasons"].items():
        console.print(f"{name.replace('_', ' ').capitalize()} not scored: {reason}.", markup=False, highlight=False)
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

    with open_store(db, analyze_first=analyze_first) as workspace:
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

    The app holds the store while it runs (DuckDB lets one process write a file): import new
    exports through its upload box, or stop it (Ctrl+C) before `equilibrio ingest`. With the
    environment variable EQUILIBRIO_APP_TOKEN set to a secret, every page and API call asks for it;
    listening beyond this machine (`--host`) requires it.
    """
    from equilibrio.app import create_app
    from equilibrio.app import serve as run_app
    from equilibrio.app.server import LOOPBACK_HOSTS

    token = os.environ.get(TOKEN_VARIABLE)
    if token is not None and len(token.strip()) < MIN_TOKEN_CHARACTERS:
        raise ConfigurationError(
            f"{TOKEN_VARIABLE} is shorter than {MIN_TOKEN_CHARACTERS} characters; make one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe())'`"
        )
    if token is None and host not in LOOPBACK_HOSTS:
        raise ConfigurationError(
            f"--host {host} would let anyone who reaches it read the store and its audience's messages: set "
            f"{TOKEN_VARIABLE} to a secret first (the app then asks for it), or keep the default host"
        )
    with open_store(db, analyze_first=analyze_first) as workspace:
        loopback = host in LOOPBACK_HOSTS
        web_app = create_app(
            workspace, promotion_target=target, token=token, allowed_hosts=LOOPBACK_HOSTS if loopback else ["*"]
        )
        access = f"; access token from {TOKEN_VARIABLE}" if token else ""
        console.print(f"equilibrio on [bold green]http://{host}:{port}/[/] (Ctrl+C to stop{access})")
        try:
            run_app(web_app, host=host, port=port)
        except KeyboardInterrupt:  # uvicorn shuts down on Ctrl+C, then raises it again for the caller
            console.print("stopped; the store is closed")
