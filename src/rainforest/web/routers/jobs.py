"""Long work: start it, follow its progress, fetch its result and page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from rainforest.web.deps import WB, ApiRole, Caller, PageRole, csrf_token, json_csrf, page_csrf
from rainforest.web.render import html_page
from rainforest.web.services import jobs

router = APIRouter()

Follower = Annotated[Caller, Depends(ApiRole("sees_all", "long work"))]
Starter = Annotated[Caller, Depends(ApiRole("manages", "start long work"))]
PageFollower = Annotated[Caller, Depends(PageRole("sees_all", "long work"))]


@router.get("/api/ecosystems/{slug}/jobs/available", tags=["jobs"])
def api_available(slug: str, wb: WB, c: Follower) -> dict[str, str | None]:
    """For each kind of long work, null when it can run on the latest version, else why not."""
    return jobs.available(wb, slug)


@router.get("/api/ecosystems/{slug}/jobs", tags=["jobs"])
def api_jobs(slug: str, wb: WB, c: Follower) -> list[dict[str, Any]]:
    """Long work on the ecosystem, newest first (managers and observers)."""
    return [j.to_dict() for j in wb.records.jobs.jobs(slug)]


@router.post("/api/ecosystems/{slug}/jobs", tags=["jobs"])
def api_start(
    slug: str, wb: WB, c: Starter, _: Annotated[None, Depends(json_csrf)], body: dict[str, Any]
) -> JSONResponse:
    """Start long work ``{kind, ...parameters}`` on the latest version (managers): kind
    ``analyses`` (the health report), ``plan`` (``objective``, ``max_distance_km``),
    ``risk`` (all-actor ESRI) or ``simulate`` (``periods``, ``runs``, ``seed``,
    ``mechanisms``: the list of those on, of demography, symbiosis, platform, openness;
    all when left out). 201 with the queued job; poll it for progress. 422 with the reason
    when a parameter is wrong or the work cannot run on this ecosystem (the plan without
    offers and needs, risk without a money layer)."""
    params = {k: v for k, v in body.items() if k not in ("kind", "csrf")}
    try:
        job = jobs.start(wb, c, slug, str(body.get("kind", "")), params)
    except (TypeError, ValueError) as exc:
        return JSONResponse({"error": str(exc)}, 422)
    return JSONResponse(job.to_dict(), 201)


@router.get("/api/ecosystems/{slug}/jobs/{jid}", tags=["jobs"])
def api_job(slug: str, jid: int, wb: WB, c: Follower) -> dict[str, Any]:
    """One job: its status, progress (0 to 1) and summary."""
    return jobs.one(wb, slug, jid).to_dict()


@router.get("/api/ecosystems/{slug}/jobs/{jid}/result", tags=["jobs"])
def api_job_result(slug: str, jid: int, wb: WB, c: Follower) -> Any:
    """The whole stored result of a finished job (409 while it runs or when it failed)."""
    return jobs.result(wb, slug, jid)


@router.get("/api/ecosystems/{slug}/jobs/{jid}/page", tags=["jobs"], response_class=HTMLResponse)
def api_job_page(slug: str, jid: int, wb: WB, c: Follower) -> HTMLResponse:
    """The page a finished job made (the health report, the simulation's plots), as a
    self-contained HTML download; 404 when the job made none."""
    made, filename = jobs.page(wb, slug, jid)
    return HTMLResponse(made, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _jobs(request: Request, wb: WB, c: Caller, slug: str, error: str = "") -> Response:
    return html_page(
        "jobs.html",
        422 if error else 200,
        user=c.user,
        error=error,
        csrf=csrf_token(request),
        **jobs.jobs_page(wb, c, slug),
    )


@router.get("/e/{slug}/jobs", response_class=HTMLResponse, include_in_schema=False)
def jobs_page(slug: str, request: Request, wb: WB, c: PageFollower) -> Response:
    return _jobs(request, wb, c, slug)


@router.post("/e/{slug}/jobs", include_in_schema=False)
def start_page(
    slug: str,
    request: Request,
    wb: WB,
    c: Annotated[Caller, Depends(PageRole("manages", "start long work"))],
    _: Annotated[None, Depends(page_csrf)],
    kind: Annotated[str, Form()] = "",
    objective: Annotated[str, Form()] = "",
    max_distance_km: Annotated[str, Form()] = "",
    periods: Annotated[str, Form()] = "",
    runs: Annotated[str, Form()] = "",
    seed: Annotated[str, Form()] = "",
    mechanisms: Annotated[list[str] | None, Form()] = None,
    mechanisms_shown: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    given: dict[str, Any] = {
        "objective": objective,
        "max_distance_km": max_distance_km,
        "periods": periods,
        "runs": runs,
        "seed": seed,
    }
    chosen = {k: v for k, v in given.items() if v}
    if kind == "simulate" and mechanisms_shown:  # the form's boxes: none ticked means every mechanism off
        chosen["mechanisms"] = list(mechanisms or [])
    try:
        job = jobs.start(wb, c, slug, kind, chosen)
    except (TypeError, ValueError) as exc:
        return _jobs(request, wb, c, slug, error=str(exc))
    target = back if back.startswith(f"/e/{slug}/") else f"/e/{slug}/jobs/{job.id}"
    return RedirectResponse(target, status_code=303)


@router.get("/e/{slug}/jobs/{jid}", response_class=HTMLResponse, include_in_schema=False)
def job_page(slug: str, jid: int, request: Request, wb: WB, c: PageFollower) -> Response:
    return html_page("job.html", user=c.user, csrf=csrf_token(request), **jobs.job_page(wb, c, slug, jid))
