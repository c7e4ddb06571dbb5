"""Long work (managers start it; managers and observers follow it): the analyses, the
exchange plan, all-actor risk and simulations, run by the worker outside the request."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException

from rainforest.store import StoreError
from rainforest.web.context import Workbench
from rainforest.web.deps import Caller
from rainforest.web.jobs import LIMITS, MECHANISMS, availability, check_params, mechanism_notes
from rainforest.web.records.jobs import JOB_KINDS, Job
from rainforest.web.render import number

__all__ = ["available", "job_page", "jobs_page", "one", "page", "result", "start"]


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
    checked = check_params(kind, params)
    why_not = availability(wb.store.load(slug)).get(kind)
    if why_not:
        raise ValueError(f"{TITLES.get(kind, kind)} cannot run on this ecosystem. {why_not}")
    job = wb.records.jobs.submit(slug, kind, checked, author=c.user.username)
    wb.worker().start(job)
    return job


def available(wb: Workbench, slug: str) -> dict[str, str | None]:
    """For each kind of long work, None when it can run on the latest version, else why not."""
    return availability(wb.store.load(slug))


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


#: Each kind of long work in words: its title and what it gives.
TITLES = {
    "analyses": "The health report",
    "plan": "The exchange plan",
    "risk": "All-actor systemic risk (ESRI)",
    "simulate": "A simulation",
}
WHAT = {
    "analyses": "Every analysis of the health report (flows, cycling, metabolism, risk, candidate exchanges) "
    "run once on this version; the Analyses page then shows them.",
    "plan": "The best set of exchanges between the declared offers and needs, solved as an optimisation; "
    "the matchmaking board then shows it.",
    "risk": "For each actor, the share of the ecosystem's output lost if it fails, following the losses "
    "through its customers and suppliers (Diem et al. 2022).",
    "simulate": "The ecosystem in motion over many periods and runs: firms founded and closed, exchanges "
    "formed and broken, modules adopted. Results are means with a 5-95% band over the runs.",
}


def jobs_page(wb: Workbench, c: Caller, slug: str) -> dict[str, Any]:
    """What the long-work page shows: each kind of work with its form or the reason it
    cannot run on this version, and the newest 50 jobs."""
    eco = wb.store.load(slug)
    can = availability(eco)
    notes = mechanism_notes(eco)
    return {
        "nav": c.access.nav("jobs"),
        "name": eco.name,
        "version": wb.store.head(slug),
        "jobs": wb.records.jobs.jobs(slug)[:50],
        "kinds": [{"kind": k, "title": TITLES[k], "what": WHAT[k], "reason": can.get(k)} for k in TITLES],
        "mechanisms": [{"name": m, "what": what, "note": notes.get(m)} for m, what in MECHANISMS.items()],
        "limits": LIMITS,
        "titles": TITLES,
    }


def job_page(wb: Workbench, c: Caller, slug: str, jid: int) -> dict[str, Any]:
    """What one job's page shows: its progress, and its result once done."""
    job = one(wb, slug, jid)
    shown = job.status == "done" and job.kind in ("plan", "risk", "simulate")
    result = wb.records.jobs.result(slug, jid) if shown else None
    figures = _simulation_figures(job.id, result) if job.kind == "simulate" and result else []
    return {
        "nav": c.access.nav("jobs"),
        "name": wb.store.load(slug).name,
        "job": job,
        "result": result,
        "number": number,
        "titles": TITLES,
        "figures": figures,
        "mechanisms": MECHANISMS,
    }


def _simulation_figures(jid: int, result: dict[str, Any]) -> list[dict[str, Any]]:
    """One Plotly figure per plotted metric of a simulation job (mean line and 5-95% band
    over runs, per period), with the metric's meaning as its caption."""
    out = []
    for k, plot in enumerate(result.get("plots") or []):
        periods = list(range(1, len(plot["mean"]) + 1))
        runs = result.get("runs", 0)
        data = [
            {
                "type": "scatter",
                "x": periods,
                "y": plot["high"],
                "mode": "lines",
                "line": {"width": 0},
                "showlegend": False,
                "hoverinfo": "skip",
            },
            {
                "type": "scatter",
                "x": periods,
                "y": plot["low"],
                "mode": "lines",
                "line": {"width": 0},
                "fill": "tonexty",
                "fillcolor": "rgba(46,125,50,0.18)",
                "name": f"5-95% of {runs} runs",
                "hoverinfo": "skip",
            },
            {
                "type": "scatter",
                "x": periods,
                "y": plot["mean"],
                "mode": "lines",
                "line": {"color": "#2e7d32", "width": 2},
                "name": "mean",
                "hovertemplate": "period %{x}: %{y:.4g}<extra></extra>",
            },
        ]
        layout = {
            "height": 260,
            "margin": {"l": 60, "r": 10, "t": 10, "b": 40},
            "xaxis": {"title": {"text": "period"}},
            "yaxis": {"title": {"text": plot["axis"]}, "rangemode": "tozero"},
            "legend": {"orientation": "h", "y": -0.3},
            "showlegend": False,
        }
        out.append(
            {
                "id": f"sim-{jid}-{k}",
                "metric": plot["metric"],
                "title": plot["title"],
                "spec": {"data": data, "layout": layout},
                "caption": plot["meaning"],
            }
        )
    return out
