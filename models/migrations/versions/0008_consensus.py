"""consensus: proposals and their rounds; consent polls that ask a disagreement for its reason

Revision ID: 0008_consensus
Revises: 0007_attention
Create Date: 2026-11-30 12:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0008_consensus"
down_revision: str | None = "0007_attention"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("polls") as batch:
        batch.add_column(
            sa.Column(
                "reason_on_disagree", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
    op.create_table(
        "consensus_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("created_by_member_id", sa.Integer(), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("quorum", sa.Integer(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("decided_at", models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_member_id"], ["members.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["group_id"], ["working_groups.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_consensus_proposals_created_by_member_id",
        "consensus_proposals",
        ["created_by_member_id"],
    )
    op.create_index("ix_consensus_proposals_group_id", "consensus_proposals", ["group_id"])
    op.create_index("ix_consensus_proposals_status", "consensus_proposals", ["status"])
    op.create_table(
        "consensus_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("versions", sa.JSON(), nullable=False),
        sa.Column("attachment", sa.String(length=255), nullable=True),
        sa.Column("attachment_kind", sa.String(length=16), nullable=True),
        sa.Column("closes_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("closed_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["poll_id"], ["polls.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["proposal_id"], ["consensus_proposals.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("poll_id"),
        sa.UniqueConstraint("proposal_id", "number"),
    )
    op.create_index("ix_consensus_rounds_proposal_id", "consensus_rounds", ["proposal_id"])
    op.create_table(
        "priority_consultations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("created_by_member_id", sa.Integer(), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("closes_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("closed_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_member_id"], ["members.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["group_id"], ["working_groups.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_priority_consultations_created_by_member_id",
        "priority_consultations",
        ["created_by_member_id"],
    )
    op.create_index("ix_priority_consultations_group_id", "priority_consultations", ["group_id"])
    op.create_table(
        "priority_participations",
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"], ["priority_consultations.id"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("consultation_id", "member_id"),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_priority_participations_member_id", "priority_participations", ["member_id"]
    )
    op.create_table(
        "priority_ballots",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("p1", sa.SmallInteger(), nullable=True),
        sa.Column("p2", sa.SmallInteger(), nullable=True),
        sa.Column("p3", sa.SmallInteger(), nullable=True),
        sa.Column("p4", sa.SmallInteger(), nullable=True),
        sa.Column("p5", sa.SmallInteger(), nullable=True),
        sa.Column("region", sa.String(length=3), nullable=True),
        sa.Column("gender", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["consultation_id"], ["priority_consultations.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_priority_ballots_tally",
        "priority_ballots",
        ["consultation_id", "region", "gender", "p1", "p2", "p3", "p4", "p5"],
    )
    for name in ("p2", "p3", "p4", "p5"):
        op.create_index(
            f"ix_priority_ballots_{name}",
            "priority_ballots",
            ["consultation_id", "region", "gender", name],
        )
    op.create_table(
        "questionnaires",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("created_by_member_id", sa.Integer(), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("closes_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("closed_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_member_id"], ["members.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["group_id"], ["working_groups.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_questionnaires_created_by_member_id", "questionnaires", ["created_by_member_id"]
    )
    op.create_index("ix_questionnaires_group_id", "questionnaires", ["group_id"])
    op.create_table(
        "questionnaire_progress",
        sa.Column("questionnaire_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("sent", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["questionnaire_id"], ["questionnaires.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("questionnaire_id", "member_id"),
    )
    op.create_index("ix_questionnaire_progress_member_id", "questionnaire_progress", ["member_id"])
    op.create_table(
        "questionnaire_answers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("questionnaire_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.SmallInteger(), nullable=False),
        sa.Column("choices", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("region", sa.String(length=3), nullable=True),
        sa.Column("gender", sa.String(length=16), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["questionnaire_id"], ["questionnaires.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_questionnaire_answers_member_id", "questionnaire_answers", ["member_id"])
    op.create_index(
        "ix_questionnaire_answers_tally",
        "questionnaire_answers",
        ["questionnaire_id", "question", "choices", "region", "gender"],
    )


def downgrade() -> None:
    op.drop_index("ix_questionnaire_answers_tally", table_name="questionnaire_answers")
    op.drop_index("ix_questionnaire_answers_member_id", table_name="questionnaire_answers")
    op.drop_table("questionnaire_answers")
    op.drop_index("ix_questionnaire_progress_member_id", table_name="questionnaire_progress")
    op.drop_table("questionnaire_progress")
    op.drop_index("ix_questionnaires_group_id", table_name="questionnaires")
    op.drop_index("ix_questionnaires_created_by_member_id", table_name="questionnaires")
    op.drop_table("questionnaires")
    for name in ("p2", "p3", "p4", "p5"):
        op.drop_index(f"ix_priority_ballots_{name}", table_name="priority_ballots")
    op.drop_index("ix_priority_ballots_tally", table_name="priority_ballots")
    op.drop_table("priority_ballots")
    op.drop_index("ix_priority_participations_member_id", table_name="priority_participations")
    op.drop_table("priority_participations")
    op.drop_index("ix_priority_consultations_group_id", table_name="priority_consultations")
    op.drop_index(
        "ix_priority_consultations_created_by_member_id", table_name="priority_consultations"
    )
    op.drop_table("priority_consultations")
    op.drop_index("ix_consensus_rounds_proposal_id", table_name="consensus_rounds")
    op.drop_table("consensus_rounds")
    op.drop_index("ix_consensus_proposals_status", table_name="consensus_proposals")
    op.drop_index("ix_consensus_proposals_group_id", table_name="consensus_proposals")
    op.drop_index("ix_consensus_proposals_created_by_member_id", table_name="consensus_proposals")
    op.drop_table("consensus_proposals")
    with op.batch_alter_table("polls") as batch:
        batch.drop_column("reason_on_disagree")
