"""The web app: the balance at a glance, the draft checker and the unanswered queue, on one store.

``equilibrio serve --db brand.duckdb`` starts it on http://127.0.0.1:8000 (loopback only unless
``--host`` says otherwise). Pages and a small JSON API:

- ``GET /`` the app page (``?lang=es`` for Spanish), ``GET /report`` the full balance report;
- ``POST /api/check`` with ``{"text": "..."}``: the draft check (label, probabilities, cues, suggestions);
- ``GET /api/summary``: the report's figures as JSON; ``GET /api/inbox?limit=N``: the unanswered queue.

One DuckDB connection serves every request behind a lock: DuckDB lets one process write a store
file, and this process holds it while the app runs, so the figures are computed once per language
and kept.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

import jinja2
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from equilibrio._version import __version__
from equilibrio.api import Workspace
from equilibrio.errors import EquilibrioError
from equilibrio.insights.balance import Lang
from equilibrio.insights.draft import DEFAULT_PROMOTION_TARGET, check_draft_text
from equilibrio.nlp.brand_examples import intent_model_for
from equilibrio.nlp.embeddings import embed
from equilibrio.report.balance_report import report_data, report_html, report_json

MAX_DRAFT_CHARACTERS: Final = 5_000  # far above any platform's limit; a bigger body is not a post
MAX_INBOX_ROWS: Final = 500
QUEUE_ON_PAGE: Final = 20
QUEUE_SECONDS: Final = 60.0
_HEADERS: Final = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("equilibrio.app", "templates"),
    autoescape=True,  # posts are untrusted user content
    undefined=jinja2.StrictUndefined,
)

_WORDS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "title": "equilibrio",
        "score": "Balance score",
        "promotion_share": "Promotion share",
        "target": "target",
        "response_rate": "Response rate",
        "labelled": "brand posts labelled",
        "check": "Check a draft before publishing",
        "placeholder": "Paste the post you are about to publish",
        "check_button": "Check",
        "checking": "Checking…",
        "cues": "Cues",
        "suggestions": "Suggestions",
        "queue": "Waiting for an answer",
        "queue_empty": "Nobody is waiting for an answer.",
        "waiting": "waiting",
        "priority": "priority",
        "reasons": "why",
        "message": "message",
        "report": "Full report",
        "advice": "What to do",
        "other_lang": "Español",
        "no_data": "no data",
    },
    "es": {
        "title": "equilibrio",
        "score": "Puntuación de equilibrio",
        "promotion_share": "Cuota de promoción",
        "target": "objetivo",
        "response_rate": "Tasa de respuesta",
        "labelled": "publicaciones de la marca etiquetadas",
        "check": "Revisa un borrador antes de publicarlo",
        "placeholder": "Pega la publicación que vas a publicar",
        "check_button": "Revisar",
        "checking": "Revisando…",
        "cues": "Señales",
        "suggestions": "Sugerencias",
        "queue": "Esperan respuesta",
        "queue_empty": "Nadie espera respuesta.",
        "waiting": "espera",
        "priority": "prioridad",
        "reasons": "por qué",
        "message": "mensaje",
        "report": "Informe completo",
        "advice": "Qué hacer",
        "other_lang": "English",
        "no_data": "sin datos",
    },
}


class _BadRequest(Exception):
    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.status_code = status_code


class EquilibrioApp:
    """The app's state: one workspace, a lock around it, the figures computed once per language."""

    def __init__(self, workspace: Workspace, *, promotion_target: float | None = None) -> None:
        self.workspace = workspace
        self.promotion_target = promotion_target
        self._lock = threading.Lock()
        self._data: dict[Lang, dict[str, Any]] = {}
        self._reports: dict[Lang, str] = {}
        self._queues: dict[int, tuple[float, list[dict[str, Any]]]] = {}

    def warm_up(self) -> None:
        """Load the models and compute the figures now, so that the first visitor does not wait."""
        with self._lock:
            intent_model_for(self.workspace.store)
        embed(["load the encoder"])  # the accurate tier's, used for the drafts the fast tier is unsure of
        self.check("A first draft loads the language detector")
        self.data("en")
        self.inbox(QUEUE_ON_PAGE)

    def data(self, lang: Lang) -> dict[str, Any]:
        with self._lock:
            if lang not in self._data:
                self._data[lang] = report_data(self.workspace.store, lang=lang, promotion_target=self.promotion_target)
            return self._data[lang]

    def report(self, lang: Lang) -> str:
        data = self.data(lang)
        with self._lock:
            if lang not in self._reports:
                self._reports[lang] = report_html(self.workspace.store, lang=lang, data=data)
            return self._reports[lang]

    def check(self, text: str) -> dict[str, Any]:
        target = DEFAULT_PROMOTION_TARGET if self.promotion_target is None else self.promotion_target
        with self._lock:
            return check_draft_text(text, store=self.workspace.store, promotion_target=target).to_dict()

    def inbox(self, limit: int) -> list[dict[str, Any]]:
        # The queue's waiting times move with the clock, not only with the store: kept a minute.
        with self._lock:
            now = time.monotonic()
            kept = self._queues.get(limit)
            if kept is None or now - kept[0] > QUEUE_SECONDS:
                kept = self._queues[limit] = (now, self.workspace.inbox(limit))
            return kept[1]

    def page(self, lang: Lang) -> str:
        analysis = self.data(lang)["analysis"]
        return _ENV.get_template("app.html.j2").render(
            a=analysis,
            queue=self.inbox(QUEUE_ON_PAGE),
            words=_WORDS[lang],
            lang=lang,
            other_lang="es" if lang == "en" else "en",
            store_name=self.workspace.path.name if self.workspace.path else "in memory",
            version=__version__,
        )


