"""The inbox: what is new for the signed-in user, its count for the header, and where
e-mail notices go."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from rainforest.web.deps import WB, ApiUser, PageUser, csrf_token, json_csrf, page_csrf
from rainforest.web.render import html_page
from rainforest.web.services import inbox

router = APIRouter()


@router.get("/api/inbox", tags=["inbox"])
def api_inbox(wb: WB, user: ApiUser) -> dict[str, Any]:
    """The caller's events, newest first, each marked ``new`` when it came after the last
    visit of the inbox page (reading this does not count as a visit)."""
    return inbox.inbox(wb, user, visit=False)


@router.get("/api/inbox/count", tags=["inbox"])
def api_count(wb: WB, user: ApiUser) -> dict[str, int]:
    """How many events are new since the last visit (the header's count)."""
    return {"new": inbox.count(wb, user)}


@router.post("/api/inbox/mail", tags=["inbox"], dependencies=[Depends(json_csrf)])
def api_mail(wb: WB, user: ApiUser, body: dict[str, Any]) -> Response:
    """Where the caller's notices go: ``{"email": "name@firm.example", "notify": true}``
    (an empty address with ``notify`` false stops them). 422 for anything else."""
    email, notify = body.get("email", ""), body.get("notify", False)
    if not isinstance(email, str) or not isinstance(notify, bool):
        return JSONResponse({"error": "expected {email: text, notify: true or false}"}, status_code=422)
    return JSONResponse(inbox.set_mail(wb, user, email, notify))


@router.get("/inbox", response_class=HTMLResponse, include_in_schema=False)
def inbox_page(request: Request, wb: WB, user: PageUser) -> Response:
    saved = request.query_params.get("saved") == "1"
    return html_page(
        "inbox.html", user=user, csrf=csrf_token(request), saved=saved, error=None, **inbox.inbox(wb, user, visit=True)
    )


@router.post("/inbox", response_class=HTMLResponse, include_in_schema=False, dependencies=[Depends(page_csrf)])
def mail_form(
    request: Request,
    wb: WB,
    user: PageUser,
    email: Annotated[str, Form()] = "",
    notify: Annotated[str, Form()] = "",
) -> Response:
    try:
        inbox.set_mail(wb, user, email, notify == "on")
    except HTTPException as exc:
        return html_page(
            "inbox.html",
            422,
            user=user,
            csrf=csrf_token(request),
            saved=False,
            error=exc.detail,
            **inbox.inbox(wb, user, visit=False),
        )
    return RedirectResponse("/inbox?saved=1", status_code=303)
