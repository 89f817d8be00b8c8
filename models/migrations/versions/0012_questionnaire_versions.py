"""questionnaire versions: the title and questions in other languages

Revision ID: 0012_questionnaire_versions
Revises: 0011_consensus_rounds
Create Date: 2026-11-30 17:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_questionnaire_versions"
down_revision: str | None = "0011_consensus_rounds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("questionnaires") as batch:
        batch.add_column(sa.Column("versions", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("questionnaires") as batch:
        batch.drop_column("versions")
