"""The matchmaking board: candidate exchanges (sorted and filtered as the facilitator asks),
the plan, proposed exchanges with their moves, comments and consents, the recording of an
agreed exchange as a flow, and the impact ledger (planned, agreed, recorded; per year).

Names, not ids: every row carries the actors' and the resource's names beside their ids
(the pages show the names and the ids on hover). ``None`` is a figure nobody may know or
see, always with the reason beside it."""

from __future__ import annotations

import csv
import datetime as _dt
import io
import math
from dataclasses import dataclass, replace
from typing import Any

from fastapi import HTTPException

from rainforest.errors import DocumentError, UnknownIdError
from rainforest.model.ecosystem import Ecosystem
from rainforest.optimize import exchanges, taxonomy
from rainforest.store import ConflictError, StoreError
from rainforest.web import edits
from rainforest.web.context import Workbench
from rainforest.web.deps import Caller
from rainforest.web.records.proposals import TRANSITIONS, Proposal
from rainforest.web.render import number
from rainforest.web.visibility import Access, visible_candidates, visible_ledger

__all__ = [
    "SORTS",
    "Query",
    "acts",
    "board",
    "candidate_rows",
    "comment",
    "consent",
    "export",
    "ledger",
    "move",
    "one",
    "party",
    "proposals",
    "propose",
]

#: How candidates sort: the key and the direction that comes first (best first).
SORTS: dict[str, tuple[str, str]] = {
    "value": ("total value per period", "desc"),
    "saving": ("saving per unit", "desc"),
    "co2e": ("CO2e avoided per period", "desc"),
    "distance": ("distance", "asc"),
    "quantity": ("quantity", "desc"),
    "resource": ("resource", "asc"),
    "ewc": ("EWC code", "asc"),
    "from": ("supplier", "asc"),
    "to": ("receiver", "asc"),
}
#: How many candidates a page shows at most (the exports carry all of them).
PAGE = 50
#: How many times recording a flow is tried again when someone saved a version meanwhile.
MERGES = 8


def party(a: Access, p: Proposal) -> bool:
    """Whether the caller sees proposal ``p``: managers and observers all, members their own."""
    return a.sees_all or a.actor in (p.source, p.target)


def acts(a: Access, p: Proposal) -> bool:
    """Whether the caller moves and comments on ``p``: managers, and members that are a party."""
    return a.manages or (a.role == "member" and a.actor in (p.source, p.target))


def proposals(wb: Workbench, c: Caller, slug: str) -> list[Proposal]:
    """The proposals the caller sees, newest first."""
    return [p for p in wb.records.proposals.proposals(slug) if party(c.access, p)]


def propose(wb: Workbench, c: Caller, slug: str, source: str, target: str, resource: str, quantity: float) -> Proposal:
    """Propose an exchange (managers; members when their actor is a party). A second open
    proposal of the same exchange raises
    :class:`~rainforest.web.records.proposals.DuplicateProposalError` naming the first."""
    a = c.access
    if not (a.manages or (a.role == "member" and a.actor in (source, target))):
        raise HTTPException(
            403, "a member proposes only exchanges its own actor is a party to; observers propose nothing"
        )
    return wb.records.proposals.propose(slug, source, target, resource, quantity, author=c.user.username)


def one(wb: Workbench, c: Caller, slug: str, pid: int, what: str) -> Proposal:
    """Proposal ``pid`` once the caller is shown to be allowed to ``what`` on it (404 when it
    does not see it, 403 when it sees it but does not act on it)."""
    try:
        p = wb.records.proposals.proposal(slug, pid)
    except StoreError:
        raise HTTPException(404, f"no proposal {pid}") from None
    if not party(c.access, p):
        raise HTTPException(404, f"no proposal {pid}")
    if not acts(c.access, p):
        raise HTTPException(403, f"only the parties and the managers {what}")
    return p


def move(wb: Workbench, c: Caller, slug: str, pid: int, status: str, *, expected: str | None, note: str) -> Proposal:
    """Move a proposal; a party's move to ``active`` records its agreement (see
    :meth:`~rainforest.web.records.Proposals.move`)."""
    return wb.records.proposals.move(
        slug,
        pid,
        status,
        author=c.user.username,
        expected=expected,
        note=note,
        party=None if c.access.manages else c.access.actor,
    )


