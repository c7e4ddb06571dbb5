"""What the routes share: the store with the workbench's records, the sign-in limiter, the
long-work worker and the caches. One :class:`Workbench` per application, built by
:func:`rainforest.web.create_app` and handed to the routes by :func:`rainforest.web.deps.workbench`."""

from __future__ import annotations

import threading
from typing import Any

from rainforest.store import Store
from rainforest.web.jobs import Worker
from rainforest.web.records import Records
from rainforest.web.records.accounts import User
from rainforest.web.security import Limiter
from rainforest.web.visibility import Access

__all__ = ["Workbench"]


class Workbench:
    """The state of one workbench application.

    Parameters
    ----------
    store:
        The versioned ecosystems; the records (accounts, applications, proposals, jobs)
        share its engine.
    secret:
        Signs the session cookies and the registration links.
    executor, workers:
        Where and how many jobs run at once (see :class:`rainforest.web.jobs.Worker`).
    """

    def __init__(self, store: Store, *, secret: str, executor: str = "threads", workers: int = 1) -> None:
        self.store = store
        self.records = Records(store)
        self.secret = secret
        self.limiter = Limiter()
        self.executor, self.workers = executor, workers
        self._running: list[Worker] = []
        self._worker_lock = threading.Lock()
        #: one analyses job per version, however many ask for the report at once
        self.report_lock = threading.Lock()
        #: (slug, content hash) -> the key numbers and network picture computed in a request
        self.key_numbers: dict[tuple[str, str], Any] = {}
        #: job id -> the network picture's JSON ("null" for none; results never change)
        self.figures: dict[int, str] = {}
        #: (slug:content hash, role) -> the actors' directory rows
        self.directories: dict[tuple[str, str], list[dict[str, Any]]] = {}
        #: the SMTP server e-mail notices go through, without its password (``serve --smtp``)
        self.mail_server: str | None = None

    def worker(self) -> Worker:
        """The worker, started at its first use."""
        with self._worker_lock:
            if not self._running:
                self._running.append(Worker(self.store, self.executor, self.workers))
            return self._running[0]

    def close(self, timeout: float | None) -> None:
        """Stop the worker if it started (see :meth:`Worker.close`)."""
        for w in self._running:
            w.close(timeout=timeout)

    def access(self, user: User, slug: str) -> Access | None:
        """What ``user`` may do in ``slug``; None when it has no role there (or no such ecosystem)."""
        known = {e.slug for e in self.store.ecosystems()}
        if user.admin and slug in known:
            return Access(slug, "admin")
        for m in self.records.accounts.memberships(user.username):
            if m.ecosystem == slug:
                return Access(slug, m.role, m.actor)
        return None

    def visible(self, user: User) -> list[dict[str, Any]]:
        """The ecosystems ``user`` has a role in (every one for administrators)."""
        roles = {m.ecosystem: m for m in self.records.accounts.memberships(user.username)}
        out = []
        for e in self.store.ecosystems():
            m = roles.get(e.slug)
            if user.admin:
                role, actor = "admin", None
            elif m is not None:
                role, actor = m.role, m.actor
            else:
                continue
            out.append({"ecosystem": e.slug, "name": e.name, "version": e.head, "role": role, "actor": actor})
        return out
