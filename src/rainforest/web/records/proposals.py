"""Proposed exchanges between two actors and their state machine
(proposed -> negotiating -> active -> ended), with their history: comments, status changes,
the parties' agreements, their consents to record the exchange as a flow, and the version it
was recorded in. Every entry of the history has its author and time (UTC), and a ``kind``
(:data:`KINDS`) so that whoever reads the history (the board, an inbox) needs no parsing.

At most one open (not ended) proposal exists for the same supplier, receiver and resource:
a second one is refused with :class:`DuplicateProposalError`, which names the first.

A repository over the store's engine (the tables ``proposals`` and ``comments``)."""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from rainforest.errors import UnknownIdError
from rainforest.store import StaleError, Store, StoreError
from rainforest.store.tables import CommentRow, EcosystemRow, ProposalRow
from rainforest.web.records._base import ecosystem_row, now

__all__ = ["AGREED", "KINDS", "TRANSITIONS", "DuplicateProposalError", "Proposal", "Proposals"]

#: What an entry of a proposal's history is: a comment; a status change; a party's agreement
#: to make the exchange active; a party's consent to record it as a flow; its recording.
KINDS = ("comment", "status", "agreed", "consent", "recorded")


class DuplicateProposalError(StoreError):
    """A second open proposal for the same supplier, receiver and resource: ``first`` is the
    open one."""

    def __init__(self, first: Proposal) -> None:
        super().__init__(
            f"proposal {first.id} ({first.source} -> {first.target}, {first.resource}) is still {first.status}: "
            "comment on it or end it instead of proposing the same exchange again"
        )
        self.first = first


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
    recorded_version: int | None = None

    @property
    def agreed_by(self) -> tuple[str, ...]:
        """The parties that agreed to make the exchange active (``managers`` when a manager
        made it active), from the proposal's history."""
        return tuple(dict.fromkeys(c["party"] for c in self.comments if c["kind"] == "agreed"))

    @property
    def consents(self) -> tuple[dict[str, Any], ...]:
        """The parties' consents to record the exchange as a flow (``party``, ``author``,
        ``at``, ``text``), oldest first, one per party."""
        seen: dict[str, dict[str, Any]] = {}
        for c in self.comments:
            if c["kind"] == "consent":
                seen.setdefault(c["party"], c)
        return tuple(seen.values())

    @property
    def consented_by(self) -> tuple[str, ...]:
        return tuple(c["party"] for c in self.consents)

    @property
    def open(self) -> bool:
        """Not ended: no second proposal for the same exchange while it is."""
        return self.status != "ended"

    @property
    def recorded(self) -> bool:
        """Whether the exchange is recorded as a flow (in version :attr:`recorded_version`)."""
        return bool(self.recorded_version)

    def at(self, kind: str, text: str | None = None) -> _dt.datetime | None:
        """When the history last had an entry of ``kind`` (and ``text``), else None."""
        found = [c["at"] for c in self.comments if c["kind"] == kind and (text is None or c["text"] == text)]
        return _dt.datetime.fromisoformat(found[-1]) if found else None

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
            "consented_by": list(self.consented_by),
            "recorded_version": self.recorded_version if self.recorded else None,
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
            # a write first: the ecosystem's row is locked (SQLite: the database) until the
            # proposal is in, so two people proposing the same exchange at once cannot both
            conn.execute(update(EcosystemRow).where(EcosystemRow.id == row.id).values(name=EcosystemRow.name))
            first = conn.execute(
                select(ProposalRow.id)
                .where(
                    ProposalRow.ecosystem_id == row.id,
                    ProposalRow.source == source,
                    ProposalRow.target == target,
                    ProposalRow.resource == resource,
                    ProposalRow.status != "ended",
                )
                .order_by(ProposalRow.id)
            ).first()
            if first is not None:
                raise DuplicateProposalError(self._proposal(conn, slug, int(first[0])))
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
            conn.execute(
                insert(CommentRow).values(proposal_id=pid, author=author, at=at, text="status: proposed", kind="status")
            )
        return self.proposal(slug, int(pid))

    def open_for(self, slug: str, source: str, target: str, resource: str) -> Proposal | None:
        """The open proposal for this exchange, if there is one."""
        return next(
            (
                p
                for p in self.proposals(slug)
                if p.open and (p.source, p.target, p.resource) == (source, target, resource)
            ),
            None,
        )

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
            select(CommentRow.author, CommentRow.at, CommentRow.text, CommentRow.kind, CommentRow.party)
            .where(CommentRow.proposal_id == pid)
            .order_by(CommentRow.id)
        ).all()
        comments = tuple(
            {"kind": c.kind, "author": c.author, "at": _utc(c.at).isoformat(), "text": c.text, "party": c.party}
            for c in notes
        )
        return Proposal(
            p.id,
            slug,
            p.source,
            p.target,
            p.resource,
            p.quantity,
            p.status,
            p.created_by,
            _utc(p.created_at),
            _utc(p.updated_at),
            comments,
            p.recorded_version,
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
                conn.execute(
                    insert(CommentRow).values(
                        proposal_id=pid, author=author, at=at, text=AGREED + who, kind="agreed", party=who
                    )
                )
                agreed = set(self._proposal(conn, slug, pid).agreed_by)
                if who != "managers" and not {current.source, current.target} <= agreed:
                    return self._proposal(conn, slug, pid)  # waiting for the other party
            conn.execute(update(ProposalRow).where(ProposalRow.id == pid).values(status=status))
            text = f"status: {status}" + (f" ({note})" if note else "")
            conn.execute(insert(CommentRow).values(proposal_id=pid, author=author, at=at, text=text, kind="status"))
        return self.proposal(slug, pid)

    def comment(self, slug: str, pid: int, text: str, *, author: str) -> Proposal:
        if not text.strip():
            raise StoreError("an empty comment says nothing")
        if text.strip().startswith(AGREED.strip()):
            raise StoreError(f"a comment cannot start with {AGREED.strip()!r}: agree by moving the proposal to active")
        self.proposal(slug, pid)  # exists in this ecosystem
        with self.store.engine.begin() as conn:
            conn.execute(
                insert(CommentRow).values(proposal_id=pid, author=author, at=now(), text=text.strip(), kind="comment")
            )
        return self.proposal(slug, pid)

    # -- recording an agreed exchange as a flow ------------------------------------------------
    def consent(self, slug: str, pid: int, *, author: str, party: str, note: str = "") -> tuple[Proposal, bool]:
        """``party``'s consent (given by ``author``: its member, or a manager on its behalf,
        who says why in ``note``) to record the agreed active exchange ``pid`` as a flow.
        Returns the proposal and whether this consent completed both: then the proposal is
        claimed for recording (:meth:`recorded` or :meth:`unclaim` must follow). A party's
        second consent changes nothing."""
        current = self.proposal(slug, pid)
        if party not in (current.source, current.target):
            raise StoreError(f"{party!r} is not a party to proposal {pid}")
        if current.status != "active" or not current.agreed:
            raise StoreError(
                f"proposal {pid} is {current.status}: only an active exchange both parties agreed to is recorded"
            )
        if current.recorded_version is not None:
            raise StoreError(
                f"proposal {pid} is recorded already (version {current.recorded_version})"
                if current.recorded_version
                else f"proposal {pid} is being recorded"
            )
        if party in current.consented_by:
            return current, False
        text = "consents to record the flow" + (f" (on behalf of {party}: {note.strip()})" if note.strip() else "")
        at = now()
        with self.store.engine.begin() as conn:
            locked = conn.execute(
                update(ProposalRow)
                .where(ProposalRow.id == pid, ProposalRow.status == "active", ProposalRow.recorded_version.is_(None))
                .values(updated_at=at)
            ).rowcount
            if locked != 1:
                raise StaleError(f"proposal {pid} changed meanwhile: reload it and try again")
            conn.execute(
                insert(CommentRow).values(proposal_id=pid, author=author, at=at, text=text, kind="consent", party=party)
            )
            p = self._proposal(conn, slug, pid)
            both = {p.source, p.target} <= set(p.consented_by)
            if both:
                conn.execute(update(ProposalRow).where(ProposalRow.id == pid).values(recorded_version=0))
        return self.proposal(slug, pid), both

    def claim(self, slug: str, pid: int) -> bool:
        """Claim a proposal both parties consented to for recording (again, after a failed
        attempt); False when someone else holds it or it is recorded."""
        p = self.proposal(slug, pid)
        if not ({p.source, p.target} <= set(p.consented_by)) or p.status != "active":
            return False
        with self.store.engine.begin() as conn:
            return bool(
                conn.execute(
                    update(ProposalRow)
                    .where(ProposalRow.id == pid, ProposalRow.recorded_version.is_(None))
                    .values(recorded_version=0)
                ).rowcount
            )

    def unclaim(self, slug: str, pid: int) -> None:
        """Give a claim back after the recording failed (the consents stay)."""
        self.proposal(slug, pid)
        with self.store.engine.begin() as conn:
            conn.execute(
                update(ProposalRow)
                .where(ProposalRow.id == pid, ProposalRow.recorded_version == 0)
                .values(recorded_version=None)
            )

    def recorded(self, slug: str, pid: int, version: int, *, author: str) -> Proposal:
        """Note that the exchange was recorded as a flow in ``version``."""
        self.proposal(slug, pid)
        at = now()
        with self.store.engine.begin() as conn:
            conn.execute(
                update(ProposalRow).where(ProposalRow.id == pid).values(recorded_version=version, updated_at=at)
            )
            conn.execute(
                insert(CommentRow).values(
                    proposal_id=pid,
                    author=author,
                    at=at,
                    text=f"recorded as a flow in version {version}",
                    kind="recorded",
                )
            )
        return self.proposal(slug, pid)

    def events(self, slug: str, since: _dt.datetime | None = None) -> list[dict[str, Any]]:
        """Every entry of every proposal's history of ``slug`` (oldest first), after ``since``
        when given: ``proposal``, ``from``, ``to``, ``resource`` and the entry's ``kind``,
        ``author``, ``at``, ``text``, ``party`` (for an inbox)."""
        out = []
        for p in self.proposals(slug):
            for c in p.comments:
                if since is None or _dt.datetime.fromisoformat(c["at"]) > since:
                    out.append({"proposal": p.id, "from": p.source, "to": p.target, "resource": p.resource, **c})
        out.sort(key=lambda e: (e["at"], e["proposal"]))
        return out


def _utc(at: _dt.datetime) -> _dt.datetime:
    """A stored time as UTC (SQLite gives it back without its zone)."""
    return at if at.tzinfo is not None else at.replace(tzinfo=_dt.UTC)