def comment(wb: Workbench, c: Caller, slug: str, pid: int, text: str) -> Proposal:
    return wb.records.proposals.comment(slug, pid, text, author=c.user.username)


# -- recording an agreed exchange as a flow ------------------------------------------------------
def consent(wb: Workbench, c: Caller, slug: str, pid: int, *, for_party: str = "", note: str = "") -> Proposal:
    """A party's consent to record the agreed active exchange ``pid`` as a flow: a member
    consents for its own actor; a manager on behalf of a party (``for_party``), saying why in
    ``note``. With both parties' consent the flow is added to a new version of the document
    (by the one whose consent completed them; its message names who consented and when) and
    the proposal remembers that version. A recording that fails (the document changed so
    that the flow no longer fits) leaves the consents; the next consent tries again."""
    p = one(wb, c, slug, pid, "consent to record an exchange")
    a = c.access
    if a.manages:
        who = for_party.strip()
        if who not in (p.source, p.target):
            raise StoreError(f"say which party you consent for: {p.source!r} or {p.target!r}, got {who!r}")
        if not note.strip():
            raise StoreError(f"a manager consents on behalf of {who} with a note saying why (e.g. 'by phone with ...')")
    else:
        who = a.actor or ""
    board = wb.records.proposals
    current, complete = board.consent(slug, pid, author=c.user.username, party=who, note=note)
    if not complete:
        if not ({p.source, p.target} <= set(current.consented_by)) or current.recorded_version is not None:
            return current
        if not board.claim(slug, pid):  # both consented, an earlier recording failed: try again
            return board.proposal(slug, pid)
    try:
        version = _record_flow(wb, c, slug, board.proposal(slug, pid))
    except (DocumentError, UnknownIdError, ConflictError) as exc:
        board.unclaim(slug, pid)
        raise StoreError(f"the flow could not be recorded: {exc}") from None
    except BaseException:
        board.unclaim(slug, pid)
        raise
    return board.recorded(slug, pid, version, author=c.user.username)


def _record_flow(wb: Workbench, c: Caller, slug: str, p: Proposal) -> int:
    """Add proposal ``p``'s exchange as a flow (``x_proposal`` names the proposal) to a new
    version; the version's number. A version saved meanwhile is read again (the flow is only
    added: nobody's change is reverted); a flow of this proposal already there (a recording
    stopped half-way) is not added twice."""
    store = wb.store
    for _ in range(MERGES):
        head = store.head(slug)
        eco = store.load(slug, head)
        # the history names firms and the resource as the pages do (ids are in the flow)
        names = _names(eco)
        consents = "; ".join(
            f"{names.get(x['party'], x['party'])} by {x['author']} at {x['at'][:16].replace('T', ' ')} UTC"
            for x in p.consents
        )
        unit = _unit(eco, p.resource)
        message = (
            f"recorded proposal {p.id}: {names.get(p.source, p.source)} -> {names.get(p.target, p.target)}, "
            f"{number(float(p.quantity))}{' ' + unit if unit else ''} of {resource_name(eco, p.resource)} (consent: {consents})"
        )
        if any(f.extensions.get("x_proposal") == p.id for f in eco.flows):
            return head
        flows = edits.section_records(eco, "flows", p.source)
        flows.append(
            {"from": p.source, "to": p.target, "resource": p.resource, "quantity": p.quantity, "x_proposal": p.id}
        )
        try:
            return store.commit(
                slug,
                edits.edit_actor(eco, p.source, flows=flows),
                author=c.user.username,
                message=message,
                expected=head,
            ).number
        except ConflictError:
            continue
    raise ConflictError(slug, head, store.head(slug))


# -- names -----------------------------------------------------------------------------------------
def _names(eco: Ecosystem) -> dict[str, str]:
    """Actor id -> its name (the id when it has none)."""
    return {a.id: a.name or a.id for a in eco.actors}


def resource_name(eco: Ecosystem, rid: str) -> str:
    """A resource's name: its ``name`` (or the older ``x_name``) when the document gives one,
    else its id in words."""
    try:
        r = eco.resource(rid)
    except UnknownIdError:
        return rid.replace("_", " ")
    name = r.name or r.extensions.get("x_name")
    return str(name) if name else rid.replace("_", " ")


