"""audit trail

Revision ID: 0009_audit
Revises: 0008_consensus
Create Date: 2026-11-30 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0009_audit"
down_revision: str | None = "0008_consensus"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", models.base.UTCDateTime(), nullable=False),
        sa.Column("actor_member_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("subject_member_id", sa.Integer(), nullable=True),
        sa.Column("object_kind", sa.String(length=16), nullable=True),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["actor_member_id"], ["members.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["group_id"], ["working_groups.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["subject_member_id"], ["members.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_entries_at", "audit_entries", ["at"], unique=False)
    op.create_index(
        "ix_audit_entries_actor_member_id", "audit_entries", ["actor_member_id"], unique=False
    )
    op.create_index(
        "ix_audit_entries_subject_member_id", "audit_entries", ["subject_member_id"], unique=False
    )
    op.create_index("ix_audit_entries_group_at", "audit_entries", ["group_id", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_audit_entries_group_at", table_name="audit_entries")
    op.drop_index("ix_audit_entries_subject_member_id", table_name="audit_entries")
    op.drop_index("ix_audit_entries_actor_member_id", table_name="audit_entries")
    op.drop_index("ix_audit_entries_at", table_name="audit_entries")
    op.drop_table("audit_entries")
