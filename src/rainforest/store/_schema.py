"""The store's tables (SQLAlchemy 2 declarative). Migrations live in ``migrations/``;
change a table here only together with a new migration."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class EcosystemRow(Base):
    """One ecosystem of the installation; ``head`` is its latest version number."""

    __tablename__ = "ecosystems"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    head: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class VersionRow(Base):
    """One saved state of an ecosystem: the whole ``rainforest/1`` document, compressed."""

    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("ecosystem_id", "number", name="uq_versions_ecosystem_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ecosystem_id: Mapped[int] = mapped_column(
        ForeignKey("ecosystems.id", ondelete="CASCADE"), nullable=False, index=True
    )
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    author: Mapped[str] = mapped_column(String(200), nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False, default="")
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    actors: Mapped[int] = mapped_column(Integer, nullable=False)
    flows: Mapped[int] = mapped_column(Integer, nullable=False)
    changes: Mapped[str] = mapped_column(
        Text, nullable=False, default="{}"
    )  # JSON: what changed against the previous version
    document: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)  # zlib-compressed canonical JSON


class UserRow(Base):
    """An account; ``admin`` accounts see and manage every ecosystem."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(300), nullable=False)
    admin: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # a one-time password (the first start's administrator): replaced at the first sign-in
    must_change_password: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class SessionRow(Base):
    """A signed-in browser: the cookie holds a random token, the store only its SHA-256, so
    signing out, a new password or a removed account ends the session on the server."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class MembershipRow(Base):
    """A user's role in one ecosystem: manager, member (of one actor) or observer."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "ecosystem_id", name="uq_memberships_user_ecosystem"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    ecosystem_id: Mapped[int] = mapped_column(ForeignKey("ecosystems.id", ondelete="CASCADE"), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    actor: Mapped[str | None] = mapped_column(String(200), nullable=True)


class ProposalRow(Base):
    """A proposed exchange between two actors, moving proposed -> negotiating -> active -> ended."""

    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ecosystem_id: Mapped[int] = mapped_column(
        ForeignKey("ecosystems.id", ondelete="CASCADE"), nullable=False, index=True
    )
    source: Mapped[str] = mapped_column(String(200), nullable=False)
    target: Mapped[str] = mapped_column(String(200), nullable=False)
    resource: Mapped[str] = mapped_column(String(200), nullable=False)
    quantity: Mapped[float] = mapped_column(Float, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    created_by: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    #: the version its exchange was recorded in as a flow (0 while being recorded; migration board_0001)
    recorded_version: Mapped[int | None] = mapped_column(Integer, nullable=True)


class CommentRow(Base):
    """A comment on a proposal, and every status change (kept as the proposal's history)."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), nullable=False, index=True)
    author: Mapped[str] = mapped_column(String(100), nullable=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    #: comment, status, agreed, consent or recorded; and the party an agreement or consent is for (board_0001)
    kind: Mapped[str] = mapped_column(String(20), nullable=False, default="comment", server_default="comment")
    party: Mapped[str | None] = mapped_column(String(200), nullable=True)


class JobRow(Base):
    """Long work on one version of an ecosystem, run by a worker outside the request:
    ``status`` queued -> running -> done | failed, ``progress`` from 0 to 1; ``summary`` is
    small JSON shown in lists, ``result`` the whole result (zlib-compressed JSON) and
    ``artifact`` an optional page (zlib-compressed HTML: the report, the simulation plots)."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ecosystem_id: Mapped[int] = mapped_column(
        ForeignKey("ecosystems.id", ondelete="CASCADE"), nullable=False, index=True
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    params: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    progress: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    message: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_by: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    result: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    artifact: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class ApplicationRow(Base):
    """A firm that registered itself for an ecosystem: pending until a manager approves it
    (as the member of an existing actor, or of a new one) or refuses it."""

    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ecosystem_id: Mapped[int] = mapped_column(
        ForeignKey("ecosystems.id", ondelete="CASCADE"), nullable=False, index=True
    )
    username: Mapped[str] = mapped_column(String(100), nullable=False)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    decided_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
