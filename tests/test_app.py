"""The web app, served by uvicorn on loopback and driven over HTTP and in Debian's chromium."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPMessage
from pathlib import Path
from typing import Any

import pytest

from equilibrio.api import Workspace
from equilibrio.app import create_app, serve_in_background, server
from equilibrio.insights.draft import brand_week
from equilibrio.store.duck import Store
from tests.conftest import BrowserPage
from tests.test_cli import run

TOKEN = "a-test-token-of-enough-length"
ATTACK = '<script>alert("x")</script> why is my order late? <img src=x onerror=alert(1)>'


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the caller reads the 303 itself


def _request(
    url: str, body: bytes | None = None, headers: dict[str, str] | None = None, *, follow_redirects: bool = True
) -> tuple[int, str, HTTPMessage]:
    """Status, text and headers (looked up in any case) of a GET, or a POST of ``body``."""
    request = urllib.request.Request(
        url, data=body, headers=headers or {}, method="POST" if body is not None else "GET"
    )
    opener = urllib.request.build_opener(*([] if follow_redirects else [_NoRedirect]))
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, response.read().decode("utf-8"), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8"), error.headers


def _raw(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, str, HTTPMessage]:
    """The answer itself: a redirect is returned, not followed."""
    return _request(url, body, headers, follow_redirects=False)


def _post(url: str, payload: Any) -> tuple[int, dict[str, Any]]:
    status, body, _ = _request(url, json.dumps(payload).encode("utf-8") if payload is not None else b"")
    result: dict[str, Any] = json.loads(body)
    return status, result


def _post_bytes(url: str, body: bytes) -> tuple[int, dict[str, Any]]:
    status, text, _ = _request(url, body)
    result: dict[str, Any] = json.loads(text)
    return status, result


def _labelling_finished(base: str) -> dict[str, Any]:
    """Wait for the app's background labelling (after a relabel or an upload); its last state."""
    deadline = time.monotonic() + 300
    while (state := json.loads(_request(f"{base}/api/relabel")[1]))["status"] == "running":
        assert time.monotonic() < deadline, state
        time.sleep(0.3)
    return state


def _check(base: str, payload: Any) -> tuple[int, dict[str, Any]]:
    return _post(f"{base}/api/check", payload)


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

    status, _, headers = _request(f"{served}/label")
    assert status == 200 and headers["x-frame-options"] == "DENY"
    assert headers["content-security-policy"] == "frame-ancestors 'none'"

    status, body, _ = _request(f"{served}/api/inbox?limit=5")
    queue = json.loads(body)
    assert status == 200 and 1 <= len(queue) <= 5 and [item["rank"] for item in queue] == list(range(1, len(queue) + 1))

    status, body, _ = _request(f"{served}/report?lang=es")
    assert status == 200 and '<html lang="es">' in body and "data-chart" in body


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/api/check", b"not json", 400, "must be JSON"),
        ("/api/check", b'{"draft": "hola"}', 400, 'like {"text": "..."}'),
        ("/api/examples", b'{"post_id": 7, "label": "value"}', 400, 'like {"post_id": "...", "label": "..."}'),
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


def test_the_draft_checker_works_in_a_real_browser(served: str, browser_page: BrowserPage) -> None:
    page = browser_page.page
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
    assert ATTACK in queue_text  # shown as the customer wrote it, never run
    assert label == "promotion"
    assert any("20% off" in cue for cue in cues) and suggestions
    assert "the draft is empty" in empty_error
    # The 400 of the empty draft is the one console error chromium logs; nothing ran from the posts.
    assert [e for e in browser_page.errors if "400" not in e] == []


