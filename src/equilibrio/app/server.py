"""The web app: the balance at a glance, the draft checker and the unanswered queue, on one store.

``equilibrio serve --db brand.duckdb`` starts it on http://127.0.0.1:8000 (loopback only unless
``--host`` says otherwise). Pages and a small JSON API:

- ``GET /`` the app page (``?lang=es`` for Spanish), ``GET /report`` the full balance report;
- ``POST /api/check`` with ``{"text": "..."}``: the draft check (label, probabilities, cues, suggestions);
- ``GET /api/summary``: the report's figures as JSON; ``GET /api/inbox?limit=N``: the unanswered queue;
- ``POST /api/ingest?filename=NAME[&format=F][&pseudonymize=1][&brand=@handle...]`` with the export
  as the body: imported as ``equilibrio ingest`` would (kept in ``STORE.uploads/`` beside the store,
  so the ingest log's source stays readable, unless pseudonymized), then its posts are labelled in
  the background;
- ``GET /label``: the brand posts the intent model is least sure of, to label with one click
  (``GET /api/to-label``, ``POST /api/examples`` with ``{"post_id": ..., "label": ...}``), then
  ``POST /api/relabel`` labels the store again with the model adapted to them, in a thread
  (``GET /api/relabel`` says how far it is).

One DuckDB connection serves every request behind a lock: DuckDB lets one process write a store
file, and this process holds it while the app runs, so the figures are computed once per language
and kept. The figures, the queue and the draft checker's model and week are read from what is kept,
so those pages answer while a relabel holds the store.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import math
import re
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, Final, Generic, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from equilibrio._version import __version__
from equilibrio.api import Workspace
from equilibrio.errors import EquilibrioError
from equilibrio.insights.balance import Lang
from equilibrio.insights.draft import DEFAULT_PROMOTION_TARGET, BrandWeek, brand_week, check_draft_text
from equilibrio.nlp.analyze import mode_for_backlog
from equilibrio.nlp.brand_examples import (
    brand_post_to_label,
    examples_by_label,
    intent_model_for,
    posts_to_label,
    store_intent_examples,
)
from equilibrio.nlp.embeddings import embed
from equilibrio.nlp.intent import INTENT_LABELS, IntentModel
from equilibrio.report._jinja import localized_number, template_environment
from equilibrio.report.balance_report import report_data, report_html, report_json

logger = logging.getLogger(__name__)

MAX_DRAFT_CHARACTERS: Final = 5_000  # far above any platform's limit; a bigger body is not a post
MAX_INBOX_ROWS: Final = 500
QUEUE_ON_PAGE: Final = 20
KEPT_SECONDS: Final = 60.0  # the queue and the draft checker's week: waiting times move with the clock
K = TypeVar("K")
V = TypeVar("V")
POSTS_TO_LABEL: Final = 20
MAX_UPLOAD_BYTES: Final = 2 * 1024**3  # an export of about ten million posts
# "same-origin": links out of the app (posts carry them) say nothing of it, while the app's own form
# posts keep their Origin, which the same-origin check reads ("no-referrer" turns it into "null").
# No framing: another site could otherwise show the labelling page under its own decoy and steal clicks.
_SECURITY_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
}

_ENV = template_environment("equilibrio.app")

# The background labelling reports its stages in English (equilibrio.nlp.analyze); the Spanish pages show these.
_STAGES_ES: Final = {
    "adapting the model": "adaptando el modelo",
    "labelling language, intent and questions": "etiquetando idioma, intención y preguntas",
    "scoring audience sentiment": "puntuando el sentimiento de la audiencia",
}

_WORDS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "title": "equilibrio",
        "score": "Balance score",
        "promotion_share": "Promotion share",
        "target": "target",
        "response_rate": "Response rate",
        "unstored_title": "Median reply time",
        "unstored_note": "{replies} replies to messages not in the store, timed by their X ids; a response rate "
        "needs the messages themselves",
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
        "teach": "Teach the model your brand",
        "teach_intro": "The model was trained on other brands; it reads a new one less well, in English most. "
        "Label the posts it is least sure of (about 40 is worth it), then relabel the store: the mix, the score "
        "and the draft checker then use the model adapted to your labels.",
        "model_says": "the model says",
        "saved_as": "saved as",
        "labelled_so_far": "Your labelled posts",
        "relabel": "Relabel the store with my labels",
        "relabelling": "Relabelling",
        "relabel_done": "Done: the store is labelled by",
        "nothing_to_label": "No brand post left to label.",
        "back": "Back to the overview",
        "label_names": "promotion|conversation|value",
        "upload": "Add an export",
        "brand_handles": "brand accounts",
        "pseudonymize": "replace audience handles with salted hashes",
        "upload_button": "Import",
        "uploading": "Importing…",
        "labelling_new": "Labelling the new posts",
        "rejected": "rejected (read = stored + rejected)",
        "login_intro": "This app asks for the access token it was started with (EQUILIBRIO_APP_TOKEN).",
        "token": "Access token",
        "login_button": "Open",
        "wrong_token": "That is not the token this app was started with.",
        "figures_before_labelling": "Labelling is running: the figures below are from before it. "
        "This page reloads when it is done.",
    },
    "es": {
        "title": "equilibrio",
        "score": "Puntuación de equilibrio",
        "promotion_share": "Cuota de promoción",
        "target": "objetivo",
        "response_rate": "Tasa de respuesta",
        "unstored_title": "Mediana del tiempo de respuesta",
        "unstored_note": "{replies} respuestas a mensajes que no están en el almacén, medidas por sus ids de X; la "
        "tasa de respuesta necesita los propios mensajes",
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
        "teach": "Enseña tu marca al modelo",
        "teach_intro": "El modelo se entrenó con otras marcas; lee peor una nueva, sobre todo en inglés. Etiqueta las "
        "publicaciones de las que está menos seguro (con unas 40 vale la pena) y vuelve a etiquetar el almacén: la "
        "mezcla, la puntuación y el revisor de borradores usarán el modelo adaptado a tus etiquetas.",
        "model_says": "el modelo dice",
        "saved_as": "guardada como",
        "labelled_so_far": "Tus publicaciones etiquetadas",
        "relabel": "Volver a etiquetar con mis etiquetas",
        "relabelling": "Etiquetando",
        "relabel_done": "Listo: el almacén está etiquetado por",
        "nothing_to_label": "No quedan publicaciones de la marca por etiquetar.",
        "back": "Volver al resumen",
        "label_names": "promoción|conversación|valor",
        "upload": "Añade una exportación",
        "brand_handles": "cuentas de la marca",
        "pseudonymize": "cambiar las cuentas de la audiencia por hashes con sal",
        "upload_button": "Importar",
        "uploading": "Importando…",
        "labelling_new": "Etiquetando las publicaciones nuevas",
        "rejected": "rechazadas (leídas = guardadas + rechazadas)",
        "login_intro": "Esta app pide el token de acceso con el que se inició (EQUILIBRIO_APP_TOKEN).",
        "token": "Token de acceso",
        "login_button": "Abrir",
        "wrong_token": "Ese no es el token con el que se inició esta app.",
        "figures_before_labelling": "El etiquetado está en marcha: las cifras de abajo son de antes. "
        "La página se recarga cuando termine.",
    },
}


class _BadRequest(Exception):
    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.status_code = status_code


class _Stopped(Exception):
    """The app is shutting down: the background labelling stops after its current batch."""


class _Kept(Generic[K, V]):
    """Values computed under the store's lock and kept, so that requests read them without it.

    A value serves while it is fresh: computed less than ``max_age`` seconds ago and not marked
    stale since. Past that it is computed again, unless the store is busy (a relabel holds it):
    then the old value serves, so the pages answer at worst with what was true when the relabel
    started, and refresh once the store is free.
    """

    def __init__(self, lock: threading.RLock, max_age: float = math.inf) -> None:
        self._lock = lock
        self._max_age = max_age
        self._values: dict[K, tuple[float | None, V]] = {}

    def _fresh(self, key: K) -> bool:
        computed_at = self._values[key][0] if key in self._values else None
        return computed_at is not None and time.monotonic() - computed_at <= self._max_age

    def get(self, key: K, compute: Callable[[], V]) -> V:
        if key in self._values:
            if self._fresh(key) or not self._lock.acquire(blocking=False):
                return self._values[key][1]
        else:
            self._lock.acquire()
        try:
            if not self._fresh(key):  # another request may have computed it while this one waited
                self._values[key] = (time.monotonic(), compute())
            return self._values[key][1]
        finally:
            self._lock.release()

    def put(self, key: K, value: V) -> None:
        """Keep ``value``, just computed by the caller under the store's lock."""
        self._values[key] = (time.monotonic(), value)

    def mark_stale(self) -> None:
        """The store changed: each value is computed again at its next use, once the store is free."""
        self._values = {key: (None, value) for key, (_, value) in self._values.items()}