def _ewc(eco: Ecosystem, rid: str) -> tuple[str | None, str]:
    """The resource's EWC code and its description from the bundled catalogue."""
    try:
        code = eco.resource(rid).codes.get("ewc")
    except UnknownIdError:
        return None, ""
    if not code:
        return None, ""
    try:
        return str(code), taxonomy.waste_code(str(code)).description
    except Exception:  # a code the catalogue does not list: shown as given
        return str(code), ""


# -- candidates ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Query:
    """What the facilitator asks of the candidates (the board's query parameters)."""

    resource: str = ""
    ewc: str = ""
    actor: str = ""
    max_km: float | None = None
    min_value: float | None = None
    min_co2e: float | None = None
    sort: str = "value"
    order: str = ""
    show: int = PAGE

    @classmethod
    def parse(cls, params: dict[str, str]) -> Query:
        """From query parameters; a bad one is a clear 422 (what, expected, got)."""

        def number(key: str) -> float | None:
            text = params.get(key, "").strip()
            if not text:
                return None
            try:
                value = float(text)
            except ValueError:
                raise HTTPException(422, f"{key} must be a number, got {text[:40]!r}") from None
            if not math.isfinite(value):
                raise HTTPException(422, f"{key} must be a finite number, got {text[:40]!r}")
            return value

        sort = params.get("sort", "value") or "value"
        if sort not in SORTS:
            raise HTTPException(422, f"sort must be one of {', '.join(SORTS)}, got {sort[:40]!r}")
        order = params.get("order", "")
        if order not in ("", "asc", "desc"):
            raise HTTPException(422, f"order must be asc or desc, got {order[:40]!r}")
        show = params.get("show", "")
        if show and not (show.isascii() and show.isdigit()) and show != "all":
            raise HTTPException(422, f"show must be a number of rows or 'all', got {show[:40]!r}")
        return cls(
            resource=params.get("resource", "").strip(),
            ewc=params.get("ewc", "").strip(),
            actor=params.get("actor", "").strip(),
            max_km=number("max_km"),
            min_value=number("min_value"),
            min_co2e=number("min_co2e"),
            sort=sort,
            order=order,
            show=10**9 if show == "all" else int(show) if show else PAGE,
        )

    @property
    def direction(self) -> str:
        return self.order or SORTS[self.sort][1]

    def params(self, **change: Any) -> str:
        """The query string of this query with ``change`` (for the pages' links)."""
        q = replace(self, **change)
        pairs = [
            ("resource", q.resource),
            ("ewc", q.ewc),
            ("actor", q.actor),
            ("max_km", "" if q.max_km is None else f"{q.max_km:g}"),
            ("min_value", "" if q.min_value is None else f"{q.min_value:g}"),
            ("min_co2e", "" if q.min_co2e is None else f"{q.min_co2e:g}"),
            ("sort", q.sort if q.sort != "value" else ""),
            ("order", q.order),
            ("show", "all" if q.show >= 10**9 else "" if q.show == PAGE else str(q.show)),
        ]
        from urllib.parse import urlencode

        return urlencode([(k, v) for k, v in pairs if v])


def _bound(km: float) -> float:
    """The bound a hidden distance is shown as (1, 2, 5, 10, 20, 50... km)."""
    step = 1.0
    while True:
        for k in (1.0, 2.0, 5.0):
            if km <= k * step:
                return k * step
        step *= 10


