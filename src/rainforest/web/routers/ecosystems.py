"""Ecosystems: the list, a document, its history, report, import and export, new
ecosystems, and the pages of one ecosystem (overview, network picture, import and export,
analyses)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from rainforest.errors import DocumentError
from rainforest.store import ConflictError, StoreError
from rainforest.web.deps import (
    WB,
    ApiRole,
    ApiUser,
    Caller,
    PageRole,
    PageUser,
    caller,
    csrf_token,
    page_csrf,
    upload_csrf,
)
from rainforest.web.records.accounts import User
from rainforest.web.render import html_page
from rainforest.web.services import ecosystems
from rainforest.web.uploads import import_upload, problems_of, read_upload

router = APIRouter()

Viewer = Annotated[Caller, Depends(ApiRole())]
Upload = Annotated[UploadFile, File()]


def _admin(user: User) -> User:
    if not user.admin:
        raise HTTPException(403, "only administrators create ecosystems")
    return user


# -- API -------------------------------------------------------------------------------------------
@router.get("/api/ecosystems", tags=["ecosystems"])
def api_ecosystems(wb: WB, user: ApiUser) -> list[dict[str, Any]]:
    """The ecosystems the caller may see, with its role in each."""
    return wb.visible(user)


@router.post("/api/ecosystems", tags=["ecosystems"])
async def api_create(
    wb: WB,
    user: ApiUser,
    _: Annotated[None, Depends(upload_csrf)],
    slug: Annotated[str, Form()],
    file: Upload,
) -> JSONResponse:
    """A new ecosystem from a document (administrators). 422 with every problem and its
    place (nothing is created); 422 also when the name is taken or invalid."""
    _admin(user)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            version = await run_in_threadpool(ecosystems.create, wb, user, slug, await read_upload(file, tmp))
        except DocumentError as exc:
            first, problems = problems_of(exc, tmp)
            return JSONResponse({"error": first, "problems": problems}, 422)
        except StoreError as exc:
            return JSONResponse({"error": str(exc)}, 422)
    return JSONResponse(version.to_dict(), 201)


@router.get("/api/ecosystems/{slug}", tags=["ecosystems"])
def api_ecosystem(slug: str, wb: WB, c: Viewer) -> dict[str, Any]:
    """The current document, as the caller may see it."""
    return ecosystems.document(wb, c, slug)


@router.get("/api/ecosystems/{slug}/history", tags=["ecosystems"])
def api_history(
    slug: str, wb: WB, c: Annotated[Caller, Depends(ApiRole("sees_all", "the history"))]
) -> list[dict[str, Any]]:
    """Every version (managers and observers)."""
    return wb.store.history(slug)


@router.get("/api/ecosystems/{slug}/report", tags=["ecosystems"], response_class=HTMLResponse)
def api_report(slug: str, wb: WB, c: Annotated[Caller, Depends(ApiRole("sees_all", "the report"))]) -> Response:
    """The health report, one self-contained HTML file (managers and observers). Above
    the overview's size limit it is never computed in the request: the stored analyses
    of the latest version are served, else they are queued as long work (one job per
    version, whoever asks) and the answer is 202 with the job to poll
    (``Location``); its ``/page`` is the report once done."""
    done = ecosystems.report(wb, c.user, slug)
    if isinstance(done, str):
        return HTMLResponse(done, headers={"Content-Disposition": f'attachment; filename="{slug}-report.html"'})
    where = f"/api/ecosystems/{slug}/jobs/{done.id}"
    actors = len(wb.store.load(slug).actors)
    return JSONResponse(
        {
            "detail": f"the report of {actors:,} actors is computed as long work: poll {where}, then fetch {where}/page",
            "job": done.to_dict(),
        },
        status_code=202,
        headers={"Location": where},
    )


@router.post("/api/ecosystems/{slug}/import", tags=["ecosystems"])
async def api_import(
    slug: str,
    wb: WB,
    c: Annotated[Caller, Depends(ApiRole("manages", "import documents"))],
    _: Annotated[None, Depends(upload_csrf)],
    file: Upload,
    expected: Annotated[int | None, Form()] = None,
    message: Annotated[str | None, Form()] = None,
) -> Response:
    """Import a document as the next version (managers). Errors: 422 with every problem and
    its place (nothing changes); 409 when the ecosystem moved past ``expected``."""
    # the dependencies (checking a password) ran on the thread pool, and so do reading,
    # validating and saving a large document: none of it may stop the event loop
    name = Path(file.filename or "upload").name
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = await read_upload(file, tmp)
            note = message if message is not None else f"imported {name}"
            version = await run_in_threadpool(
                import_upload, wb.store, slug, path, author=c.user.username, message=note, expected=expected
            )
        except DocumentError as exc:
            first, problems = problems_of(exc, tmp)
            return JSONResponse({"error": first, "problems": problems}, status_code=422)
        except ConflictError as exc:
            return JSONResponse({"error": str(exc), "version": exc.head}, status_code=409)
    return JSONResponse(version.to_dict())


@router.get("/api/ecosystems/{slug}/export", tags=["ecosystems"])
def api_export(
    slug: str,
    wb: WB,
    c: Annotated[Caller, Depends(ApiRole("sees_all", "exporting"))],
    form: str = "yaml",
    version: int | None = None,
) -> Response:
    """The document (the latest version, or ``version``) as ``yaml``, ``json``, ``excel``
    or ``csv`` (a zip of the CSV folder), for managers and observers."""
    data, media, filename = ecosystems.export(wb, slug, form, version)
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# -- pages -----------------------------------------------------------------------------------------
@router.post("/new", include_in_schema=False)
async def create_page(
    request: Request,
    wb: WB,
    user: PageUser,
    _: Annotated[None, Depends(page_csrf)],
    file: Upload,
    slug: Annotated[str, Form()] = "",
) -> Response:
    _admin(user)
    problems, error = None, None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            await run_in_threadpool(ecosystems.create, wb, user, slug.strip(), await read_upload(file, tmp))
        except DocumentError as exc:
            problems = problems_of(exc, tmp)[1]
            error = f"{file.filename}: {len(problems)} problem(s) found; nothing was created."
        except StoreError as exc:
            error = str(exc)
    if error is None:
        return RedirectResponse(f"/e/{slug.strip()}", status_code=303)
    ecosystems_seen = await run_in_threadpool(wb.visible, user)
    return await run_in_threadpool(
        html_page,
        "index.html",
        422,
        user=user,
        ecosystems=ecosystems_seen,
        error=error,
        problems=problems,
        slug=slug,
        csrf=csrf_token(request),
    )


@router.get("/e/{slug}", response_class=HTMLResponse, include_in_schema=False)
def overview(slug: str, request: Request, wb: WB, c: Annotated[Caller, Depends(PageRole())]) -> Response:
    return html_page("ecosystem.html", user=c.user, csrf=csrf_token(request), **ecosystems.overview(wb, c, slug))


@router.get("/e/{slug}/network", include_in_schema=False)
def network(slug: str, wb: WB, user: Annotated[User | None, Depends(caller)]) -> Response:
    """The overview's network picture as JSON (the page draws it once loaded)."""
    if user is None:
        raise HTTPException(401, "sign in first")
    a = wb.access(user, slug)
    if a is None:
        raise HTTPException(404, f"no ecosystem {slug!r}")
    if not a.sees_all:
        raise HTTPException(403, "the network picture is for the ecosystem's managers and observers")
    text = ecosystems.network(wb, slug)
    if text is None:
        raise HTTPException(404, "no network picture: the ecosystem has no exchanges between its members")
    return Response(text, media_type="application/json", headers={"Cache-Control": "private, max-age=60"})


