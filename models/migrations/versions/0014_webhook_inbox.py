"""webhook inbox: updates kept from Telegram's POST until handled

Revision ID: 0014_webhook_inbox
Revises: 0013_sealed_pool
Create Date: 2026-11-30 17:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0014_webhook_inbox"
down_revision: str | None = "0013_sealed_pool"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("body", sa.JSON(), nullable=True),
        sa.Column("received_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("taken_at", models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_inbox")),
    )
    op.create_index(op.f("ix_inbox_taken_at"), "inbox", ["taken_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_inbox_taken_at"), table_name="inbox")
    op.drop_table("inbox")