def candidate_rows(eco: Ecosystem, a: Access) -> tuple[list[dict[str, Any]], list[str]]:
    """Every candidate the caller may see, with names, EWC code, unit, distance, total value
    and CO2e avoided per period; and the notes on the CO2e factors. A figure the caller may
    not see (another firm's confidential quantity or price) or nobody knows is ``None`` with
    its reason in ``reasons``; the distance to a firm whose location is not public is a
    bound (``distance_bound``), never exact (sorting and filtering use the bound too)."""
    cands = exchanges.candidates(eco)
    co2, notes = exchanges.co2e_per_unit(eco, cands)
    names = _names(eco)
    virgin_unknown = {r.id for r in eco.resources if r.co2e_virgin is None}
    rows: list[dict[str, Any]] = []
    for c, kg in zip(cands, co2, strict=True):
        shown = visible_candidates(eco, [c], a)
        if not shown:
            continue
        row = shown[0]
        row["why"] = _named(row["why"], c, names, eco)
        for actor in (c.source, c.target):  # "the quantity and price of <firm> are confidential"
            row["saves"] = row["saves"].replace(f" of {actor} are ", f" of {names.get(actor, actor)} are ")
        need = eco.needs[c.need]
        unit = eco.resource(c.resource).unit
        code, described = _ewc(eco, c.resource)
        reasons: dict[str, str] = {}
        row.update(
            source_name=names.get(c.source, c.source),
            target_name=names.get(c.target, c.target),
            resource_name=resource_name(eco, c.resource),
            unit=unit,
            ewc=code,
            ewc_description=described,
            distance_km=c.distance_km,
            distance_bound=False,
            value=None,
            co2e_t=None,
            reasons=reasons,
        )
        if c.distance_km is None:
            reasons["distance"] = "a location is not known"
        elif not a.sees_all:
            other = c.target if a.actor == c.source else c.source
            if "location" not in (eco.actor(other).extensions.get("x_public") or ()):
                row.update(distance_km=_bound(c.distance_km), distance_bound=True)
        if not row["open"]:
            reasons["value"] = reasons["co2e"] = "the other firm's quantity and price are confidential"
            row["distance_bound"] = row["distance_km"] is not None
            rows.append(row)
            continue
        row["value"] = c.upper * c.unit_saving
        # valued as the ledger, the plan and the report value it: avoided disposal and virgin
        # production less transport; where the virgin's CO2e is not given, production is left
        # out and the cell says so (the same figure everywhere, its omission stated)
        row["co2e_t"] = c.upper * kg / 1000.0
        accepted = need.accepted[0]
        if accepted in virgin_unknown:
            reasons["co2e_note"] = _without_virgin(eco, accepted)
        rows.append(row)
    return rows, notes


def _named(why: str, c: Any, names: dict[str, str], eco: Ecosystem) -> str:
    """A candidate's explanation with the actors' and resources' names for their ids (it is
    written as "<receiver> needs <resource>; <supplier> offers <resource>..." or, for a
    member, "<other>: a firm ... needs <resource>; you offer <resource>")."""
    for actor in (c.target, c.source):
        for lead, after in ((f"{actor} needs ", " needs "), (f"{actor}: ", ": ")):
            if why.startswith(lead):
                why = names.get(actor, actor) + after + why[len(lead) :]
        why = why.replace(f"; {actor} offers ", f"; {names.get(actor, actor)} offers ")
    for rid in {c.resource, *eco.needs[c.need].accepted}:
        for verb in ("needs ", "offers ", "a substitute for ", "you offer ", "you need "):
            why = why.replace(f"{verb}{rid};", f"{verb}{resource_name(eco, rid)};").replace(
                f"{verb}{rid},", f"{verb}{resource_name(eco, rid)},"
            )
            if why.endswith(f"{verb}{rid}"):
                why = why[: -len(rid)] + resource_name(eco, rid)
    return why


def _matches(row: dict[str, Any], q: Query) -> bool:
    if q.resource and q.resource not in (row["resource"],):
        return False
    if q.ewc:
        want = q.ewc.replace(" ", "")
        if not (row["ewc"] or "").replace(" ", "").startswith(want):
            return False
    if q.actor and q.actor not in (row["source"], row["target"]):
        return False
    if q.max_km is not None and (row["distance_km"] is None or row["distance_km"] > q.max_km):
        return False
    if q.min_value is not None and (row["value"] is None or row["value"] < q.min_value):
        return False
    return not (q.min_co2e is not None and (row["co2e_t"] is None or row["co2e_t"] < q.min_co2e))


def _sorted(rows: list[dict[str, Any]], q: Query) -> list[dict[str, Any]]:
    """Rows in the asked order; rows without the figure last, in the document's order
    (sorting a member's confidential rows by a hidden figure would rank it)."""
    field = {
        "value": "value",
        "saving": "saving",
        "co2e": "co2e_t",
        "distance": "distance_km",
        "quantity": "upper",
        "resource": "resource_name",
        "ewc": "ewc",
        "from": "source_name",
        "to": "target_name",
    }[q.sort]

    def key(r: dict[str, Any]) -> Any:
        v = r[field]
        return v.lower() if isinstance(v, str) else v

    known = [r for r in rows if key(r) is not None]
    unknown = [r for r in rows if key(r) is None]
    known.sort(key=key, reverse=q.direction == "desc")
    return known + unknown


