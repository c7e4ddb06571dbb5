"""The matchmaking board: candidate exchanges, the plan, proposed exchanges with their
moves and comments, and the impact ledger of the agreed ones."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException

from rainforest.optimize import exchanges
from rainforest.store import StoreError
from rainforest.web.context import Workbench
from rainforest.web.deps import Caller
from rainforest.web.records.proposals import TRANSITIONS, Proposal
from rainforest.web.visibility import Access, visible_candidates, visible_ledger

__all__ = ["acts", "board", "comment", "ledger", "move", "one", "party", "proposals", "propose"]


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
    """Propose an exchange (managers; members when their actor is a party)."""
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


def ledger(wb: Workbench, c: Caller, slug: str) -> dict[str, Any]:
    """The impact ledger of the agreed active exchanges, as the caller may see it."""
    return visible_ledger(wb.store.load(slug), wb.records.proposals.proposals(slug), c.access)


def board(wb: Workbench, c: Caller, slug: str) -> dict[str, Any]:
    """What the board shows: candidates with their explanations, the optimised plan
    (managers and observers), the proposals the caller sees with the moves it may make,
    and the ledger's totals."""
    a = c.access
    eco = wb.store.load(slug)
    cands = visible_candidates(eco, exchanges.candidates(eco), a)
    # best saving first; confidential ones after them, in the document's order (sorting them
    # by their saving would rank the other firms' prices)
    cands.sort(key=lambda x: (x["saving"] is None, -(x["saving"] or 0.0)))
    plan, plan_job = None, None
    head = wb.store.head(slug)
    jobs = wb.records.jobs
    if a.sees_all and eco.offers and eco.needs:
        plan_job = jobs.latest(slug, "plan", head)
        if plan_job is not None:
            plan = jobs.result(slug, plan_job.id)
        else:
            plan_job = next(
                (j for j in jobs.jobs(slug) if j.kind == "plan" and j.version == head and j.status != "done"),
                None,
            )
    every = wb.records.proposals.proposals(slug)
    counted = visible_ledger(eco, every, a)
    rows = [
        {"p": p, "moves": TRANSITIONS[p.status] if acts(a, p) else (), "can_comment": acts(a, p)}
        for p in every
        if party(a, p)
    ]
    return {
        "slug": slug,
        "name": eco.name,
        "role": a.role,
        "actor": a.actor,
        "candidates": cands[:50],
        "more": max(0, len(cands) - 50),
        "can_propose": a.manages or a.role == "member",
        "plan": plan,
        "plan_job": plan_job,
        "nav": a.nav("board"),
        "rows": rows,
        "ledger": counted["total"],
        "not_valued": len(counted["not_valued"]),
    }
