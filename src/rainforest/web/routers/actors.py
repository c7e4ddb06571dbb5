"""Actors: the directory, one actor and its edits, and the waste and sector code search."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from rainforest.errors import DocumentError, Issue
from rainforest.store import ConflictError, StoreError, Version
from rainforest.web.deps import (
    WB,
    ApiRole,
    ApiUser,
    Caller,
    PageRole,
    csrf_token,
    header_csrf,
    json_csrf,
    page_csrf,
)
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


# -- API: actors and resources added, changed, removed (managers) ----------------------------------
Manager = Annotated[Caller, Depends(ApiRole("manages", "add, change and remove actors and resources"))]
JsonCsrf = Annotated[None, Depends(json_csrf)]


def _expected(value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"expected must be a version number, got {str(value)[:40]!r}")
    return value


def _api(save: Callable[[], Version], status: int = 200) -> JSONResponse:
    """Run an API edit: the new version (``status``), else 422 with every problem or 409."""
    try:
        version = save()
    except DocumentError as exc:
        return JSONResponse({"error": str(exc).splitlines()[0], "problems": [issue_dict(i) for i in exc.issues]}, 422)
    except ConflictError as exc:
        return JSONResponse({"error": str(exc), "version": exc.head}, 409)
    except (StoreError, ValueError) as exc:
        return JSONResponse({"error": str(exc)}, 422)
    return JSONResponse(version.to_dict(), status)


def _record(body: dict[str, Any]) -> dict[str, Any]:
    record = body.get("record")
    if not isinstance(record, dict):
        raise ValueError("record must be an object: the rainforest/1 record")
    return record


@router.post("/api/ecosystems/{slug}/actors", tags=["actors"])
def api_add_actor(slug: str, wb: WB, c: Manager, _: JsonCsrf, body: dict[str, Any]) -> JSONResponse:
    """Add an actor ``{record, expected?, message?}`` (managers): 201 with the new
    version; 422 with every problem (a taken id too), 409 when ``expected`` is stale."""
    return _api(
        lambda: actors.add_actor(
            wb, c, slug, _record(body), _expected(body.get("expected")), str(body.get("message") or "")
        ),
        201,
    )


@router.delete("/api/ecosystems/{slug}/actors/{aid}", tags=["actors"])
def api_remove_actor(
    slug: str, aid: str, wb: WB, c: Manager, _: Annotated[None, Depends(header_csrf)], expected: int | None = None
) -> JSONResponse:
    """Remove an actor with its offers, needs, stocks, flows and links (managers). 422 when a
    module names it or it is the last one."""
    return _api(lambda: actors.remove_actor(wb, c, slug, aid, expected, confirmed=True))


@router.post("/api/ecosystems/{slug}/resources", tags=["actors"])
def api_add_resource(slug: str, wb: WB, c: Manager, _: JsonCsrf, body: dict[str, Any]) -> JSONResponse:
    """Add a resource ``{record, expected?, message?}`` (managers): 201 with the new version."""
    return _api(
        lambda: actors.save_resource(
            wb, c, slug, _record(body), _expected(body.get("expected")), note=str(body.get("message") or "")
        ),
        201,
    )


@router.post("/api/ecosystems/{slug}/resources/{rid}", tags=["actors"])
def api_edit_resource(slug: str, rid: str, wb: WB, c: Manager, _: JsonCsrf, body: dict[str, Any]) -> JSONResponse:
    """Replace a resource's record ``{record, expected?, message?}`` (managers); its id stays."""
    return _api(
        lambda: actors.save_resource(
            wb, c, slug, _record(body), _expected(body.get("expected")), rid=rid, note=str(body.get("message") or "")
        )
    )


@router.delete("/api/ecosystems/{slug}/resources/{rid}", tags=["actors"])
def api_remove_resource(
    slug: str, rid: str, wb: WB, c: Manager, _: Annotated[None, Depends(header_csrf)], expected: int | None = None
) -> JSONResponse:
    """Remove a resource (managers): 422 saying where it is named while anything names it."""
    return _api(lambda: actors.remove_resource(wb, c, slug, rid, expected, confirmed=True))


