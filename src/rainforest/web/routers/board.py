"""The matchmaking board and the proposed exchanges: the page, its forms, and the API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from rainforest.errors import UnknownIdError
from rainforest.store import StaleError, StoreError
from rainforest.web.deps import WB, ApiRole, Caller, PageRole, csrf_token, json_csrf, page_csrf
from rainforest.web.render import html_page
from rainforest.web.services import proposals

router = APIRouter()

Viewer = Annotated[Caller, Depends(ApiRole())]
PageViewer = Annotated[Caller, Depends(PageRole())]
JsonCsrf = Annotated[None, Depends(json_csrf)]
PageForm = Annotated[None, Depends(page_csrf)]


@router.get("/api/ecosystems/{slug}/proposals", tags=["proposals"])
def api_proposals(slug: str, wb: WB, c: Viewer) -> list[dict[str, Any]]:
    """Proposed exchanges: all of them for managers and observers, a member's own for members."""
    return [p.to_dict() for p in proposals.proposals(wb, c, slug)]


@router.post("/api/ecosystems/{slug}/proposals", tags=["proposals"])
def api_propose(slug: str, wb: WB, c: Viewer, _: JsonCsrf, body: dict[str, Any]) -> JSONResponse:
    """Propose an exchange ``{from, to, resource, quantity}`` (managers; members when a party)."""
    source, target = str(body.get("from", "")), str(body.get("to", ""))
    try:
        quantity = float(body.get("quantity", 0))
        p = proposals.propose(wb, c, slug, source, target, str(body.get("resource", "")), quantity)
    except (StoreError, UnknownIdError, TypeError, ValueError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=422)
    return JSONResponse(p.to_dict(), status_code=201)


@router.post("/api/ecosystems/{slug}/proposals/{pid}/status", tags=["proposals"])
def api_move(slug: str, pid: int, wb: WB, c: Viewer, _: JsonCsrf, body: dict[str, Any]) -> JSONResponse:
    """Move a proposal ``{status, expected?, note?}``: proposed -> negotiating -> active ->
    ended (managers, or a member that is a party). A party's move to ``active`` records its
    agreement (``agreed_by``); the exchange becomes active when the other party agrees too
    (a manager's move makes it active at once). 409 when it moved meanwhile."""
    proposals.one(wb, c, slug, pid, "move a proposal")
    expected = body.get("expected")
    if expected is not None and not isinstance(expected, str):
        return JSONResponse({"error": f"expected must be a status, got {expected!r}"}, status_code=422)
    try:
        moved = proposals.move(
            wb, c, slug, pid, str(body.get("status", "")), expected=expected, note=str(body.get("note", ""))
        )
    except StaleError as exc:
        return JSONResponse({"error": str(exc)}, status_code=409)
    except StoreError as exc:
        return JSONResponse({"error": str(exc)}, status_code=422)
    return JSONResponse(moved.to_dict())


@router.post("/api/ecosystems/{slug}/proposals/{pid}/comments", tags=["proposals"])
def api_comment(slug: str, pid: int, wb: WB, c: Viewer, _: JsonCsrf, body: dict[str, Any]) -> JSONResponse:
    """Comment on a proposal ``{text}`` (managers and the parties)."""
    proposals.one(wb, c, slug, pid, "comment")
    try:
        return JSONResponse(proposals.comment(wb, c, slug, pid, str(body.get("text", ""))).to_dict())
    except StoreError as exc:
        return JSONResponse({"error": str(exc)}, status_code=422)


@router.get("/api/ecosystems/{slug}/ledger", tags=["proposals"])
def api_ledger(slug: str, wb: WB, c: Viewer) -> dict[str, Any]:
    """The impact ledger: agreed active exchanges only, counted the way audited programmes count
    them (disposal diverted, CO2e avoided, water and money saved per period; per exchange,
    per actor, in total). Members see the rows of their own exchanges and the totals."""
    return proposals.ledger(wb, c, slug)


@router.get("/e/{slug}/board", response_class=HTMLResponse, include_in_schema=False)
def board(slug: str, request: Request, wb: WB, c: PageViewer) -> Response:
    """Candidates with their explanations, the optimised plan (managers and observers), the
    proposals the caller may see with the moves it may make, and the ledger's totals."""
    return html_page("board.html", user=c.user, csrf=csrf_token(request), **proposals.board(wb, c, slug))


@router.post("/e/{slug}/proposals", include_in_schema=False)
def propose(
    slug: str,
    wb: WB,
    c: PageViewer,
    _: PageForm,
    source: Annotated[str, Form()],
    target: Annotated[str, Form()],
    resource: Annotated[str, Form()],
    quantity: Annotated[float, Form()],
) -> Response:
    try:
        proposals.propose(wb, c, slug, source, target, resource, quantity)
    except StoreError as exc:  # two parties, a positive quantity
        raise HTTPException(422, str(exc)) from None
    return RedirectResponse(f"/e/{slug}/board", status_code=303)


@router.post("/e/{slug}/proposals/{pid}", include_in_schema=False)
def act(
    slug: str,
    pid: int,
    wb: WB,
    c: PageViewer,
    _: PageForm,
    status: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
    expected: Annotated[str, Form()] = "",
) -> Response:
    proposals.one(wb, c, slug, pid, "act on a proposal")
    try:
        if comment.strip():
            proposals.comment(wb, c, slug, pid, comment)
        if status:
            proposals.move(wb, c, slug, pid, status, expected=expected or None, note="")
    except StoreError as exc:
        raise HTTPException(409, str(exc)) from None
    return RedirectResponse(f"/e/{slug}/board", status_code=303)
