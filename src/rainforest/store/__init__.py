"""The store: several ecosystems per installation, each with its whole history.

SQLAlchemy 2 with Alembic migrations; SQLite (embedded, the default: a file in the user's
data directory) or PostgreSQL (psycopg 3) for teams, with the same behaviour and the same
tests. Every save is a new version that records who, when, a message and what changed
against the previous one; any earlier version loads back or exports as a ``rainforest/1``
document.

- **Transactional imports**: a file is read and validated completely before the store is
  touched; a bad file raises :class:`rainforest.DocumentError` with every problem and its
  place, and the store is exactly as it was.
- **Optimistic locking**: ``commit(..., expected=n)`` saves only if the ecosystem is still at
  version ``n``; otherwise :class:`ConflictError` says which version is there now. The head
  moves by a compare-and-set on the ecosystem's row, so concurrent writers never lose an
  update and the history stays complete.

>>> import rainforest as rf
>>> from rainforest.store import Store
>>> store = Store("sqlite://")  # in memory; Store() opens the default file
>>> store.create("kalundborg", rf.datasets.kalundborg(), author="demo").number
1
>>> store.load("kalundborg") == rf.datasets.kalundborg()
True
>>> [h["message"] for h in store.history("kalundborg")]
['created']
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rainforest.errors import RainforestError, UnknownIdError
from rainforest.model.ecosystem import Ecosystem

__all__ = [
    "ROLES",
    "ConflictError",
    "EcosystemInfo",
    "Membership",
    "Store",
    "StoreError",
    "User",
    "Version",
    "default_url",
]

#: Roles in an ecosystem: a manager (facilitator) sees and edits all of it; a member sees and
#: edits its own actor and sees the others' directory fields; an observer reads what a
#: manager reads and changes nothing.
ROLES = ("manager", "member", "observer")

#: Where a proposed exchange may go from each status.
TRANSITIONS = {
    "proposed": ("negotiating", "ended"),
    "negotiating": ("active", "ended"),
    "active": ("ended",),
    "ended": (),
}

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")


class StoreError(RainforestError, ValueError):
    """A request the store cannot carry out, with what to do instead."""


class ConflictError(StoreError):
    """Someone saved the ecosystem since the version the change was made on."""

    def __init__(self, slug: str, expected: int, head: int) -> None:
        super().__init__(
            f"ecosystem {slug!r} is now at version {head}, but the change was made on version {expected}: "
            "load the current version, apply the change again and save"
        )
        self.slug = slug
        self.expected = expected
        self.head = head


class StaleError(StoreError):
    """The proposal moved since it was read."""


@dataclass(frozen=True)
class Version:
    """One saved state: its number, when, who, why, and what changed."""

    ecosystem: str
    number: int
    created_at: _dt.datetime
    author: str
    message: str
    content_hash: str
    actors: int
    flows: int
    changes: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ecosystem": self.ecosystem,
            "number": self.number,
            "created_at": self.created_at.isoformat(),
            "author": self.author,
            "message": self.message,
            "content_hash": self.content_hash,
            "actors": self.actors,
            "flows": self.flows,
            "changes": self.changes,
        }


@dataclass(frozen=True)
class User:
    username: str
    admin: bool


@dataclass(frozen=True)
class Membership:
    username: str
    ecosystem: str
    role: str
    actor: str | None


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
        }


@dataclass(frozen=True)
class EcosystemInfo:
    slug: str
    name: str
    head: int
    created_at: _dt.datetime


def default_url() -> str:
    """SQLite in the user's data directory: ``$RAINFOREST_DATA``, else
    ``$XDG_DATA_HOME/rainforest``, else ``~/.local/share/rainforest`` (created if missing)."""
    base = os.environ.get("RAINFOREST_DATA")
    if base:
        folder = Path(base)
    else:
        xdg = os.environ.get("XDG_DATA_HOME")
        folder = (Path(xdg) if xdg else Path.home() / ".local" / "share") / "rainforest"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'rainforest.db'}"


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def _encode(eco: Ecosystem) -> bytes:
    text = json.dumps(eco.to_dict(), sort_keys=True, ensure_ascii=False, allow_nan=True)
    return zlib.compress(text.encode("utf-8"), 6)


def _decode(blob: bytes, label: str) -> Ecosystem:
    from rainforest.io.text import parse_json, raw_from_data
    from rainforest.model.validation import build_ecosystem

    text = zlib.decompress(blob).decode("utf-8")
    data, issues, locate = parse_json(text, label)
    eco: Ecosystem = build_ecosystem(raw_from_data(data, label, locate, issues))
    return eco


_KEYS = {
    "actors": ("id",),
    "resources": ("id",),
    "flows": ("from", "to", "resource"),
    "offers": ("actor", "resource"),
    "needs": ("actor", "resource"),
    "modules": ("id",),
    "stocks": ("actor", "resource"),
    "links": ("from", "to", "resource"),
    "essentiality": ("supplier_sector", "customer_sector"),
    "virgin": ("resource",),
}


def changes(old: Ecosystem | None, new: Ecosystem) -> dict[str, Any]:
    """What changed, per section: keys added, removed and changed (records compared as
    plain data; at most 20 keys listed per kind, with the counts)."""
    before = old.to_dict() if old is not None else {}
    after = new.to_dict()
    out: dict[str, Any] = {}
    for section, key_fields in _KEYS.items():

        def keyed(records: list[dict[str, Any]], fields: tuple[str, ...] = key_fields) -> dict[str, list[str]]:
            table: dict[str, list[str]] = {}
            for r in records:
                key = "/".join(str(r.get(f, "")) for f in fields)
                table.setdefault(key, []).append(json.dumps(r, sort_keys=True))
            return table

        a, b = keyed(before.get(section, [])), keyed(after.get(section, []))
        added = sorted(set(b) - set(a))
        removed = sorted(set(a) - set(b))
        changed = sorted(k for k in set(a) & set(b) if sorted(a[k]) != sorted(b[k]))
        if added or removed or changed:
            out[section] = {
                "added": len(added),
                "removed": len(removed),
                "changed": len(changed),
                "keys": {"added": added[:20], "removed": removed[:20], "changed": changed[:20]},
            }
    top = [k for k in ("name", "period") if before.get(k) != after.get(k)]
    if old is not None and top:
        out["document"] = {"changed": top}
    return out


class Store:
    """A connection to a rainforest store.

    Parameters
    ----------
    url:
        A SQLAlchemy URL (``sqlite:///path.db``, ``postgresql+psycopg://user:pw@host/db``);
        by default :func:`default_url`.
    migrate:
        Bring the database to the latest schema (Alembic ``upgrade head``) on opening.
    """

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        from sqlalchemy import create_engine, event
        from sqlalchemy.pool import StaticPool

        self.url = url or default_url()
        options: dict[str, Any] = {}
        if self.url.startswith("sqlite"):
            options["connect_args"] = {"check_same_thread": False, "timeout": 30}
            if self.url in ("sqlite://", "sqlite:///:memory:"):
                options["poolclass"] = StaticPool
        self.engine = create_engine(self.url, **options)
        if self.url.startswith("sqlite"):

            @event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA foreign_keys=ON")
                if self.url not in ("sqlite://", "sqlite:///:memory:"):
                    cursor.execute("PRAGMA journal_mode=WAL")
                cursor.close()

        if migrate:
            self.upgrade()

    # -- schema -----------------------------------------------------------------------------
    def _alembic(self, connection: Any) -> Any:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        cfg.attributes["connection"] = connection
        return cfg

    def upgrade(self, revision: str = "head") -> None:
        """Apply the migrations up to ``revision``."""
        from alembic import command

        with self.engine.begin() as conn:
            command.upgrade(self._alembic(conn), revision)

    def downgrade(self, revision: str = "base") -> None:
        """Undo migrations down to ``revision`` (``base``: an empty database)."""
        from alembic import command

        with self.engine.begin() as conn:
            command.downgrade(self._alembic(conn), revision)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ----------------------------------------------------------------------------
    def ecosystems(self) -> list[EcosystemInfo]:
        """Every ecosystem, by slug."""
        from sqlalchemy import select

        from rainforest.store._schema import EcosystemRow

        t = EcosystemRow.__table__
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).order_by(t.c.slug)).all()
        return [EcosystemInfo(r.slug, r.name, r.head, r.created_at) for r in rows]

    def _row(self, conn: Any, slug: str) -> Any:
        from sqlalchemy import select

        from rainforest.store._schema import EcosystemRow

        row = conn.execute(select(EcosystemRow.__table__).where(EcosystemRow.slug == slug)).first()
        if row is None:
            known = [r.slug for r in conn.execute(select(EcosystemRow.__table__.c.slug)).all()]
            raise UnknownIdError("ecosystem", slug, known)
        return row

    def head(self, slug: str) -> int:
        """The latest version number of an ecosystem."""
        with self.engine.connect() as conn:
            return int(self._row(conn, slug).head)

    def history(self, slug: str) -> list[dict[str, Any]]:
        """Every version, oldest first: number, when, who, message, counts, what changed."""
        return [v.to_dict() for v in self.versions(slug)]

    def versions(self, slug: str) -> list[Version]:
        from sqlalchemy import select

        from rainforest.store._schema import VersionRow

        t = VersionRow.__table__
        with self.engine.connect() as conn:
            eco = self._row(conn, slug)
            rows = conn.execute(
                select(
                    t.c.number,
                    t.c.created_at,
                    t.c.author,
                    t.c.message,
                    t.c.content_hash,
                    t.c.actors,
                    t.c.flows,
                    t.c.changes,
                )
                .where(t.c.ecosystem_id == eco.id)
                .order_by(t.c.number)
            ).all()
        return [
            Version(
                slug,
                r.number,
                r.created_at,
                r.author,
                r.message,
                r.content_hash,
                r.actors,
                r.flows,
                json.loads(r.changes),
            )
            for r in rows
        ]

    def load(self, slug: str, version: int | None = None) -> Ecosystem:
        """The ecosystem at ``version`` (the latest by default)."""
        from sqlalchemy import select

        from rainforest.store._schema import VersionRow

        t = VersionRow.__table__
        with self.engine.connect() as conn:
            eco = self._row(conn, slug)
            number = eco.head if version is None else version
            row = conn.execute(select(t.c.document).where(t.c.ecosystem_id == eco.id, t.c.number == number)).first()
        if row is None:
            raise StoreError(f"ecosystem {slug!r} has no version {number}; versions run from 1 to {eco.head}")
        return _decode(row.document, f"{slug}@{number}")

    def export(self, slug: str, path: str | os.PathLike[str], version: int | None = None) -> Path:
        """Write a version (the latest by default) in any form rainforest writes."""
        from rainforest.io import save

        return save(self.load(slug, version), path)

    # -- writing ----------------------------------------------------------------------------
    def create(self, slug: str, eco: Ecosystem, *, author: str, message: str = "created") -> Version:
        """A new ecosystem whose version 1 is ``eco``."""
        from sqlalchemy import insert
        from sqlalchemy.exc import IntegrityError

        from rainforest.store._schema import EcosystemRow

        if not _SLUG.match(slug):
            raise StoreError(
                f"invalid ecosystem name {slug!r}: expected 1-100 lower-case letters, digits, '-' or '_', "
                "starting with a letter or digit"
            )
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(EcosystemRow).values(slug=slug, name=eco.name, created_at=_now(), head=0))
        except IntegrityError:
            raise StoreError(f"ecosystem {slug!r} exists already; import into it or choose another name") from None
        return self.commit(slug, eco, author=author, message=message, expected=0)

    def commit(
        self, slug: str, eco: Ecosystem, *, author: str, message: str = "", expected: int | None = None
    ) -> Version:
        """Save ``eco`` as the next version of ``slug``.

        With ``expected``, save only if the ecosystem is still at that version (optimistic
        locking); without it, on top of whatever is there. One transaction: the version row
        and the head move together or not at all."""
        from sqlalchemy import insert, select, update

        from rainforest.store._schema import EcosystemRow, VersionRow

        blob = _encode(eco)
        digest = eco.content_hash()
        v = VersionRow.__table__
        with self.engine.begin() as conn:
            row = self._row(conn, slug)
            base = row.head if expected is None else expected
            if expected is not None and row.head != expected:
                raise ConflictError(slug, expected, row.head)
            previous = None
            if base > 0:
                doc = conn.execute(
                    select(v.c.document).where(v.c.ecosystem_id == row.id, v.c.number == base)
                ).scalar_one()
                previous = _decode(doc, f"{slug}@{base}")
            moved = conn.execute(
                update(EcosystemRow)
                .where(EcosystemRow.id == row.id, EcosystemRow.head == base)
                .values(head=base + 1, name=eco.name)
            ).rowcount
            if moved != 1:  # somebody committed between our read and our write
                current = conn.execute(select(EcosystemRow.head).where(EcosystemRow.id == row.id)).scalar_one()
                raise ConflictError(slug, base, int(current))
            what = changes(previous, eco)
            created = _now()
            conn.execute(
                insert(VersionRow).values(
                    ecosystem_id=row.id,
                    number=base + 1,
                    created_at=created,
                    author=author,
                    message=message,
                    content_hash=digest,
                    actors=len(eco.actors),
                    flows=len(eco.flows),
                    changes=json.dumps(what, sort_keys=True),
                    document=blob,
                )
            )
        return Version(slug, base + 1, created, author, message, digest, len(eco.actors), len(eco.flows), what)

    def import_file(
        self,
        slug: str,
        path: str | os.PathLike[str],
        *,
        author: str,
        message: str | None = None,
        expected: int | None = None,
    ) -> Version:
        """Read, validate, then save a document as the next version (creating the ecosystem
        when it does not exist). A document with errors raises
        :class:`rainforest.DocumentError` before anything is written."""
        from rainforest.io import load

        eco = load(path)  # every problem is reported here, and nothing has been written yet
        note = message if message is not None else f"imported {Path(path).name}"
        known = {info.slug for info in self.ecosystems()}
        if slug not in known:
            return self.create(slug, eco, author=author, message=note)
        return self.commit(slug, eco, author=author, message=note, expected=expected)

    # -- accounts --------------------------------------------------------------------------
    def create_user(self, username: str, password: str, *, admin: bool = False) -> User:
        """An account; the password is stored only as an Argon2id hash (argon2-cffi)."""
        from argon2 import PasswordHasher
        from sqlalchemy import insert
        from sqlalchemy.exc import IntegrityError

        from rainforest.store._schema import UserRow

        if not _SLUG.match(username):
            raise StoreError(f"invalid user name {username!r}: expected 1-100 lower-case letters, digits, '-' or '_'")
        if len(password) < 10:
            raise StoreError("a password needs at least 10 characters")
        digest = PasswordHasher().hash(password)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(UserRow).values(username=username, password_hash=digest, admin=admin, created_at=_now())
                )
        except IntegrityError:
            raise StoreError(f"user {username!r} exists already") from None
        return User(username, admin)

    def user(self, username: str) -> User | None:
        """One account by name (None when there is none)."""
        from sqlalchemy import select

        from rainforest.store._schema import UserRow

        with self.engine.connect() as conn:
            row = conn.execute(select(UserRow.admin).where(UserRow.username == username)).first()
        return User(username, bool(row.admin)) if row is not None else None

    def users(self) -> list[User]:
        from sqlalchemy import select

        from rainforest.store._schema import UserRow

        with self.engine.connect() as conn:
            rows = conn.execute(select(UserRow.username, UserRow.admin).order_by(UserRow.username)).all()
        return [User(r.username, bool(r.admin)) for r in rows]

    def verify(self, username: str, password: str) -> User | None:
        """The user when the password matches, else None (same work either way)."""
        from argon2 import PasswordHasher
        from argon2.exceptions import InvalidHashError, VerificationError
        from sqlalchemy import select

        from rainforest.store._schema import UserRow

        hasher = PasswordHasher()
        with self.engine.connect() as conn:
            row = conn.execute(select(UserRow.password_hash, UserRow.admin).where(UserRow.username == username)).first()
        digest = row.password_hash if row is not None else _DUMMY_HASH
        try:
            hasher.verify(digest, password)
        except (VerificationError, InvalidHashError):
            return None
        return User(username, bool(row.admin)) if row is not None else None

    def grant(self, username: str, slug: str, role: str, actor: str | None = None) -> Membership:
        """Give ``username`` a role in ``slug`` (replacing its previous one there)."""
        from sqlalchemy import delete, insert, select

        from rainforest.store._schema import MembershipRow, UserRow

        if role not in ROLES:
            raise StoreError(f"unknown role {role!r}; expected one of: {', '.join(ROLES)}")
        if role == "member":
            if actor is None:
                raise StoreError("a member acts for one actor: give its id")
            eco = self.load(slug)
            if actor not in eco.actor_ids:
                raise UnknownIdError("actor", actor, eco.actor_ids)
        with self.engine.begin() as conn:
            eco_row = self._row(conn, slug)
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

    def memberships(self, username: str) -> list[Membership]:
        """The ecosystems a user has a role in."""
        from sqlalchemy import select

        from rainforest.store._schema import EcosystemRow, MembershipRow, UserRow

        with self.engine.connect() as conn:
            rows = conn.execute(
                select(EcosystemRow.slug, MembershipRow.role, MembershipRow.actor)
                .join(MembershipRow, MembershipRow.ecosystem_id == EcosystemRow.id)
                .join(UserRow, UserRow.id == MembershipRow.user_id)
                .where(UserRow.username == username)
                .order_by(EcosystemRow.slug)
            ).all()
        return [Membership(username, r.slug, r.role, r.actor) for r in rows]

    # -- proposed exchanges -----------------------------------------------------------------
    def propose(self, slug: str, source: str, target: str, resource: str, quantity: float, *, author: str) -> Proposal:
        """Propose an exchange of ``quantity`` of ``resource`` per period from ``source`` to
        ``target`` (both actors of the ecosystem's current version)."""
        from sqlalchemy import insert

        from rainforest.store._schema import CommentRow, ProposalRow

        eco = self.load(slug)
        for actor in (source, target):
            if actor not in eco.actor_ids:
                raise UnknownIdError("actor", actor, eco.actor_ids)
        if resource not in eco.resource_ids:
            raise UnknownIdError("resource", resource, eco.resource_ids)
        if source == target:
            raise StoreError("an exchange needs two different actors")
        if not quantity > 0:
            raise StoreError(f"the quantity must be a positive number, got {quantity!r}")
        now = _now()
        with self.engine.begin() as conn:
            row = self._row(conn, slug)
            key = conn.execute(
                insert(ProposalRow).values(
                    ecosystem_id=row.id,
                    source=source,
                    target=target,
                    resource=resource,
                    quantity=float(quantity),
                    status="proposed",
                    created_by=author,
                    created_at=now,
                    updated_at=now,
                )
            ).inserted_primary_key
            assert key is not None
            pid = key[0]
            conn.execute(insert(CommentRow).values(proposal_id=pid, author=author, at=now, text="status: proposed"))
        return self.proposal(slug, int(pid))

    def proposals(self, slug: str) -> list[Proposal]:
        """Every proposal of an ecosystem, newest first."""
        from sqlalchemy import select

        from rainforest.store._schema import ProposalRow

        with self.engine.connect() as conn:
            row = self._row(conn, slug)
            ids = conn.execute(
                select(ProposalRow.id).where(ProposalRow.ecosystem_id == row.id).order_by(ProposalRow.id.desc())
            ).scalars()
            return [self._proposal(conn, slug, int(i)) for i in ids]

    def proposal(self, slug: str, pid: int) -> Proposal:
        with self.engine.connect() as conn:
            return self._proposal(conn, slug, pid)

    def _proposal(self, conn: Any, slug: str, pid: int) -> Proposal:
        from sqlalchemy import select

        from rainforest.store._schema import CommentRow, ProposalRow

        eco = self._row(conn, slug)
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
        self, slug: str, pid: int, status: str, *, author: str, expected: str | None = None, note: str = ""
    ) -> Proposal:
        """Move a proposal to ``status`` (see :data:`TRANSITIONS`); with ``expected``, only if it
        is still in that status (two parties answering at once cannot both win)."""
        from sqlalchemy import insert, update

        from rainforest.store._schema import CommentRow, ProposalRow

        current = self.proposal(slug, pid)
        origin = expected or current.status
        if status not in TRANSITIONS.get(origin, ()):
            allowed = ", ".join(TRANSITIONS.get(origin, ())) or "nothing (it has ended)"
            raise StoreError(f"proposal {pid} is {origin}: it can move to {allowed}, not to {status!r}")
        now = _now()
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(ProposalRow)
                .where(ProposalRow.id == pid, ProposalRow.status == origin)
                .values(status=status, updated_at=now)
            ).rowcount
            if moved != 1:
                raise StaleError(f"proposal {pid} is no longer {origin}: reload it and try again")
            text = f"status: {status}" + (f" ({note})" if note else "")
            conn.execute(insert(CommentRow).values(proposal_id=pid, author=author, at=now, text=text))
        return self.proposal(slug, pid)

    def comment(self, slug: str, pid: int, text: str, *, author: str) -> Proposal:
        from sqlalchemy import insert

        from rainforest.store._schema import CommentRow

        if not text.strip():
            raise StoreError("an empty comment says nothing")
        self.proposal(slug, pid)  # exists in this ecosystem
        with self.engine.begin() as conn:
            conn.execute(insert(CommentRow).values(proposal_id=pid, author=author, at=_now(), text=text.strip()))
        return self.proposal(slug, pid)


# a valid Argon2id hash of a random string: unknown users cost the same time as known ones
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObG4Zy4P6NkfQs"
