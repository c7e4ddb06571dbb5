"""What is new for a user: events of the proposals and applications it may see, each
user's last visit, its e-mail address and how far notices were mailed.

The events are not stored twice: they are read from the proposals' history (its
creation, comments, status changes and agreements, each with its time) and from the
applications (made, approved, refused). What this repository keeps, in the table
``inbox_users`` (migration ``inbox_0001``), is per user: the last visit of the inbox,
the e-mail address and whether notices go to it, how far they were mailed and the last
sending error.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, MetaData, String, Table, Text, insert, select
from sqlalchemy import update as sql_update

from rainforest.store import Store, StoreError
from rainforest.store.tables import ApplicationRow, CommentRow, EcosystemRow, MembershipRow, ProposalRow, UserRow
from rainforest.web.records._base import now

__all__ = ["EVENT_KINDS", "Event", "Inbox", "MailSettings"]

#: What an event is: a new proposal, a comment, a status change, a party's agreement, a
#: firm's application, a decision on an application.
EVENT_KINDS = ("proposal", "comment", "status", "agreed", "application", "decision")

_META = MetaData()
#: Declared here, beside its only user; created by the migration ``inbox_0001``.
INBOX_USERS = Table(
    "inbox_users",
    _META,
    Column("user_id", Integer, ForeignKey(UserRow.__table__.c.id, ondelete="CASCADE"), primary_key=True),
    Column("seen_at", DateTime(timezone=True), nullable=True),
    Column("email", String(320), nullable=True),
    Column("notify", Boolean, nullable=False, default=False),
    Column("mailed_until", DateTime(timezone=True), nullable=True),
    Column("mail_error", Text, nullable=True),
    Column("mail_error_at", DateTime(timezone=True), nullable=True),
)

_SEES_ALL = frozenset({"admin", "manager", "observer"})
_MANAGES = frozenset({"admin", "manager"})


def _utc(at: _dt.datetime) -> _dt.datetime:
    """SQLite gives back naive datetimes; every time here is UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=_dt.UTC)


@dataclass(frozen=True)
class Event:
    """One thing that happened that a user may see."""

    at: _dt.datetime
    ecosystem: str
    kind: str
    author: str
    #: the proposal's id (proposal events) or the application's (application events)
    ref: int
    #: the proposal's parties and resource, or the application's actor (ids)
    source: str = ""
    target: str = ""
    resource: str = ""
    quantity: float | None = None
    #: the comment's text, the new status, the agreeing party, or the decision
    text: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "ecosystem": self.ecosystem,
            "kind": self.kind,
            "author": self.author,
            "ref": self.ref,
            "from": self.source,
            "to": self.target,
            "resource": self.resource,
            "quantity": self.quantity,
            "text": self.text,
        }


@dataclass(frozen=True)
class MailSettings:
    """Where a user's notices go and how far they went."""

    username: str
    email: str | None
    notify: bool
    mailed_until: _dt.datetime | None
    error: str | None
    error_at: _dt.datetime | None


def _comment_kind(text: str, kind: str | None = None) -> tuple[str, str]:
    """The inbox's kind of a proposal's history entry and the text it shows. ``kind`` is the
    board's own (``consent`` and ``recorded`` entries keep theirs); older entries have none
    and are told apart by their text."""
    if kind in ("consent", "recorded"):
        return kind, text
    if text == "status: proposed":
        return "proposal", ""
    if text.startswith("status: "):
        return "status", text[len("status: ") :]
    if text.startswith("agreed: "):
        return "agreed", text[len("agreed: ") :]
    return "comment", text