class EquilibrioApp:
    """The app's state: one workspace, a lock around it, the figures computed once per language."""

    def __init__(self, workspace: Workspace, *, promotion_target: float | None = None) -> None:
        self.workspace = workspace
        self.promotion_target = promotion_target
        # Reentrant: a report is computed from the figures, which may be computed on the way.
        self._lock = threading.RLock()
        self._data: _Kept[Lang, dict[str, Any]] = _Kept(self._lock)
        self._reports: _Kept[Lang, str] = _Kept(self._lock)
        # Waiting times move with the clock, not only with the store, and so does "this week".
        self._queues: _Kept[int, list[dict[str, Any]]] = _Kept(self._lock, KEPT_SECONDS)
        self._draft_context: _Kept[None, tuple[IntentModel, BrandWeek]] = _Kept(self._lock, KEPT_SECONDS)
        self._examples: _Kept[None, dict[str, Any]] = _Kept(self._lock)
        self._to_label: _Kept[int, list[dict[str, Any]]] = _Kept(self._lock)
        self._relabel: dict[str, Any] = {"status": "idle"}
        self._relabel_guard = threading.Lock()
        self._stopping = threading.Event()

    def stop(self) -> None:
        """Let a background labelling finish its batch and stop, so the store can close cleanly."""
        self._stopping.set()
        with self._lock:  # taken once the labelling thread has let go of the store
            pass

    def warm_up(self) -> None:
        """Load the models and compute the figures now, so that the first visitor does not wait."""
        embed(["load the encoder"])  # the accurate tier's, used for the drafts the fast tier is unsure of
        self.check("A first draft loads the intent model and the language detector")
        self.data("en")
        self.inbox(QUEUE_ON_PAGE)

    def data(self, lang: Lang) -> dict[str, Any]:
        store, target = self.workspace.store, self.promotion_target
        return self._data.get(lang, lambda: report_data(store, lang=lang, promotion_target=target))

    def report(self, lang: Lang) -> str:
        return self._reports.get(lang, lambda: report_html(self.workspace.store, lang=lang, data=self.data(lang)))

    def check(self, text: str) -> dict[str, Any]:
        target = DEFAULT_PROMOTION_TARGET if self.promotion_target is None else self.promotion_target
        store = self.workspace.store
        # The model adapted to the brand's examples, and the brand's last week to compare the draft with.
        model, week = self._draft_context.get(None, lambda: (intent_model_for(store), brand_week(store)))
        return check_draft_text(text, model=model, week=week, promotion_target=target).to_dict()

    def inbox(self, limit: int) -> list[dict[str, Any]]:
        return self._queues.get(limit, lambda: self.workspace.inbox(limit))

    def examples(self) -> dict[str, Any]:
        return self._examples.get(None, lambda: examples_by_label(self.workspace.store))

    def add_example(self, post_id: str, label: str) -> dict[str, Any]:
        """Keep a brand post's label, given by a person, among the store's examples."""
        with self._lock:
            post = brand_post_to_label(self.workspace.store, post_id)
            if post is None:
                raise _BadRequest(f"no labelled brand post in Spanish or English has the id {post_id!r}", 404)
            text, lang = post
            store_intent_examples(self.workspace.store, [(text, lang, label)], "web app")  # checks the label
            # The checker's model is to be adapted to one more example, and the report says the labels are stale.
            self._forget_figures()
            counts = examples_by_label(self.workspace.store)
            self._examples.put(None, counts)
        return counts

    def to_label(self, limit: int) -> list[dict[str, Any]]:
        return self._to_label.get(limit, lambda: posts_to_label(self.workspace.store, limit))

    def upload_folder(self) -> Path:
        """Where uploaded exports are kept: beside the store, so that the ingest log's sources stay readable."""
        if self.workspace.path is None:
            return Path(tempfile.mkdtemp(prefix="equilibrio-uploads-"))
        folder = self.workspace.path.with_name(self.workspace.path.name + ".uploads")
        folder.mkdir(exist_ok=True)
        return folder

    def ingest(self, path: Path, *, format: str | None, pseudonymize: bool, brands: list[str]) -> dict[str, Any]:
        """Import an uploaded export, then label its posts in the background (as after relabel)."""
        with self._lock:
            if brands:
                self.workspace.add_brands(brands)
            results = self.workspace.ingest(path, format=format, pseudonymize=pseudonymize)
            self._forget_figures()
        return {"results": [result.as_dict() for result in results], "labelling": self.start_relabel()}

    def _forget_figures(self) -> None:
        """After the store changed (new posts, new labels): the mix, the score, the report and the queue."""
        for kept in (self._data, self._reports, self._queues, self._draft_context, self._examples, self._to_label):
            kept.mark_stale()

    def relabel_status(self) -> dict[str, Any]:
        return dict(self._relabel)

    def start_relabel(self) -> dict[str, Any]:
        """Label the store again with the model adapted to its examples, in a thread; poll the status."""
        with self._relabel_guard:
            if self._relabel["status"] != "running":
                self._relabel = {"status": "running", "stage": "adapting the model", "done": 0, "total": None}
                threading.Thread(target=self._run_relabel, daemon=True, name="equilibrio-relabel").start()
            return dict(self._relabel)

    def _run_relabel(self) -> None:
        def progress(done: int, total: int) -> None:
            if self._stopping.is_set():  # each finished batch is already committed
                raise _Stopped
            self._relabel = {**self._relabel, "done": done, "total": total}

        def on_stage(stage: str) -> None:
            self._relabel = {**self._relabel, "stage": stage, "done": 0, "total": None}

        try:
            with self._lock:
                result = self.workspace.analyze(progress=progress, on_stage=on_stage, choose_mode=mode_for_backlog)
                self._forget_figures()
            self._relabel = {"status": "done", **asdict(result)}
        except _Stopped:
            self._relabel = {"status": "stopped"}
        except Exception as exc:  # reported to the page; the store keeps every batch that finished
            logger.exception("relabelling failed")
            self._relabel = {"status": "failed", "error": str(exc)}

    def label_page(self, lang: Lang) -> str:
        return _ENV.get_template("label.html.j2").render(
            posts=self.to_label(POSTS_TO_LABEL),
            counts=self.examples(),
            labels=INTENT_LABELS,
            words=_WORDS[lang],
            stages=_STAGES_ES if lang == "es" else {},
            lang=lang,
            store_name=self._store_name(),
            version=__version__,
        )

    def _store_name(self) -> str:
        return self.workspace.path.name if self.workspace.path else "in memory"

    def page(self, lang: Lang) -> str:
        analysis = self.data(lang)["analysis"]
        return _ENV.get_template("app.html.j2").render(
            a=analysis,
            queue=self.inbox(QUEUE_ON_PAGE),
            words=_WORDS[lang],
            number=lambda value: localized_number(value, lang),
            lang=lang,
            other_lang="es" if lang == "en" else "en",
            stages=_STAGES_ES if lang == "es" else {},
            labelling_running=self._relabel["status"] == "running",
            store_name=self._store_name(),
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
    return Response(body, status_code=status_code, media_type="application/json")


async def _json_object(request: Request, fields: tuple[str, ...]) -> dict[str, str]:
    """The request's JSON object, whose ``fields`` must all be strings."""
    body = await request.body()
    if len(body) > 4 * MAX_DRAFT_CHARACTERS + 1_000:
        raise _BadRequest(f"the request is too large (a draft has at most {MAX_DRAFT_CHARACTERS:,} characters)", 413)
    shape = "{" + ", ".join(f'"{name}": "..."' for name in fields) + "}"
    try:
        payload = json.loads(body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _BadRequest(f"the body must be JSON like {shape}: {exc}") from None
    if not isinstance(payload, dict) or not all(isinstance(payload.get(name), str) for name in fields):
        raise _BadRequest(f"the body must be a JSON object of strings like {shape}")
    return {name: payload[name] for name in fields}


async def _draft_text(request: Request) -> str:
    text = (await _json_object(request, ("text",)))["text"]
    if len(text) > MAX_DRAFT_CHARACTERS:
        raise _BadRequest(f"the draft has {len(text):,} characters; at most {MAX_DRAFT_CHARACTERS:,} are checked", 413)
    return text


LOOPBACK_HOSTS: Final = ("127.0.0.1", "localhost", "::1")
SESSION_COOKIE: Final = "equilibrio_session"
_OPEN_PATHS: Final = frozenset({"/login", "/favicon.ico"})


def _session_value(token: str) -> str:
    # The cookie holds a digest of the token, not the token: a leaked cookie does not give the token away.
    return hmac.new(token.encode("utf-8"), b"equilibrio session", hashlib.sha256).hexdigest()


def _safe_next(path: str) -> str:
    """Where to go after logging in: a path of this app, never another site."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"


class _SecurityHeaders:
    """Adds :data:`_SECURITY_HEADERS` to every response, the middleware's own refusals included.

    The outermost middleware: a wrong ``Host`` (400), a foreign POST (403), the token gate's 401 and
    every route's answer all pass through it, so no response can forget them.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _SameOriginWrites:
    """Refuses requests that change the store (POST) when a browser sends them from another site.

    Without it, any web page the user opens could post to the app on 127.0.0.1 (a form or a
    ``no-cors`` fetch): add labels, import a forged export. Browsers say where a request comes from
    (``Origin``, ``Sec-Fetch-Site``); scripts and ``curl`` send neither and are let through.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            request = Request(scope)
            origin = request.headers.get("origin")
            fetch_site = request.headers.get("sec-fetch-site", "same-origin")
            # Host against host, whatever the scheme: behind a TLS proxy the page is https, the app http.
            foreign = origin is not None and urlsplit(origin).netloc != request.headers.get("host", "")
            if fetch_site not in ("same-origin", "none") or foreign:
                message = f"refused: a request from {origin or 'another site'} may not change this app's store"
                await _json({"error": message}, 403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class _TokenGate:
    """Lets through requests that carry the app's token: ``Authorization: Bearer`` or the cookie /login sets.

    Others get 401 (the API) or the login page (the pages). A pure ASGI middleware, so an upload's
    body streams through it untouched.
    """

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token
        self.session = _session_value(token)

    def allows(self, request: Request) -> bool:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(credentials.encode(), self.token.encode()):
            return True
        return hmac.compare_digest(request.cookies.get(SESSION_COOKIE, "").encode(), self.session.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if self.allows(request):
            await self.app(scope, receive, send)
            return
        response: Response
        if scope["path"].startswith("/api/"):
            message = "this app needs its access token: send 'Authorization: Bearer TOKEN', or log in at /login"
            response = _json({"error": message}, 401)
        else:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            response = RedirectResponse(f"/login?{urlencode({'next': target})}", 303)
        await response(scope, receive, send)


def create_app(
    workspace: Workspace,
    *,
    promotion_target: float | None = None,
    token: str | None = None,
    allowed_hosts: Sequence[str] = LOOPBACK_HOSTS,
) -> Starlette:
    """The web app on ``workspace``'s store (an ASGI application; :func:`serve` runs it).

    With ``token``, every page and API call needs it (``Authorization: Bearer``, or the session
    cookie that ``/login`` sets once the token is typed there). Requests must name one of
    ``allowed_hosts`` in their ``Host`` header (``["*"]``: any), which stops a hostile page from
    reaching the app through a DNS name it controls; a browser's POST from another site is refused.

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

    def html_page(render: Callable[[Lang], str]) -> Any:
        @errors_as_json
        async def endpoint(request: Request) -> Response:
            return HTMLResponse(await run_in_threadpool(render, _lang(request)))

        return endpoint

    @errors_as_json
    async def summary(request: Request) -> Response:
        data = await run_in_threadpool(state.data, _lang(request))
        return Response(report_json(data), media_type="application/json")

    @errors_as_json
    async def inbox(request: Request) -> Response:
        return _json(await run_in_threadpool(state.inbox, _limit(request)))

    @errors_as_json
    async def check(request: Request) -> Response:
        text = await _draft_text(request)
        return _json(await run_in_threadpool(state.check, text))

    @errors_as_json
    async def examples(request: Request) -> Response:
        if request.method == "GET":
            return _json(await run_in_threadpool(state.examples))
        payload = await _json_object(request, ("post_id", "label"))
        return _json(await run_in_threadpool(state.add_example, payload["post_id"], payload["label"]))

    @errors_as_json
    async def to_label(request: Request) -> Response:
        return _json(await run_in_threadpool(state.to_label, _limit(request)))

    @errors_as_json
    async def ingest(request: Request) -> Response:
        params = request.query_params
        name = re.sub(r"[^\w.-]+", "_", Path(params.get("filename", "")).name)[-100:].lstrip(".")
        if not name:
            raise _BadRequest("say the export's file name: /api/ingest?filename=tweets.csv")
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        path = state.upload_folder() / f"{stamp}-{name}"
        received = 0
        try:
            with path.open("wb") as upload:
                async for chunk in request.stream():
                    received += len(chunk)
                    if received > MAX_UPLOAD_BYTES:
                        raise _BadRequest(
                            f"{name}: larger than {MAX_UPLOAD_BYTES // 1024**3} GB; ingest it with the CLI", 413
                        )
                    upload.write(chunk)
            pseudonymize = params.get("pseudonymize", "") in ("1", "true", "on")
            result = await run_in_threadpool(
                state.ingest,
                path,
                format=params.get("format") or None,
                pseudonymize=pseudonymize,
                brands=params.getlist("brand"),
            )
        except Exception:
            path.unlink(missing_ok=True)  # nothing was stored from it: keep no copy
            raise
        if pseudonymize:
            path.unlink()  # a kept copy would hold the very handles the store was asked not to keep
        return _json(result)

    @errors_as_json
    async def relabel(request: Request) -> Response:
        if request.method == "GET":
            return _json(state.relabel_status())
        return _json(state.start_relabel(), 202)

    async def no_icon(request: Request) -> Response:
        return Response(status_code=204)

    @errors_as_json
    async def login(request: Request) -> Response:
        lang = _lang(request)
        next_path = _safe_next(request.query_params.get("next", "/"))
        wrong = False
        if request.method == "POST" and token is not None:
            body = await request.body()
            form = parse_qs(body[:10_000].decode("utf-8", "replace"))
            next_path = _safe_next(form.get("next", ["/"])[0])
            typed = form.get("token", [""])[0]
            if hmac.compare_digest(typed.encode(), token.encode()):
                response = RedirectResponse(next_path, 303)
                response.set_cookie(SESSION_COOKIE, _session_value(token), httponly=True, samesite="strict")
                return response
            wrong = True
        elif token is None:
            return RedirectResponse(next_path, 303)  # nothing to log in to
        page = _ENV.get_template("login.html.j2").render(words=_WORDS[lang], lang=lang, next=next_path, wrong=wrong)
        return HTMLResponse(page, status_code=401 if wrong else 200)

    app = Starlette(
        routes=[
            Route("/", html_page(state.page)),
            Route("/report", html_page(state.report)),
            Route("/api/summary", summary),
            Route("/api/inbox", inbox),
            Route("/api/check", check, methods=["POST"]),
            Route("/label", html_page(state.label_page)),
            Route("/api/examples", examples, methods=["GET", "POST"]),
            Route("/api/to-label", to_label),
            Route("/api/relabel", relabel, methods=["GET", "POST"]),
            Route("/api/ingest", ingest, methods=["POST"]),
            Route("/favicon.ico", no_icon),  # browsers ask for it on every page; the report has none
            Route("/login", login, methods=["GET", "POST"]),
        ],
        middleware=[
            Middleware(_SecurityHeaders),
            Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts), www_redirect=False),
            Middleware(_SameOriginWrites),
            *([Middleware(_TokenGate, token=token)] if token is not None else []),
        ],
    )
    app.state.equilibrio = state
    return app


def _server(app: Starlette, host: str, port: int) -> uvicorn.Server:
    return uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))


def serve(app: Starlette, *, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the app until interrupted (Ctrl+C)."""
    app.state.equilibrio.warm_up()
    try:
        _server(app, host, port).run()
    finally:
        app.state.equilibrio.stop()


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
        app.state.equilibrio.stop()
