"""Shared fixtures, built from real sample data.

Real corpora are read from ``../shared/data`` beside the checkout. Locally, tests that need
them skip when it is missing; in CI (``CI=true``) they fail instead, because CI has it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from equilibrio.api import Workspace
from equilibrio.demo import sample_path
from equilibrio.store.duck import Store

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_DATA = Path(os.environ.get("EQUILIBRIO_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have the shared data at {SHARED_DATA}")
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium, which the browser tests drive through Playwright (no browser download)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have Debian's chromium (.ci/run installs it)")
        pytest.skip("chromium not installed")
    return found


@dataclass
class BrowserPage:
    """A page in Debian's chromium and what went wrong on it: console errors, uncaught exceptions
    and any dialog, which only injected script would open."""

    page: Any  # playwright.sync_api.Page
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def browser_page(chromium: str) -> Iterator[BrowserPage]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        opened = BrowserPage(browser.new_page())
        opened.page.on(
            "console", lambda message: opened.errors.append(message.text) if message.type == "error" else None
        )
        opened.page.on("pageerror", lambda error: opened.errors.append(str(error)))
        opened.page.on("dialog", lambda dialog: opened.errors.append(f"dialog opened: {dialog.message}"))
        yield opened
        browser.close()


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def ibm_sample() -> Path:
    return sample_path("ibm_customer_care_sample.json")


@pytest.fixture(scope="session")
def uci_sample() -> Path:
    return sample_path("facebook_metrics_uci.csv")


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    """A workspace on a real DuckDB file in a temporary folder."""
    with Workspace(Store(tmp_path / "brand.duckdb")) as ws:
        yield ws


def table_counts(ws: Workspace) -> dict[str, int]:
    """Row counts of every canonical table: equal before and after a failed ingest."""
    return {
        name: int(ws.store.fetchone(f"SELECT count(*) FROM {name}")[0])
        for name in ("posts", "accounts", "conversions", "ingest_log", "ingest_rejects", "brands")
    }
