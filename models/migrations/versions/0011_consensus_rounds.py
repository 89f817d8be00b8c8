"""consensus rounds: reasons in other languages, named and translated priorities, reminders

Revision ID: 0011_consensus_rounds
Revises: 0010_privacy
Create Date: 2026-11-30 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0011_consensus_rounds"
down_revision: str | None = "0010_privacy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASON_TABLES = ("poll_named_votes", "poll_ballots", "poll_pending_ballots")


def upgrade() -> None:
    for table in REASON_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("reason_versions", sa.JSON(), nullable=True))
    with op.batch_alter_table("priority_consultations") as batch:
        batch.add_column(sa.Column("versions", sa.JSON(), nullable=True))
        batch.add_column(
            sa.Column("anonymous", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch.add_column(sa.Column("remind_at", models.base.UTCDateTime(), nullable=True))
    with op.batch_alter_table("priority_ballots") as batch:
        batch.add_column(sa.Column("member_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_priority_ballots_member_id_members",
            "members",
            ["member_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index("ix_priority_ballots_member_id", ["member_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("priority_ballots") as batch:
        batch.drop_index("ix_priority_ballots_member_id")
        batch.drop_constraint("fk_priority_ballots_member_id_members", type_="foreignkey")
        batch.drop_column("member_id")
    with op.batch_alter_table("priority_consultations") as batch:
        batch.drop_column("remind_at")
        batch.drop_column("anonymous")
        batch.drop_column("versions")
    for table in REASON_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("reason_versions")
