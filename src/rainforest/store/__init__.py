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

import contextlib
import datetime as _dt
import json
import math
import os
import re
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, delete, event, func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

# the store's errors live in rainforest.errors; imported from here as well, as before
from rainforest.errors import ConflictError, StoreError, UnknownIdError
from rainforest.errors import StaleError as StaleError
from rainforest.io import load, save
from rainforest.model.ecosystem import Ecosystem

# what changed between versions, and their encoding (Arrow IPC; older blobs still decode)
from rainforest.store._changes import changes as changes
from rainforest.store._encoding import _decode, _encode
from rainforest.store._schema import EcosystemRow, VersionRow

__all__ = [
    "JOB_KINDS",
    "ROLES",
    "Application",
    "ConflictError",
    "EcosystemInfo",
    "Job",
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

#: How an agreement to make an exchange active is written in its history; comments cannot
#: start with it.
AGREED = "agreed: "

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")


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
    #: signed in with a one-time password that must be replaced before anything else
    must_change: bool = False


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


#: The kinds of long work a worker runs, and the states a job goes through.
JOB_KINDS = ("analyses", "plan", "risk", "simulate")
JOB_STATES = ("queued", "running", "done", "failed")


@dataclass(frozen=True)
class Job:
    """Long work on one version of an ecosystem (see :meth:`Store.submit`)."""

    id: int
    ecosystem: str
    version: int
    kind: str
    params: dict[str, Any]
    status: str
    progress: float
    message: str
    created_by: str
    created_at: _dt.datetime
    started_at: _dt.datetime | None
    finished_at: _dt.datetime | None
    summary: dict[str, Any]
    has_artifact: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ecosystem": self.ecosystem,
            "version": self.version,
            "kind": self.kind,
            "params": self.params,
            "status": self.status,
            "progress": self.progress,
            "message": self.message,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "summary": self.summary,
            "has_artifact": self.has_artifact,
        }


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


@dataclass(frozen=True)
class EcosystemInfo:
    slug: str
    name: str
    head: int
    created_at: _dt.datetime


def crash_point(name: str) -> None:
    """For the kill tests only: end the process at once (as ``kill -9`` would) when
    ``RAINFOREST_CRASH_AT`` names this point. Unset, it does nothing."""
    if os.environ.get("RAINFOREST_CRASH_AT") == name:
        os._exit(137)


def _private_sqlite_file(url: str) -> None:
    """Create a new SQLite database file readable by its owner only (0600: it holds password
    hashes and every confidential record); SQLite gives its -wal and -shm files the same
    mode. An existing file keeps its mode."""
    if not url.startswith("sqlite"):
        return
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


#: At most this many Argon2id checks at once (64 MiB each): sign-in floods cannot exhaust memory.
_HASHING = threading.BoundedSemaphore(8)


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


