"""The inbox: each user's last visit (what is new since), the e-mail address notices go
to, and how far they were mailed (a failed sending keeps its mark and its error, so it is
tried again and shown, never lost).

Revision ID: inbox_0001
Revises: board_0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "inbox_0001"
down_revision = "board_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox_users",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("notify", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("mailed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mail_error", sa.Text(), nullable=True),
        sa.Column("mail_error_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("inbox_users")