@pytest.mark.parametrize("token", [None, TOKEN], ids=["no token", "token"])
def test_equilibrio_serve_starts_labels_and_stops_on_ctrl_c(
    tmp_path: Path, ibm_sample: Path, token: str | None
) -> None:
    db = tmp_path / "brand.duckdb"
    assert run("ingest", ibm_sample, "--db", db).returncode == 0
    with socket.socket() as probe:  # a free port for the command line (it binds its own socket)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {key: value for key, value in os.environ.items() if key != "EQUILIBRIO_APP_TOKEN"}
    server = subprocess.Popen(
        [sys.executable, "-m", "equilibrio", "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment if token is None else {**environment, "EQUILIBRIO_APP_TOKEN": token},
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
        if token is not None:
            assert status == 200 and 'name="token"' in page  # sent to the login page
            status, page, _ = _raw(f"http://127.0.0.1:{port}/", headers={"Authorization": f"Bearer {token}"})
        assert status == 200 and "equilibrio" in page and "brand.duckdb" in page
    finally:
        server.send_signal(signal.SIGINT)
        stdout, stderr = server.communicate(timeout=60)
    assert server.returncode == 0 and "Traceback" not in stderr, stderr
    assert f"http://127.0.0.1:{port}/" in stdout
    if token is not None:
        assert "EQUILIBRIO_APP_TOKEN" in stdout and token not in stdout + stderr  # named, never shown
    # it labelled the new posts on the way, as the other store commands do
    with Workspace(Store(db)) as workspace:
        assert workspace.store.fetchone("SELECT count(*) FROM post_labels")[0] == workspace.info()["posts"]


def test_labelling_posts_adapts_the_model_that_labels_the_store(served: str) -> None:
    assert json.loads(_request(f"{served}/api/summary")[1])["analysis"]["intent_labelling"]["own_examples"] == 0
    status, body, _ = _request(f"{served}/api/to-label?limit=5")
    offered = json.loads(body)
    assert status == 200 and len(offered) == 5
    confidences = [post["confidence"] for post in offered]
    assert confidences == sorted(confidences)  # least sure first

    for post in offered[:3]:
        status, counts = _post(f"{served}/api/examples", {"post_id": post["post_id"], "label": "conversation"})
        assert status == 200
    assert counts == {"examples": 3, "by_label": {"promotion": 0, "conversation": 3, "value": 0}}
    assert _post(f"{served}/api/examples", {"post_id": offered[0]["post_id"], "label": "spam"})[0] == 400
    assert _post(f"{served}/api/examples", {"post_id": "twitter:nope", "label": "value"})[0] == 404

    draft = {"text": "Thanks for writing to us, we are looking into it"}
    assert "+own-" in _post(f"{served}/api/check", draft)[1]["model_version"]  # drafts too, at once
    labelling = json.loads(_request(f"{served}/api/summary")[1])["analysis"]["intent_labelling"]
    assert (labelling["own_examples"], labelling["stale"]) == (3, True)  # the overview asks for a relabel

    status, started = _post(f"{served}/api/relabel", None)
    assert status == 202 and started["status"] in ("running", "done")
    state = _labelling_finished(served)
    assert state["status"] == "done", state
    assert "+own-" in state["model_version"] and state["labelled"] > 0

    labelling = json.loads(_request(f"{served}/api/summary")[1])["analysis"]["intent_labelling"]
    assert (labelling["adapted"], labelling["own_examples"], labelling["stale"]) == (True, 3, False)
    still_offered = {post["text"] for post in json.loads(_request(f"{served}/api/to-label?limit=500")[1])}
    assert not still_offered & {post["text"] for post in offered[:3]}


def test_labelling_in_a_real_browser(served: str, browser_page: BrowserPage) -> None:
    page = browser_page.page
    page.goto(f"{served}/")
    page.click("text=Teach the model your brand")
    first = page.locator(".post").first
    first.locator("button[data-label=value]").click()
    first.locator(".saved").filter(has_text="saved as value").wait_for(timeout=30_000)
    assert page.locator("#example-count").inner_text() == "1"
    assert page.locator("#example-breakdown").inner_text() == "promotion 0, conversation 0, value 1"
    assert browser_page.errors == []


def _export(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode("utf-8")


REFUND = {
    "post_id": "upload-1",
    "platform": "twitter",
    "account_id": "customer-2",
    "handle": "shopper",
    "created_at": "2020-03-21T09:00:00Z",
    "text": "@AdobeCare where is my refund? It has been two weeks",
    "kind": "mention",
}


def test_an_uploaded_export_is_ingested_kept_and_labelled(served: str, workspace: Workspace) -> None:
    posts_before = workspace.info()["posts"]
    no_date = {**REFUND, "post_id": "upload-2", "created_at": None}
    brand_post = {**REFUND, "post_id": "upload-3", "account_id": "newbrand", "handle": "NewBrand", "kind": "post"}
    body = _export([REFUND, no_date, {**brand_post, "text": "New: our spring sale, 30% off everything"}])
    status, result = _post_bytes(f"{served}/api/ingest?filename=../my%20export.jsonl&brand=@NewBrand", body)
    assert status == 200, result
    (ingested,) = result["results"]
    assert (ingested["rows_read"], ingested["rows_stored"], ingested["rows_rejected"]) == (3, 2, 1)
    kept = Path(ingested["source"])
    assert kept.parent.name == "brand.duckdb.uploads" and kept.name.endswith("-my_export.jsonl")
    assert kept.read_bytes() == body  # the export as uploaded, named in the ingest log

    state = _labelling_finished(served)
    assert state["status"] == "done" and state["labelled"] == 2
    assert workspace.info()["posts"] == posts_before + 2
    assert "newbrand" in workspace.brands
    labels = workspace.store.fetchall("SELECT intent FROM post_labels WHERE post_id = 'twitter:upload-3'")
    assert labels == [("promotion",)]


def test_a_pseudonymized_upload_is_not_kept(served: str, workspace: Workspace) -> None:
    status, result = _post_bytes(f"{served}/api/ingest?filename=mentions.jsonl&pseudonymize=1", _export([REFUND]))
    assert status == 200 and result["results"][0]["rows_stored"] == 1
    assert _labelling_finished(served)["status"] == "done"  # the store is the app's until then
    assert list((workspace.path.parent / "brand.duckdb.uploads").iterdir()) == []  # type: ignore[union-attr]
    handles = workspace.store.fetchall("SELECT handle FROM accounts WHERE account_id LIKE '%anon-%'")
    assert handles and all(str(handle).startswith("anon-") for (handle,) in handles)


def test_a_bad_upload_is_refused_and_not_kept(served: str, workspace: Workspace) -> None:
    status, result = _post_bytes(f"{served}/api/ingest?filename=notes.txt", b"just some notes, not an export\n")
    assert status == 400 and "notes.txt" in result["error"]
    assert list((workspace.path.parent / "brand.duckdb.uploads").iterdir()) == []  # type: ignore[union-attr]
    status, result = _post_bytes(f"{served}/api/ingest", b"{}")
    assert status == 400 and "file name" in result["error"]


def test_uploading_in_a_real_browser(served: str, browser_page: BrowserPage, tmp_path: Path) -> None:
    export = tmp_path / "mentions.jsonl"
    export.write_bytes(_export([REFUND]))
    page = browser_page.page
    page.goto(f"{served}/")
    assert "where is my refund?" not in page.locator("#queue").inner_text()
    page.set_input_files("#upload-file", str(export))
    with page.expect_navigation(timeout=120_000):  # the page reloads once the new posts are labelled
        page.click("#upload-button")
    assert "where is my refund?" in page.locator("#queue").inner_text()
    assert browser_page.errors == []


def test_stopping_the_app_ends_background_labelling_after_its_batch(workspace: Workspace, ibm_sample: Path) -> None:
    workspace.ingest(ibm_sample)
    state = create_app(workspace).state.equilibrio
    state.stop()  # as the server does when it shuts down
    assert state.start_relabel()["status"] == "running"
    deadline = time.monotonic() + 300
    while state.relabel_status()["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert state.relabel_status() == {"status": "stopped"}
    state.stop()  # returns at once: nothing holds the store
    labelled = workspace.store.fetchone("SELECT count(*) FROM post_labels")[0]
    assert labelled == workspace.info()["posts"]  # the batch it finished (the whole sample) is kept


def test_the_overview_answers_while_a_relabel_holds_the_store(workspace: Workspace, ibm_sample: Path) -> None:
    workspace.ingest(ibm_sample)
    workspace.analyze(mode="fast")
    state = create_app(workspace).state.equilibrio
    state.page("en")  # figures and queue computed and kept
    pool = ThreadPoolExecutor(1)
    with state._lock:  # as the relabel thread holds it; a page that waited for it would time out here
        page = pool.submit(state.page, "en").result(timeout=30)
    pool.shutdown()
    assert "Waiting for an answer" in page


def test_a_timeline_without_audience_messages_shows_how_fast_its_replies_came(
    workspace: Workspace, shared_data: Path
) -> None:
    # Tesla's own timeline: no message to answer is stored, so no response rate; its replies are timed by ids.
    workspace.add_brands(["@Tesla"])
    workspace.ingest(shared_data / "brand_posts" / "en_tesla_2014_2019.csv")
    workspace.analyze(mode="fast")
    unstored = workspace.conversation()["replies_to_unstored_messages"]
    state = create_app(workspace).state.equilibrio
    for lang, title, note in (
        ("en", "Median reply time", "1,342 replies to messages not in the store"),
        ("es", "Mediana del tiempo de respuesta", "1.342 respuestas a mensajes que no están en el almacén"),
    ):
        page = state.page(lang)
        assert 'id="unstored-replies"' in page and title in page and note in page
        assert f'<div class="big">{unstored["median_minutes"]} min</div>' in page
        assert (
            f"· {'2,617' if lang == 'en' else '2.617'} " in page
        )  # labelled brand posts, grouped as the language does


def test_drafts_and_the_queue_answer_while_a_relabel_holds_the_store(
    workspace: Workspace, ibm_sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace.ingest(ibm_sample)
    workspace.analyze(mode="fast")
    state = create_app(workspace).state.equilibrio
    draft = "Get yours today: 20% off every plan"
    checked, queue, page, labelling = state.check(draft), state.inbox(5), state.page("en"), state.label_page("en")
    # the sample's two customers whom the agent never answered (it answered the second person in the thread)
    assert checked["details"]["week"]["posts"] > 0 and len(queue) == 2
    pool = ThreadPoolExecutor(1)
    with state._lock:  # as the relabel thread that follows an upload holds it
        state._forget_figures()  # as the upload did: what is kept is now stale, to refresh when the store is free
        assert pool.submit(state.check, draft).result(timeout=30) == checked
        assert pool.submit(state.inbox, 5).result(timeout=30) == queue
        assert pool.submit(state.page, "en").result(timeout=30) == page
        assert pool.submit(state.label_page, "en").result(timeout=30) == labelling
    pool.shutdown()
    calls: list[str] = []
    monkeypatch.setattr(server, "brand_week", lambda store: calls.append("week") or brand_week(store))
    assert state.check(draft) == checked  # the store is free again: computed anew, from the same store
    assert calls == ["week"]
    state.check(draft)
    assert calls == ["week"]  # and kept


def test_every_labelling_stage_has_its_spanish_words(workspace: Workspace, ibm_sample: Path) -> None:
    from equilibrio.app.server import _STAGES_ES

    workspace.ingest(ibm_sample)
    stages: list[str] = []
    workspace.analyze(mode="fast", on_stage=stages.append)
    assert stages and set(stages) <= set(_STAGES_ES)


@pytest.fixture
def guarded(workspace: Workspace, ibm_sample: Path) -> Iterator[str]:
    """The app on the IBM care sample, started with an access token."""
    workspace.ingest(ibm_sample)
    workspace.analyze(mode="fast")
    with serve_in_background(create_app(workspace, token=TOKEN)) as base:
        yield base


def test_with_a_token_the_api_and_the_pages_ask_for_it(guarded: str) -> None:
    status, body, _ = _raw(f"{guarded}/api/summary")
    assert status == 401 and "Authorization: Bearer" in json.loads(body)["error"]
    assert _raw(f"{guarded}/api/summary", headers={"Authorization": "Bearer wrong-token"})[0] == 401
    status, body, _ = _raw(f"{guarded}/api/summary", headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and "analysis" in json.loads(body)
    check = json.dumps({"text": "Buy now"}).encode()
    assert _raw(f"{guarded}/api/check", check)[0] == 401  # nothing is read or written without it
    assert _raw(f"{guarded}/api/ingest?filename=x.jsonl", b"{}")[0] == 401

    status, _, headers = _raw(f"{guarded}/label?lang=es")
    assert status == 303 and headers["Location"] == "/login?next=%2Flabel%3Flang%3Des"
    status, page, _ = _raw(f"{guarded}/login?next=%2Flabel%3Flang%3Des")
    assert status == 200 and 'name="token"' in page and TOKEN not in page
    assert _raw(f"{guarded}/login?lang=fr")[0] == 400

    form = urllib.parse.urlencode({"token": "wrong", "next": "/label?lang=es"}).encode()
    status, page, headers = _raw(f"{guarded}/login", form)
    assert status == 401 and "not the token" in page and "Set-Cookie" not in headers
    form = urllib.parse.urlencode({"token": TOKEN, "next": "/label?lang=es"}).encode()
    status, _, headers = _raw(f"{guarded}/login", form)
    cookie = headers["Set-Cookie"]
    assert status == 303 and headers["Location"] == "/label?lang=es"
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and TOKEN not in cookie
    session = cookie.split(";")[0]
    assert _raw(f"{guarded}/label?lang=es", headers={"Cookie": session})[0] == 200
    assert _raw(f"{guarded}/api/check", check, headers={"Cookie": session})[0] == 200
    assert _raw(f"{guarded}/", headers={"Cookie": session + "x"})[0] == 303

    for elsewhere in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        form = urllib.parse.urlencode({"token": TOKEN, "next": elsewhere}).encode()
        assert _raw(f"{guarded}/login", form)[2]["Location"] == "/"  # never sent to another site


def test_logging_in_with_the_token_in_a_real_browser(guarded: str, browser_page: BrowserPage) -> None:
    page = browser_page.page
    page.goto(f"{guarded}/")
    assert "/login" in page.url
    page.fill("#token", TOKEN)
    page.click("button[type=submit]")
    page.locator("#draft-text").wait_for(timeout=30_000)
    page.fill("#draft-text", "Get yours today: 20% off everything, buy now!")
    page.click("#check-button")
    page.locator("#check-result").wait_for(state="visible", timeout=30_000)
    assert page.locator("#check-label").inner_text() == "promotion"  # the page's own calls carry the cookie
    assert browser_page.errors == []


def test_serve_refuses_other_hosts_without_a_token_and_short_tokens(tmp_path: Path) -> None:
    db = tmp_path / "brand.duckdb"
    done = run("serve", "--db", db, "--host", "0.0.0.0")
    assert done.returncode == 2 and "EQUILIBRIO_APP_TOKEN" in done.stderr
    environment = {**os.environ, "EQUILIBRIO_APP_TOKEN": "short"}
    done = subprocess.run(
        [sys.executable, "-m", "equilibrio", "serve", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )
    assert done.returncode == 2 and "shorter than 16 characters" in done.stderr
    assert not db.exists()  # refused before anything was opened


def test_concurrent_draft_checks_answer_as_one_at_a_time(workspace: Workspace, ibm_sample: Path) -> None:
    # Drafts no longer queue behind the store's lock, so several run at once in the server's threads,
    # through the same model, encoder and language detector.
    workspace.ingest(ibm_sample)
    workspace.analyze(mode="fast")
    state = create_app(workspace).state.equilibrio
    drafts = [
        "Get yours today: 20% off every plan",
        "¿Qué tal su fin de semana? Cuéntennos",
        "5 tips to save energy at home this winter",
        "Thank you all for the birthday wishes!",
        "¡Participa y gana!",
        "Hola Ana, ya revisamos tu caso y te escribimos por DM",
    ] * 4
    one_at_a_time = [state.check(draft) for draft in drafts]
    with ThreadPoolExecutor(4) as pool:
        at_once = list(pool.map(state.check, drafts))
    assert at_once == one_at_a_time
    assert {result["label"] for result in at_once} >= {"promotion", "conversation", "value"}


def test_the_page_says_its_figures_predate_a_running_relabel_and_reloads_after_it(
    workspace: Workspace, ibm_sample: Path, browser_page: BrowserPage
) -> None:
    workspace.ingest(ibm_sample)
    workspace.analyze(mode="fast")
    app = create_app(workspace)
    state = app.state.equilibrio
    assert "labelling-notice" not in state.page("en")
    state._relabel = {"status": "running", "stage": "labelling language, intent and questions", "done": 3, "total": 9}
    assert "las cifras de abajo son de antes" in state.page("es")
    page = browser_page.page
    with serve_in_background(app) as base:
        page.goto(f"{base}/?lang=es")
        page.locator("#labelling-notice").wait_for(timeout=30_000)
        page.wait_for_function("document.getElementById('upload-status').textContent.includes('3 / 9')")
        assert "etiquetando idioma" in page.locator("#upload-status").inner_text()
        state._relabel = {"status": "done"}
        page.locator("#labelling-notice").wait_for(state="detached", timeout=30_000)  # reloaded
    assert browser_page.errors == []


def test_other_sites_cannot_post_to_the_app_nor_reach_it_by_another_name(served: str, workspace: Workspace) -> None:
    label = json.dumps({"post_id": "twitter:nope", "label": "value"}).encode()
    port = served.rsplit(":", 1)[1]
    for headers in (
        {"Origin": "http://evil.example"},
        {"Origin": "null"},  # a sandboxed frame or a file
        {"Origin": f"http://localhost:{port}"},  # the same app under another name is another origin
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # another app on this machine
    ):
        status, body, refusal_headers = _raw(f"{served}/api/examples", label, headers=headers)
        assert status == 403 and "may not change this app's store" in json.loads(body)["error"], headers
        assert refusal_headers["x-frame-options"] == "DENY"
    export = (
        b'{"post_id": "forged-1", "platform": "twitter", "account_id": "x", "created_at": "2024-01-01T00:00:00Z"}\n'
    )
    posts = workspace.info()["posts"]
    assert _raw(f"{served}/api/ingest?filename=forged.jsonl", export, {"Origin": "http://evil.example"})[0] == 403
    assert workspace.info()["posts"] == posts and not list(Path(str(workspace.path) + ".uploads").glob("*"))
    assert _raw(f"{served}/api/ingest?filename=forged.jsonl", export)[0] == 200  # the same upload from a script
    assert _labelling_finished(served)["status"] == "done"
    assert workspace.info()["posts"] == posts + 1
    # The app's own pages, scripts and curl: same origin, or no Origin at all.
    assert _raw(f"{served}/api/examples", label, headers={"Origin": served, "Sec-Fetch-Site": "same-origin"})[0] == 404
    assert _raw(f"{served}/api/examples", label)[0] == 404
    behind_tls = {"Origin": served.replace("http://", "https://")}  # a TLS proxy in front of the app
    assert _raw(f"{served}/api/examples", label, headers=behind_tls)[0] == 404

    status, body, refusal_headers = _raw(f"{served}/api/summary", headers={"Host": f"evil.example:{port}"})
    assert status == 400 and "Invalid host header" in body  # DNS rebinding
    # Every answer carries the security headers, Starlette's own refusal and the empty icon too.
    assert refusal_headers["x-content-type-options"] == "nosniff"
    status, _, icon_headers = _raw(f"{served}/favicon.ico")
    assert status == 204 and icon_headers["content-security-policy"] == "frame-ancestors 'none'"
    assert _raw(f"{served}/api/summary", headers={"Host": f"localhost:{port}"})[0] == 200


def test_any_host_name_when_the_app_is_told_so(workspace: Workspace, ibm_sample: Path) -> None:
    workspace.ingest(ibm_sample)
    with serve_in_background(create_app(workspace, token=TOKEN, allowed_hosts=["*"])) as base:
        headers = {"Host": "equilibrio.example.org", "Authorization": f"Bearer {TOKEN}"}
        assert _raw(f"{base}/api/examples", headers=headers)[0] == 200
