"""Ecosystems: the list, a document as the caller may see it, its history, the overview's
numbers and picture, the health report, import, export and the analyses pages."""

from __future__ import annotations

import csv
import shutil
import tempfile
from pathlib import Path
from typing import Any, Literal

from fastapi import HTTPException

from rainforest import report as reports
from rainforest.assessment import assess, pathway
from rainforest.io import save
from rainforest.model.ecosystem import Ecosystem
from rainforest.report import to_json
from rainforest.store import StoreError, Version
from rainforest.web.context import Workbench
from rainforest.web.deps import Caller
from rainforest.web.jobs import network_figure
from rainforest.web.records.accounts import User
from rainforest.web.records.jobs import Job
from rainforest.web.uploads import load_upload
from rainforest.web.visibility import visible_document

__all__ = [
    "ANALYSES",
    "EXPORTS",
    "PLAN_IN_OVERVIEW",
    "SYNC_LIMIT",
    "analyses_page",
    "create",
    "data_page",
    "document",
    "export",
    "key_numbers",
    "network",
    "overview",
    "report",
]

#: Above this many actors or flows the overview's key numbers come from the analyses job only
#: (computing them in the request takes about 1 s at 500 actors, 7 s at 2,000).
SYNC_LIMIT = (500, 5000)

#: Offers and needs up to which a new park's overview finds its exchange plan in the request
#: (larger parks show the plan once the analyses job has run).
PLAN_IN_OVERVIEW = 200

EXPORTS = {
    "yaml": ("document.yaml", "application/yaml"),
    "json": ("document.json", "application/json"),
    "excel": ("document.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "csv": ("document.zip", "application/zip"),
}
ANALYSES = {  # report section -> page title
    "profile": "Rainforest profile",
    "network": "Network",
    "metabolism": "Metabolism",
    "ena": "Ecological network analysis",
    "io": "Money layer",
    "risk": "Positioning and risk",
    "exchanges": "New exchanges",
    "cluster": "Cluster and ecosystem",
    "unknowns": "What was unknown",
}


def small(eco: Ecosystem) -> bool:
    """Whether the ecosystem is small enough to analyse inside a request (:data:`SYNC_LIMIT`)."""
    actors, flows = SYNC_LIMIT
    return len(eco.actors) <= actors and len(eco.flows) <= flows


def document(wb: Workbench, c: Caller, slug: str) -> dict[str, Any]:
    """The current document, as the caller may see it."""
    return {
        "ecosystem": slug,
        "version": wb.store.head(slug),
        "role": c.access.role,
        "document": visible_document(wb.store.load(slug), c.access),
    }


def key_numbers(wb: Workbench, slug: str, eco: Ecosystem) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The key numbers and the network picture of a small ecosystem, computed here."""
    key = (slug, eco.content_hash())
    if key not in wb.key_numbers:
        # the numbers only: no report is built. A new park's numbers are its plan's; a small
        # plan is quick to find here
        plan = pathway(eco) == "plan" and len(eco.offers) + len(eco.needs) <= PLAN_IN_OVERVIEW
        a = assess(eco, risk=False, plan=plan, cluster=False)
        wb.key_numbers[key] = ([n.to_dict() for n in a.key_numbers("page")], reports.network_figure(a))
    found: tuple[list[dict[str, Any]], dict[str, Any] | None] = wb.key_numbers[key]
    return found


def _analyses(wb: Workbench, slug: str, eco: Ecosystem, head: int) -> Literal["here"] | Job | None:
    """Where the overview's numbers and picture come from: ``"here"`` (a small ecosystem
    without stored analyses of its latest version: computed in the request), the stored
    analyses (of the latest version, else of the newest earlier one), or None."""
    job = wb.records.jobs.latest(slug, "analyses", head)
    if job is None and small(eco):
        return "here"
    return job or wb.records.jobs.latest(slug, "analyses")


def report(wb: Workbench, user: User, slug: str) -> str | Job:
    """The health report's page; above the overview's size limit never computed here: the
    stored analyses of the latest version, else the job computing them (one per version,
    whoever asks)."""
    eco, head = wb.store.load(slug), wb.store.head(slug)
    if small(eco):
        html: str = reports.health_report(eco, source=f"{slug} v{head}").to_html()
        return html
    done = wb.records.jobs.latest(slug, "analyses", head)
    page = wb.records.jobs.artifact(slug, done.id) if done is not None else None
    if page is not None:
        return page
    with wb.report_lock:  # one job per version, however many ask at once
        job = next(
            (
                j
                for j in wb.records.jobs.jobs(slug)
                if j.kind == "analyses" and j.version == head and j.status in ("queued", "running")
            ),
            None,
        )
        if job is None:
            job = wb.records.jobs.submit(slug, "analyses", author=user.username)
            wb.worker().start(job)
    return job


def overview(wb: Workbench, c: Caller, slug: str) -> dict[str, Any]:
    """What the overview page shows: counts, the key numbers (computed here for a small
    ecosystem, else stored), the caller's own actor."""
    a = c.access
    eco = wb.store.load(slug)
    head = wb.store.head(slug)
    numbers: list[dict[str, Any]] = []
    report_url = f"/api/ecosystems/{slug}/report"  # computed on request (small ecosystems)
    network = False  # whether the network picture can be drawn (the page fetches it)
    as_of = None  # the version the numbers are of, when not the latest
    if a.sees_all:
        job = _analyses(wb, slug, eco, head)
        if job == "here":
            numbers, figure = key_numbers(wb, slug, eco)
            network = figure is not None
        elif job is not None:
            numbers, as_of = job.summary["key_numbers"], (job.version if job.version != head else None)
            report_url = f"/api/ecosystems/{slug}/jobs/{job.id}/page"  # stored: no waiting
            network = "network" in job.summary.get("sections", ())
    mine = None
    if a.actor is not None:
        me = eco.actor(a.actor)
        mine = {
            "id": me.id,
            "name": me.name or me.id,
            "offers": sum(1 for o in eco.offers if o.actor == me.id),
            "needs": sum(1 for n in eco.needs if n.actor == me.id),
            "flows": sum(1 for f in eco.flows if me.id in (f.source, f.target)),
        }
    return {
        "nav": a.nav("overview"),
        "slug": slug,
        "name": eco.name,
        "version": head,
        "as_of": as_of,
        "report_url": report_url,
        "network": network,
        "role": a.role,
        "counts": {"actors": len(eco.actors), "resources": len(eco.resources), "flows": len(eco.flows)},
        "numbers": numbers,
        "mine": mine,
    }


