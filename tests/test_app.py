"""The web app, served by uvicorn on loopback and driven over HTTP and in Debian's chromium."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from equilibrio.api import Workspace
from equilibrio.app import create_app, serve_in_background
from equilibrio.store.duck import Store
from tests.test_cli import run

ATTACK = '<script>alert("x")</script> why is my order late? <img src=x onerror=alert(1)>'


def _request(url: str, body: bytes | None = None) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode("utf-8"), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8"), dict(error.headers)


def _check(base: str, payload: Any) -> tuple[int, dict[str, Any]]:
    status, body, _ = _request(f"{base}/api/check", json.dumps(payload).encode("utf-8"))
    result: dict[str, Any] = json.loads(body)
    return status, result


@pytest.fixture
def served(workspace: Workspace, ibm_sample: Path, tmp_path: Path) -> Iterator[str]:
    """The app on the IBM care sample plus an unanswered customer message carrying markup."""
    workspace.ingest(ibm_sample)
    attack = tmp_path / "attack.jsonl"
    row = {
        "post_id": "attack-1",
        "platform": "twitter",
        "account_id": "customer-1",
        "handle": "<b>evil</b>",
        "created_at": "2020-03-20T10:00:00Z",
        "text": "@AdobeCare " + ATTACK,
        "kind": "mention",
    }
    attack.write_text(json.dumps(row) + "\n", encoding="utf-8")
    workspace.ingest(attack)
    workspace.analyze(mode="fast")
    with serve_in_background(create_app(workspace)) as base:
        yield base


def test_the_api_answers_over_http(served: str) -> None:
    status, result = _check(served, {"text": "¡Compra ya! 30% de descuento en toda la tienda"})
    assert status == 200
    assert (result["label"], result["lang"]) == ("promotion", "es")
    assert {cue["cue"] for cue in result["cues"]} >= {"deal", "call_to_buy"}
    assert result["promotion_share_this_week"] is not None or result["suggestions"]

    status, body, headers = _request(f"{served}/api/summary")
    summary = json.loads(body)["analysis"]
    assert status == 200 and headers["x-content-type-options"] == "nosniff"
    assert summary["content_mix"]["overall"]["posts"] > 300
    assert summary["intent_labelling"]["adapted"] is False

    status, body, _ = _request(f"{served}/api/inbox?limit=5")
    queue = json.loads(body)
    assert status == 200 and 1 <= len(queue) <= 5 and [item["rank"] for item in queue] == list(range(1, len(queue) + 1))

    status, body, _ = _request(f"{served}/report?lang=es")
    assert status == 200 and '<html lang="es">' in body and "data-chart" in body


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/api/check", b"not json", 400, "must be JSON"),
        ("/api/check", b'{"draft": "hola"}', 400, '"text" string'),
        ("/api/check", b'{"text": "   "}', 400, "the draft is empty"),
        ("/api/check", json.dumps({"text": "a" * 6_000}).encode(), 413, "at most 5,000"),
        ("/api/inbox?limit=0", None, 400, "between 1 and 500"),
        ("/api/inbox?limit=many", None, 400, "whole number"),
        ("/?lang=fr", None, 400, "lang must be 'en' or 'es'"),
    ],
)
def test_bad_requests_get_a_clear_error(served: str, path: str, body: bytes | None, status: int, message: str) -> None:
    got, text, _ = _request(served + path, body)
    assert got == status
    assert message in json.loads(text)["error"]


def test_the_page_escapes_what_the_audience_wrote(served: str) -> None:
    status, page, _ = _request(f"{served}/")
    assert status == 200
    assert "why is my order late?" in page  # the waiting message is listed...
    assert '<script>alert("x")' not in page and "<img src=x" not in page and "<b>evil</b>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page  # ...as text


def test_the_draft_checker_works_in_a_real_browser(served: str, chromium: str) -> None:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page()
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("dialog", lambda dialog: errors.append(f"dialog opened: {dialog.message}"))
        page.goto(f"{served}/?lang=es")
        queue_text = page.locator("#queue").inner_text()
        page.fill("#draft-text", "Get yours today: 20% off everything, buy now! " + ATTACK)
        page.click("#check-button")
        page.locator("#check-result").wait_for(state="visible", timeout=30_000)
        label = page.locator("#check-label").inner_text()
        cues = page.locator("#check-cues li").all_inner_texts()
        suggestions = page.locator("#check-suggestions li").all_inner_texts()
        page.fill("#draft-text", " ")
        page.click("#check-button")
        page.locator("#check-error").wait_for(state="visible", timeout=30_000)
        empty_error = page.locator("#check-error").inner_text()
        browser.close()
    assert ATTACK in queue_text  # shown as the customer wrote it, never run
    assert label == "promotion"
    assert any("20% off" in cue for cue in cues) and suggestions
    assert "the draft is empty" in empty_error
    # The 400 of the empty draft is the one console error chromium logs; nothing ran from the posts.
    assert [e for e in errors if "400" not in e] == []


def test_equilibrio_serve_starts_labels_and_stops_on_ctrl_c(tmp_path: Path, ibm_sample: Path) -> None:
    db = tmp_path / "brand.duckdb"
    assert run("ingest", ibm_sample, "--db", db).returncode == 0
    with socket.socket() as probe:  # a free port for the command line (it binds its own socket)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "equilibrio", "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                status, page, _ = _request(f"http://127.0.0.1:{port}/")
                break
            except urllib.error.URLError:
                assert server.poll() is None, server.communicate()[1]
                assert time.monotonic() < deadline, "the app did not start within 120 s"
                time.sleep(0.5)
        assert status == 200 and "equilibrio" in page and "brand.duckdb" in page
    finally:
        server.send_signal(signal.SIGINT)
        stdout, stderr = server.communicate(timeout=60)
    assert server.returncode == 0 and "Traceback" not in stderr, stderr
    assert f"http://127.0.0.1:{port}/" in stdout
    # it labelled the new posts on the way, as the other store commands do
    with Workspace(Store(db)) as workspace:
        assert workspace.store.fetchone("SELECT count(*) FROM post_labels")[0] == workspace.info()["posts"]
