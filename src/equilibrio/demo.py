"""``equilibrio demo``: import the bundled real sample, run every analysis that exists, write a page."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from equilibrio.api import Workspace
from equilibrio.report.balance_report import render_report, report_data
from equilibrio.report.overview import render_overview
from equilibrio.store.duck import Store
from equilibrio.store.ingest import IngestResult, ProgressCallback

SAMPLE_FILES = ("ibm_customer_care_sample.json", "facebook_metrics_uci.csv")
ATTRIBUTION = (
    "Sample data: IBM twitter-customer-care-document-prediction (Apache-2.0); "
    "UCI Facebook metrics, Moro, Rita & Vala 2016 (CC BY 4.0)."
)


@dataclass
class DemoResult:
    html_path: Path
    db_path: Path
    ingests: list[IngestResult]
    content_mix: dict[str, Any]
    conversation: dict[str, Any]
    network: dict[str, Any]
    report_path: Path
    balance_score: float | None


def sample_path(name: str) -> Path:
    """Path of a bundled sample file."""
    return Path(str(resources.files("equilibrio.data").joinpath(name)))


def run_demo(out_dir: Path, *, progress: ProgressCallback | None = None) -> DemoResult:
    out_dir.mkdir(parents=True, exist_ok=True)
    db_path = out_dir / "equilibrio-demo.duckdb"
    for stale in (db_path, db_path.with_name(db_path.name + ".wal")):
        stale.unlink(missing_ok=True)  # the demo's own store: start clean every run
    with Workspace(Store(db_path)) as workspace:
        ingests = workspace.ingest(*(sample_path(name) for name in SAMPLE_FILES), progress=progress)
        workspace.analyze()
        mix = workspace.content_mix()
        assert isinstance(mix, dict)
        conversation = workspace.conversation()
        data = report_data(workspace.store)  # the report's analysis and network, computed once
        network = data["network"]
        html_path = render_overview(
            workspace.store,
            out_dir / "equilibrio-demo.html",
            title="Customer care on Twitter and a brand's Facebook page",
            subtitle=(
                "Real conversations between customers and 25 brands' support accounts, and 500 posts of a "
                "cosmetics brand's Facebook page, imported into one canonical store."
            ),
            attribution=ATTRIBUTION,
        )
        report_path = render_report(
            workspace.store,
            out_dir / "equilibrio-report.html",
            title="Customer care and a Facebook page: balance",
            data=data,
        )
        score = data["analysis"]["score"]["value"]
    return DemoResult(
        html_path=html_path.resolve(),
        db_path=db_path.resolve(),
        ingests=ingests,
        content_mix=mix,
        conversation=conversation,
        network=network,
        report_path=report_path.resolve(),
        balance_score=score,
    )
