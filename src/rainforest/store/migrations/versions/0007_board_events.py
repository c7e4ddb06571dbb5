"""The matchmaking board's events: each entry of a proposal's history says what it is
(``kind``: comment, status, agreed, consent, recorded) and for which party (``party``), and a
proposal remembers the version its exchange was recorded in as a flow (``recorded_version``).

Revision ID: board_0001
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "board_0001"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.add_column(sa.Column("kind", sa.String(20), nullable=False, server_default="comment"))
        batch.add_column(sa.Column("party", sa.String(200), nullable=True))
    with op.batch_alter_table("proposals") as batch:
        batch.add_column(sa.Column("recorded_version", sa.Integer(), nullable=True))
    # the history written before: status changes and agreements were told apart by their text
    comments = sa.table(
        "comments", sa.column("text", sa.Text()), sa.column("kind", sa.String()), sa.column("party", sa.String())
    )
    op.execute(comments.update().where(comments.c.text.like("status: %")).values(kind="status"))
    op.execute(
        comments.update()
        .where(comments.c.text.like("agreed: %"))
        .values(kind="agreed", party=sa.func.substr(comments.c.text, len("agreed: ") + 1))
    )


def downgrade() -> None:
    with op.batch_alter_table("proposals") as batch:
        batch.drop_column("recorded_version")
    with op.batch_alter_table("comments") as batch:
        batch.drop_column("party")
        batch.drop_column("kind")
