"""The FastAPI application: see :mod:`rainforest.web` for the rules it enforces."""

from __future__ import annotations

import base64
import binascii
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from rainforest.errors import DocumentError, UnknownIdError
from rainforest.model.ecosystem import Ecosystem
from rainforest.store import ConflictError, StaleError, Store, StoreError, User

DIRECTORY = ("id", "name", "sector")
FAILURES = 5  # failed sign-ins per user name and address ...
WINDOW_S = 15 * 60  # ... within this window block sign-in for as long
#: failed sign-ins from one address, whatever the user names, within the window: each costs
#: an Argon2id check (64 MiB, about 0.4 s), so fresh user names must not make it free
FAILURES_PER_ADDRESS = 30
STOP_GRACE_S = 3.0  # at shutdown, how long running jobs get to stop


@dataclass(frozen=True)
class Access:
    """What the caller may do in one ecosystem."""

    slug: str
    role: str  # admin | manager | member | observer
    actor: str | None = None

    @property
    def sees_all(self) -> bool:
        return self.role in ("admin", "manager", "observer")

    @property
    def manages(self) -> bool:
        return self.role in ("admin", "manager")

    def nav(self, here: str) -> dict[str, Any]:
        """What the pages' navigation bar needs: where the caller is and what it may see."""
        return {
            "slug": self.slug,
            "role": self.role,
            "actor": self.actor,
            "here": here,
            "sees_all": self.sees_all,
            "manages": self.manages,
        }


def visible_document(eco: Ecosystem, access: Access) -> dict[str, Any]:
    """The ``rainforest/1`` document as the caller may see it (rules in :mod:`rainforest.web`)."""
    doc = eco.to_dict()
    if access.sees_all:
        return doc
    me = access.actor
    actors = []
    for record in doc.get("actors", []):
        if record["id"] == me:
            actors.append(record)
            continue
        public = set(DIRECTORY) | set(record.get("x_public") or ())
        actors.append({k: v for k, v in record.items() if k in public})
    doc["actors"] = actors
    for section in ("offers", "needs"):
        shown = []
        for record in doc.get(section, []):
            if record["actor"] == me or record.get("confidential") is False:
                shown.append(record)
            else:
                shown.append(
                    {k: v for k, v in record.items() if k in ("actor", "resource", "resources", "supply_pattern")}
                )
        if section in doc:
            doc[section] = shown
    if "flows" in doc:
        doc["flows"] = [f for f in doc["flows"] if me in (f["from"], f["to"])]
    for section in ("stocks",):
        if section in doc:
            doc[section] = [r for r in doc[section] if r["actor"] == me]
    for section in ("links", "modules", "essentiality"):
        doc.pop(section, None)
    return doc


def _shows(access: Access, record: Any) -> bool:
    """Whether the caller sees an offer's or a need's quantities, quality and prices."""
    return access.sees_all or record.actor == access.actor or record.confidential is False


def _within(km: float) -> str:
    """A distance as a bound (1, 2, 5, 10, 20, 50... km): exact distances would place a
    firm whose location is not public."""
    step = 1.0
    while True:
        for k in (1.0, 2.0, 5.0):
            if km <= k * step:
                return f"within {k * step:g} km"
        step *= 10