# -- the ledger ------------------------------------------------------------------------------------
#: The ledger's figures: key, label, unit (``{period}`` is the document's period).
FIGURES = (
    ("exchanges", "exchanges", ""),
    ("disposal_diverted_t", "disposal diverted", "t per {period}"),
    ("co2e_avoided_t", "CO2e avoided", "t CO2e per {period}"),
    ("water_saved_m3", "water saved", "m³ per {period}"),
    ("money_saved", "money saved", "money per {period}"),
)


def _column(counted: dict[str, Any] | None, reason: str = "") -> dict[str, Any]:
    """One column of the ledger from a (visible) ledger, or ``None`` figures with ``reason``."""
    if counted is None:
        return {"figures": dict.fromkeys(k for k, _, _ in FIGURES), "reason": reason, "reasons": {}}
    total = counted["total"]
    figures = {
        "exchanges": len(counted["exchanges"]) if "active" not in counted else counted["active"],
        "disposal_diverted_t": total["disposal_diverted_t"],
        "co2e_avoided_t": total["co2e_avoided_kg"] / 1000.0,
        "water_saved_m3": total["water_saved_m3"],
        "money_saved": total["money_saved"],
    }
    reasons = {}
    if total.get("money_saved") is None:
        reasons["money_saved"] = total.get("money_saved_reason", "")
    not_valued = len(counted.get("not_valued", ()))
    return {
        "figures": figures,
        "reason": "",
        "reasons": reasons,
        "not_valued": not_valued,
        "virgin_saved": total.get("virgin_saved", {}),
    }


def _plan_of(wb: Workbench, slug: str, head: int) -> tuple[Any, Any]:
    """The stored plan of the latest version and its job (or the unfinished job computing it)."""
    jobs = wb.records.jobs
    job = jobs.latest(slug, "plan", head)
    if job is not None:
        return jobs.result(slug, job.id), job
    running = next(
        (j for j in jobs.jobs(slug) if j.kind == "plan" and j.version == head and j.status != "done"),
        None,
    )
    return None, running


def _older_plan(wb: Workbench, slug: str) -> tuple[Any, int | None]:
    """The newest stored plan of an earlier version and that version (None, None without one)."""
    job = wb.records.jobs.latest(slug, "plan")
    if job is None:
        return None, None
    return wb.records.jobs.result(slug, job.id), job.version


def _year(p: Proposal, kind: str) -> int | None:
    """The year the exchange was agreed (made active) or recorded."""
    at = p.at("status", "status: active") if kind == "agreed" else p.at("recorded")
    return at.year if at is not None else None


def ledger(wb: Workbench, c: Caller, slug: str) -> dict[str, Any]:
    """The impact ledger as the caller may see it: the agreed active exchanges as before
    (``exchanges``, ``actors``, ``total``, ``active``, ``not_valued``, ``period``), and the
    split: ``columns`` planned (the optimised plan of the latest version; managers and
    observers), agreed (active, both parties agreed) and recorded (agreed and recorded as a
    flow), each with its figures per period in the units of ``units``; ``years``: the agreed
    and recorded figures by the calendar year the exchanges were agreed or recorded in."""
    a = c.access
    eco = wb.store.load(slug)
    every = wb.records.proposals.proposals(slug)
    counted = visible_ledger(eco, every, a)
    recorded = [p for p in every if p.recorded]
    columns = {"agreed": _column(counted), "recorded": _column(visible_ledger(eco, recorded, a))}
    if not a.sees_all:
        columns["planned"] = _column(None, "the optimised plan is for the managers and observers")
    else:
        plan, job = _plan_of(wb, slug, wb.store.head(slug))
        of_version = None
        if plan is None:
            plan, of_version = _older_plan(wb, slug)
        if plan is None:
            why = "the plan of this version is being computed" if job is not None else "no optimised plan yet"
            if not (eco.offers and eco.needs):
                why = "the document declares no offers and needs to plan with"
            columns["planned"] = _column(None, why)
        else:
            agreed = [(e["from"], e["to"], e["resource"], e["quantity"]) for e in plan["exchanges"]]
            valued, skipped = exchanges.evaluate(eco, agreed)
            impacts = exchanges.impacts(eco, valued)
            impacts["not_valued"] = skipped
            columns["planned"] = {**_column(impacts), "of_version": of_version}
    years: dict[int, dict[str, Any]] = {}
    for kind, chosen in (("agreed", [p for p in every if p.status == "active" and p.agreed]), ("recorded", recorded)):
        by_year: dict[int, list[Proposal]] = {}
        for p in chosen:
            y = _year(p, kind)
            if y is not None:
                by_year.setdefault(y, []).append(p)
        for y, group in by_year.items():
            years.setdefault(y, {})[kind] = _column(visible_ledger(eco, group, a))
    units = {k: u.format(period=eco.period) for k, _, u in FIGURES}
    virgin_unknown = sorted(
        {
            resource_name(eco, r.id)
            for col in columns.values()
            for r in eco.resources
            if r.id in (col.get("virgin_saved") or {}) and r.co2e_virgin is None
        }
    )
    return {
        **counted,
        "co2e_note": (
            "CO2e avoided leaves out the avoided production of virgin "
            + ", ".join(virgin_unknown)
            + ": its CO2e is not given"
            if virgin_unknown
            else ""
        ),
        "columns": {k: columns[k] for k in ("planned", "agreed", "recorded")},
        "years": [{"year": y, **years[y]} for y in sorted(years)],
        "units": units,
        "labels": {k: label for k, label, _ in FIGURES},
    }


