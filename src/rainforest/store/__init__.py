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
import os
import re
import threading
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
from rainforest.store._diff import RowChange, row_changes
from rainforest.store._encoding import _decode, _encode
from rainforest.store._schema import EcosystemRow, VersionRow

__all__ = [
    "ConflictError",
    "EcosystemInfo",
    "RowChange",
    "StaleError",
    "Store",
    "StoreError",
    "Version",
    "default_url",
    "row_changes",
]

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

    def revert(self, slug: str, number: int, *, author: str, expected: int | None = None, message: str = "") -> Version:
        """Save version ``number`` again as the next version (nothing of the history is
        lost: the versions after it stay, and the revert can be reverted). The message is
        ``revert to version N`` unless given; ``expected`` as in :meth:`commit`.

        >>> import rainforest as rf
        >>> store = Store("sqlite://")
        >>> eco = rf.datasets.kalundborg()
        >>> _ = store.create("k", eco, author="demo")
        >>> _ = store.commit("k", eco.remove_actor("fish_farm"), author="demo", message="fish farm closed")
        >>> v = store.revert("k", 1, author="demo")
        >>> v.number, v.message, store.load("k") == eco
        (3, 'revert to version 1', True)
        """
        head = self.head(slug)
        if not 1 <= number <= head:
            raise StoreError(f"ecosystem {slug!r} has no version {number}; versions run from 1 to {head}")
        eco = self.load(slug, number)
        return self.commit(
            slug, eco, author=author, message=message or f"revert to version {number}", expected=expected
        )

    def diff(self, slug: str, a: int, b: int) -> list[RowChange]:
        """Row by row, what changed from version ``a`` to version ``b`` (see
        :func:`row_changes`)."""
        return row_changes(self.load(slug, a), self.load(slug, b))

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