# -- pages -----------------------------------------------------------------------------------------
def field_errors(exc: DocumentError) -> tuple[dict[str, str], list[str]]:
    """A form's problems by field (the first segment after the record: ``quantity``,
    ``sector``, ``quality``), and those of no field of the form."""
    fields: dict[str, str] = {}
    rest: list[str] = []
    for i in exc.issues:
        path = i.path
        m = re.match(r"^(?:record|[a-z_]+\[\d+\])\.([a-z_]+)", path)
        text = i.message
        if i.expected:
            text += f"; expected {i.expected}"
        if i.got:
            text += f", got {i.got}"
        if i.hint:
            text += f" ({i.hint})"
        if m:
            fields.setdefault(m.group(1), text)
        else:
            rest.append(str(i))
    return fields, rest


def _failed(form: str, values: dict[str, Any], exc: DocumentError) -> dict[str, Any]:
    errors, rest = field_errors(exc)
    return {"form": form, "values": values, "errors": errors, "rest": rest}


def _summary(exc: DocumentError) -> str:
    n = len(exc.issues)
    return f"Not saved: {n} problem{'s' if n != 1 else ''}, shown next to the field{'s' if n != 1 else ''} below."


def _error(failed: dict[str, Any], exc: DocumentError) -> str:
    """The message above the page: where to look, or the problems of no field."""
    if failed["errors"] and not failed["rest"]:
        return _summary(exc)
    return "Not saved: " + "; ".join(str(i) for i in exc.issues)


def _actors(
    request: Request, wb: WB, c: Caller, slug: str, q: str = "", page: int = 1, status: int = 200, **extra: Any
) -> Response:
    context: dict[str, Any] = {
        "error": "",
        "failed": None,
        "confirm": None,
        "saved": "",
        "request_edit": request.query_params.get("edit", "")[:100],
    }
    context.update(extra)
    return html_page(
        "actors.html",
        status,
        user=c.user,
        csrf=csrf_token(request),
        **context,
        **actors.actors_page(wb, c, slug, q, page),
    )


@router.get("/e/{slug}/actors", response_class=HTMLResponse, include_in_schema=False)
def actors_page(
    slug: str, request: Request, wb: WB, c: PageViewer, q: str = "", page: int = 1, saved: str = ""
) -> Response:
    return _actors(request, wb, c, slug, q, page, saved=saved[:200])


def _directory_saved(
    request: Request, wb: WB, c: Caller, slug: str, form: str, values: dict[str, Any], save: Callable[[], Version]
) -> Response:
    """Run an edit from the actors page; the page again with what went wrong, a
    confirmation to give, else back to it."""
    try:
        version = save()
    except actors.NotConfirmedError as exc:
        fields = {k: str(v) for k, v in values.items() if isinstance(v, str)}
        return _actors(request, wb, c, slug, confirm={"question": exc.question, "form": form, "fields": fields})
    except DocumentError as exc:
        failed = _failed(form, values, exc)
        return _actors(request, wb, c, slug, status=422, error=_error(failed, exc), failed=failed)
    except ConflictError as exc:
        error = f"{exc} Your change was not saved; here is the latest version."
        return _actors(request, wb, c, slug, status=409, error=error)
    return RedirectResponse(f"/e/{slug}/actors?saved={quote(version.message[:200])}", status_code=303)