def visible_candidates(eco: Ecosystem, cands: list[Any], access: Access) -> list[dict[str, Any]]:
    """The candidate exchanges (:func:`rainforest.optimize.exchanges.candidates`) the caller
    may see, as plain data: all of them for managers and observers; for a member, those its
    actor is a party to. A candidate built on the other party's confidential offer or need
    shows no quantity, quality or price of it ("farm: a firm within 50 km needs ash"), and
    the distance to a firm whose location is not public is a bound, never exact."""
    out = []
    for c in cands:
        row = {
            "source": c.source,
            "target": c.target,
            "resource": c.resource,
            "upper": c.upper,
            "saving": c.unit_saving,
            "why": c.why,
            "saves": c.saves,
            "limits": c.limits,
            "open": True,
        }
        if access.sees_all:
            out.append(row)
            continue
        me = access.actor
        if me not in (c.source, c.target):
            continue
        offer, need = eco.offers[c.offer], eco.needs[c.need]
        other = c.target if me == c.source else c.source
        public = eco.actor(other).extensions.get("x_public") or ()
        near = ""
        if c.distance_km is not None and "location" not in public:
            near = " " + _within(c.distance_km)
            row["limits"] = "; ".join(
                near.strip() if part.endswith(" km apart") else part for part in c.limits.split("; ")
            )
        if _shows(access, offer) and _shows(access, need):
            out.append(row)
            continue
        if me == c.source:
            why = f"{other}: a firm{near} needs {need.accepted[0]}; you offer {offer.resource}"
            limits = f"your offer {offer.quantity:g}"
        else:
            why = f"{other}: a firm{near} offers {offer.resource}; you need {need.accepted[0]}"
            limits = f"your need {need.quantity:g}"
        row.update(
            upper=None,
            saving=None,
            why=why,
            saves=f"n/a: the quantity and price of {other} are confidential; agree them in a proposal",
            limits=limits + (f";{near}" if near else ""),
            open=False,
        )
        out.append(row)
    return out


def visible_ledger(eco: Ecosystem, proposals: list[Any], access: Access) -> dict[str, Any]:
    """The impact ledger of the agreed active exchanges (every one of the ecosystem) as the
    caller may see it: managers and observers all of it; a member the rows of its own
    exchanges and the totals. Money saved includes the parties' prices and disposal costs,
    so a member sees it (a row's, its actor's, the total) only when every offer and need
    behind it is its own or not confidential; else ``null`` with the reason."""
    from rainforest.optimize import exchanges

    counted = [p for p in proposals if p.status == "active" and p.agreed]
    plan, skipped = exchanges.evaluate(eco, [(p.source, p.target, p.resource, p.quantity) for p in counted])
    ledger = exchanges.impacts(eco, plan)
    ledger["not_valued"] = skipped
    ledger["active"] = len(counted)
    if access.sees_all:
        return ledger
    me = access.actor
    secret = [not (_shows(access, eco.offers[e.offer]) and _shows(access, eco.needs[e.need])) for e in plan.exchanges]
    reason = "includes the confidential price or disposal cost of another firm"
    rows = []
    for row, hidden in zip(ledger["exchanges"], secret, strict=True):
        if me not in (row["from"], row["to"]):
            continue
        if hidden:
            row = {**row, "money_saved": None, "money_saved_reason": reason}
        rows.append(row)
    ledger["exchanges"] = rows
    actors = {k: v for k, v in ledger["actors"].items() if k == me}
    if me in actors and any(h and me in (e.source, e.target) for e, h in zip(plan.exchanges, secret, strict=True)):
        actors[me] = {**actors[me], "money_saved": None, "money_saved_reason": reason}
    ledger["actors"] = actors
    if any(secret):
        ledger["total"] = {**ledger["total"], "money_saved": None, "money_saved_reason": reason}
    ledger["not_valued"] = [e for e in skipped if me in (e["from"], e["to"])]
    return ledger