class Inbox:
    """The inbox records of the users of ``store``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- who sees what ---------------------------------------------------------------------
    def _roles(self, conn: Any, username: str) -> tuple[int, dict[int, tuple[str, str, str | None]]]:
        """The user's id and, per ecosystem id, (slug, role, actor)."""
        user = conn.execute(select(UserRow.id, UserRow.admin).where(UserRow.username == username)).first()
        if user is None:
            raise StoreError(f"no user {username!r}")
        if user.admin:
            rows = conn.execute(select(EcosystemRow.id, EcosystemRow.slug)).all()
            return user.id, {r.id: (r.slug, "admin", None) for r in rows}
        rows = conn.execute(
            select(EcosystemRow.id, EcosystemRow.slug, MembershipRow.role, MembershipRow.actor)
            .join(MembershipRow, MembershipRow.ecosystem_id == EcosystemRow.id)
            .where(MembershipRow.user_id == user.id)
        ).all()
        return user.id, {r.id: (r.slug, r.role, r.actor) for r in rows}

    def events(self, username: str, *, since: _dt.datetime | None = None, limit: int = 200) -> list[Event]:
        """What ``username`` may see that others did, newest first: in each ecosystem where
        it has a role, the proposals it sees (managers and observers all, a member those of
        its actor) with their comments, status changes and agreements, the applications to
        join (managers), and its own applications' decisions. ``since``: only later ones."""
        with self.store.engine.connect() as conn:
            _, roles = self._roles(conn, username)
            out: list[Event] = []
            if roles:
                q = (
                    select(
                        CommentRow.author,
                        CommentRow.at,
                        CommentRow.text,
                        CommentRow.kind,
                        ProposalRow.id,
                        ProposalRow.ecosystem_id,
                        ProposalRow.source,
                        ProposalRow.target,
                        ProposalRow.resource,
                        ProposalRow.quantity,
                    )
                    .join(ProposalRow, ProposalRow.id == CommentRow.proposal_id)
                    .where(ProposalRow.ecosystem_id.in_(list(roles)), CommentRow.author != username)
                )
                if since is not None:
                    q = q.where(CommentRow.at > since)
                for r in conn.execute(q.order_by(CommentRow.at.desc(), CommentRow.id.desc()).limit(limit * 4)):
                    slug, role, actor = roles[r.ecosystem_id]
                    if role not in _SEES_ALL and actor not in (r.source, r.target):
                        continue
                    kind, text = _comment_kind(r.text, r.kind)
                    out.append(
                        Event(_utc(r.at), slug, kind, r.author, r.id, r.source, r.target, r.resource, r.quantity, text)
                    )
                managed = [e for e, (_, role, _) in roles.items() if role in _MANAGES]
                if managed:
                    out.extend(self._applications(conn, ApplicationRow.ecosystem_id.in_(managed), username, since))
            out.extend(self._applications(conn, ApplicationRow.username == username, username, since, own=True))
        unique = {(e.kind, e.ref, e.ecosystem, e.at, e.text): e for e in out}
        return sorted(unique.values(), key=lambda e: e.at, reverse=True)[:limit]

    def _applications(
        self, conn: Any, where: Any, username: str, since: _dt.datetime | None, *, own: bool = False
    ) -> list[Event]:
        t = ApplicationRow.__table__
        rows = conn.execute(
            select(t, EcosystemRow.slug).join(EcosystemRow, EcosystemRow.id == t.c.ecosystem_id).where(where)
        ).all()
        out = []
        for r in rows:
            if not own and r.username != username:
                out.append(Event(_utc(r.created_at), r.slug, "application", r.username, r.id, r.actor, text=r.name))
            if r.status != "pending" and r.decided_at is not None and r.decided_by != username:
                out.append(
                    Event(_utc(r.decided_at), r.slug, "decision", r.decided_by or "", r.id, r.actor, text=r.status)
                )
        return [e for e in out if since is None or e.at > _utc(since)]

    def count(self, username: str) -> int:
        """How many events are new since the user's last visit of the inbox."""
        return len(self.events(username, since=self.last_visit(username), limit=1000))

    # -- the user's row --------------------------------------------------------------------
    def _row(self, conn: Any, username: str) -> Any:
        uid = conn.execute(select(UserRow.id).where(UserRow.username == username)).scalar()
        if uid is None:
            raise StoreError(f"no user {username!r}")
        row = conn.execute(select(INBOX_USERS).where(INBOX_USERS.c.user_id == uid)).first()
        if row is None:
            conn.execute(insert(INBOX_USERS).values(user_id=uid, notify=False))
            row = conn.execute(select(INBOX_USERS).where(INBOX_USERS.c.user_id == uid)).first()
        return row

    def last_visit(self, username: str) -> _dt.datetime | None:
        """When the user last opened the inbox (``None``: never)."""
        with self.store.engine.begin() as conn:
            seen = self._row(conn, username).seen_at
        return None if seen is None else _utc(seen)

    def visit(self, username: str, at: _dt.datetime | None = None) -> _dt.datetime:
        """Record a visit of the inbox (now): what came before is no longer new."""
        when = at or now()
        with self.store.engine.begin() as conn:
            row = self._row(conn, username)
            conn.execute(sql_update(INBOX_USERS).where(INBOX_USERS.c.user_id == row.user_id).values(seen_at=when))
        return when

    def mail_settings(self, username: str) -> MailSettings:
        with self.store.engine.begin() as conn:
            r = self._row(conn, username)
        return MailSettings(
            username,
            r.email,
            bool(r.notify),
            None if r.mailed_until is None else _utc(r.mailed_until),
            r.mail_error,
            None if r.mail_error_at is None else _utc(r.mail_error_at),
        )

    def set_mail(self, username: str, email: str | None, notify: bool) -> MailSettings:
        """Send notices to ``email`` (or stop: ``notify`` false). Notices start from now:
        turning them on does not mail the whole past."""
        email = (email or "").strip() or None
        if email is not None and not _looks_like_address(email):
            raise StoreError(f"{email!r} is not an e-mail address: expected name@domain")
        if notify and email is None:
            raise StoreError("notices by e-mail need an e-mail address")
        with self.store.engine.begin() as conn:
            row = self._row(conn, username)
            values: dict[str, Any] = {"email": email, "notify": notify, "mail_error": None, "mail_error_at": None}
            if notify and not row.notify:
                values["mailed_until"] = now()
            conn.execute(sql_update(INBOX_USERS).where(INBOX_USERS.c.user_id == row.user_id).values(**values))
        return self.mail_settings(username)

    def recipients(self) -> list[MailSettings]:
        """The users whose notices go by e-mail."""
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(UserRow.username, INBOX_USERS)
                .join(INBOX_USERS, INBOX_USERS.c.user_id == UserRow.id)
                .where(INBOX_USERS.c.notify.is_(True), INBOX_USERS.c.email.is_not(None))
                .order_by(UserRow.username)
            ).all()
        return [
            MailSettings(
                r.username,
                r.email,
                True,
                None if r.mailed_until is None else _utc(r.mailed_until),
                r.mail_error,
                None if r.mail_error_at is None else _utc(r.mail_error_at),
            )
            for r in rows
        ]

    def mailed(self, username: str, until: _dt.datetime) -> None:
        """The notices up to ``until`` went out: the error, if any, is over."""
        with self.store.engine.begin() as conn:
            row = self._row(conn, username)
            conn.execute(
                sql_update(INBOX_USERS)
                .where(INBOX_USERS.c.user_id == row.user_id)
                .values(mailed_until=until, mail_error=None, mail_error_at=None)
            )

    def mail_failed(self, username: str, error: str) -> None:
        """Sending failed: the mark stays (the same notices go out at the next try) and the
        error is kept for the user to see."""
        with self.store.engine.begin() as conn:
            row = self._row(conn, username)
            conn.execute(
                sql_update(INBOX_USERS)
                .where(INBOX_USERS.c.user_id == row.user_id)
                .values(mail_error=error[:2000], mail_error_at=now())
            )


def _looks_like_address(text: str) -> bool:
    local, at, domain = text.rpartition("@")
    return bool(at and local and "." in domain and not any(c.isspace() or c in "<>,;\"'" for c in text))
