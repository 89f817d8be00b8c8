"""attention: quiet hours and digest per member, muted group announcements

Revision ID: 0007_attention
Revises: 0006_solidarity
Create Date: 2026-11-30 12:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_attention"
down_revision: str | None = "0006_solidarity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(
            sa.Column("quiet_hours", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch.add_column(
            sa.Column("quiet_start", sa.SmallInteger(), server_default="22", nullable=False)
        )
        batch.add_column(
            sa.Column("quiet_end", sa.SmallInteger(), server_default="7", nullable=False)
        )
        batch.add_column(sa.Column("digest_hour", sa.SmallInteger(), nullable=True))
    with op.batch_alter_table("group_memberships") as batch:
        batch.add_column(
            sa.Column("muted", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("group_memberships") as batch:
        batch.drop_column("muted")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("digest_hour")
        batch.drop_column("quiet_end")
        batch.drop_column("quiet_start")
        batch.drop_column("quiet_hours")