# -- the page ----------------------------------------------------------------------------------------
def board(wb: Workbench, c: Caller, slug: str, q: Query | None = None, refused: int | None = None) -> dict[str, Any]:
    """What the board shows: candidates (filtered and sorted by ``q``, best total value
    first by default) with the proposal already open for each, the optimised plan
    (managers and observers) with a propose button per row, the proposals the caller sees
    with the moves and consents it may give, and the ledger split planned / agreed /
    recorded."""
    q = q or Query()
    a = c.access
    eco = wb.store.load(slug)
    head = wb.store.head(slug)
    names = _names(eco)
    every = wb.records.proposals.proposals(slug)
    open_for = {(p.source, p.target, p.resource): p for p in reversed(every) if p.open and party(a, p)}
    flows = {(f.source, f.target, f.resource) for f in eco.flows}
    all_rows, co2_notes = candidate_rows(eco, a)
    chosen = _sorted([r for r in all_rows if _matches(r, q)], q)
    for r in chosen:
        r["proposal"] = open_for.get((r["source"], r["target"], r["resource"]))
        r["flow"] = (r["source"], r["target"], r["resource"]) in flows
        r["may_propose"] = a.manages or (a.role == "member" and a.actor in (r["source"], r["target"]))
    plan, plan_job, plan_version = None, None, None
    plan_rows: list[dict[str, Any]] = []
    if a.sees_all and eco.offers and eco.needs:
        plan, plan_job = _plan_of(wb, slug, head)
        if plan is None:  # the newest plan of an earlier version, said so, until it is made again
            plan, plan_version = _older_plan(wb, slug)
        if plan is not None:
            plan_rows = _plan_rows(eco, plan, open_for)
    rows = []
    for p in every:
        if not party(a, p):
            continue
        consent_for: list[str] = []
        if p.status == "active" and p.agreed and not p.recorded and acts(a, p):
            waiting = [x for x in (p.source, p.target) if x not in p.consented_by]
            consent_for = waiting if a.manages else [x for x in waiting if x == a.actor]
        rows.append(
            {
                "p": p,
                "moves": TRANSITIONS[p.status] if acts(a, p) else (),
                "can_comment": acts(a, p),
                "consent_for": consent_for,
                "source_name": names.get(p.source, p.source),
                "target_name": names.get(p.target, p.target),
                "resource_name": resource_name(eco, p.resource),
                "unit": _unit(eco, p.resource),
                "history": [{**h, "when": _when(h["at"]), "shown": _shown(h, names)} for h in p.comments],
            }
        )
    resources = sorted({(r["resource"], r["resource_name"]) for r in all_rows}, key=lambda x: x[1])
    actors = sorted({(r[k], r[k + "_name"]) for r in all_rows for k in ("source", "target")}, key=lambda x: x[1])
    first = next((p for p in every if p.id == refused and party(a, p)), None) if refused else None
    return {
        "slug": slug,
        "name": eco.name,
        "period": eco.period,
        "role": a.role,
        "actor": a.actor,
        "actor_name": names.get(a.actor or "", a.actor),
        "names": names,
        "candidates": chosen[: q.show],
        "matching": len(chosen),
        "total_candidates": len(all_rows),
        "more": max(0, len(chosen) - q.show),
        "co2_notes": co2_notes,
        "q": q,
        "sorts": SORTS,
        "resources": resources,
        "actors": actors,
        "can_propose": a.manages or a.role == "member",
        "plan": plan,
        "plan_rows": plan_rows,
        "plan_job": plan_job,
        "plan_version": plan_version,
        "nav": a.nav("board"),
        "rows": rows,
        "ledger": ledger(wb, c, slug),
        "refused": first,
        "version": head,
    }


