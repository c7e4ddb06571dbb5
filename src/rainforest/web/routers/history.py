"""The history of an ecosystem: its versions in words, the difference between two of them,
reverting to one (managers), and a new ecosystem started from its first firm."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

import rainforest as rf
from rainforest.errors import DocumentError, Issue
from rainforest.store import ConflictError, StoreError, Version
from rainforest.web.deps import WB, ApiRole, ApiUser, Caller, PageRole, PageUser, csrf_token, json_csrf, page_csrf
from rainforest.web.records.accounts import User
from rainforest.web.render import html_page
from rainforest.web.routers.actors import field_errors
from rainforest.web.services import actors, history
from rainforest.web.uploads import issue_dict

router = APIRouter()

Reader = Annotated[Caller, Depends(ApiRole("sees_all", "the history"))]
PageReader = Annotated[Caller, Depends(PageRole("sees_all", "the history"))]
Manager = Annotated[Caller, Depends(ApiRole("manages", "revert"))]
JsonCsrf = Annotated[None, Depends(json_csrf)]
PageForm = Annotated[None, Depends(page_csrf)]


# -- API -------------------------------------------------------------------------------------------
@router.get("/api/ecosystems/{slug}/versions", tags=["history"])
def api_versions(slug: str, wb: WB, c: Reader, page: int = 1) -> dict[str, Any]:
    """The versions, newest first, 25 per ``page``: number, when, who, the message and what
    changed in words (``what``). Managers and observers."""
    return history.versions(wb, slug, page)


@router.get("/api/ecosystems/{slug}/diff", tags=["history"])
def api_diff(slug: str, wb: WB, c: Reader, a: str = "", b: str = "") -> dict[str, Any]:
    """What changed from version ``a`` to version ``b`` (by default: what the latest version
    changed): in words (``what``) and row by row (``rows``: section, added, removed or
    changed, the records before and after, the fields that changed)."""
    head = wb.store.head(slug)
    return history.diff(wb, slug, a or max(1, head - 1), b or head)


@router.post("/api/ecosystems/{slug}/revert", tags=["history"])
def api_revert(slug: str, wb: WB, c: Manager, _: JsonCsrf, body: dict[str, Any]) -> JSONResponse:
    """Revert to a version ``{version, expected?, message?}`` (managers): its document is saved
    as the next version, ``revert to version N``; nothing of the history is lost. 409 when
    the ecosystem moved past ``expected``."""
    try:
        v = history.revert(
            wb, c, slug, body.get("version"), body.get("expected"), confirmed=True, note=str(body.get("message") or "")
        )
    except ConflictError as exc:
        return JSONResponse({"error": str(exc), "version": exc.head}, 409)
    except StoreError as exc:
        return JSONResponse({"error": str(exc)}, 422)
    return JSONResponse(v.to_dict())


def _admin(user: User) -> None:
    if not user.admin:
        raise HTTPException(403, "only administrators create ecosystems")


def _first(wb: WB, user: User, slug: str, name: str, record: dict[str, Any]) -> Version:
    """A new ecosystem ``slug`` named ``name`` whose only actor is ``record`` (a document
    needs one actor: the park's first firm)."""
    _admin(user)
    if not name.strip():
        raise DocumentError([Issue("name", "the ecosystem needs a name", expected="the park's name")], source="edit")
    actor_id = str(record.get("id") or "").strip() or actors.new_id(str(record.get("name") or ""), ())
    try:
        eco = rf.Ecosystem(name.strip(), actors=[_actor({**record, "id": actor_id})])
    except (TypeError, ValueError) as exc:
        raise DocumentError([Issue("record", str(exc))], source="edit") from None
    return wb.store.create(slug, eco, author=user.username, message=f"created {name.strip()} with its first actor")


def _actor(record: dict[str, Any]) -> rf.Actor:
    """The first actor, validated as a record (problems placed as ``record.sector``)."""
    from rainforest.model.entities import entity_from_row
    from rainforest.model.schema import FORMAT
    from rainforest.model.validation import RawDocument, build_tables, records_to_section

    raw, _ = records_to_section("actors", [record])
    try:
        tables = build_tables(
            RawDocument(top={"format": FORMAT, "name": "new"}, sections={"actors": raw}, source="edit")
        )[3]
    except DocumentError as exc:
        raise DocumentError(
            [
                Issue(re.sub(r"^actors\[0\]", "record", i.path), i.message, expected=i.expected, got=i.got, hint=i.hint)
                for i in exc.issues
            ],
            source="edit",
        ) from None
    actor: rf.Actor = entity_from_row("actors", tables["actors"], 0)
    return actor


@router.post("/api/ecosystems/new", tags=["ecosystems"])
def api_new(wb: WB, user: ApiUser, _: JsonCsrf, body: dict[str, Any]) -> JSONResponse:
    """A new ecosystem without a document ``{slug, name, actor: {id?, name, sector?}}``
    (administrators): its first version holds the first firm only; add the others, their
    resources, offers and needs in the workbench. 201; 422 with the problem."""
    _admin(user)
    record = body.get("actor")
    if not isinstance(record, dict):
        return JSONResponse({"error": "actor must be an object: the first firm's record {id?, name, sector?}"}, 422)
    try:
        v = _first(wb, user, str(body.get("slug", "")), str(body.get("name", "")), record)
    except DocumentError as exc:
        return JSONResponse({"error": str(exc).splitlines()[0], "problems": [issue_dict(i) for i in exc.issues]}, 422)
    except StoreError as exc:
        return JSONResponse({"error": str(exc)}, 422)
    return JSONResponse(v.to_dict(), 201)


# -- pages -----------------------------------------------------------------------------------------
def _page(request: Request, wb: WB, c: Caller, slug: str, status: int = 200, **extra: Any) -> Response:
    q = request.query_params
    page = int(q["page"]) if q.get("page", "").isdigit() else 1
    a, b = q.get("a", ""), q.get("b", "")
    context: dict[str, Any] = {"error": "", "confirm": None, "saved": q.get("saved", "")[:200]}
    context.update(extra)
    return html_page(
        "history.html",
        status,
        user=c.user,
        csrf=csrf_token(request),
        **context,
        **history.history_page(wb, c, slug, page, a if a.isdigit() else "", b if b.isdigit() else ""),
    )


@router.get("/e/{slug}/history", response_class=HTMLResponse, include_in_schema=False)
def history_page(slug: str, request: Request, wb: WB, c: PageReader) -> Response:
    return _page(request, wb, c, slug)


@router.post("/e/{slug}/history/{number}/revert", include_in_schema=False)
def revert_page(
    slug: str,
    number: int,
    request: Request,
    wb: WB,
    c: Annotated[Caller, Depends(PageRole("manages", "revert"))],
    _: PageForm,
    confirm: Annotated[str, Form()] = "",
    expected: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    try:
        v = history.revert(wb, c, slug, number, expected, confirmed=confirm == "yes", note=note)
    except actors.NotConfirmedError as exc:
        confirmation = {"question": exc.question, "form": f"/e/{slug}/history/{number}/revert", "fields": exc.fields}
        return _page(request, wb, c, slug, confirm=confirmation)
    except ConflictError as exc:
        return _page(request, wb, c, slug, 409, error=f"{exc} Nothing was reverted; here is the latest history.")
    except StoreError as exc:
        return _page(request, wb, c, slug, 422, error=str(exc))
    return RedirectResponse(f"/e/{slug}/history?saved={v.message.replace(' ', '+')[:200]}", status_code=303)


@router.post("/new/empty", include_in_schema=False)
def new_page(
    request: Request,
    wb: WB,
    user: PageUser,
    _: PageForm,
    slug: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    actor_name: Annotated[str, Form()] = "",
    actor_id: Annotated[str, Form()] = "",
    sector: Annotated[str, Form()] = "",
) -> Response:
    """A new ecosystem from its name, slug and first firm (administrators)."""
    _admin(user)
    record = {k: v.strip() for k, v in (("id", actor_id), ("name", actor_name), ("sector", sector)) if v.strip()}
    try:
        if not actor_name.strip() and not actor_id.strip():
            raise DocumentError(
                [Issue("record.name", "the first firm needs a name", expected="the name of one firm of the park")],
                source="edit",
            )
        _first(wb, user, slug.strip(), name, record)
    except (DocumentError, StoreError) as exc:
        errors: dict[str, str] = {}
        if isinstance(exc, DocumentError):
            errors, rest = field_errors(exc)
            for i in exc.issues:
                if i.path == "name":
                    errors["eco_name"] = i.message
            error = "; ".join(rest) if rest else "Not created: see the fields below."
        else:
            error, errors = str(exc), {"slug": str(exc)}
        values = {"slug": slug, "name": name, "actor_name": actor_name, "actor_id": actor_id, "sector": sector}
        return html_page(
            "index.html",
            422,
            user=user,
            ecosystems=wb.visible(user),
            error="",
            problems=None,
            slug="",
            csrf=csrf_token(request),
            empty={"values": values, "errors": errors, "error": error},
        )
    return RedirectResponse(f"/e/{slug.strip()}/actors", status_code=303)
