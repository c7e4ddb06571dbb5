"""Accounts, their sessions and their roles in ecosystems: the workbench's people.

A repository over the store's engine (the tables ``users``, ``sessions`` and
``memberships`` of the store's migrations).

>>> import rainforest as rf
>>> from rainforest.store import Store
>>> store = Store("sqlite://")
>>> _ = store.create("k", rf.datasets.kalundborg(), author="demo")
>>> accounts = Accounts(store)
>>> accounts.create_user("ada", "a long password", admin=True)
User(username='ada', admin=True, must_change=False)
>>> accounts.verify("ada", "wrong password") is None
True
>>> accounts.create_user("bo", "another long password").username
'bo'
>>> accounts.grant("bo", "k", "observer")
Membership(username='bo', ecosystem='k', role='observer', actor=None)
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from rainforest.errors import UnknownIdError
from rainforest.store import Store, StoreError
from rainforest.store.tables import EcosystemRow, MembershipRow, SessionRow, UserRow
from rainforest.web.records._base import SLUG, ecosystem_row, now

__all__ = ["ROLES", "Accounts", "Membership", "User"]

#: Roles in an ecosystem: a manager (facilitator) sees and edits all of it; a member sees and
#: edits its own actor and sees the others' directory fields; an observer reads what a
#: manager reads and changes nothing.
ROLES = ("manager", "member", "observer")

#: At most this many Argon2id checks at once (64 MiB each): sign-in floods cannot exhaust memory.
_HASHING = threading.BoundedSemaphore(8)

# a valid Argon2id hash of a random string: unknown users cost the same time as known ones
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObG4Zy4P6NkfQs"


@dataclass(frozen=True)
class User:
    username: str
    admin: bool
    #: signed in with a one-time password that must be replaced before anything else
    must_change: bool = False


@dataclass(frozen=True)
class Membership:
    username: str
    ecosystem: str
    role: str
    actor: str | None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Accounts:
    """Accounts (passwords kept only as Argon2id hashes), sessions and roles, in ``store``."""

    #: How long a session lasts from sign-in.
    SESSION_HOURS = 12

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def _engine(self) -> Any:
        return self.store.engine

    # -- accounts --------------------------------------------------------------------------
    def create_user(self, username: str, password: str, *, admin: bool = False, one_time: bool = False) -> User:
        """An account; the password is stored only as an Argon2id hash (argon2-cffi). A
        ``one_time`` password must be replaced at the first sign-in."""
        if not SLUG.match(username):
            raise StoreError(f"invalid user name {username!r}: expected 1-100 lower-case letters, digits, '-' or '_'")
        if len(password) < 10:
            raise StoreError("a password needs at least 10 characters")
        digest = PasswordHasher().hash(password)
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(UserRow).values(
                        username=username,
                        password_hash=digest,
                        admin=admin,
                        created_at=now(),
                        must_change_password=one_time,
                    )
                )
        except IntegrityError:
            raise StoreError(f"user {username!r} exists already") from None
        return User(username, admin, one_time)

    def user(self, username: str) -> User | None:
        """One account by name (None when there is none)."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(UserRow.admin, UserRow.must_change_password).where(UserRow.username == username)
            ).first()
        return User(username, bool(row.admin), bool(row.must_change_password)) if row is not None else None

    def users(self) -> list[User]:
        """Every account, by name."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(UserRow.username, UserRow.admin, UserRow.must_change_password).order_by(UserRow.username)
            ).all()
        return [User(r.username, bool(r.admin), bool(r.must_change_password)) for r in rows]

    def verify(self, username: str, password: str) -> User | None:
        """The user when the password matches, else None (same work either way)."""
        hasher = PasswordHasher()
        with self._engine.connect() as conn:
            row = conn.execute(
                select(UserRow.password_hash, UserRow.admin, UserRow.must_change_password).where(
                    UserRow.username == username
                )
            ).first()
        digest = row.password_hash if row is not None else _DUMMY_HASH
        try:
            with _HASHING:
                hasher.verify(digest, password)
        except (VerificationError, InvalidHashError):
            return None
        return User(username, bool(row.admin), bool(row.must_change_password)) if row is not None else None

    def set_password(self, username: str, password: str, *, current: str | None = None, one_time: bool = False) -> None:
        """Give ``username`` a new password (checked against ``current`` when given) and end
        every session it has: a stolen session does not outlive a new password. A
        ``one_time`` password (an administrator resetting someone's) must be replaced at the
        next sign-in."""
        if self.user(username) is None:
            raise UnknownIdError("user", username, [u.username for u in self.users()])
        if current is not None and self.verify(username, current) is None:
            raise StoreError("the current password is wrong: nothing was changed")
        if len(password) < 10:
            raise StoreError("a password needs at least 10 characters")
        if current is not None and password == current:
            raise StoreError("the new password is the current one: choose another")
        digest = PasswordHasher().hash(password)
        with self._engine.begin() as conn:
            conn.execute(
                update(UserRow)
                .where(UserRow.username == username)
                .values(password_hash=digest, must_change_password=one_time)
            )
        self.end_sessions(username)

    def remove_user(self, username: str) -> None:
        """Remove an account with its roles and sessions (never the last administrator)."""
        user = self.user(username)
        if user is None:
            raise UnknownIdError("user", username, [u.username for u in self.users()])
        if user.admin and sum(u.admin for u in self.users()) == 1:
            raise StoreError(f"{username!r} is the last administrator: make another one first")
        self.end_sessions(username)
        with self._engine.begin() as conn:
            conn.execute(delete(UserRow).where(UserRow.username == username))

    # -- sessions --------------------------------------------------------------------------
    def start_session(self, username: str) -> str:
        """A new session for ``username``: the token for the cookie (the store keeps only its
        SHA-256). Expired sessions are cleared on the way."""
        token = secrets.token_urlsafe(32)
        at = now()
        with self._engine.begin() as conn:
            uid = conn.execute(select(UserRow.id).where(UserRow.username == username)).scalar_one_or_none()
            if uid is None:
                raise UnknownIdError("user", username, [])
            conn.execute(delete(SessionRow).where(SessionRow.expires_at <= at))
            conn.execute(
                insert(SessionRow).values(
                    token_hash=_token_hash(token),
                    user_id=uid,
                    created_at=at,
                    expires_at=at + _dt.timedelta(hours=self.SESSION_HOURS),
                )
            )
        return token

    def session_user(self, token: str) -> User | None:
        """The user of a live session (None when it ended, expired or never was)."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(UserRow.username, UserRow.admin, UserRow.must_change_password)
                .join(SessionRow, SessionRow.user_id == UserRow.id)
                .where(SessionRow.token_hash == _token_hash(token), SessionRow.expires_at > now())
            ).first()
        return User(row.username, bool(row.admin), bool(row.must_change_password)) if row is not None else None

    def end_session(self, token: str) -> None:
        """End one session (signing out)."""
        with self._engine.begin() as conn:
            conn.execute(delete(SessionRow).where(SessionRow.token_hash == _token_hash(token)))

    def end_sessions(self, username: str) -> int:
        """End every session of ``username``; how many there were."""
        with self._engine.begin() as conn:
            uid = select(UserRow.id).where(UserRow.username == username).scalar_subquery()
            return int(conn.execute(delete(SessionRow).where(SessionRow.user_id == uid)).rowcount)

    # -- roles -----------------------------------------------------------------------------
    def grant(self, username: str, slug: str, role: str, actor: str | None = None) -> Membership:
        """Give ``username`` a role in ``slug`` (replacing its previous one there)."""
        if role not in ROLES:
            raise StoreError(f"unknown role {role!r}; expected one of: {', '.join(ROLES)}")
        if role == "member":
            if actor is None:
                raise StoreError("a member acts for one actor: give its id")
            eco = self.store.load(slug)
            if actor not in eco.actor_ids:
                raise UnknownIdError("actor", actor, eco.actor_ids)
        with self._engine.begin() as conn:
            eco_row = ecosystem_row(conn, slug)
            user = conn.execute(select(UserRow.id).where(UserRow.username == username)).scalar_one_or_none()
            if user is None:
                raise UnknownIdError("user", username, [u.username for u in self.users()])
            conn.execute(
                delete(MembershipRow).where(MembershipRow.user_id == user, MembershipRow.ecosystem_id == eco_row.id)
            )
            conn.execute(
                insert(MembershipRow).values(
                    user_id=user, ecosystem_id=eco_row.id, role=role, actor=actor if role == "member" else None
                )
            )
        return Membership(username, slug, role, actor if role == "member" else None)

    def revoke(self, username: str, slug: str) -> None:
        """Take ``username``'s role in ``slug`` away, and end its sessions."""
        with self._engine.begin() as conn:
            eco_row = ecosystem_row(conn, slug)
            uid = conn.execute(select(UserRow.id).where(UserRow.username == username)).scalar_one_or_none()
            gone = (
                conn.execute(
                    delete(MembershipRow).where(MembershipRow.user_id == uid, MembershipRow.ecosystem_id == eco_row.id)
                ).rowcount
                if uid is not None
                else 0
            )
        if not gone:
            raise StoreError(f"{username!r} has no role in {slug!r}")
        self.end_sessions(username)

    def memberships(self, username: str) -> list[Membership]:
        """The ecosystems a user has a role in."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(EcosystemRow.slug, MembershipRow.role, MembershipRow.actor)
                .join(MembershipRow, MembershipRow.ecosystem_id == EcosystemRow.id)
                .join(UserRow, UserRow.id == MembershipRow.user_id)
                .where(UserRow.username == username)
                .order_by(EcosystemRow.slug)
            ).all()
        return [Membership(username, r.slug, r.role, r.actor) for r in rows]

    def members(self, slug: str) -> list[Membership]:
        """Everyone with a role in ``slug``, by user name."""
        with self._engine.connect() as conn:
            ecosystem_row(conn, slug)
            rows = conn.execute(
                select(UserRow.username, MembershipRow.role, MembershipRow.actor)
                .join(MembershipRow, MembershipRow.user_id == UserRow.id)
                .join(EcosystemRow, EcosystemRow.id == MembershipRow.ecosystem_id)
                .where(EcosystemRow.slug == slug)
                .order_by(UserRow.username)
            ).all()
        return [Membership(r.username, slug, r.role, r.actor) for r in rows]