def network(wb: Workbench, slug: str) -> str | None:
    """The overview's network picture as JSON, or None when there is none."""
    eco = wb.store.load(slug)
    job = _analyses(wb, slug, eco, wb.store.head(slug))
    if job == "here":
        figure = key_numbers(wb, slug, eco)[1]
        return to_json(figure) if figure is not None else None
    if job is None:
        return None
    if job.id not in wb.figures:
        figure = network_figure(wb.records.jobs.result(slug, job.id))
        wb.figures[job.id] = to_json(figure) if figure is not None else "null"
    return wb.figures[job.id] if wb.figures[job.id] != "null" else None


def create(wb: Workbench, user: User, slug: str, path: Path) -> Version:
    """A new ecosystem from an uploaded document (administrators): every problem of the
    document first (:class:`~rainforest.errors.DocumentError`), nothing written."""
    if not user.admin:
        raise HTTPException(403, "only administrators create ecosystems")
    if slug in {e.slug for e in wb.store.ecosystems()}:
        raise StoreError(f"ecosystem {slug!r} exists already: import into it from its Import and export page")
    eco = load_upload(path)  # every problem first; nothing is written
    return wb.store.create(slug, eco, author=user.username, message=f"created from {path.name}")


#: What a spreadsheet reads as the start of a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _neutralise_csv(path: Path) -> None:
    """Rewrite a downloaded CSV file so that no text cell starts a formula when the file is
    opened in a spreadsheet: such cells get a leading apostrophe (the usual escape; the
    Excel download stores them as text cells instead). Numbers, negative ones included, stay
    as they are."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    changed = False
    for row in rows:
        for i, cell in enumerate(row):
            if cell.startswith(_FORMULA_START):
                try:
                    float(cell)
                except ValueError:
                    row[i] = "'" + cell
                    changed = True
    if changed:
        with path.open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh, lineterminator="\n").writerows(rows)


def export(wb: Workbench, slug: str, form: str, version: int | None) -> tuple[bytes, str, str]:
    """The document (the latest version, or ``version``) in ``form`` (:data:`EXPORTS`): its
    bytes, media type and file name."""
    if form not in EXPORTS:
        raise HTTPException(422, f"form must be one of {', '.join(EXPORTS)}, got {form!r}")
    try:
        eco = wb.store.load(slug, version)
    except StoreError as exc:
        raise HTTPException(404, str(exc)) from None
    filename, media = EXPORTS[form]
    number = version or wb.store.head(slug)
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / filename
        if form == "csv":
            save(eco, Path(tmp) / "document", form="csv")
            for sheet in (Path(tmp) / "document").glob("*.csv"):
                _neutralise_csv(sheet)
            shutil.make_archive(str(Path(tmp) / "document"), "zip", Path(tmp) / "document")
        else:
            save(eco, target)
        data = target.read_bytes()
    suffix = filename.rsplit(".", 1)[1]
    return data, media, f"{slug}-v{number}.{suffix}"


def data_page(wb: Workbench, c: Caller, slug: str) -> dict[str, Any]:
    """What the import and export page shows."""
    return {
        "nav": c.access.nav("data"),
        "name": wb.store.load(slug).name,
        "version": wb.store.head(slug),
        "history": wb.store.history(slug)[::-1][:20],
    }


def analyses_page(wb: Workbench, c: Caller, slug: str, section: str) -> dict[str, Any]:
    """What an analyses page shows: the stored analyses of the latest version (else of the
    newest earlier one), one section of them or their summary, and the job computing them."""
    if section != "summary" and section not in ANALYSES:
        raise HTTPException(404, f"no analysis {section!r}; there are {', '.join(ANALYSES)}")
    jobs = wb.records.jobs
    head = wb.store.head(slug)
    job = jobs.latest(slug, "analyses", head) or jobs.latest(slug, "analyses")
    running = [j for j in jobs.jobs(slug) if j.kind == "analyses" and j.status in ("queued", "running")]
    stored = jobs.result(slug, job.id) if job is not None else None
    chosen = None
    if stored is not None and section != "summary":
        chosen = next((s for s in stored["sections"] if s["id"] == section), None)
    return {
        "nav": c.access.nav("analyses"),
        "name": wb.store.load(slug).name,
        "head": head,
        "job": job,
        "running": running[0] if running else None,
        "report": stored,
        "section": section,
        "chosen": chosen,
        "titles": ANALYSES,
    }