class _Serialised:
    """An in-memory SQLite database lives in one connection: one thread uses it at a time
    (the pages and the worker's threads would otherwise interleave on it)."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self._lock = threading.RLock()

    @contextlib.contextmanager
    def connect(self) -> Iterator[Any]:
        with self._lock, self._engine.connect() as conn:
            yield conn

    @contextlib.contextmanager
    def begin(self) -> Iterator[Any]:
        with self._lock, self._engine.begin() as conn:
            yield conn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


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
        self.url = url or default_url()
        _private_sqlite_file(self.url)
        # decoded versions, most recently used last: versions never change once written
        self._decoded: OrderedDict[tuple[str, int, str], Ecosystem] = OrderedDict()
        self._decoded_lock = threading.Lock()
        options: dict[str, Any] = {}
        if self.url.startswith("sqlite"):
            options["connect_args"] = {"check_same_thread": False, "timeout": 30}
            if self.url in ("sqlite://", "sqlite:///:memory:"):
                options["poolclass"] = StaticPool
        engine = create_engine(self.url, **options)
        in_memory = self.url in ("sqlite://", "sqlite:///:memory:")
        self.engine: Any = _Serialised(engine) if in_memory else engine
        if self.url.startswith("sqlite"):

            @event.listens_for(engine, "connect")
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
        cfg = Config()
        cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        cfg.attributes["connection"] = connection
        return cfg

    def upgrade(self, revision: str = "head") -> None:
        """Apply the migrations up to ``revision``."""
        with self.engine.begin() as conn:
            command.upgrade(self._alembic(conn), revision)

    def downgrade(self, revision: str = "base") -> None:
        """Undo migrations down to ``revision`` (``base``: an empty database)."""
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
        t = EcosystemRow.__table__
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).order_by(t.c.slug)).all()
        return [EcosystemInfo(r.slug, r.name, r.head, r.created_at) for r in rows]

    def _row(self, conn: Any, slug: str) -> Any:
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
        """The ecosystem at ``version`` (the latest by default). The last few versions read or
        written stay decoded in memory (:attr:`CACHED` of them): versions never change, so
        reading one again costs one query for the head."""
        t = VersionRow.__table__
        with self.engine.connect() as conn:
            eco = self._row(conn, slug)
            number = eco.head if version is None else version
            where = (t.c.ecosystem_id == eco.id, t.c.number == number)
            digest = conn.execute(select(t.c.content_hash).where(*where)).scalar()
            if digest is None:
                raise StoreError(f"ecosystem {slug!r} has no version {number}; versions run from 1 to {eco.head}")
            cached = self._cached(slug, number, digest)
            if cached is not None:
                return cached
            blob = conn.execute(select(t.c.document).where(*where)).scalar_one()
        decoded = _decode(blob, f"{slug}@{number}")
        self._keep(slug, number, digest, decoded)
        return decoded

    #: How many decoded versions :meth:`load` keeps in memory.
    CACHED = 6

    def _cached(self, slug: str, number: int, digest: str) -> Ecosystem | None:
        with self._decoded_lock:
            eco = self._decoded.get((slug, number, digest))
            if eco is not None:
                self._decoded.move_to_end((slug, number, digest))
            return eco

    def _keep(self, slug: str, number: int, digest: str, eco: Ecosystem) -> None:
        with self._decoded_lock:
            self._decoded[(slug, number, digest)] = eco
            self._decoded.move_to_end((slug, number, digest))
            while len(self._decoded) > self.CACHED:
                self._decoded.popitem(last=False)

    def export(self, slug: str, path: str | os.PathLike[str], version: int | None = None) -> Path:
        """Write a version (the latest by default) in any form rainforest writes."""
        return save(self.load(slug, version), path)

    # -- writing ----------------------------------------------------------------------------
    def create(self, slug: str, eco: Ecosystem, *, author: str, message: str = "created") -> Version:
        """A new ecosystem whose version 1 is ``eco``: the ecosystem and its first version are
        written in one transaction (a server killed in between leaves neither)."""
        if not _SLUG.match(slug):
            raise StoreError(
                f"invalid ecosystem name {slug!r}: expected 1-100 lower-case letters, digits, '-' or '_', "
                "starting with a letter or digit"
            )
        blob = _encode(eco)
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(EcosystemRow).values(slug=slug, name=eco.name, created_at=_now(), head=0))
                crash_point("create:ecosystem-row")
                version = self._write(conn, slug, eco, blob, author=author, message=message, expected=0)
        except IntegrityError:
            raise StoreError(f"ecosystem {slug!r} exists already; import into it or choose another name") from None
        self._keep(slug, 1, version.content_hash, eco)
        return version

    def commit(
        self, slug: str, eco: Ecosystem, *, author: str, message: str = "", expected: int | None = None
    ) -> Version:
        """Save ``eco`` as the next version of ``slug``.

        With ``expected``, save only if the ecosystem is still at that version (optimistic
        locking); without it, on top of whatever is there. One transaction: the version row
        and the head move together or not at all."""
        blob = _encode(eco)
        with self.engine.begin() as conn:
            version = self._write(conn, slug, eco, blob, author=author, message=message, expected=expected)
        self._keep(slug, version.number, version.content_hash, eco)
        return version

    def _write(
        self, conn: Any, slug: str, eco: Ecosystem, blob: bytes, *, author: str, message: str, expected: int | None
    ) -> Version:
        """Write the next version and move the head, in the caller's transaction."""
        digest = eco.content_hash()
        v = VersionRow.__table__
        row = self._row(conn, slug)
        base = row.head if expected is None else expected
        if expected is not None and row.head != expected:
            raise ConflictError(slug, expected, row.head)
        previous = None
        if base > 0:
            where = (v.c.ecosystem_id == row.id, v.c.number == base)
            before = conn.execute(select(v.c.content_hash).where(*where)).scalar_one()
            previous = self._cached(slug, base, before)
            if previous is None:
                previous = _decode(conn.execute(select(v.c.document).where(*where)).scalar_one(), f"{slug}@{base}")
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
        crash_point("commit:version-row")
        return Version(slug, base + 1, created, author, message, digest, len(eco.actors), len(eco.flows), what)

    def repair(self) -> list[str]:
        """The start-up check: remove ecosystems that have no version (a server killed while
        creating one, before writes were one transaction) and move a head that points past
        the last stored version back to it. What was done, one line each."""
        done = []
        with self.engine.begin() as conn:
            last = (
                select(VersionRow.ecosystem_id, func.max(VersionRow.number).label("last"))
                .group_by(VersionRow.ecosystem_id)
                .subquery()
            )
            rows = conn.execute(
                select(EcosystemRow.id, EcosystemRow.slug, EcosystemRow.head, last.c.last).outerjoin(
                    last, last.c.ecosystem_id == EcosystemRow.id
                )
            ).all()
            for r in rows:
                if r.last is None:
                    conn.execute(delete(EcosystemRow).where(EcosystemRow.id == r.id))
                    done.append(f"ecosystem {r.slug!r} had no version (its creation was cut short): removed")
                elif r.head != r.last:
                    conn.execute(update(EcosystemRow).where(EcosystemRow.id == r.id).values(head=r.last))
                    done.append(f"ecosystem {r.slug!r} pointed at version {r.head}; its last version is {r.last}")
        return done

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
        eco = load(path)  # every problem is reported here, and nothing has been written yet
        crash_point("import:validated")
        note = message if message is not None else f"imported {Path(path).name}"
        known = {info.slug for info in self.ecosystems()}
        if slug not in known:
            return self.create(slug, eco, author=author, message=note)
        return self.commit(slug, eco, author=author, message=note, expected=expected)

    # -- accounts --------------------------------------------------------------------------
    def create_user(self, username: str, password: str, *, admin: bool = False, one_time: bool = False) -> User:
        """An account; the password is stored only as an Argon2id hash (argon2-cffi). A
        ``one_time`` password must be replaced at the first sign-in."""
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
                    insert(UserRow).values(
                        username=username,
                        password_hash=digest,
                        admin=admin,
                        created_at=_now(),
                        must_change_password=one_time,
                    )
                )
        except IntegrityError:
            raise StoreError(f"user {username!r} exists already") from None
        return User(username, admin, one_time)

    def user(self, username: str) -> User | None:
        """One account by name (None when there is none)."""
        from sqlalchemy import select

        from rainforest.store._schema import UserRow

        with self.engine.connect() as conn:
            row = conn.execute(
                select(UserRow.admin, UserRow.must_change_password).where(UserRow.username == username)
            ).first()
        return User(username, bool(row.admin), bool(row.must_change_password)) if row is not None else None

    def users(self) -> list[User]:
        from sqlalchemy import select

        from rainforest.store._schema import UserRow

        with self.engine.connect() as conn:
            rows = conn.execute(
                select(UserRow.username, UserRow.admin, UserRow.must_change_password).order_by(UserRow.username)
            ).all()
        return [User(r.username, bool(r.admin), bool(r.must_change_password)) for r in rows]

    def verify(self, username: str, password: str) -> User | None:
        """The user when the password matches, else None (same work either way)."""
        from argon2 import PasswordHasher
        from argon2.exceptions import InvalidHashError, VerificationError
        from sqlalchemy import select

        from rainforest.store._schema import UserRow

        hasher = PasswordHasher()
        with self.engine.connect() as conn:
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
        from argon2 import PasswordHasher
        from sqlalchemy import update

        from rainforest.store._schema import UserRow

        if self.user(username) is None:
            raise UnknownIdError("user", username, [u.username for u in self.users()])
        if current is not None and self.verify(username, current) is None:
            raise StoreError("the current password is wrong: nothing was changed")
        if len(password) < 10:
            raise StoreError("a password needs at least 10 characters")
        if current is not None and password == current:
            raise StoreError("the new password is the current one: choose another")
        digest = PasswordHasher().hash(password)
        with self.engine.begin() as conn:
            conn.execute(
                update(UserRow)
                .where(UserRow.username == username)
                .values(password_hash=digest, must_change_password=one_time)
            )
        self.end_sessions(username)

    def remove_user(self, username: str) -> None:
        """Remove an account with its roles and sessions (never the last administrator)."""
        from sqlalchemy import delete

        from rainforest.store._schema import UserRow

        user = self.user(username)
        if user is None:
            raise UnknownIdError("user", username, [u.username for u in self.users()])
        if user.admin and sum(u.admin for u in self.users()) == 1:
            raise StoreError(f"{username!r} is the last administrator: make another one first")
        self.end_sessions(username)
        with self.engine.begin() as conn:
            conn.execute(delete(UserRow).where(UserRow.username == username))

    # -- sessions --------------------------------------------------------------------------
    #: How long a session lasts from sign-in.
    SESSION_HOURS = 12

    def start_session(self, username: str) -> str:
        """A new session for ``username``: the token for the cookie (the store keeps only its
        SHA-256). Expired sessions are cleared on the way."""
        import secrets

        from sqlalchemy import delete, insert, select

        from rainforest.store._schema import SessionRow, UserRow

        token = secrets.token_urlsafe(32)
        now = _now()
        with self.engine.begin() as conn:
            uid = conn.execute(select(UserRow.id).where(UserRow.username == username)).scalar_one_or_none()
            if uid is None:
                raise UnknownIdError("user", username, [])
            conn.execute(delete(SessionRow).where(SessionRow.expires_at <= now))
            conn.execute(
                insert(SessionRow).values(
                    token_hash=_token_hash(token),
                    user_id=uid,
                    created_at=now,
                    expires_at=now + _dt.timedelta(hours=self.SESSION_HOURS),
                )
            )
        return token

    def session_user(self, token: str) -> User | None:
        """The user of a live session (None when it ended, expired or never was)."""
        from sqlalchemy import select

        from rainforest.store._schema import SessionRow, UserRow

        with self.engine.connect() as conn:
            row = conn.execute(
                select(UserRow.username, UserRow.admin, UserRow.must_change_password)
                .join(SessionRow, SessionRow.user_id == UserRow.id)
                .where(SessionRow.token_hash == _token_hash(token), SessionRow.expires_at > _now())
            ).first()
        return User(row.username, bool(row.admin), bool(row.must_change_password)) if row is not None else None

    def end_session(self, token: str) -> None:
        """End one session (signing out)."""
        from sqlalchemy import delete

        from rainforest.store._schema import SessionRow

        with self.engine.begin() as conn:
            conn.execute(delete(SessionRow).where(SessionRow.token_hash == _token_hash(token)))

    def end_sessions(self, username: str) -> int:
        """End every session of ``username``; how many there were."""
        from sqlalchemy import delete, select

        from rainforest.store._schema import SessionRow, UserRow

        with self.engine.begin() as conn:
            uid = select(UserRow.id).where(UserRow.username == username).scalar_subquery()
            return int(conn.execute(delete(SessionRow).where(SessionRow.user_id == uid)).rowcount)

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

    def revoke(self, username: str, slug: str) -> None:
        """Take ``username``'s role in ``slug`` away, and end its sessions."""
        from sqlalchemy import delete, select

        from rainforest.store._schema import MembershipRow, UserRow

        with self.engine.begin() as conn:
            eco_row = self._row(conn, slug)
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

    def members(self, slug: str) -> list[Membership]:
        """Everyone with a role in ``slug``, by user name."""
        from sqlalchemy import select

        from rainforest.store._schema import EcosystemRow, MembershipRow, UserRow

        with self.engine.connect() as conn:
            self._row(conn, slug)
            rows = conn.execute(
                select(UserRow.username, MembershipRow.role, MembershipRow.actor)
                .join(MembershipRow, MembershipRow.user_id == UserRow.id)
                .join(EcosystemRow, EcosystemRow.id == MembershipRow.ecosystem_id)
                .where(EcosystemRow.slug == slug)
                .order_by(UserRow.username)
            ).all()
        return [Membership(r.username, slug, r.role, r.actor) for r in rows]

    # -- firms registering themselves -------------------------------------------------------
    def apply(
        self, slug: str, username: str, password: str, *, actor: str, name: str = "", message: str = ""
    ) -> Application:
        """A firm registers: a new account (no role yet) and a pending application to join
        ``slug`` as the member of ``actor`` (an existing actor, or a new one called ``name``)."""
        from sqlalchemy import insert

        from rainforest.store._schema import ApplicationRow

        if not _SLUG.match(actor):
            raise StoreError(f"invalid actor id {actor!r}: expected lower-case letters, digits, '-' or '_'")
        with self.engine.connect() as conn:
            row = self._row(conn, slug)
        self.create_user(username, password)  # checks the name and the password
        with self.engine.begin() as conn:
            key = conn.execute(
                insert(ApplicationRow).values(
                    ecosystem_id=row.id,
                    username=username,
                    actor=actor,
                    name=name.strip()[:300],
                    message=message.strip()[:2000],
                    status="pending",
                    created_at=_now(),
                )
            ).inserted_primary_key
        assert key is not None
        return self.application(slug, int(key[0]))

    def _applications(self, slug: str, aid: int | None = None) -> list[Application]:
        from sqlalchemy import select

        from rainforest.store._schema import ApplicationRow, EcosystemRow

        t = ApplicationRow.__table__
        query = (
            select(t, EcosystemRow.slug)
            .join(EcosystemRow, EcosystemRow.id == t.c.ecosystem_id)
            .where(EcosystemRow.slug == slug)
            .order_by(t.c.id)
        )
        if aid is not None:
            query = query.where(t.c.id == aid)
        with self.engine.connect() as conn:
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
        from sqlalchemy import update

        from rainforest.store._schema import ApplicationRow

        if decision not in ("approve", "refuse"):
            raise StoreError(f"decision must be 'approve' or 'refuse', got {decision!r}")
        app = self.application(slug, aid)
        if app.status != "pending":
            raise StaleError(f"application {aid} was {app.status} already")
        if decision == "approve":
            from rainforest.store._edit import add_actor

            record = {"id": app.actor, **({"name": app.name} if app.name else {})}
            for _ in range(8):  # a compare-and-set on the version read; again on a newer one
                number = self.head(slug)
                eco = self.load(slug, number)
                if app.actor in eco.actor_ids:
                    break
                try:
                    self.commit(
                        slug, add_actor(eco, record), author=author, message=f"registered {app.actor}", expected=number
                    )
                    break
                except ConflictError:
                    continue
            else:
                raise StaleError(f"ecosystem {slug!r} kept changing while {app.actor!r} was added: try again")
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(ApplicationRow)
                .where(ApplicationRow.id == aid, ApplicationRow.status == "pending")
                .values(status="approved" if decision == "approve" else "refused", decided_by=author, decided_at=_now())
            ).rowcount
        if moved != 1:
            raise StaleError(f"application {aid} was decided meanwhile")
        if decision == "approve":
            self.grant(app.username, slug, "member", app.actor)
        return self.application(slug, aid)

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
        if not (quantity > 0 and math.isfinite(quantity)):
            raise StoreError(f"the quantity must be a positive (finite) number, got {quantity!r}")
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
        from sqlalchemy import insert, update

        from rainforest.store._schema import CommentRow, ProposalRow

        current = self.proposal(slug, pid)
        origin = expected or current.status
        if not isinstance(origin, str) or status not in TRANSITIONS.get(origin, ()):
            allowed = ", ".join(TRANSITIONS.get(origin, ()) if isinstance(origin, str) else ()) or "nothing"
            raise StoreError(f"proposal {pid} is {origin}: it can move to {allowed}, not to {status!r}")
        if party is not None and party not in (current.source, current.target):
            raise StoreError(f"{party!r} is not a party to proposal {pid}")
        now = _now()
        with self.engine.begin() as conn:
            # the row is locked from here on: two parties agreeing at once see each other
            locked = conn.execute(
                update(ProposalRow).where(ProposalRow.id == pid, ProposalRow.status == origin).values(updated_at=now)
            ).rowcount
            if locked != 1:
                raise StaleError(f"proposal {pid} is no longer {origin}: reload it and try again")
            if status == "active":
                who = party if party is not None else "managers"
                conn.execute(insert(CommentRow).values(proposal_id=pid, author=author, at=now, text=AGREED + who))
                agreed = set(self._proposal(conn, slug, pid).agreed_by)
                if who != "managers" and not {current.source, current.target} <= agreed:
                    return self._proposal(conn, slug, pid)  # waiting for the other party
            conn.execute(update(ProposalRow).where(ProposalRow.id == pid).values(status=status))
            text = f"status: {status}" + (f" ({note})" if note else "")
            conn.execute(insert(CommentRow).values(proposal_id=pid, author=author, at=now, text=text))
        return self.proposal(slug, pid)

    def comment(self, slug: str, pid: int, text: str, *, author: str) -> Proposal:
        from sqlalchemy import insert

        from rainforest.store._schema import CommentRow

        if not text.strip():
            raise StoreError("an empty comment says nothing")
        if text.strip().startswith(AGREED.strip()):
            raise StoreError(f"a comment cannot start with {AGREED.strip()!r}: agree by moving the proposal to active")
        self.proposal(slug, pid)  # exists in this ecosystem
        with self.engine.begin() as conn:
            conn.execute(insert(CommentRow).values(proposal_id=pid, author=author, at=_now(), text=text.strip()))
        return self.proposal(slug, pid)

    # -- long work --------------------------------------------------------------------------
    def submit(
        self, slug: str, kind: str, params: dict[str, Any] | None = None, *, author: str, version: int | None = None
    ) -> Job:
        """Queue long work on ``version`` (the latest by default); a worker runs it."""
        from sqlalchemy import insert

        from rainforest.store._schema import JobRow

        if kind not in JOB_KINDS:
            raise StoreError(f"unknown kind of work {kind!r}; expected one of: {', '.join(JOB_KINDS)}")
        with self.engine.begin() as conn:
            row = self._row(conn, slug)
            number = row.head if version is None else version
            if not 1 <= number <= row.head:
                raise StoreError(f"ecosystem {slug!r} has no version {number}; versions run from 1 to {row.head}")
            key = conn.execute(
                insert(JobRow).values(
                    ecosystem_id=row.id,
                    version=number,
                    kind=kind,
                    params=json.dumps(params or {}, sort_keys=True),
                    status="queued",
                    progress=0.0,
                    message="waiting for a worker",
                    created_by=author,
                    created_at=_now(),
                    summary="{}",
                )
            ).inserted_primary_key
        assert key is not None
        return self.job(slug, int(key[0]))

    def _job_query(self) -> Any:
        from sqlalchemy import select

        from rainforest.store._schema import EcosystemRow, JobRow

        t = JobRow.__table__
        return select(
            t.c.id,
            EcosystemRow.slug,
            t.c.version,
            t.c.kind,
            t.c.params,
            t.c.status,
            t.c.progress,
            t.c.message,
            t.c.created_by,
            t.c.created_at,
            t.c.started_at,
            t.c.finished_at,
            t.c.summary,
            t.c.artifact.is_not(None).label("has_artifact"),
        ).join(EcosystemRow, EcosystemRow.id == t.c.ecosystem_id)

    @staticmethod
    def _job(r: Any) -> Job:
        return Job(
            int(r.id),
            r.slug,
            int(r.version),
            r.kind,
            json.loads(r.params),
            r.status,
            float(r.progress),
            r.message,
            r.created_by,
            r.created_at,
            r.started_at,
            r.finished_at,
            json.loads(r.summary),
            bool(r.has_artifact),
        )

    def job(self, slug: str, jid: int) -> Job:
        """One job of ``slug``."""
        from rainforest.store._schema import EcosystemRow, JobRow

        with self.engine.connect() as conn:
            r = conn.execute(self._job_query().where(JobRow.id == jid, EcosystemRow.slug == slug)).first()
        if r is None:
            raise StoreError(f"ecosystem {slug!r} has no job {jid}")
        return self._job(r)

    def jobs(self, slug: str | None = None, *, status: str | None = None) -> list[Job]:
        """The jobs of ``slug`` (of every ecosystem by default), newest first."""
        from rainforest.store._schema import EcosystemRow, JobRow

        query = self._job_query().order_by(JobRow.id.desc())
        if slug is not None:
            query = query.where(EcosystemRow.slug == slug)
        if status is not None:
            query = query.where(JobRow.status == status)
        with self.engine.connect() as conn:
            return [self._job(r) for r in conn.execute(query).all()]

    def latest(self, slug: str, kind: str, version: int | None = None) -> Job | None:
        """The newest finished job of ``kind`` on ``version`` (any version by default)."""
        from rainforest.store._schema import EcosystemRow, JobRow

        query = self._job_query().where(EcosystemRow.slug == slug, JobRow.kind == kind, JobRow.status == "done")
        if version is not None:
            query = query.where(JobRow.version == version)
        with self.engine.connect() as conn:
            r = conn.execute(query.order_by(JobRow.id.desc()).limit(1)).first()
        return self._job(r) if r is not None else None

    def claim(self, jid: int) -> bool:
        """Mark a queued job running; False when another worker took it first."""
        from sqlalchemy import update

        from rainforest.store._schema import JobRow

        with self.engine.begin() as conn:
            moved = conn.execute(
                update(JobRow)
                .where(JobRow.id == jid, JobRow.status == "queued")
                .values(status="running", started_at=_now(), message="started")
            ).rowcount
        return bool(moved == 1)

    def report_progress(self, jid: int, progress: float, message: str) -> None:
        """Record how far a running job is (0 to 1) and what it does now."""
        from sqlalchemy import update

        from rainforest.store._schema import JobRow

        with self.engine.begin() as conn:
            conn.execute(
                update(JobRow)
                .where(JobRow.id == jid, JobRow.status == "running")
                .values(progress=min(max(float(progress), 0.0), 1.0), message=message[:2000])
            )

    def finish(
        self,
        jid: int,
        *,
        summary: dict[str, Any] | None = None,
        result: Any = None,
        artifact: str | None = None,
        error: str | None = None,
    ) -> None:
        """Store a job's outcome: its result (any JSON-ready data) and page, or the error."""
        from sqlalchemy import update

        from rainforest.store._schema import JobRow

        values: dict[str, Any] = {"finished_at": _now()}
        if error is not None:
            values.update(status="failed", message=error[:2000])
        else:
            values.update(
                status="done",
                progress=1.0,
                message="done",
                summary=json.dumps(summary or {}, sort_keys=True, allow_nan=False),
                result=zlib.compress(json.dumps(result, allow_nan=False).encode("utf-8"), 6),
                artifact=zlib.compress(artifact.encode("utf-8"), 6) if artifact is not None else None,
            )
        with self.engine.begin() as conn:
            conn.execute(update(JobRow).where(JobRow.id == jid).values(**values))

    def result(self, slug: str, jid: int) -> Any:
        """The stored result of a finished job (None before it finished)."""
        return self._blob(slug, jid, "result", lambda b: json.loads(zlib.decompress(b)))

    def artifact(self, slug: str, jid: int) -> str | None:
        """The stored page of a finished job, when it made one."""
        out: str | None = self._blob(slug, jid, "artifact", lambda b: zlib.decompress(b).decode("utf-8"))
        return out

    def _blob(self, slug: str, jid: int, column: str, decode: Any) -> Any:
        from sqlalchemy import select

        from rainforest.store._schema import EcosystemRow, JobRow

        with self.engine.connect() as conn:
            blob = conn.execute(
                select(getattr(JobRow, column))
                .join(EcosystemRow, EcosystemRow.id == JobRow.ecosystem_id)
                .where(JobRow.id == jid, EcosystemRow.slug == slug)
            ).first()
        if blob is None:
            raise StoreError(f"ecosystem {slug!r} has no job {jid}")
        return decode(blob[0]) if blob[0] is not None else None

    def interrupted(self) -> int:
        """Mark jobs left running or queued by a stopped server as failed; how many."""
        from sqlalchemy import update

        from rainforest.store._schema import JobRow

        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    update(JobRow)
                    .where(JobRow.status.in_(("queued", "running")))
                    .values(
                        status="failed",
                        finished_at=_now(),
                        message="the server stopped before this work finished: start it again",
                    )
                ).rowcount
            )


def _token_hash(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# a valid Argon2id hash of a random string: unknown users cost the same time as known ones
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObG4Zy4P6NkfQs"
