"""The Python API: a workspace over one store."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from equilibrio.errors import ConfigurationError
from equilibrio.insights.draft import DEFAULT_PROMOTION_TARGET, DraftCheck, check_draft_text
from equilibrio.io import ImportOptions
from equilibrio.metrics.content_mix import Period, content_mix, content_mix_by_period
from equilibrio.metrics.conversation import (
    DEFAULT_RESPONSE_WINDOW_HOURS,
    BusinessHours,
    conversation_health,
    net_sentiment_by_period,
    unanswered_queue,
)
from equilibrio.nlp.analyze import AnalyzeResult, analyze_store
from equilibrio.nlp.intent import IntentModel, Mode
from equilibrio.store.duck import Store, normalise_handle
from equilibrio.store.ingest import IngestResult, ProgressCallback, ingest_file
from equilibrio.store.summary import summarize

if TYPE_CHECKING:
    from datetime import datetime

    import polars

    from equilibrio.network.graph import AudienceNetwork


class Workspace:
    """A brand's social activity in one store. Create it with :func:`load`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def path(self) -> Path | None:
        return self.store.path

    def ingest(
        self,
        *paths: str | Path,
        format: str | None = None,
        mapping: Mapping[str, str] | None = None,
        platform: str | None = None,
        pseudonymize: bool = False,
        progress: ProgressCallback | None = None,
    ) -> list[IngestResult]:
        """Import files; each file is one all-or-nothing transaction.

        >>> ws = load()
        >>> ws.ingest("missing.csv")
        Traceback (most recent call last):
        ...
        equilibrio.errors.InputError: missing.csv: no such file
        """
        options = ImportOptions(mapping=dict(mapping or {}), platform=platform)
        return [
            ingest_file(self.store, path, format=format, options=options, pseudonymize=pseudonymize, progress=progress)
            for path in paths
        ]

    def add_brands(self, handles: Iterable[str]) -> None:
        """Mark accounts with these handles (``@`` optional, any case) as the brand."""
        self.store.add_brands([normalise_handle(h) for h in handles])

    @property
    def brands(self) -> list[str]:
        return self.store.brand_handles()

    def table(self, name: str) -> pa.Table:
        """A canonical table (``posts``, ``accounts``, ``conversions``, ``ingest_log``...) as Arrow."""
        return self.store.table(name)

    def polars(self, name: str) -> polars.DataFrame:
        """A canonical table as a Polars DataFrame."""
        import polars

        frame = polars.from_arrow(self.table(name))
        assert isinstance(frame, polars.DataFrame)  # from_arrow on a Table always gives a DataFrame
        return frame

    def rejects(self, ingest_id: int | None = None) -> pa.Table:
        """Rejected records with their location and reason."""
        if ingest_id is None:
            return self.store.table("ingest_rejects")
        return self.store.arrow("SELECT * FROM ingest_rejects WHERE ingest_id = ?", [ingest_id])

    def info(self) -> dict[str, Any]:
        """Counts per platform, account, kind and language, date ranges and the ingest log."""
        return summarize(self.store)

    def analyze(
        self,
        mode: Mode = "routed",
        progress: Callable[[int, int], None] | None = None,
        on_stage: Callable[[str], None] | None = None,
        choose_mode: Callable[[int], Mode] | None = None,
        workers: int | None = None,
        intent_model: IntentModel | None = None,
    ) -> AnalyzeResult:
        """Label every post the current models have not labelled yet (see :func:`analyze`).

        ``progress``, ``on_stage``, ``choose_mode`` and ``workers`` as in
        :func:`equilibrio.nlp.analyze.analyze_store`. ``intent_model`` replaces the shipped intent
        model, e.g. one adapted to the brand's own labels
        (:func:`equilibrio.nlp.intent_adapt.adapt_intent_model`); its version is stored with each
        label, so a later analyze with the shipped model labels those posts again.
        """
        return analyze_store(
            self.store,
            mode=mode,
            progress=progress,
            on_stage=on_stage,
            choose_mode=choose_mode,
            workers=workers,
            model=intent_model,
        )

    def content_mix(self, period: Period | None = None) -> dict[str, Any] | list[dict[str, Any]]:
        """Shares of promotion / conversation / value among labelled brand posts, overall or per period."""
        return content_mix(self.store) if period is None else content_mix_by_period(self.store, period)

    def conversation(
        self,
        response_window_hours: float = DEFAULT_RESPONSE_WINDOW_HOURS,
        business_hours: BusinessHours | None = None,
    ) -> dict[str, Any]:
        """Response metrics (under ``response``), bidirectionality and net sentiment per week.

        Threads are rebuilt first when posts or brands changed. Question and sentiment figures use the
        labels written by :meth:`analyze`.

        >>> import equilibrio
        >>> from equilibrio.demo import sample_path
        >>> ws = equilibrio.load(sample_path("ibm_customer_care_sample.json"))
        >>> health = ws.conversation()
        >>> health["response"]["audience_turns"] > 0
        True
        """
        health = conversation_health(self.store, response_window_hours, business_hours)
        health["sentiment_by_week"] = net_sentiment_by_period(self.store, "week")
        return health

    def inbox(self, limit: int = 50, business_hours: BusinessHours | None = None) -> list[dict[str, Any]]:
        """Audience messages still waiting for a brand reply, most urgent first, with reasons."""
        return unanswered_queue(self.store, limit, business_hours=business_hours)

    def network(self, start: datetime | None = None, end: datetime | None = None) -> AudienceNetwork:
        """The audience interaction graph of [start, end): ``.summary``, ``.nodes`` and ``.edges`` (Arrow
        tables), ``.graph`` (igraph, built on first use) and ``.export(path)``."""
        from equilibrio.network.graph import build_network

        return build_network(self.store, start, end)

    def balance(
        self,
        *,
        rule: str = "80/20",
        promotion_target: float | None = None,
        lang: str = "en",
        attribute_model: bool = True,
    ) -> dict[str, Any]:
        """Content mix against the target, engagement and conversions per intent, the balance curve,
        the attribute model (unless ``attribute_model=False``), the balance score and
        recommendations (definitions: docs/metrics.md).

        >>> import equilibrio
        >>> equilibrio.load().balance()["score"]["value"] is None
        True
        """
        from equilibrio.insights.balance import balance_analysis

        if lang not in ("en", "es") or rule not in ("80/20", "thirds"):
            raise ConfigurationError(f"lang must be en or es and rule 80/20 or thirds, not {lang!r} / {rule!r}")
        return balance_analysis(
            self.store,
            rule="thirds" if rule == "thirds" else "80/20",
            promotion_target=promotion_target,
            lang="es" if lang == "es" else "en",
            with_attribute_model=attribute_model,
        )

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def load(
    *sources: str | Path,
    db: str | Path | None = None,
    brands: Sequence[str] = (),
    format: str | None = None,
    pseudonymize: bool = False,
) -> Workspace:
    """Open (or create) a workspace and optionally import files into it.

    ``db=None`` keeps everything in memory; pass a path for a DuckDB file that persists.

    >>> import equilibrio
    >>> ws = equilibrio.load()
    >>> ws.info()["posts"]
    0
    """
    workspace = Workspace(Store(db))
    if brands:
        workspace.add_brands(brands)
    if sources:
        workspace.ingest(*sources, format=format, pseudonymize=pseudonymize)
    return workspace


