"""The people of an ecosystem and the firms' applications: pages, forms and the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from rainforest.errors import DocumentError, UnknownIdError
from rainforest.store import StaleError, StoreError
from rainforest.web.deps import WB, ApiRole, Caller, PageRole, check_csrf, csrf_token, header_csrf, json_csrf, page_csrf
from rainforest.web.render import html_page
from rainforest.web.services import people
from rainforest.web.uploads import issue_dict

router = APIRouter()

JsonCsrf = Annotated[None, Depends(json_csrf)]
PageForm = Annotated[None, Depends(page_csrf)]


def _people(request: Request, wb: WB, c: Caller, slug: str, error: str = "") -> Response:
    return html_page(
        "people.html",
        422 if error else 200,
        user=c.user,
        error=error,
        csrf=csrf_token(request),
        **people.people_page(wb, c, slug, str(request.base_url)),
    )


def _acted(
    request: Request, wb: WB, c: Caller, slug: str, act: Callable[[], object], refused: tuple[type[Exception], ...]
) -> Response:
    """Run the page action ``act``; the people page with why it was ``refused``, else back to it."""
    try:
        act()
    except refused as exc:
        return _people(request, wb, c, slug, error=str(exc))
    return RedirectResponse(f"/e/{slug}/people", status_code=303)


@router.get("/api/ecosystems/{slug}/people", tags=["people"])
def api_people(
    slug: str, wb: WB, c: Annotated[Caller, Depends(ApiRole("manages", "see who has a role"))]
) -> list[dict[str, Any]]:
    """Everyone with a role in the ecosystem (managers)."""
    return [{"username": m.username, "role": m.role, "actor": m.actor} for m in wb.records.accounts.members(slug)]


@router.post("/api/ecosystems/{slug}/people", tags=["people"])
def api_grant(
    slug: str,
    wb: WB,
    c: Annotated[Caller, Depends(ApiRole("manages", "give roles"))],
    _: JsonCsrf,
    body: dict[str, Any],
) -> JSONResponse:
    """Give someone a role ``{username, role, actor?, password?}`` (managers): ``member``
    (of one actor), ``observer`` or ``manager``. With a password, a new account is made
    for a user name that has none (a member firm registering)."""
    try:
        m = people.grant(wb, c, slug, body)
    except (StoreError, UnknownIdError) as exc:
        return JSONResponse({"error": str(exc)}, 422)
    return JSONResponse({"username": m.username, "role": m.role, "actor": m.actor}, 201)


@router.delete("/api/ecosystems/{slug}/people/{username}", tags=["people"])
def api_revoke(
    slug: str,
    username: str,
    wb: WB,
    c: Annotated[Caller, Depends(ApiRole("manages", "take roles away"))],
    _: Annotated[None, Depends(header_csrf)],
) -> Response:
    """Take someone's role away (managers); the user's sessions end."""
    try:
        people.revoke(wb, c, slug, username)
    except StoreError as exc:
        raise HTTPException(404, str(exc)) from None
    return Response(status_code=204)


@router.get("/e/{slug}/people", response_class=HTMLResponse, include_in_schema=False)
def people_page(
    slug: str, request: Request, wb: WB, c: Annotated[Caller, Depends(PageRole("manages", "see who has a role"))]
) -> Response:
    return _people(request, wb, c, slug)


@router.post("/e/{slug}/people", include_in_schema=False)
def grant_page(
    slug: str,
    request: Request,
    wb: WB,
    c: Annotated[Caller, Depends(PageRole("manages", "give roles"))],
    _: PageForm,
    username: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    actor: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    form = {"username": username, "role": role, "actor": actor, "password": password}
    return _acted(request, wb, c, slug, lambda: people.grant(wb, c, slug, form), (StoreError, UnknownIdError))


@router.post("/e/{slug}/people/{username}/remove", include_in_schema=False)
def revoke_page(
    slug: str,
    username: str,
    request: Request,
    wb: WB,
    c: Annotated[Caller, Depends(PageRole("manages", "take roles away"))],
    _: PageForm,
) -> Response:
    return _acted(request, wb, c, slug, lambda: people.revoke(wb, c, slug, username), (StoreError,))


# -- firms registering themselves ----------------------------------------------------------------
@router.get("/register/{slug}", response_class=HTMLResponse, include_in_schema=False)
def register_form(slug: str, request: Request, wb: WB, key: str = "") -> Response:
    name = people.check_link(wb, slug, key)
    return html_page(
        "register.html",
        user=None,
        slug=slug,
        key=key,
        name=name,
        error=None,
        done=None,
        form={},
        csrf=csrf_token(request),
    )


@router.post("/register/{slug}", response_class=HTMLResponse, include_in_schema=False)
def register(
    slug: str,
    request: Request,
    wb: WB,
    key: Annotated[str, Form()] = "",
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    actor: Annotated[str, Form()] = "",
    firm: Annotated[str, Form()] = "",
    message: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    name = people.check_link(wb, slug, key)  # the link first: a CSRF error would tell that it exists
    check_csrf(request, csrf)
    form = {"username": username, "actor": actor, "firm": firm, "message": message}
    shown: dict[str, Any] = {"user": None, "slug": slug, "key": key, "name": name, "form": form}
    try:
        done = people.register(
            wb,
            slug,
            request.client.host if request.client else "",
            username=username,
            password=password,
            actor=actor,
            firm=firm,
            message=message,
        )
    except PermissionError as exc:
        return html_page("register.html", 429, done=None, error=str(exc), csrf=csrf_token(request), **shown)
    except StoreError as exc:
        return html_page("register.html", 422, done=None, error=str(exc), csrf=csrf_token(request), **shown)
    return html_page("register.html", done=done, error=None, csrf=csrf_token(request), **shown)


@router.get("/api/ecosystems/{slug}/applications", tags=["people"])
def api_applications(
    slug: str, wb: WB, c: Annotated[Caller, Depends(ApiRole("manages", "see the applications"))]
) -> list[dict[str, Any]]:
    """Firms that registered themselves for the ecosystem, with their status (managers)."""
    return [x.to_dict() for x in wb.records.applications.applications(slug)]


@router.post("/api/ecosystems/{slug}/applications/{aid}", tags=["people"])
def api_decide(
    slug: str,
    aid: int,
    wb: WB,
    c: Annotated[Caller, Depends(ApiRole("manages", "decide applications"))],
    _: JsonCsrf,
    body: dict[str, Any],
) -> JSONResponse:
    """Decide an application ``{decision: approve | refuse}`` (managers): approving makes
    the applicant the member of its actor (added to the ecosystem when new)."""
    try:
        decided = people.decide(wb, c, slug, aid, str(body.get("decision", "")))
    except StaleError as exc:
        return JSONResponse({"error": str(exc)}, 409)
    except StoreError as exc:
        status = 404 if "has no application" in str(exc) else 422
        return JSONResponse({"error": str(exc)}, status)
    except DocumentError as exc:
        return JSONResponse({"error": str(exc).splitlines()[0], "problems": [issue_dict(i) for i in exc.issues]}, 422)
    return JSONResponse(decided.to_dict())


@router.post("/e/{slug}/applications/{aid}", include_in_schema=False)
def decide_page(
    slug: str,
    aid: int,
    request: Request,
    wb: WB,
    c: Annotated[Caller, Depends(PageRole("manages", "decide applications"))],
    _: PageForm,
    decision: Annotated[str, Form()] = "",
) -> Response:
    return _acted(request, wb, c, slug, lambda: people.decide(wb, c, slug, aid, decision), (StoreError, DocumentError))
