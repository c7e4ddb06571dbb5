"""The queue of long work (analyses, exchange plan, risk, simulation) on one version of an
ecosystem: queued -> running -> done | failed, with progress, result and page.

A repository over the store's engine (the table ``jobs``); :class:`rainforest.web.jobs.Worker`
runs what is queued here."""

from __future__ import annotations

import datetime as _dt
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from rainforest.store import Store, StoreError
from rainforest.store.tables import EcosystemRow, JobRow
from rainforest.web.records._base import ecosystem_row, now

__all__ = ["JOB_KINDS", "JOB_STATES", "Job", "JobQueue"]

#: The kinds of long work a worker runs, and the states a job goes through.
JOB_KINDS = ("analyses", "plan", "risk", "simulate")
JOB_STATES = ("queued", "running", "done", "failed")


@dataclass(frozen=True)
class Job:
    """Long work on one version of an ecosystem (see :meth:`JobQueue.submit`)."""

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


def _job_query() -> Any:
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


class JobQueue:
    """The jobs of the ecosystems of ``store``, their progress and their outcomes."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def submit(
        self, slug: str, kind: str, params: dict[str, Any] | None = None, *, author: str, version: int | None = None
    ) -> Job:
        """Queue long work on ``version`` (the latest by default); a worker runs it."""
        if kind not in JOB_KINDS:
            raise StoreError(f"unknown kind of work {kind!r}; expected one of: {', '.join(JOB_KINDS)}")
        with self.store.engine.begin() as conn:
            row = ecosystem_row(conn, slug)
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
                    created_at=now(),
                    summary="{}",
                )
            ).inserted_primary_key
        assert key is not None
        return self.job(slug, int(key[0]))

    def job(self, slug: str, jid: int) -> Job:
        """One job of ``slug``."""
        with self.store.engine.connect() as conn:
            r = conn.execute(_job_query().where(JobRow.id == jid, EcosystemRow.slug == slug)).first()
        if r is None:
            raise StoreError(f"ecosystem {slug!r} has no job {jid}")
        return _job(r)

    def jobs(self, slug: str | None = None, *, status: str | None = None) -> list[Job]:
        """The jobs of ``slug`` (of every ecosystem by default), newest first."""
        query = _job_query().order_by(JobRow.id.desc())
        if slug is not None:
            query = query.where(EcosystemRow.slug == slug)
        if status is not None:
            query = query.where(JobRow.status == status)
        with self.store.engine.connect() as conn:
            return [_job(r) for r in conn.execute(query).all()]

    def latest(self, slug: str, kind: str, version: int | None = None) -> Job | None:
        """The newest finished job of ``kind`` on ``version`` (any version by default)."""
        query = _job_query().where(EcosystemRow.slug == slug, JobRow.kind == kind, JobRow.status == "done")
        if version is not None:
            query = query.where(JobRow.version == version)
        with self.store.engine.connect() as conn:
            r = conn.execute(query.order_by(JobRow.id.desc()).limit(1)).first()
        return _job(r) if r is not None else None

    def claim(self, jid: int) -> bool:
        """Mark a queued job running; False when another worker took it first."""
        with self.store.engine.begin() as conn:
            moved = conn.execute(
                update(JobRow)
                .where(JobRow.id == jid, JobRow.status == "queued")
                .values(status="running", started_at=now(), message="started")
            ).rowcount
        return bool(moved == 1)

    def report_progress(self, jid: int, progress: float, message: str) -> None:
        """Record how far a running job is (0 to 1) and what it does now."""
        with self.store.engine.begin() as conn:
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
        values: dict[str, Any] = {"finished_at": now()}
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
        with self.store.engine.begin() as conn:
            conn.execute(update(JobRow).where(JobRow.id == jid).values(**values))

    def result(self, slug: str, jid: int) -> Any:
        """The stored result of a finished job (None before it finished)."""
        return self._blob(slug, jid, "result", lambda b: json.loads(zlib.decompress(b)))

    def artifact(self, slug: str, jid: int) -> str | None:
        """The stored page of a finished job, when it made one."""
        out: str | None = self._blob(slug, jid, "artifact", lambda b: zlib.decompress(b).decode("utf-8"))
        return out

    def _blob(self, slug: str, jid: int, column: str, decode: Callable[[bytes], Any]) -> Any:
        with self.store.engine.connect() as conn:
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
        with self.store.engine.begin() as conn:
            return int(
                conn.execute(
                    update(JobRow)
                    .where(JobRow.status.in_(("queued", "running")))
                    .values(
                        status="failed",
                        finished_at=now(),
                        message="the server stopped before this work finished: start it again",
                    )
                ).rowcount
            )
