"""Long work (managers start it; managers and observers follow it): the analyses, the
exchange plan, all-actor risk and simulations, run by the worker outside the request."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException

from rainforest.store import StoreError
from rainforest.web.context import Workbench
from rainforest.web.deps import Caller
from rainforest.web.jobs import check_params
from rainforest.web.records.jobs import JOB_KINDS, Job
from rainforest.web.render import number

__all__ = ["job_page", "jobs_page", "one", "page", "result", "start"]


def one(wb: Workbench, slug: str, jid: int) -> Job:
    """Job ``jid`` of ``slug``, else 404."""
    try:
        return wb.records.jobs.job(slug, jid)
    except StoreError:
        raise HTTPException(404, f"no job {jid}") from None


def start(wb: Workbench, c: Caller, slug: str, kind: str, params: dict[str, Any]) -> Job:
    """Queue ``kind`` with ``params`` (checked: ``ValueError`` with what is wrong) on the
    latest version and hand it to the worker."""
    if kind not in JOB_KINDS:
        raise ValueError(f"kind must be one of {', '.join(JOB_KINDS)}, got {kind!r}")
    job = wb.records.jobs.submit(slug, kind, check_params(kind, params), author=c.user.username)
    wb.worker().start(job)
    return job


def result(wb: Workbench, slug: str, jid: int) -> Any:
    """The whole stored result of a finished job (409 while it runs or when it failed)."""
    job = one(wb, slug, jid)
    if job.status != "done":
        raise HTTPException(409, f"job {jid} is {job.status}: {job.message}")
    return wb.records.jobs.result(slug, jid)


def page(wb: Workbench, slug: str, jid: int) -> tuple[str, str]:
    """The page a finished job made and its file name; 404 when it made none."""
    job = one(wb, slug, jid)
    made = wb.records.jobs.artifact(slug, jid) if job.status == "done" else None
    if made is None:
        raise HTTPException(404, f"job {jid} ({job.kind}, {job.status}) has no page")
    stem = "report" if job.kind == "analyses" else job.kind
    return made, f"{slug}-v{job.version}-{stem}.html"


def jobs_page(wb: Workbench, c: Caller, slug: str) -> dict[str, Any]:
    """What the long-work page shows: the newest 50 jobs."""
    return {
        "nav": c.access.nav("jobs"),
        "name": wb.store.load(slug).name,
        "version": wb.store.head(slug),
        "jobs": wb.records.jobs.jobs(slug)[:50],
    }


def job_page(wb: Workbench, c: Caller, slug: str, jid: int) -> dict[str, Any]:
    """What one job's page shows: its progress, and its result once done."""
    job = one(wb, slug, jid)
    shown = job.status == "done" and job.kind in ("plan", "risk", "simulate")
    return {
        "nav": c.access.nav("jobs"),
        "name": wb.store.load(slug).name,
        "job": job,
        "result": wb.records.jobs.result(slug, jid) if shown else None,
        "number": number,
    }