def analyze(workspace: Workspace, mode: Mode = "routed") -> AnalyzeResult:
    """Label language, intent (with cues and attributes) and open questions on every new post.

    Incremental: posts already labelled by the current model version are skipped.

    >>> import equilibrio
    >>> from equilibrio.demo import sample_path
    >>> ws = equilibrio.load(sample_path("ibm_customer_care_sample.json"))
    >>> result = equilibrio.analyze(ws)
    >>> result.labelled == ws.info()["posts"], equilibrio.analyze(ws).labelled
    (True, 0)
    """
    return workspace.analyze(mode)


def check_draft(
    text: str,
    workspace: Workspace | None = None,
    *,
    promotion_target: float = DEFAULT_PROMOTION_TARGET,
    mode: Mode = "routed",
) -> DraftCheck:
    """Score a post before publishing: label, probabilities, cues and suggestions in its language.

    With a workspace, the suggestions also weigh this week's content mix against the target.

    >>> import equilibrio
    >>> check = equilibrio.check_draft("¡Compra ya! 30% de descuento, cómpralo hoy en nuestra tienda")
    >>> check.label, check.lang
    ('promotion', 'es')
    >>> check.suggestions[0]
    'Dos llamadas a comprar en un solo post: deja una sola y clara.'
    """
    return check_draft_text(
        text,
        store=workspace.store if workspace is not None else None,
        promotion_target=promotion_target,
        mode=mode,
    )


def report(
    workspace: Workspace,
    path: str | Path = "equilibrio-report.html",
    *,
    lang: str = "en",
    rule: str = "80/20",
    promotion_target: float | None = None,
) -> Path:
    """Write the balance report: one self-contained HTML file that opens offline.

    >>> import equilibrio, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     equilibrio.report(equilibrio.load(), Path(folder) / "report.html").name
    'report.html'
    """
    from equilibrio.report.balance_report import render_report

    if lang not in ("en", "es"):
        raise ConfigurationError(f"report language must be 'en' or 'es', not {lang!r}")
    if rule not in ("80/20", "thirds"):
        raise ConfigurationError(f"rule must be '80/20' or 'thirds', not {rule!r}")
    return render_report(
        workspace.store,
        Path(path),
        lang="es" if lang == "es" else "en",
        rule="thirds" if rule == "thirds" else "80/20",
        promotion_target=promotion_target,
    )
