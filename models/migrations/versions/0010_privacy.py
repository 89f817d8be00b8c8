"""privacy: pending secret ballots, voter and removal tokens

Revision ID: 0010_privacy
Revises: 0009_audit
Create Date: 2026-11-30 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_privacy"
down_revision: str | None = "0009_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "poll_pending_ballots",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("choices", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=3), nullable=True),
        sa.Column("gender", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("reason_voice_file_id", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["poll_id"], ["polls.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_poll_pending_ballots_poll_id", "poll_pending_ballots", ["poll_id"], unique=False
    )
    op.create_table(
        "poll_voter_tokens",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["poll_id"], ["polls.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("poll_id", "token"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "poll_comment_counts",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["poll_id"], ["polls.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("poll_id", "token"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "group_removal_tokens",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["working_groups.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("group_id", "token"),
    )


def downgrade() -> None:
    op.drop_table("group_removal_tokens")
    op.drop_table("poll_comment_counts")
    op.drop_table("poll_voter_tokens")
    op.drop_index("ix_poll_pending_ballots_poll_id", table_name="poll_pending_ballots")
    op.drop_table("poll_pending_ballots")
