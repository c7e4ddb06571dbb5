"""Firms registering themselves for an ecosystem, and the managers' decisions.

A repository over the store's engine (the table ``applications``)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from rainforest.store import ConflictError, StaleError, Store, StoreError
from rainforest.store.tables import ApplicationRow, EcosystemRow
from rainforest.web import edits
from rainforest.web.records._base import SLUG, ecosystem_row, now
from rainforest.web.records.accounts import Accounts

__all__ = ["Application", "Applications"]


@dataclass(frozen=True)
class Application:
    """A firm's request to join an ecosystem as the member of ``actor`` (new or existing)."""

    id: int
    ecosystem: str
    username: str
    actor: str
    name: str
    message: str
    status: str  # pending | approved | refused
    created_at: _dt.datetime
    decided_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ecosystem": self.ecosystem,
            "username": self.username,
            "actor": self.actor,
            "name": self.name,
            "message": self.message,
            "status": self.status,
            "created_at": self.created_at.isoformat(),
            "decided_by": self.decided_by,
        }


class Applications:
    """The applications to the ecosystems of ``store``; approving one grants a role
    through ``accounts`` (the store's accounts by default)."""

    def __init__(self, store: Store, accounts: Accounts | None = None) -> None:
        self.store = store
        self.accounts = accounts if accounts is not None else Accounts(store)

    def apply(
        self, slug: str, username: str, password: str, *, actor: str, name: str = "", message: str = ""
    ) -> Application:
        """A firm registers: a new account (no role yet) and a pending application to join
        ``slug`` as the member of ``actor`` (an existing actor, or a new one called ``name``)."""
        if not SLUG.match(actor):
            raise StoreError(f"invalid actor id {actor!r}: expected lower-case letters, digits, '-' or '_'")
        with self.store.engine.connect() as conn:
            row = ecosystem_row(conn, slug)
        self.accounts.create_user(username, password)  # checks the name and the password
        with self.store.engine.begin() as conn:
            key = conn.execute(
                insert(ApplicationRow).values(
                    ecosystem_id=row.id,
                    username=username,
                    actor=actor,
                    name=name.strip()[:300],
                    message=message.strip()[:2000],
                    status="pending",
                    created_at=now(),
                )
            ).inserted_primary_key
        assert key is not None
        return self.application(slug, int(key[0]))

    def _applications(self, slug: str, aid: int | None = None) -> list[Application]:
        t = ApplicationRow.__table__
        query = (
            select(t, EcosystemRow.slug)
            .join(EcosystemRow, EcosystemRow.id == t.c.ecosystem_id)
            .where(EcosystemRow.slug == slug)
            .order_by(t.c.id)
        )
        if aid is not None:
            query = query.where(t.c.id == aid)
        with self.store.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            Application(r.id, r.slug, r.username, r.actor, r.name, r.message, r.status, r.created_at, r.decided_by)
            for r in rows
        ]

    def applications(self, slug: str) -> list[Application]:
        """Every application to ``slug``, oldest first."""
        return self._applications(slug)

    def application(self, slug: str, aid: int) -> Application:
        found = self._applications(slug, aid)
        if not found:
            raise StoreError(f"ecosystem {slug!r} has no application {aid}")
        return found[0]

    def decide(self, slug: str, aid: int, decision: str, *, author: str) -> Application:
        """Approve a pending application (the applicant becomes the member of its actor; a new
        actor is added to the ecosystem as a new version first) or refuse it."""
        if decision not in ("approve", "refuse"):
            raise StoreError(f"decision must be 'approve' or 'refuse', got {decision!r}")
        app = self.application(slug, aid)
        if app.status != "pending":
            raise StaleError(f"application {aid} was {app.status} already")
        store = self.store
        if decision == "approve":
            record = {"id": app.actor, **({"name": app.name} if app.name else {})}
            for _ in range(8):  # a compare-and-set on the version read; again on a newer one
                number = store.head(slug)
                eco = store.load(slug, number)
                if app.actor in eco.actor_ids:
                    break
                try:
                    store.commit(
                        slug,
                        edits.add_actor(eco, record),
                        author=author,
                        message=f"registered {app.actor}",
                        expected=number,
                    )
                    break
                except ConflictError:
                    continue
            else:
                raise StaleError(f"ecosystem {slug!r} kept changing while {app.actor!r} was added: try again")
        with store.engine.begin() as conn:
            moved = conn.execute(
                update(ApplicationRow)
                .where(ApplicationRow.id == aid, ApplicationRow.status == "pending")
                .values(status="approved" if decision == "approve" else "refused", decided_by=author, decided_at=now())
            ).rowcount
        if moved != 1:
            raise StaleError(f"application {aid} was decided meanwhile")
        if decision == "approve":
            self.accounts.grant(app.username, slug, "member", app.actor)
        return self.application(slug, aid)
