"""Signing in and out, passwords, accounts, the list of ecosystems, and the pages' files."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from rainforest.store import StoreError
from rainforest.web.deps import WB, ApiUser, SignInError, caller, csrf_token, header_csrf, json_csrf, page_csrf
from rainforest.web.records.accounts import User
from rainforest.web.render import ICON, STATIC, html_page, static_file
from rainforest.web.services import accounts

router = APIRouter()

Caller_ = Annotated[User | None, Depends(caller)]


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    return Response(ICON, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


@router.get("/static/{name}", include_in_schema=False)
def static(name: str) -> Response:
    if name not in STATIC:
        raise HTTPException(404, f"no file {name!r}")
    return Response(static_file(name), media_type=STATIC[name], headers={"Cache-Control": "max-age=3600"})


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_form(request: Request) -> HTMLResponse:
    return html_page("login.html", csrf=csrf_token(request), error=None, username="")


@router.post("/login", include_in_schema=False, dependencies=[Depends(page_csrf)])
def login(
    request: Request, wb: WB, username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = ""
) -> Response:
    try:
        user = accounts.sign_in(wb, request.session, _address(request), username, password)
    except PermissionError as exc:
        # the form again with the message; a wrong password answers 200 (a 401 page makes
        # browsers log an error)
        status = 429 if str(exc) == accounts.BLOCKED else 200
        return html_page("login.html", status, csrf=csrf_token(request), error=str(exc), username=username)
    return RedirectResponse("/password" if user.must_change else "/", status_code=303)


@router.post("/logout", include_in_schema=False, dependencies=[Depends(page_csrf)])
def logout(request: Request, wb: WB) -> Response:
    accounts.sign_out(wb, request.session)
    return RedirectResponse("/login", status_code=303)


def _change(request: Request, wb: WB, user: User | None, current: str, new: str, repeat: str | None) -> str | None:
    if user is None:
        raise SignInError("/login")
    return accounts.change_password(
        wb,
        user,
        request.session,
        _address(request),
        current=current,
        new=new,
        repeat=repeat,
        by_basic=getattr(request.state, "by_basic", False),
    )


@router.get("/password", response_class=HTMLResponse, include_in_schema=False)
def password_form(request: Request, user: Caller_) -> Response:
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return html_page("password.html", user=user, error=None, csrf=csrf_token(request))


@router.post("/password", include_in_schema=False, dependencies=[Depends(page_csrf)])
def password(
    request: Request,
    wb: WB,
    user: Caller_,
    current: Annotated[str, Form()] = "",
    new: Annotated[str, Form()] = "",
    repeat: Annotated[str, Form()] = "",
) -> Response:
    error = _change(request, wb, user, current, new, repeat)
    if error is not None:
        return html_page("password.html", 422, user=user, error=error, csrf=csrf_token(request))
    return RedirectResponse("/", status_code=303)


@router.post("/api/password", tags=["accounts"])
def api_password(
    request: Request, wb: WB, user: ApiUser, body: dict[str, Any], _: Annotated[None, Depends(json_csrf)]
) -> Response:
    """Change the caller's password ``{current, new}``: every session of the caller ends
    (this browser's is renewed). Required first after signing in with a one-time password."""
    error = _change(request, wb, user, str(body.get("current", "")), str(body.get("new", "")), None)
    if error is not None:
        return JSONResponse({"error": error}, status_code=422)
    return JSONResponse({"changed": True})


@router.delete("/api/users/{username}", tags=["accounts"])
def api_remove_user(username: str, wb: WB, user: ApiUser, _: Annotated[None, Depends(header_csrf)]) -> Response:
    """Remove an account with its roles and sessions (administrators)."""
    try:
        accounts.remove_user(wb, user, username)
    except StoreError as exc:
        return JSONResponse({"error": str(exc)}, status_code=422)
    return Response(status_code=204)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request, wb: WB, user: Caller_) -> Response:
    if user is None or user.must_change:
        return RedirectResponse("/password" if user else "/login", status_code=303)
    return html_page(
        "index.html",
        user=user,
        ecosystems=wb.visible(user),
        error=None,
        problems=None,
        slug="",
        csrf=csrf_token(request),
    )
