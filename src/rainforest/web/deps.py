"""The routes' dependencies (FastAPI's ``Depends``): the workbench, the caller, its role in
an ecosystem and the CSRF check, typed so that a route says what it needs in its signature.

- :data:`WB`: the application's :class:`~rainforest.web.context.Workbench`.
- :data:`ApiUser` / :data:`PageUser`: the signed-in caller of an API call (else 401; 403
  until a one-time password is replaced) or of a page (else a redirect to ``/login`` or
  ``/password``).
- :class:`ApiRole` / :class:`PageRole`: the caller and its :class:`Access` to the path's
  ``slug`` (404 without a role there), optionally required to see all of it or manage it.
- :func:`page_csrf`, :func:`upload_csrf`, :func:`json_csrf`, :func:`header_csrf`: the
  per-session CSRF token of a form, an upload, a JSON body or the ``X-CSRF-Token`` header
  (calls authenticated by HTTP Basic carry no ambient credential and need none).
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Form, HTTPException, Request

from rainforest.web.context import Workbench
from rainforest.web.records.accounts import User
from rainforest.web.visibility import Access

__all__ = [
    "WB",
    "ApiRole",
    "ApiUser",
    "Caller",
    "PageRole",
    "PageUser",
    "SignInError",
    "caller",
    "check_csrf",
    "csrf_token",
    "header_csrf",
    "json_csrf",
    "page_csrf",
    "upload_csrf",
    "workbench",
]


class SignInError(Exception):
    """A page was asked for without signing in: the answer is a redirect to ``target``."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


def workbench(request: Request) -> Workbench:
    """The application's workbench (set by :func:`rainforest.web.create_app`)."""
    wb: Workbench = request.app.state.workbench
    return wb


WB = Annotated[Workbench, Depends(workbench)]


def caller(request: Request, wb: WB) -> User | None:
    """Who calls: HTTP Basic credentials (checked, and counted by the sign-in limiter), else
    the session's user (the session lives in the store: signing out, a new password, a
    removed account or role end it there, whatever copy of the cookie is kept), else None."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            username, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        address = request.client.host if request.client else ""
        if wb.limiter.sign_in_blocked(username, address):
            raise HTTPException(429, "too many failed sign-ins: wait 15 minutes")
        user = wb.records.accounts.verify(username, password)
        if user is None:
            wb.limiter.sign_in_failed(username, address)
        else:
            request.state.by_basic = True  # no ambient credential: no CSRF token needed
        return user
    token = request.session.get("sid")
    if not token:
        return None
    return wb.records.accounts.session_user(str(token))


Caller_ = Annotated[User | None, Depends(caller)]


def api_user(request: Request, user: Caller_) -> User:
    """The caller of an API call: 401 without one; 403 until its one-time password is replaced."""
    if user is None:
        raise HTTPException(
            401, "sign in first (a session from /login, or HTTP Basic)", headers={"WWW-Authenticate": "Basic"}
        )
    if user.must_change and request.url.path != "/api/password":
        raise HTTPException(403, "replace your one-time password first (/password, or POST /api/password)")
    return user


def page_user(user: Caller_) -> User:
    """The caller of a page; without one, off to /login (with a one-time password, off to
    /password first)."""
    if user is None:
        raise SignInError("/login")
    if user.must_change:
        raise SignInError("/password")
    return user


ApiUser = Annotated[User, Depends(api_user)]
PageUser = Annotated[User, Depends(page_user)]


@dataclass(frozen=True)
class Caller:
    """A signed-in caller and what it may do in the ecosystem of the path."""

    user: User
    access: Access


#: What a route needs of the caller's role: any role, to see all of the ecosystem (managers,
#: observers, administrators) or to manage it (managers, administrators).
Need = Literal["any", "sees_all", "manages"]


def _caller(wb: Workbench, user: User, slug: str, need: Need, what: str) -> Caller:
    a = wb.access(user, slug)
    if a is None:
        raise HTTPException(404, f"no ecosystem {slug!r}")
    if need == "sees_all" and not a.sees_all:
        raise HTTPException(403, f"{what} is for the ecosystem's managers and observers")
    if need == "manages" and not a.manages:
        raise HTTPException(403, f"only the ecosystem's managers {what}")
    return Caller(user, a)


class ApiRole:
    """An API call's caller with a role in the path's ``slug`` (404 without one) that meets
    ``need`` (403 with ``what`` the route is about otherwise)."""

    def __init__(self, need: Need = "any", what: str = "") -> None:
        self.need, self.what = need, what

    def __call__(self, slug: str, user: ApiUser, wb: WB) -> Caller:
        return _caller(wb, user, slug, self.need, self.what)


class PageRole:
    """:class:`ApiRole` for a page: without a caller, off to /login instead of 401."""

    def __init__(self, need: Need = "any", what: str = "") -> None:
        self.need, self.what = need, what

    def __call__(self, slug: str, user: PageUser, wb: WB) -> Caller:
        return _caller(wb, user, slug, self.need, self.what)


# -- CSRF ----------------------------------------------------------------------------------------
def csrf_token(request: Request) -> str:
    """The session's CSRF token (made at its first use)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return str(token)


def check_csrf(request: Request, given: object) -> None:
    """403 unless ``given`` is the session's token (or the caller signed in by HTTP Basic)."""
    if getattr(request.state, "by_basic", False):
        return  # authenticated by HTTP Basic: no ambient credential to forge
    expected = request.session.get("csrf")
    if not expected or not isinstance(given, str) or not given or not secrets.compare_digest(str(expected), given):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")


def page_csrf(request: Request, csrf: Annotated[str, Form()] = "") -> None:
    """A page's form: its ``csrf`` field."""
    check_csrf(request, csrf)


def upload_csrf(request: Request, csrf: Annotated[str | None, Form()] = None) -> None:
    """An upload through the API: the form's ``csrf`` field or ``X-CSRF-Token``."""
    check_csrf(request, csrf or request.headers.get("x-csrf-token"))


async def json_csrf(request: Request) -> None:
    """A JSON body: its ``csrf`` field or ``X-CSRF-Token``."""
    try:
        body = await request.json()
    except ValueError:
        body = None
    given = body.get("csrf") if isinstance(body, dict) else None
    check_csrf(request, given or request.headers.get("x-csrf-token"))


def header_csrf(request: Request) -> None:
    """A call without a body (``DELETE``): ``X-CSRF-Token``."""
    check_csrf(request, request.headers.get("x-csrf-token"))