class SignInError(Exception):
    """A page was asked for without signing in: the answer is a redirect to ``target``."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


class _Limiter:
    """Failed sign-ins per (user name, address) in a sliding window, thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[tuple[str, str], list[float]] = {}

    def blocked(self, key: tuple[str, str], limit: int | None = None) -> bool:
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._failures.get(key, []) if now - t < WINDOW_S]
            self._failures[key] = recent
            return len(recent) >= (FAILURES if limit is None else limit)

    def sign_in_blocked(self, username: str, address: str) -> bool:
        """Too many failed sign-ins for this user name from this address, or for any user
        name from this address (``*`` is no user name)."""
        return self.blocked((username, address)) or self.blocked(("*", address), FAILURES_PER_ADDRESS)

    def sign_in_failed(self, username: str, address: str) -> None:
        self.fail((username, address))
        self.fail(("*", address))

    def fail(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._failures.setdefault(key, []).append(time.monotonic())

    def clear(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._failures.pop(key, None)


#: The largest request body by default, in MiB (``RAINFOREST_MAX_REQUEST_MB`` changes it).
MAX_REQUEST_MB = 256.0


class TooLarge(StarletteHTTPException):
    """A request body above the limit (answered 413 before it is read any further)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"the request is larger than this server accepts ({limit / 2**20:g} MiB): "
            "split the document, or ask the administrator to raise RAINFOREST_MAX_REQUEST_MB",
        )


class _SizeLimit:
    """ASGI middleware refusing request bodies above ``limit`` bytes: at once by their
    ``Content-Length``, else as soon as the streamed body passes the limit (nothing more is
    read)."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or ()).get(b"content-length", b"")
        if length.strip().isdigit() and int(length) > self.limit:
            await self._refuse(send)
            return
        seen = 0
        started = False

        async def counted() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise TooLarge(self.limit)
            return message

        async def sending(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except TooLarge:
            if started:
                raise
            await self._refuse(send)

    async def _refuse(self, send: Any) -> None:
        import json

        body = json.dumps({"detail": TooLarge(self.limit).detail}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


#: Every response that sets no policy of its own (JSON, downloads, redirects): nothing may
#: load, run or frame it.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
_BASE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class _SecurityHeaders:
    """ASGI middleware: the security headers on every response (pages set their own
    Content-Security-Policy, everything else gets :data:`API_CSP`), and ``Cache-Control:
    no-store`` on every response to a request that carries credentials (the session cookie,
    ``Authorization``) or that sets a cookie, so no shared or browser cache keeps them.
    Static files keep their caching."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from starlette.datastructures import MutableHeaders

        asked = dict(scope["headers"])
        credentialed = b"authorization" in asked or b"rainforest_session=" in asked.get(b"cookie", b"")
        static = scope["path"].startswith("/static/") or scope["path"] == "/favicon.ico"

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _BASE_HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", API_CSP)
                if not static and (credentialed or "set-cookie" in headers):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _docs(request: Request) -> Response:
    """The OpenAPI explorer (Swagger UI from its CDN, as FastAPI serves it) with a policy
    that lets its one inline script run by its hash, and nothing else inline."""
    import hashlib
    import re

    from fastapi.openapi.docs import get_swagger_ui_html

    page = get_swagger_ui_html(openapi_url="/openapi.json", title="rainforest workbench: API")
    html = bytes(page.body).decode("utf-8")
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode("ascii") + "'"
        for body in re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    )
    policy = (
        f"default-src 'none'; script-src https://cdn.jsdelivr.net {hashes}; "
        "style-src https://cdn.jsdelivr.net 'unsafe-inline'; img-src 'self' data: https://fastapi.tiangolo.com; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": policy})


#: Offers and needs up to which a new park's overview finds its exchange plan in the request
#: (larger parks show the plan once the analyses job has run).
PLAN_IN_OVERVIEW = 200


def create_app(
    store: Store,
    *,
    secret: str | None = None,
    secure_cookies: bool = False,
    executor: str = "thread",
    workers: int = 1,
    max_request_mb: float | None = None,
) -> FastAPI:
    """The workbench over ``store``. ``secret`` signs the session cookies (a random one by
    default: sessions then end when the server restarts); ``secure_cookies`` marks them
    Secure (serve over HTTPS). Long work runs on a :class:`rainforest.web.jobs.Worker` with
    ``executor`` and ``workers``, started at the first job and stopped with the application.
    ``max_request_mb``: the largest request body (an upload), :data:`MAX_REQUEST_MB` or
    ``$RAINFOREST_MAX_REQUEST_MB`` by default; larger ones answer 413 before they are read."""
    import os
    from contextlib import asynccontextmanager

    from rainforest.web import _pages, _workbench
    from rainforest.web.jobs import Worker

    running: list[Worker] = []
    worker_lock = threading.Lock()

    def worker() -> Worker:
        with worker_lock:
            if not running:
                running.append(Worker(store, executor, workers))
            return running[0]

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> Any:
        yield
        # stop within seconds: running jobs are asked to stop (they end as failed, to be
        # started again) and not waited for beyond the grace period
        for w in running:
            w.close(timeout=STOP_GRACE_S)

    app = FastAPI(
        lifespan=lifespan,
        title="rainforest workbench",
        description="Ecosystems, their members and their history; the same permissions as the pages.",
        version=_version(),
        docs_url=None,  # served below, with a policy for its inline script
        redoc_url=None,
    )
    app.add_route("/docs", _docs, include_in_schema=False)
    secret = secret or secrets.token_urlsafe(32)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="rainforest_session",
        same_site="lax",
        https_only=secure_cookies,
        max_age=12 * 3600,
    )
    if max_request_mb is None:
        max_request_mb = float(os.environ.get("RAINFOREST_MAX_REQUEST_MB") or MAX_REQUEST_MB)
    limit = int(max_request_mb * 2**20)
    app.add_middleware(_SizeLimit, limit=limit)  # inside the headers: a 413 gets them too
    app.state.max_request_bytes = limit
    app.add_middleware(_SecurityHeaders)
    limiter = _Limiter()
    cache: dict[tuple[str, str], Any] = {}

    # -- who is calling ---------------------------------------------------------------------------
    def caller(request: Request) -> User | None:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                username, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
            address = request.client.host if request.client else ""
            if limiter.sign_in_blocked(username, address):
                raise HTTPException(429, "too many failed sign-ins: wait 15 minutes")
            user = store.verify(username, password)
            if user is None:
                limiter.sign_in_failed(username, address)
            else:
                request.state.by_basic = True  # no ambient credential: no CSRF token needed
            return user
        token = request.session.get("sid")
        if not token:
            return None
        # the session lives on the server: signing out, a new password, a removed account or
        # role end it there, whatever copy of the cookie is kept
        return store.session_user(str(token))

    def require(request: Request) -> User:
        user = caller(request)
        if user is None:
            raise HTTPException(
                401, "sign in first (a session from /login, or HTTP Basic)", headers={"WWW-Authenticate": "Basic"}
            )
        if user.must_change and request.url.path != "/api/password":
            raise HTTPException(403, "replace your one-time password first (/password, or POST /api/password)")
        return user

    def signed_in(request: Request) -> User:
        """The caller of a page; without one, off to /login (with a one-time password, off
        to /password first)."""
        user = caller(request)
        if user is None:
            raise SignInError("/login")
        if user.must_change:
            raise SignInError("/password")
        return user

    def viewer(slug: str, request: Request) -> tuple[User, Access]:
        """The signed-in caller of a page (else off to /login) and its access to ``slug``
        (else 404)."""
        user = signed_in(request)
        return user, access(user, slug)

    def form(slug: str, request: Request, csrf: str) -> tuple[User, Access]:
        """:func:`viewer` for a form, once its CSRF token is checked."""
        user, a = viewer(slug, request)
        check_csrf(request, csrf)
        return user, a

    def access(user: User, slug: str) -> Access:
        known = {e.slug for e in store.ecosystems()}
        if user.admin and slug in known:
            return Access(slug, "admin")
        for m in store.memberships(user.username):
            if m.ecosystem == slug:
                return Access(slug, m.role, m.actor)
        raise HTTPException(404, f"no ecosystem {slug!r}")

    def visible(user: User) -> list[dict[str, Any]]:
        """The ecosystems ``user`` has a role in (every one for administrators)."""
        roles = {m.ecosystem: m for m in store.memberships(user.username)}
        out = []
        for e in store.ecosystems():
            m = roles.get(e.slug)
            if user.admin:
                role, actor = "admin", None
            elif m is not None:
                role, actor = m.role, m.actor
            else:
                continue
            out.append({"ecosystem": e.slug, "name": e.name, "version": e.head, "role": role, "actor": actor})
        return out

    def csrf_token(request: Request) -> str:
        token = request.session.get("csrf")
        if not token:
            token = secrets.token_urlsafe(24)
            request.session["csrf"] = token
        return str(token)

    def check_csrf(request: Request, given: str | None) -> None:
        if getattr(request.state, "by_basic", False):
            return  # authenticated by HTTP Basic: no ambient credential to forge
        expected = request.session.get("csrf")
        if not expected or not given or not secrets.compare_digest(str(expected), given):
            raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")

    def key_numbers(slug: str, eco: Ecosystem) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """The key numbers and the network picture of a small ecosystem, computed here."""
        from rainforest import report
        from rainforest.web.jobs import network_figure

        key = (slug, eco.content_hash())
        if key not in cache:
            r = report.health_report(eco, risk=False, plan=False)
            if r.facts.get("pathway") == "plan" and len(eco.offers) + len(eco.needs) <= PLAN_IN_OVERVIEW:
                # a new park's numbers are its plan's; a small plan is quick to find here
                r = report.health_report(eco, risk=False, plan=True)
            cache[key] = (list(r.key_numbers), network_figure(r))
        return cache[key]  # type: ignore[no-any-return]

    # -- API --------------------------------------------------------------------------------------
    @app.get("/api/ecosystems", tags=["ecosystems"])
    def api_ecosystems(request: Request) -> list[dict[str, Any]]:
        """The ecosystems the caller may see, with its role in each."""
        return visible(require(request))

    @app.get("/api/ecosystems/{slug}", tags=["ecosystems"])
    def api_ecosystem(slug: str, request: Request) -> dict[str, Any]:
        """The current document, as the caller may see it."""
        a = access(require(request), slug)
        return {
            "ecosystem": slug,
            "version": store.head(slug),
            "role": a.role,
            "document": visible_document(store.load(slug), a),
        }

    @app.get("/api/ecosystems/{slug}/history", tags=["ecosystems"])
    def api_history(slug: str, request: Request) -> list[dict[str, Any]]:
        """Every version (managers and observers)."""
        a = access(require(request), slug)
        if not a.sees_all:
            raise HTTPException(403, "the history is for the ecosystem's managers and observers")
        return store.history(slug)

    report_lock = threading.Lock()

    @app.get("/api/ecosystems/{slug}/report", tags=["ecosystems"], response_class=HTMLResponse)
    def api_report(slug: str, request: Request) -> Response:
        """The health report, one self-contained HTML file (managers and observers). Above
        the overview's size limit it is never computed in the request: the stored analyses
        of the latest version are served, else they are queued as long work (one job per
        version, whoever asks) and the answer is 202 with the job to poll
        (``Location``); its ``/page`` is the report once done."""
        from rainforest import report
        from rainforest.web import _workbench

        user = require(request)
        a = access(user, slug)
        if not a.sees_all:
            raise HTTPException(403, "the report is for the ecosystem's managers and observers")
        eco, head = store.load(slug), store.head(slug)
        attachment = {"Content-Disposition": f'attachment; filename="{slug}-report.html"'}
        actors, flows = _workbench.SYNC_LIMIT
        if len(eco.actors) <= actors and len(eco.flows) <= flows:
            return HTMLResponse(report.health_report(eco, source=f"{slug} v{head}").to_html(), headers=attachment)
        done = store.latest(slug, "analyses", head)
        page = store.artifact(slug, done.id) if done is not None else None
        if page is not None:
            return HTMLResponse(page, headers=attachment)
        with report_lock:  # one job per version, however many ask at once
            job = next(
                (
                    j
                    for j in store.jobs(slug)
                    if j.kind == "analyses" and j.version == head and j.status in ("queued", "running")
                ),
                None,
            )
            if job is None:
                job = store.submit(slug, "analyses", author=user.username)
                worker().start(job)
        where = f"/api/ecosystems/{slug}/jobs/{job.id}"
        return JSONResponse(
            {
                "detail": f"the report of {len(eco.actors):,} actors is computed as long work: poll {where}, "
                f"then fetch {where}/page",
                "job": job.to_dict(),
            },
            status_code=202,
            headers={"Location": where},
        )

    @app.post("/api/ecosystems/{slug}/import", tags=["ecosystems"])
    async def api_import(
        slug: str,
        request: Request,
        file: UploadFile = File(...),  # noqa: B008 - FastAPI's declaration style
        expected: int | None = Form(None),
        message: str | None = Form(None),
        csrf: str | None = Form(None),
    ) -> Response:
        """Import a document as the next version (managers). Errors: 422 with every problem and
        its place (nothing changes); 409 when the ecosystem moved past ``expected``."""
        from starlette.concurrency import run_in_threadpool

        from rainforest.web._workbench import import_upload, problems_of, read_upload

        def allowed() -> User:
            user = require(request)
            if not access(user, slug).manages:
                raise HTTPException(403, "only the ecosystem's managers import documents")
            check_csrf(request, csrf or request.headers.get("x-csrf-token"))
            return user

        # everything but receiving the upload runs on the thread pool: checking a password,
        # reading, validating and saving a large document must not stop the event loop
        user = await run_in_threadpool(allowed)
        name = Path(file.filename or "upload").name
        with tempfile.TemporaryDirectory() as tmp:
            try:
                path = await read_upload(file, tmp)
                note = message if message is not None else f"imported {name}"
                version = await run_in_threadpool(
                    import_upload, store, slug, path, author=user.username, message=note, expected=expected
                )
            except DocumentError as exc:
                first, problems = problems_of(exc, tmp)
                return JSONResponse({"error": first, "problems": problems}, status_code=422)
            except ConflictError as exc:
                return JSONResponse({"error": str(exc), "version": exc.head}, status_code=409)
        return JSONResponse(version.to_dict())

    # -- proposed exchanges -------------------------------------------------------------------------
    def party(a: Access, p: Any) -> bool:
        return a.sees_all or a.actor in (p.source, p.target)

    def acts(a: Access, p: Any) -> bool:
        return a.manages or (a.role == "member" and a.actor in (p.source, p.target))

    def body_csrf(request: Request, body: dict[str, Any]) -> None:
        check_csrf(request, body.get("csrf") or request.headers.get("x-csrf-token"))

    @app.get("/api/ecosystems/{slug}/proposals", tags=["proposals"])
    def api_proposals(slug: str, request: Request) -> list[dict[str, Any]]:
        """Proposed exchanges: all of them for managers and observers, a member's own for members."""
        a = access(require(request), slug)
        return [p.to_dict() for p in store.proposals(slug) if party(a, p)]

    @app.post("/api/ecosystems/{slug}/proposals", tags=["proposals"])
    def api_propose(slug: str, request: Request, body: dict[str, Any]) -> JSONResponse:
        """Propose an exchange ``{from, to, resource, quantity}`` (managers; members when a party)."""
        user = require(request)
        a = access(user, slug)
        body_csrf(request, body)
        source, target = str(body.get("from", "")), str(body.get("to", ""))
        if not (a.manages or (a.role == "member" and a.actor in (source, target))):
            raise HTTPException(
                403, "a member proposes only exchanges its own actor is a party to; observers propose nothing"
            )
        try:
            quantity = float(body.get("quantity", 0))
            p = store.propose(slug, source, target, str(body.get("resource", "")), quantity, author=user.username)
        except (StoreError, UnknownIdError, TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=422)
        return JSONResponse(p.to_dict(), status_code=201)

    def _one(slug: str, pid: int, a: Access) -> Any:
        try:
            p = store.proposal(slug, pid)
        except StoreError:
            raise HTTPException(404, f"no proposal {pid}") from None
        if not party(a, p):
            raise HTTPException(404, f"no proposal {pid}")
        return p

    def acting(slug: str, pid: int, request: Request, body: dict[str, Any], what: str) -> User:
        """The caller, once it is shown to be allowed to ``what`` on the proposal."""
        user = require(request)
        a = access(user, slug)
        p = _one(slug, pid, a)
        body_csrf(request, body)
        if not acts(a, p):
            raise HTTPException(403, f"only the parties and the managers {what}")
        return user

    @app.post("/api/ecosystems/{slug}/proposals/{pid}/status", tags=["proposals"])
    def api_move(slug: str, pid: int, request: Request, body: dict[str, Any]) -> JSONResponse:
        """Move a proposal ``{status, expected?, note?}``: proposed -> negotiating -> active ->
        ended (managers, or a member that is a party). A party's move to ``active`` records its
        agreement (``agreed_by``); the exchange becomes active when the other party agrees too
        (a manager's move makes it active at once). 409 when it moved meanwhile."""
        user = acting(slug, pid, request, body, "move a proposal")
        a = access(user, slug)
        expected = body.get("expected")
        if expected is not None and not isinstance(expected, str):
            return JSONResponse({"error": f"expected must be a status, got {expected!r}"}, status_code=422)
        try:
            moved = store.move(
                slug,
                pid,
                str(body.get("status", "")),
                author=user.username,
                expected=expected,
                note=str(body.get("note", "")),
                party=None if a.manages else a.actor,
            )
        except StaleError as exc:
            return JSONResponse({"error": str(exc)}, status_code=409)
        except StoreError as exc:
            return JSONResponse({"error": str(exc)}, status_code=422)
        return JSONResponse(moved.to_dict())

    @app.post("/api/ecosystems/{slug}/proposals/{pid}/comments", tags=["proposals"])
    def api_comment(slug: str, pid: int, request: Request, body: dict[str, Any]) -> JSONResponse:
        """Comment on a proposal ``{text}`` (managers and the parties)."""
        user = acting(slug, pid, request, body, "comment")
        try:
            return JSONResponse(store.comment(slug, pid, str(body.get("text", "")), author=user.username).to_dict())
        except StoreError as exc:
            return JSONResponse({"error": str(exc)}, status_code=422)

    @app.get("/api/ecosystems/{slug}/ledger", tags=["proposals"])
    def api_ledger(slug: str, request: Request) -> dict[str, Any]:
        """The impact ledger: agreed active exchanges only, counted the way audited programmes count
        them (disposal diverted, CO2e avoided, water and money saved per period; per exchange,
        per actor, in total). Members see the rows of their own exchanges and the totals."""
        a = access(require(request), slug)
        return visible_ledger(store.load(slug), store.proposals(slug), a)

    # -- pages -------------------------------------------------------------------------------------
    _pages.add_pages(
        app,
        store,
        caller=caller,
        access=access,
        csrf_token=csrf_token,
        check_csrf=check_csrf,
        limiter=limiter,
        key_numbers=key_numbers,
        party=party,
        acts=acts,
        visible=visible,
        signed_in=signed_in,
        viewer=viewer,
        form=form,
        require=require,
    )

    _workbench.add_workbench(
        app,
        store,
        caller=caller,
        require=require,
        access=access,
        csrf_token=csrf_token,
        check_csrf=check_csrf,
        worker=worker,
        visible=visible,
        limiter=limiter,
        secret=secret,
        signed_in=signed_in,
        viewer=viewer,
        form=form,
    )
    app.state.worker = worker

    @app.exception_handler(UnknownIdError)
    def _unknown(request: Request, exc: UnknownIdError) -> Response:
        return _error(request, 404, str(exc))

    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return _error(request, exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(SignInError)
    def _redirect(request: Request, exc: SignInError) -> Response:
        from fastapi.responses import RedirectResponse

        return RedirectResponse(exc.target, status_code=303)

    def _error(request: Request, status: int, detail: str, headers: Any = None) -> Response:
        """JSON for the API, a page for the browser."""
        if request.url.path.startswith("/api") or "text/html" not in request.headers.get("accept", ""):
            return JSONResponse({"detail": detail}, status_code=status, headers=headers)
        user = caller(request) if status != 429 else None
        return _pages._page(
            "error.html", status, user=user, code=status, detail=detail, csrf=csrf_token(request) if user else ""
        )

    return app


def _issue(issue: Any) -> dict[str, Any]:
    fields = ("file", "line", "column", "row", "path", "message", "expected", "got", "hint")
    return {"text": str(issue), **{k: getattr(issue, k, None) for k in fields}}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rainforest")
    except PackageNotFoundError:
        return "unknown"
