"""Proposed exchanges between two actors and their state machine
(proposed -> negotiating -> active -> ended), with their history of moves and comments.

A repository over the store's engine (the tables ``proposals`` and ``comments``)."""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from rainforest.errors import UnknownIdError
from rainforest.store import StaleError, Store, StoreError
from rainforest.store.tables import CommentRow, ProposalRow
from rainforest.web.records._base import ecosystem_row, now

__all__ = ["AGREED", "TRANSITIONS", "Proposal", "Proposals"]

#: Where a proposed exchange may go from each status.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "proposed": ("negotiating", "ended"),
    "negotiating": ("active", "ended"),
    "active": ("ended",),
    "ended": (),
}

#: How an agreement to make an exchange active is written in its history; comments cannot
#: start with it.
AGREED = "agreed: "


@dataclass(frozen=True)
class Proposal:
    """A proposed exchange and its history (status changes and comments, oldest first)."""

    id: int
    ecosystem: str
    source: str
    target: str
    resource: str
    quantity: float
    status: str
    created_by: str
    created_at: _dt.datetime
    updated_at: _dt.datetime
    comments: tuple[dict[str, Any], ...] = ()

    @property
    def agreed_by(self) -> tuple[str, ...]:
        """The parties that agreed to make the exchange active (``managers`` when a manager
        made it active), from the proposal's history."""
        return tuple(dict.fromkeys(c["text"][len(AGREED) :] for c in self.comments if c["text"].startswith(AGREED)))

    @property
    def agreed(self) -> bool:
        """Whether both parties, or a manager, agreed: only then does it count as active."""
        return "managers" in self.agreed_by or {self.source, self.target} <= set(self.agreed_by)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ecosystem": self.ecosystem,
            "from": self.source,
            "to": self.target,
            "resource": self.resource,
            "quantity": self.quantity,
            "status": self.status,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "comments": list(self.comments),
            "agreed_by": list(self.agreed_by),
        }


class Proposals:
    """The proposed exchanges of the ecosystems of ``store``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def propose(self, slug: str, source: str, target: str, resource: str, quantity: float, *, author: str) -> Proposal:
        """Propose an exchange of ``quantity`` of ``resource`` per period from ``source`` to
        ``target`` (both actors of the ecosystem's current version)."""
        eco = self.store.load(slug)
        for actor in (source, target):
            if actor not in eco.actor_ids:
                raise UnknownIdError("actor", actor, eco.actor_ids)
        if resource not in eco.resource_ids:
            raise UnknownIdError("resource", resource, eco.resource_ids)
        if source == target:
            raise StoreError("an exchange needs two different actors")
        if not (quantity > 0 and math.isfinite(quantity)):
            raise StoreError(f"the quantity must be a positive (finite) number, got {quantity!r}")
        at = now()
        with self.store.engine.begin() as conn:
            row = ecosystem_row(conn, slug)
            key = conn.execute(
                insert(ProposalRow).values(
                    ecosystem_id=row.id,
                    source=source,
                    target=target,
                    resource=resource,
                    quantity=float(quantity),
                    status="proposed",
                    created_by=author,
                    created_at=at,
                    updated_at=at,
                )
            ).inserted_primary_key
            assert key is not None
            pid = key[0]
            conn.execute(insert(CommentRow).values(proposal_id=pid, author=author, at=at, text="status: proposed"))
        return self.proposal(slug, int(pid))

    def proposals(self, slug: str) -> list[Proposal]:
        """Every proposal of an ecosystem, newest first."""
        with self.store.engine.connect() as conn:
            row = ecosystem_row(conn, slug)
            ids = conn.execute(
                select(ProposalRow.id).where(ProposalRow.ecosystem_id == row.id).order_by(ProposalRow.id.desc())
            ).scalars()
            return [self._proposal(conn, slug, int(i)) for i in ids]

    def proposal(self, slug: str, pid: int) -> Proposal:
        with self.store.engine.connect() as conn:
            return self._proposal(conn, slug, pid)

    def _proposal(self, conn: Any, slug: str, pid: int) -> Proposal:
        eco = ecosystem_row(conn, slug)
        p = conn.execute(
            select(ProposalRow.__table__).where(ProposalRow.id == pid, ProposalRow.ecosystem_id == eco.id)
        ).first()
        if p is None:
            raise StoreError(f"ecosystem {slug!r} has no proposal {pid}")
        notes = conn.execute(
            select(CommentRow.author, CommentRow.at, CommentRow.text)
            .where(CommentRow.proposal_id == pid)
            .order_by(CommentRow.id)
        ).all()
        comments = tuple({"author": c.author, "at": c.at.isoformat(), "text": c.text} for c in notes)
        return Proposal(
            p.id,
            slug,
            p.source,
            p.target,
            p.resource,
            p.quantity,
            p.status,
            p.created_by,
            p.created_at,
            p.updated_at,
            comments,
        )

    def move(
        self,
        slug: str,
        pid: int,
        status: str,
        *,
        author: str,
        expected: str | None = None,
        note: str = "",
        party: str | None = None,
    ) -> Proposal:
        """Move a proposal to ``status`` (see :data:`TRANSITIONS`); with ``expected``, only if it
        is still in that status (two parties answering at once cannot both win).

        ``active`` needs both parties' agreement: ``party`` (the actor a member acts for)
        records that party's agreement, and the proposal becomes active with the second one;
        without ``party`` (a manager) it becomes active at once."""
        current = self.proposal(slug, pid)
        origin = expected or current.status
        if not isinstance(origin, str) or status not in TRANSITIONS.get(origin, ()):
            allowed = ", ".join(TRANSITIONS.get(origin, ()) if isinstance(origin, str) else ()) or "nothing"
            raise StoreError(f"proposal {pid} is {origin}: it can move to {allowed}, not to {status!r}")
        if party is not None and party not in (current.source, current.target):
            raise StoreError(f"{party!r} is not a party to proposal {pid}")
        at = now()
        with self.store.engine.begin() as conn:
            # the row is locked from here on: two parties agreeing at once see each other
            locked = conn.execute(
                update(ProposalRow).where(ProposalRow.id == pid, ProposalRow.status == origin).values(updated_at=at)
            ).rowcount
            if locked != 1:
                raise StaleError(f"proposal {pid} is no longer {origin}: reload it and try again")
            if status == "active":
                who = party if party is not None else "managers"
                conn.execute(insert(CommentRow).values(proposal_id=pid, author=author, at=at, text=AGREED + who))
                agreed = set(self._proposal(conn, slug, pid).agreed_by)
                if who != "managers" and not {current.source, current.target} <= agreed:
                    return self._proposal(conn, slug, pid)  # waiting for the other party
            conn.execute(update(ProposalRow).where(ProposalRow.id == pid).values(status=status))
            text = f"status: {status}" + (f" ({note})" if note else "")
            conn.execute(insert(CommentRow).values(proposal_id=pid, author=author, at=at, text=text))
        return self.proposal(slug, pid)

    def comment(self, slug: str, pid: int, text: str, *, author: str) -> Proposal:
        if not text.strip():
            raise StoreError("an empty comment says nothing")
        if text.strip().startswith(AGREED.strip()):
            raise StoreError(f"a comment cannot start with {AGREED.strip()!r}: agree by moving the proposal to active")
        self.proposal(slug, pid)  # exists in this ecosystem
        with self.store.engine.begin() as conn:
            conn.execute(insert(CommentRow).values(proposal_id=pid, author=author, at=now(), text=text.strip()))
        return self.proposal(slug, pid)