def _lang(request: Request) -> Lang:
    value = request.query_params.get("lang", "en")
    if value == "en":
        return "en"
    if value == "es":
        return "es"
    raise _BadRequest(f"lang must be 'en' or 'es', not {value!r}")


def _limit(request: Request) -> int:
    value = request.query_params.get("limit", "50")
    try:
        limit = int(value)
    except ValueError:
        raise _BadRequest(f"limit must be a whole number, not {value!r}") from None
    if not 1 <= limit <= MAX_INBOX_ROWS:
        raise _BadRequest(f"limit must be between 1 and {MAX_INBOX_ROWS}, not {limit}")
    return limit


def _json(payload: object, status_code: int = 200) -> Response:
    body = json.dumps(payload, ensure_ascii=False, default=str)
    return Response(body, status_code=status_code, media_type="application/json", headers=_HEADERS)


async def _draft_text(request: Request) -> str:
    body = await request.body()
    if len(body) > 4 * MAX_DRAFT_CHARACTERS + 1_000:
        raise _BadRequest(f"the request is too large for a draft (at most {MAX_DRAFT_CHARACTERS:,} characters)", 413)
    try:
        payload = json.loads(body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _BadRequest(f'the body must be JSON like {{"text": "..."}}: {exc}') from None
    if not isinstance(payload, dict) or not isinstance(payload.get("text"), str):
        raise _BadRequest('the body must be a JSON object with a "text" string')
    text: str = payload["text"]
    if len(text) > MAX_DRAFT_CHARACTERS:
        raise _BadRequest(f"the draft has {len(text):,} characters; at most {MAX_DRAFT_CHARACTERS:,} are checked", 413)
    return text


def create_app(workspace: Workspace, *, promotion_target: float | None = None) -> Starlette:
    """The web app on ``workspace``'s store (an ASGI application; :func:`serve` runs it).

    >>> import equilibrio
    >>> create_app(equilibrio.load()).state.equilibrio.promotion_target is None
    True
    """
    state = EquilibrioApp(workspace, promotion_target=promotion_target)

    def errors_as_json(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                response: Response = await handler(request)
                return response
            except _BadRequest as exc:
                return _json({"error": str(exc)}, exc.status_code)
            except EquilibrioError as exc:  # bad input the library itself refused, e.g. an empty draft
                return _json({"error": str(exc)}, 400)

        return endpoint

    @errors_as_json
    async def home(request: Request) -> Response:
        page = await run_in_threadpool(state.page, _lang(request))
        return HTMLResponse(page, headers=_HEADERS)

    @errors_as_json
    async def report(request: Request) -> Response:
        page = await run_in_threadpool(state.report, _lang(request))
        return HTMLResponse(page, headers=_HEADERS)

    @errors_as_json
    async def summary(request: Request) -> Response:
        data = await run_in_threadpool(state.data, _lang(request))
        return Response(report_json(data), media_type="application/json", headers=_HEADERS)

    @errors_as_json
    async def inbox(request: Request) -> Response:
        return _json(await run_in_threadpool(state.inbox, _limit(request)))

    @errors_as_json
    async def check(request: Request) -> Response:
        text = await _draft_text(request)
        return _json(await run_in_threadpool(state.check, text))

    async def no_icon(request: Request) -> Response:
        return Response(status_code=204)

    app = Starlette(
        routes=[
            Route("/", home),
            Route("/report", report),
            Route("/api/summary", summary),
            Route("/api/inbox", inbox),
            Route("/api/check", check, methods=["POST"]),
            Route("/favicon.ico", no_icon),  # browsers ask for it on every page; the report has none
        ]
    )
    app.state.equilibrio = state
    return app


def _server(app: Starlette, host: str, port: int) -> uvicorn.Server:
    return uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))


def serve(app: Starlette, *, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the app until interrupted (Ctrl+C)."""
    app.state.equilibrio.warm_up()
    _server(app, host, port).run()


@contextmanager
def serve_in_background(app: Starlette, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run the app in a thread for the ``with`` block; yields its base URL (port 0: a free one).

    For notebooks and tests: the socket is bound before the server starts, so the URL is ready.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    server = _server(app, host, listener.getsockname()[1])
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True, name="equilibrio-app")
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the web app stopped while starting")
            threading.Event().wait(0.02)
        yield f"http://{host}:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()
