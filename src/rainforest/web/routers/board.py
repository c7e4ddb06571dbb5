"""The matchmaking board and the proposed exchanges: the page, its forms, and the API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from rainforest.errors import UnknownIdError
from rainforest.store import StaleError, StoreError
from rainforest.web.deps import WB, ApiRole, Caller, PageRole, csrf_token, json_csrf, page_csrf
from rainforest.web.records.proposals import DuplicateProposalError
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
    except DuplicateProposalError as exc:  # the first one is the parties': the caller sees it
        first = exc.first
        return JSONResponse(
            {
                "error": str(exc),
                "proposal": {"id": first.id, "status": first.status, "url": f"/e/{slug}/board#proposal-{first.id}"},
            },
            status_code=409,
        )
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


@router.post("/api/ecosystems/{slug}/proposals/{pid}/consent", tags=["proposals"])
def api_consent(slug: str, pid: int, wb: WB, c: Viewer, _: JsonCsrf, body: dict[str, Any]) -> JSONResponse:
    """Consent to record an agreed active exchange as a flow ``{party?, note?}``: a member for
    its own actor; a manager on behalf of ``party`` with a ``note`` saying why. With both
    parties' consent the flow is added in a new version (``recorded_version``). 422 when it
    cannot be (not active, not agreed, the flow no longer fits the document)."""
    proposals.one(wb, c, slug, pid, "consent to record an exchange")
    try:
        p = proposals.consent(wb, c, slug, pid, for_party=str(body.get("party", "")), note=str(body.get("note", "")))
    except StaleError as exc:
        return JSONResponse({"error": str(exc)}, status_code=409)
    except StoreError as exc:
        return JSONResponse({"error": str(exc)}, status_code=422)
    return JSONResponse(p.to_dict())


@router.get("/api/ecosystems/{slug}/ledger", tags=["proposals"])
def api_ledger(slug: str, wb: WB, c: Viewer) -> dict[str, Any]:
    """The impact ledger: agreed active exchanges, counted the way audited programmes count
    them (disposal diverted, CO2e avoided, water and money saved per period; per exchange,
    per actor, in total), and ``columns``: planned, agreed and recorded figures with their
    ``units``; ``years``: agreed and recorded by the year they were agreed or recorded.
    Members see the rows of their own exchanges and the totals; ``null`` with a reason
    where a figure is unknown or not theirs to see."""
    return proposals.ledger(wb, c, slug)


@router.get("/api/ecosystems/{slug}/candidates", tags=["proposals"])
def api_candidates(slug: str, request: Request, wb: WB, c: Viewer) -> list[dict[str, Any]]:
    """The candidates the caller may see, filtered and sorted as on the board (query
    ``resource``, ``ewc`` (a code's first digits), ``actor``, ``max_km``, ``min_value``,
    ``min_co2e`` (t), ``sort`` (value, saving, co2e, distance, quantity, resource, ewc, from,
    to), ``order`` (asc, desc), ``show`` (a number of rows or all; 50 by default)):
    ``value`` is money per period, ``co2e_t`` t per period; ``null`` with ``reasons``."""
    q = proposals.Query.parse(dict(request.query_params))
    data = proposals.board(wb, c, slug, q)
    return [{k: v for k, v in r.items() if k not in ("proposal", "may_propose")} for r in data["candidates"]]


@router.get("/e/{slug}/board", response_class=HTMLResponse, include_in_schema=False)
def board(slug: str, request: Request, wb: WB, c: PageViewer) -> Response:
    """Candidates with their explanations, sorted and filtered by the query (no script
    needed), the optimised plan (managers and observers), the proposals the caller may see
    with the moves it may make, and the ledger split planned / agreed / recorded."""
    params = dict(request.query_params)
    q = proposals.Query.parse(params)
    refused = params.get("refused", "")
    first = int(refused) if refused.isascii() and refused.isdigit() and len(refused) < 12 else None
    return html_page(
        "board.html", user=c.user, csrf=csrf_token(request), **proposals.board(wb, c, slug, q, refused=first)
    )


@router.get("/e/{slug}/board/export", include_in_schema=False)
def board_export(
    slug: str, request: Request, wb: WB, c: PageViewer, what: str = "candidates", form: str = "csv"
) -> Response:
    """The board's tables as CSV or Excel: ``what`` = candidates (as filtered and sorted,
    every row), plan (managers and observers) or ledger; units in the headers, n/a where
    a figure is unknown or not the caller's to see."""
    q = proposals.Query.parse({k: v for k, v in request.query_params.items() if k not in ("what", "form")})
    data, media, name = proposals.export(wb, c, slug, what, form, q)
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


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
        p = proposals.propose(wb, c, slug, source, target, resource, quantity)
    except DuplicateProposalError as exc:  # refused: the board says so and leads to the first
        return RedirectResponse(f"/e/{slug}/board?refused={exc.first.id}#proposal-{exc.first.id}", status_code=303)
    except StoreError as exc:  # two parties, a positive quantity
        raise HTTPException(422, str(exc)) from None
    return RedirectResponse(f"/e/{slug}/board#proposal-{p.id}", status_code=303)


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
    return RedirectResponse(f"/e/{slug}/board#proposal-{pid}", status_code=303)


@router.post("/e/{slug}/proposals/{pid}/consent", include_in_schema=False)
def consent(
    slug: str,
    pid: int,
    wb: WB,
    c: PageViewer,
    _: PageForm,
    party: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    proposals.one(wb, c, slug, pid, "consent to record an exchange")
    try:
        proposals.consent(wb, c, slug, pid, for_party=party, note=note)
    except StaleError as exc:
        raise HTTPException(409, str(exc)) from None
    except StoreError as exc:
        raise HTTPException(422, str(exc)) from None
    return RedirectResponse(f"/e/{slug}/board#proposal-{pid}", status_code=303)
