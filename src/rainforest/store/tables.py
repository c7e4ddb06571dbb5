"""The store's tables, public for the code that shares the store's engine and migrations
(the workbench's records in :mod:`rainforest.web.records`). Declared in ``_schema`` and
changed only together with a new migration in ``migrations/``."""

from __future__ import annotations

from rainforest.store._schema import (
    ApplicationRow,
    Base,
    CommentRow,
    EcosystemRow,
    JobRow,
    MembershipRow,
    ProposalRow,
    SessionRow,
    UserRow,
    VersionRow,
)

__all__ = [
    "ApplicationRow",
    "Base",
    "CommentRow",
    "EcosystemRow",
    "JobRow",
    "MembershipRow",
    "ProposalRow",
    "SessionRow",
    "UserRow",
    "VersionRow",
]
