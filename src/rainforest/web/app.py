"""The FastAPI application: see :mod:`rainforest.web` for the rules it enforces.

:func:`create_app` only wires: the :class:`~rainforest.web.context.Workbench` (the store,
its records, the worker), the middleware, one router per area (:mod:`rainforest.web.routers`)
and the answers to errors. What the routes may do is in :mod:`rainforest.web.deps` (who
calls, with which role, with which CSRF token) and what they do in
:mod:`rainforest.web.services`."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from rainforest.errors import UnknownIdError
from rainforest.store import Store
from rainforest.web.context import Workbench
from rainforest.web.deps import SignInError, caller, csrf_token
from rainforest.web.render import html_page
from rainforest.web.routers import (
    accounts,
    actors,
    board,
    ecosystems,
    history,
    inbox,
    jobs,
    people,
    suggestions,
    template,
)
from rainforest.web.routers import map as maps
from rainforest.web.security import MAX_REQUEST_MB, SecurityHeaders, SizeLimit, docs_page
from rainforest.web.services.map import TileServer

__all__ = ["STOP_GRACE_S", "create_app"]

STOP_GRACE_S = 3.0  # at shutdown, how long running jobs get to stop


def create_app(
    store: Store,
    *,
    secret: str | None = None,
    secure_cookies: bool = False,
    executor: str = "threads",
    workers: int = 1,
    max_request_mb: float | None = None,
    tiles: TileServer | None = None,
) -> FastAPI:
    """The workbench over ``store``. ``secret`` signs the session cookies (a random one by
    default: sessions then end when the server restarts); ``secure_cookies`` marks them
    Secure (serve over HTTPS). Long work runs on a :class:`rainforest.web.jobs.Worker` with
    ``executor`` and ``workers``, started at the first job and stopped with the application.
    ``max_request_mb``: the largest request body (an upload),
    :data:`~rainforest.web.security.MAX_REQUEST_MB` or ``$RAINFOREST_MAX_REQUEST_MB`` by
    default; larger ones answer 413 before they are read. ``tiles``: the map's tile server
    (:func:`rainforest.web.services.map.tile_server`; without one the map has a plain
    background), the one origin besides this server the pages load images from."""
    secret = secret or secrets.token_urlsafe(32)
    wb = Workbench(store, secret=secret, executor=executor, workers=workers)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        # stop within seconds: running jobs are asked to stop (they end as failed, to be
        # started again) and not waited for beyond the grace period
        wb.close(timeout=STOP_GRACE_S)

    app = FastAPI(
        lifespan=lifespan,
        title="rainforest workbench",
        description="Ecosystems, their members and their history; the same permissions as the pages.",
        version=_version(),
        docs_url=None,  # served below, with a policy for its inline script
        redoc_url=None,
    )
    app.state.workbench = wb
    app.state.worker = wb.worker
    app.add_route("/docs", docs_page, include_in_schema=False)
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
    app.add_middleware(SizeLimit, limit=limit)  # inside the headers: a 413 gets them too
    app.state.max_request_bytes = limit
    app.state.tiles = tiles
    app.add_middleware(SecurityHeaders, images=(tiles.origin,) if tiles is not None else ())
    for area in (ecosystems, board, accounts, actors, people, jobs, suggestions, template, inbox, maps, history):
        # the areas' routes join the application's own table, flat (include_router keeps a
        # branch per router in this FastAPI): the authorisation tests walk that table
        app.router.routes.extend(area.router.routes)

    def error(request: Request, status: int, detail: str, headers: Mapping[str, str] | None = None) -> Response:
        """JSON for the API, a page for the browser."""
        if request.url.path.startswith("/api") or "text/html" not in request.headers.get("accept", ""):
            return JSONResponse({"detail": detail}, status_code=status, headers=headers)
        user = caller(request, wb) if status != 429 else None
        return html_page(
            "error.html", status, user=user, code=status, detail=detail, csrf=csrf_token(request) if user else ""
        )

    @app.exception_handler(UnknownIdError)
    def _unknown(request: Request, exc: UnknownIdError) -> Response:
        return error(request, 404, str(exc))

    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return error(request, exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(SignInError)
    def _redirect(request: Request, exc: SignInError) -> Response:
        return RedirectResponse(exc.target, status_code=303)

    return app


def _version() -> str:
    try:
        return version("rainforest")
    except PackageNotFoundError:
        return "unknown"
