"""Suggested exchanges (typical for the park's sectors): the board's panel, its JSON twin,
turning a suggestion into draft offers and needs, and a firm's confirmation of its draft."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from rainforest.errors import DocumentError
from rainforest.store import ConflictError, StoreError
from rainforest.web.deps import WB, ApiRole, Caller, PageRole, csrf_token, json_csrf, page_csrf
from rainforest.web.render import html_page
from rainforest.web.services import suggestions

router = APIRouter()

Viewer = Annotated[Caller, Depends(ApiRole())]
PageViewer = Annotated[Caller, Depends(PageRole())]
JsonCsrf = Annotated[None, Depends(json_csrf)]
PageForm = Annotated[None, Depends(page_csrf)]


def _expected(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    raise HTTPException(422, f"expected must be a version number, got {str(value)[:40]!r}")


def _quantity(value: Any) -> float:
    try:
        q = float(value)
    except (TypeError, ValueError):
        raise HTTPException(
            422, f"quantity must be a positive number (an estimate per period), got {str(value)[:40]!r}"
        ) from None
    if not q > 0 or q == float("inf"):
        raise HTTPException(422, f"quantity must be a positive number (an estimate per period), got {value!r}")
    return q


@router.get("/api/ecosystems/{slug}/suggestions", tags=["suggestions"])
def api_suggestions(slug: str, wb: WB, c: Viewer) -> dict[str, Any]:
    """Exchanges typical for the firms' sectors (not declared by anyone), best first, each
    with its sources; the firms left out and why; the drafts awaiting confirmation. A
    member sees those of its own firm."""
    return suggestions.panel(wb, c, slug)


@router.post("/api/ecosystems/{slug}/suggestions/drafts", tags=["suggestions"])
def api_make_drafts(slug: str, wb: WB, c: Viewer, _: JsonCsrf, body: dict[str, Any]) -> JSONResponse:
    """Turn a suggestion ``{supplier, receiver, synergy, quantity, expected?}`` into a draft
    offer and a draft need (managers): a new version, marked ``x_draft`` for the firms to
    confirm. 409 when the ecosystem moved from ``expected``."""
    try:
        v = suggestions.make_drafts(
            wb,
            c,
            slug,
            str(body.get("supplier", "")),
            str(body.get("receiver", "")),
            str(body.get("synergy", "")),
            _quantity(body.get("quantity")),
            _expected(body.get("expected")),
        )
    except ConflictError as exc:
        return JSONResponse({"error": str(exc)}, status_code=409)
    except (DocumentError, StoreError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=422)
    return JSONResponse({"version": v.number, "message": v.message}, status_code=201)


@router.post("/api/ecosystems/{slug}/drafts/confirm", tags=["suggestions"])
def api_confirm(slug: str, wb: WB, c: Viewer, _: JsonCsrf, body: dict[str, Any]) -> JSONResponse:
    """Confirm a draft ``{section: offers|needs, index, expected?}`` (its firm's member, or a
    manager): a new version without the draft mark."""
    index = body.get("index")
    if not isinstance(index, int) or isinstance(index, bool):
        return JSONResponse({"error": f"index must be an integer, got {index!r}"}, status_code=422)
    try:
        v = suggestions.confirm(wb, c, slug, str(body.get("section", "")), index, _expected(body.get("expected")))
    except ConflictError as exc:
        return JSONResponse({"error": str(exc)}, status_code=409)
    except (DocumentError, StoreError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=422)
    return JSONResponse({"version": v.number, "message": v.message})


@router.get("/e/{slug}/suggestions/panel", response_class=HTMLResponse, include_in_schema=False)
def panel(slug: str, request: Request, wb: WB, c: PageViewer) -> Response:
    """The board's suggestions panel (its shell loads this fragment)."""
    return html_page("_suggestions.html", panel=suggestions.panel(wb, c, slug), csrf=csrf_token(request), slug=slug)


@router.post("/e/{slug}/suggestions/drafts", include_in_schema=False)
def make_drafts(
    slug: str,
    wb: WB,
    c: PageViewer,
    _: PageForm,
    supplier: Annotated[str, Form()],
    receiver: Annotated[str, Form()],
    synergy: Annotated[str, Form()],
    quantity: Annotated[str, Form()],
    expected: Annotated[str, Form()] = "",
) -> Response:
    try:
        suggestions.make_drafts(wb, c, slug, supplier, receiver, synergy, _quantity(quantity), _expected(expected))
    except ConflictError as exc:
        raise HTTPException(409, str(exc)) from None
    except (DocumentError, StoreError) as exc:
        raise HTTPException(422, str(exc)) from None
    return RedirectResponse(f"/e/{slug}/board#suggestions", status_code=303)


@router.post("/e/{slug}/drafts/confirm", include_in_schema=False)
def confirm(
    slug: str,
    wb: WB,
    c: PageViewer,
    _: PageForm,
    section: Annotated[str, Form()],
    index: Annotated[int, Form()],
    expected: Annotated[str, Form()] = "",
) -> Response:
    try:
        suggestions.confirm(wb, c, slug, section, index, _expected(expected))
    except ConflictError as exc:
        raise HTTPException(409, str(exc)) from None
    except (DocumentError, StoreError) as exc:
        raise HTTPException(422, str(exc)) from None
    return RedirectResponse(f"/e/{slug}/board#suggestions", status_code=303)