def _unit(eco: Ecosystem, rid: str) -> str:
    try:
        return eco.resource(rid).unit
    except UnknownIdError:
        return ""


def _shown(entry: dict[str, Any], names: dict[str, str]) -> str:
    """A history entry as the page says it: a party by its name."""
    party = str(entry.get("party") or "")
    if entry["kind"] == "agreed" and party:
        return "agreed for " + names.get(party, party) if party != "managers" else "made it active for the managers"
    if entry["kind"] == "consent" and party:
        rest = str(entry["text"])[len("consents to record the flow") :]
        return f"consents to record the flow for {names.get(party, party)}" + rest.replace(
            f"on behalf of {party}:", "note:"
        )
    return str(entry["text"])


def _when(iso: str) -> str:
    """A stored time as the pages show it: ``2026-12-02 13:05 UTC``."""
    at = _dt.datetime.fromisoformat(iso)
    return at.astimezone(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _without_virgin(eco: Ecosystem, resource: str) -> str:
    """The note of a CO2e figure that leaves out the virgin production of ``resource``."""
    return f"without avoided production: the CO2e of virgin {resource_name(eco, resource)} is not given"


def _plan_rows(
    eco: Ecosystem, plan: dict[str, Any], open_for: dict[tuple[str, str, str], Proposal]
) -> list[dict[str, Any]]:
    """The plan's exchanges with names, units, CO2e (valued as the ledger values them) and
    the proposal already open for each."""
    names = _names(eco)
    ex = plan.get("exchanges", [])
    valued, _ = exchanges.evaluate(eco, [(e["from"], e["to"], e["resource"], e["quantity"]) for e in ex])
    co2 = {(v.source, v.target, v.resource): v.co2e_avoided for v in valued.exchanges}
    virgin_unknown = {r.id for r in eco.resources if r.co2e_virgin is None}
    out = []
    for e in ex:
        key = (e["from"], e["to"], e["resource"])
        kg = co2.get(key)
        out.append(
            {
                **e,
                "source": e["from"],
                "target": e["to"],
                "source_name": names.get(e["from"], e["from"]),
                "target_name": names.get(e["to"], e["to"]),
                "resource_name": resource_name(eco, e["resource"]),
                "unit": _unit(eco, e["resource"]),
                "co2e_t": None if kg is None else kg / 1000.0,
                "co2e_reason": "" if kg is not None else "this exchange could not be valued",
                "co2e_note": _without_virgin(eco, e["resource"]) if e["resource"] in virgin_unknown else "",
                "proposal": open_for.get(key),
            }
        )
    return out


# -- exports -----------------------------------------------------------------------------------------
NA = "n/a"


def _cell(v: Any) -> Any:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return NA
    return v


def tables(wb: Workbench, c: Caller, slug: str, what: str, q: Query) -> tuple[list[str], list[list[Any]]]:
    """The rows of an export: ``candidates`` (as filtered and sorted on the board, all of
    them), ``plan`` or ``ledger``; headers with their units, ``n/a`` where a figure is unknown
    or not the caller's to see (the reason in the last column)."""
    a = c.access
    eco = wb.store.load(slug)
    period = eco.period
    if what == "candidates":
        rows, _ = candidate_rows(eco, a)
        chosen = _sorted([r for r in rows if _matches(r, q)], q)
        header = [
            "from",
            "from (id)",
            "to",
            "to (id)",
            "resource",
            "resource (id)",
            "EWC code",
            "unit",
            "up to (unit per " + period + ")",
            "saving (money per unit)",
            "total value (money per " + period + ")",
            "distance (km)",
            "distance is a bound",
            "CO2e avoided (t per " + period + ")",
            "why",
            "limits",
            "n/a because",
        ]
        body = [
            [
                r["source_name"],
                r["source"],
                r["target_name"],
                r["target"],
                r["resource_name"],
                r["resource"],
                _cell(r["ewc"]),
                r["unit"],
                _cell(r["upper"]),
                _cell(r["saving"]),
                _cell(r["value"]),
                _cell(r["distance_km"]),
                "yes" if r["distance_bound"] else "no",
                _cell(r["co2e_t"]),
                r["why"],
                r["limits"],
                "; ".join(f"{k}: {v}" for k, v in r["reasons"].items()),
            ]
            for r in chosen
        ]
        return header, body
    if what == "plan":
        if not a.sees_all:
            raise HTTPException(403, "the optimised plan is for the managers and observers")
        plan, _ = _plan_of(wb, slug, wb.store.head(slug))
        if plan is None:
            raise HTTPException(404, "no optimised plan of this version: run it from the board first")
        header = [
            "from",
            "from (id)",
            "to",
            "to (id)",
            "resource",
            "resource (id)",
            "unit",
            "quantity (unit per " + period + ")",
            "benefit (money per " + period + ")",
            "CO2e avoided (t per " + period + ")",
            "open proposal",
            "n/a because",
        ]
        body = [
            [
                r["source_name"],
                r["source"],
                r["target_name"],
                r["target"],
                r["resource_name"],
                r["resource"],
                r["unit"],
                _cell(r["quantity"]),
                _cell(r["benefit"]),
                _cell(r["co2e_t"]),
                f"#{r['proposal'].id} {r['proposal'].status}" if r["proposal"] else "",
                r["co2e_reason"],
            ]
            for r in _plan_rows(eco, plan, {})
        ]
        return header, body
    if what == "ledger":
        led = ledger(wb, c, slug)
        units, labels = led["units"], led["labels"]
        header = ["figure", "unit", "planned", "agreed", "recorded", "n/a because"]
        body = []
        for key, label in labels.items():
            cells = [label, units[key]]
            why = []
            for col in ("planned", "agreed", "recorded"):
                column = led["columns"][col]
                v = column["figures"][key]
                cells.append(_cell(v))
                if v is None:
                    why.append(f"{col}: {column['reason'] or column['reasons'].get(key, '')}")
            body.append([*cells, "; ".join(why)])
        for y in led["years"]:
            for key, label in labels.items():
                cells = [f"{label}, {y['year']}", units[key], NA]
                why = [f"planned: the plan is not dated ({y['year']})"]
                for col in ("agreed", "recorded"):
                    column = y.get(col)
                    v = column["figures"][key] if column else 0 if key == "exchanges" else None
                    cells.append(_cell(v))
                    if v is None:
                        why.append(
                            f"{col}: "
                            + (column["reasons"].get(key, "") if column else f"no exchange {col} in {y['year']}")
                        )
                body.append([*cells, "; ".join(why)])
        return header, body
    raise HTTPException(404, f"no table {what!r}: candidates, plan or ledger")


def _formula_safe(v: Any) -> Any:
    """A text cell that a spreadsheet would read as a formula gets a leading apostrophe."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@"):
        return "'" + v
    return v


def export(wb: Workbench, c: Caller, slug: str, what: str, form: str, q: Query) -> tuple[bytes, str, str]:
    """A table of the board as ``csv`` or ``xlsx``: the bytes, media type and file name."""
    header, body = tables(wb, c, slug, what, q)
    name = f"{slug}-{what}"
    if form == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        for row in body:
            writer.writerow([_formula_safe(v) for v in row])
        return out.getvalue().encode("utf-8-sig"), "text/csv; charset=utf-8", f"{name}.csv"
    if form == "xlsx":
        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Font

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = what
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in body:
            sheet.append(row)
        for line in sheet.iter_rows(min_row=2):
            for cell in line:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # a text cell, never a formula
                elif isinstance(cell.value, float):
                    cell.number_format = "#,##0.###"
                if cell.value == NA:
                    cell.alignment = Alignment(horizontal="right")
        for col in sheet.columns:
            width = max(len(str(x.value or "")) for x in col[:200])
            sheet.column_dimensions[col[0].column_letter].width = min(60, max(10, width + 2))
        sheet.freeze_panes = "A2"
        buffer = io.BytesIO()
        book.save(buffer)
        return (
            buffer.getvalue(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            f"{name}.xlsx",
        )
    raise HTTPException(422, f"form must be csv or xlsx, got {form[:40]!r}")
