"""The workbench's defences below the routes: the sign-in limiter, the request size limit,
the security headers on every response, and the OpenAPI explorer's page with its policy."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from typing import Any

from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request

__all__ = [
    "API_CSP",
    "FAILURES",
    "FAILURES_PER_ADDRESS",
    "MAX_REQUEST_MB",
    "WINDOW_S",
    "Limiter",
    "SecurityHeaders",
    "SizeLimit",
    "TooLarge",
    "docs_page",
]

FAILURES = 5  # failed sign-ins per user name and address ...
WINDOW_S = 15 * 60  # ... within this window block sign-in for as long
#: failed sign-ins from one address, whatever the user names, within the window: each costs
#: an Argon2id check (64 MiB, about 0.4 s), so fresh user names must not make it free
FAILURES_PER_ADDRESS = 30


class Limiter:
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


class SizeLimit:
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


class SecurityHeaders:
    """ASGI middleware: the security headers on every response (pages set their own
    Content-Security-Policy, everything else gets :data:`API_CSP`), and ``Cache-Control:
    no-store`` on every response to a request that carries credentials (the session cookie,
    ``Authorization``) or that sets a cookie, so no shared or browser cache keeps them.
    Static files keep their caching. ``images``: further origins the pages may load images
    from (the map's tile server, ``rainforest serve --tiles``), added to the pages' ``img-src``
    only."""

    def __init__(self, app: Any, images: tuple[str, ...] = ()) -> None:
        self.app = app
        self.images = " ".join(images)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        asked = dict(scope["headers"])
        credentialed = b"authorization" in asked or b"rainforest_session=" in asked.get(b"cookie", b"")
        static = scope["path"].startswith("/static/") or scope["path"] == "/favicon.ico"

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _BASE_HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", API_CSP)
                policy = headers["Content-Security-Policy"]
                if self.images and "img-src " in policy:
                    headers["Content-Security-Policy"] = policy.replace("img-src ", f"img-src {self.images} ", 1)
                if not static and (credentialed or "set-cookie" in headers):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def docs_page(request: Request) -> Response:
    """The OpenAPI explorer (Swagger UI from its CDN, as FastAPI serves it) with a policy
    that lets its one inline script run by its hash, and nothing else inline."""
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
