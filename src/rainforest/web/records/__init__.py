"""The workbench's own records, each a repository over a :class:`rainforest.store.Store`'s
engine and tables (the store's migrations create them): accounts with their sessions and
roles, firms' applications, proposed exchanges with their state machine, and the queue of
long work. The store itself keeps the versioned ecosystems only.

>>> import rainforest as rf
>>> from rainforest.store import Store
>>> store = Store("sqlite://")
>>> _ = store.create("k", rf.datasets.kalundborg(), author="demo")
>>> records = Records(store)
>>> records.accounts.create_user("ada", "a long password", admin=True).admin
True
>>> records.jobs.submit("k", "risk", author="ada").status
'queued'
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rainforest.store import Store
from rainforest.web.records.accounts import ROLES, Accounts, Membership, User
from rainforest.web.records.applications import Application, Applications
from rainforest.web.records.jobs import JOB_KINDS, JOB_STATES, Job, JobQueue
from rainforest.web.records.proposals import AGREED, TRANSITIONS, Proposal, Proposals

__all__ = [
    "AGREED",
    "JOB_KINDS",
    "JOB_STATES",
    "ROLES",
    "TRANSITIONS",
    "Accounts",
    "Application",
    "Applications",
    "Job",
    "JobQueue",
    "Membership",
    "Proposal",
    "Proposals",
    "Records",
    "User",
]


@dataclass(frozen=True)
class Records:
    """Every repository of the workbench over one store."""

    store: Store
    accounts: Accounts = field(init=False)
    applications: Applications = field(init=False)
    proposals: Proposals = field(init=False)
    jobs: JobQueue = field(init=False)

    def __post_init__(self) -> None:
        accounts = Accounts(self.store)
        object.__setattr__(self, "accounts", accounts)
        object.__setattr__(self, "applications", Applications(self.store, accounts))
        object.__setattr__(self, "proposals", Proposals(self.store))
        object.__setattr__(self, "jobs", JobQueue(self.store))