def _data(
    request: Request, wb: WB, c: Caller, slug: str, problems: list[dict[str, Any]] | None, error: str | None
) -> Response:
    return html_page(
        "data.html",
        200 if error is None else 422,
        user=c.user,
        problems=problems,
        error=error,
        csrf=csrf_token(request),
        **ecosystems.data_page(wb, c, slug),
    )


@router.get("/e/{slug}/data", response_class=HTMLResponse, include_in_schema=False)
def data_page(
    slug: str, request: Request, wb: WB, c: Annotated[Caller, Depends(PageRole("sees_all", "import and export"))]
) -> Response:
    return _data(request, wb, c, slug, None, None)


@router.post("/e/{slug}/data", response_class=HTMLResponse, include_in_schema=False)
async def import_page(
    slug: str,
    request: Request,
    wb: WB,
    c: Annotated[Caller, Depends(PageRole("manages", "import documents"))],
    _: Annotated[None, Depends(page_csrf)],
    file: Upload,
    expected: Annotated[str, Form()] = "",
) -> Response:
    name = Path(file.filename or "upload.yaml").name
    problems, error = None, None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = await read_upload(file, tmp)
            await run_in_threadpool(
                import_upload,
                wb.store,
                slug,
                path,
                author=c.user.username,
                message=f"imported {name}",
                expected=int(expected) if expected.isascii() and expected.isdigit() else None,
            )
        except DocumentError as exc:
            problems = problems_of(exc, tmp)[1]
            error = f"{name}: {len(problems)} problem(s) found; nothing was imported."
        except ConflictError as exc:
            error = f"{exc} Nothing was imported."
    if error is None:
        return RedirectResponse(f"/e/{slug}/data?imported=1", status_code=303)
    return await run_in_threadpool(_data, request, wb, c, slug, problems, error)


Analyst = Annotated[Caller, Depends(PageRole("sees_all", "the analyses"))]


@router.get("/e/{slug}/analyses", response_class=HTMLResponse, include_in_schema=False)
def analyses_index(slug: str, request: Request, wb: WB, c: Analyst) -> Response:
    return analyses_page(slug, "summary", request, wb, c)


@router.get("/e/{slug}/analyses/{section}", response_class=HTMLResponse, include_in_schema=False)
def analyses_page(slug: str, section: str, request: Request, wb: WB, c: Analyst) -> Response:
    return html_page(
        "analyses.html", user=c.user, csrf=csrf_token(request), **ecosystems.analyses_page(wb, c, slug, section)
    )