@router.post("/e/{slug}/actors", include_in_schema=False)
def add_actor_page(
    slug: str,
    request: Request,
    wb: WB,
    c: PageViewer,
    _: PageForm,
    id: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    sector: Annotated[str, Form()] = "",
    stratum: Annotated[str, Form()] = "",
    stage: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    expected: Annotated[str, Form()] = "",
) -> Response:
    values = {"id": id, "name": name, "sector": sector, "stratum": stratum, "stage": stage, "note": note}
    if not c.access.manages:
        raise HTTPException(403, "only the ecosystem's managers add actors")

    def save() -> Version:
        record = actors.actor_record(values, wb.store.load(slug).actor_ids)
        if not name.strip() and not id.strip():
            raise DocumentError(
                [Issue("record.name", "a new actor needs a name (or an id)", expected="the firm's name")], source="edit"
            )
        return actors.add_actor(wb, c, slug, record, expected, note)

    try:
        version = save()
    except DocumentError as exc:
        return _actors(request, wb, c, slug, status=422, error=_summary(exc), failed=_failed("add-actor", values, exc))
    except ConflictError as exc:
        return _actors(request, wb, c, slug, status=409, error=f"{exc} The actor was not added; try again.")
    aid = next(iter(version.changes.get("actors", {}).get("keys", {}).get("added", [])), "")
    return RedirectResponse(f"/e/{slug}/actors/{quote(aid)}" if aid else f"/e/{slug}/actors", status_code=303)


@router.post("/e/{slug}/resources", include_in_schema=False)
def save_resource_page(
    slug: str,
    request: Request,
    wb: WB,
    c: PageViewer,
    _: PageForm,
    rid: Annotated[str, Form()] = "",
    id: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    unit: Annotated[str, Form()] = "",
    price: Annotated[str, Form()] = "",
    ewc: Annotated[str, Form()] = "",
    co2e_virgin: Annotated[str, Form()] = "",
    co2e_disposal: Annotated[str, Form()] = "",
    transport_cost: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    expected: Annotated[str, Form()] = "",
) -> Response:
    """Add a resource, or change resource ``rid`` (managers)."""
    if not c.access.manages:
        raise HTTPException(403, "only the ecosystem's managers add and change resources")
    values = {
        "id": id,
        "name": name,
        "kind": kind,
        "unit": unit,
        "price": price,
        "ewc": ewc,
        "co2e_virgin": co2e_virgin,
        "co2e_disposal": co2e_disposal,
        "transport_cost": transport_cost,
        "note": note,
    }
    form = f"resource-{rid}" if rid else "add-resource"

    def save() -> Version:
        record = actors.checked_resource_record(wb.store.load(slug), values, rid)
        return actors.save_resource(wb, c, slug, record, expected, rid=rid, note=note)

    return _directory_saved(request, wb, c, slug, form, values, save)


@router.post("/e/{slug}/resources/{rid}/remove", include_in_schema=False)
def remove_resource_page(
    slug: str,
    rid: str,
    request: Request,
    wb: WB,
    c: PageViewer,
    _: PageForm,
    confirm: Annotated[str, Form()] = "",
    expected: Annotated[str, Form()] = "",
) -> Response:
    values = {"expected": expected}
    return _directory_saved(
        request,
        wb,
        c,
        slug,
        f"/e/{slug}/resources/{rid}/remove",
        values,
        lambda: actors.remove_resource(wb, c, slug, rid, expected, confirmed=confirm == "yes"),
    )


def _actor(
    request: Request, wb: WB, c: Caller, slug: str, aid: str, error: str = "", status: int = 200, **extra: Any
) -> Response:
    context: dict[str, Any] = {"failed": None, "confirm": None, "editing": request.query_params.get("edit", "")[:40]}
    context.update(extra)
    return html_page(
        "actor.html",
        status,
        user=c.user,
        error=error,
        csrf=csrf_token(request),
        **context,
        **actors.actor_page(wb, c, slug, aid),
    )


@router.get("/e/{slug}/actors/{aid}", response_class=HTMLResponse, include_in_schema=False)
def actor_page(slug: str, aid: str, request: Request, wb: WB, c: PageViewer) -> Response:
    return _actor(request, wb, c, slug, aid)


