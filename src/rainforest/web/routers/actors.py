"""Actors: the directory, one actor and its edits, and the waste and sector code search."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from rainforest.errors import DocumentError
from rainforest.store import ConflictError, StoreError, Version
from rainforest.web.deps import WB, ApiRole, ApiUser, Caller, PageRole, csrf_token, json_csrf, page_csrf
from rainforest.web.render import html_page
from rainforest.web.services import actors
from rainforest.web.uploads import issue_dict

router = APIRouter()

Viewer = Annotated[Caller, Depends(ApiRole())]
PageViewer = Annotated[Caller, Depends(PageRole())]
PageForm = Annotated[None, Depends(page_csrf)]


@router.get("/api/codes", tags=["codes"])
def api_codes(user: ApiUser, kind: str = "waste", q: str = "", limit: int = 12) -> list[dict[str, Any]]:
    """Search the shipped European Waste Catalogue (``kind=waste``) or NACE rev. 2
    (``kind=sector``) by code or words; best matches first."""
    return actors.codes(kind, q, limit)


@router.get("/api/ecosystems/{slug}/actors/{aid}", tags=["actors"])
def api_actor(slug: str, aid: str, wb: WB, c: Viewer) -> dict[str, Any]:
    """One actor with its offers, needs and flows, as the caller may see them."""
    return {"version": wb.store.head(slug), **actors.view(wb.store.load(slug), c.access, aid)}


@router.post("/api/ecosystems/{slug}/actors/{aid}", tags=["actors"])
def api_edit_actor(
    slug: str, aid: str, wb: WB, c: Viewer, _: Annotated[None, Depends(json_csrf)], body: dict[str, Any]
) -> JSONResponse:
    """Replace an actor's ``record``, ``offers``, ``needs`` or ``flows`` (those it is a
    party to) with the given ``rainforest/1`` records; parts left out stay. Members edit
    only their own actor, managers every one. ``expected``: the version the edit starts
    from (409 when someone saved meanwhile). Without it, the edit is made on the latest
    version and, when someone saves meanwhile, made again on theirs if they changed none
    of the parts it replaces (else 409): nobody's change is reverted. 422 with every
    problem and its place."""
    try:
        version = actors.edit_body(wb, c, slug, aid, body)
    except DocumentError as exc:
        return JSONResponse({"error": str(exc).splitlines()[0], "problems": [issue_dict(i) for i in exc.issues]}, 422)
    except ConflictError as exc:
        return JSONResponse({"error": str(exc), "version": exc.head}, 409)
    except (StoreError, ValueError) as exc:
        return JSONResponse({"error": str(exc)}, 422)
    return JSONResponse(version.to_dict())


@router.get("/e/{slug}/actors", response_class=HTMLResponse, include_in_schema=False)
def actors_page(slug: str, request: Request, wb: WB, c: PageViewer, q: str = "", page: int = 1) -> Response:
    return html_page("actors.html", user=c.user, csrf=csrf_token(request), **actors.actors_page(wb, c, slug, q, page))


def _actor(request: Request, wb: WB, c: Caller, slug: str, aid: str, error: str = "", status: int = 200) -> Response:
    return html_page(
        "actor.html",
        status,
        user=c.user,
        error=error,
        csrf=csrf_token(request),
        **actors.actor_page(wb, c, slug, aid),
    )


@router.get("/e/{slug}/actors/{aid}", response_class=HTMLResponse, include_in_schema=False)
def actor_page(slug: str, aid: str, request: Request, wb: WB, c: PageViewer) -> Response:
    return _actor(request, wb, c, slug, aid)


def _saved(request: Request, wb: WB, c: Caller, slug: str, aid: str, save: Callable[[], Version]) -> Response:
    """Run the edit ``save``; the actor page with what went wrong, else back to it."""
    try:
        save()
    except DocumentError as exc:
        return _actor(request, wb, c, slug, aid, error="; ".join(str(i) for i in exc.issues), status=422)
    except ConflictError as exc:
        error = f"{exc} Your change was not saved; here is the latest version."
        return _actor(request, wb, c, slug, aid, error=error, status=409)
    return RedirectResponse(f"/e/{slug}/actors/{aid}", status_code=303)


@router.post("/e/{slug}/actors/{aid}", include_in_schema=False)
def edit_record(
    slug: str,
    aid: str,
    request: Request,
    wb: WB,
    c: PageViewer,
    _: PageForm,
    name: Annotated[str, Form()] = "",
    sector: Annotated[str, Form()] = "",
    public: Annotated[str, Form()] = "",
    expected: Annotated[str, Form()] = "",
) -> Response:
    return _saved(
        request,
        wb,
        c,
        slug,
        aid,
        lambda: actors.edit_record(wb, c, slug, aid, name=name, sector=sector, public=public, expected=expected),
    )


@router.post("/e/{slug}/actors/{aid}/{section}", include_in_schema=False)
def edit_part(
    slug: str,
    aid: str,
    section: str,
    request: Request,
    wb: WB,
    c: PageViewer,
    _: PageForm,
    resource: Annotated[str, Form()] = "",
    quantity: Annotated[str, Form()] = "",
    supply_pattern: Annotated[str, Form()] = "",
    price: Annotated[str, Form()] = "",
    confidential: Annotated[str, Form()] = "true",
    direction: Annotated[str, Form()] = "out",
    other: Annotated[str, Form()] = "",
    remove: Annotated[str, Form()] = "",
    expected: Annotated[str, Form()] = "",
) -> Response:
    form = {
        "resource": resource,
        "quantity": quantity,
        "supply_pattern": supply_pattern,
        "price": price,
        "confidential": confidential,
        "direction": direction,
        "other": other,
        "remove": remove,
    }
    return _saved(request, wb, c, slug, aid, lambda: actors.edit_part(wb, c, slug, aid, section, form, expected))