def _saved(
    request: Request,
    wb: WB,
    c: Caller,
    slug: str,
    aid: str,
    save: Callable[[], Version],
    form: str = "",
    values: dict[str, Any] | None = None,
    action: str = "",
) -> Response:
    """Run the edit ``save``; the actor page with what went wrong (next to the fields of
    ``form``, its ``values`` kept) or the confirmation to give (sent to ``action``), else
    back to it."""
    try:
        save()
    except actors.NotConfirmedError as exc:
        fields = {"expected": str((values or {}).get("expected", "")), **exc.fields}
        return _actor(request, wb, c, slug, aid, confirm={"question": exc.question, "form": action, "fields": fields})
    except DocumentError as exc:
        failed = _failed(form, values or {}, exc)
        error = _error(failed, exc)
        return _actor(request, wb, c, slug, aid, error=error, status=422, failed=failed)
    except ConflictError as exc:
        error = f"{exc} Your change was not saved; here is the latest version."
        return _actor(request, wb, c, slug, aid, error=error, status=409)
    return RedirectResponse(f"/e/{slug}/actors/{aid}", status_code=303)


@router.post("/e/{slug}/actors/{aid}/remove", include_in_schema=False)
def remove_actor_page(
    slug: str,
    aid: str,
    request: Request,
    wb: WB,
    c: PageViewer,
    _: PageForm,
    confirm: Annotated[str, Form()] = "",
    expected: Annotated[str, Form()] = "",
) -> Response:
    """Remove an actor (managers), once confirmed; then the actors page."""
    if not c.access.manages:
        raise HTTPException(403, "only the ecosystem's managers remove actors")
    try:
        version = actors.remove_actor(wb, c, slug, aid, expected, confirmed=confirm == "yes")
    except actors.NotConfirmedError as exc:
        confirmation = {
            "question": exc.question,
            "form": f"/e/{slug}/actors/{aid}/remove",
            "fields": {"expected": expected},
        }
        return _actor(request, wb, c, slug, aid, confirm=confirmation)
    except DocumentError as exc:
        return _actor(request, wb, c, slug, aid, error="; ".join(str(i) for i in exc.issues), status=422)
    except ConflictError as exc:
        return _actor(request, wb, c, slug, aid, error=f"{exc} The actor was not removed.", status=409)
    return RedirectResponse(f"/e/{slug}/actors?saved={quote(version.message[:200])}", status_code=303)


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
    stratum: Annotated[str | None, Form()] = None,
    stage: Annotated[str | None, Form()] = None,
    note: Annotated[str, Form()] = "",
    expected: Annotated[str, Form()] = "",
) -> Response:
    values = {"name": name, "sector": sector, "public": public, "stratum": stratum, "stage": stage, "note": note}
    return _saved(
        request,
        wb,
        c,
        slug,
        aid,
        lambda: actors.edit_record(
            wb,
            c,
            slug,
            aid,
            name=name,
            sector=sector,
            public=public,
            expected=expected,
            stratum=stratum,
            stage=stage,
            note=note,
        ),
        "record",
        values,
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
    ewc: Annotated[str, Form()] = "",
    q_key: Annotated[list[str] | None, Form()] = None,
    q_value: Annotated[list[str] | None, Form()] = None,
    op: Annotated[str, Form()] = "",
    index: Annotated[str, Form()] = "",
    remove: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    expected: Annotated[str, Form()] = "",
) -> Response:
    form: dict[str, Any] = {
        "resource": resource,
        "quantity": quantity,
        "supply_pattern": supply_pattern,
        "price": price,
        "confidential": confidential,
        "direction": direction,
        "other": other,
        "ewc": ewc,
        "q_key": q_key or [],
        "q_value": q_value or [],
        "q_pairs": [(k, v) for k, v in zip(q_key or [], q_value or [], strict=False) if k.strip() or v.strip()],
        "op": op,
        "index": index,
        "remove": remove,
        "confirm": confirm,
        "note": note,
        "expected": expected,
    }
    which = (
        f"{'qty' if op == 'quantity' else 'edit'}-{section}-{index}" if op in ("edit", "quantity") else f"add-{section}"
    )
    return _saved(
        request,
        wb,
        c,
        slug,
        aid,
        lambda: actors.edit_part(wb, c, slug, aid, section, form, expected),
        which,
        form,
        f"/e/{slug}/actors/{aid}/{section}",
    )
