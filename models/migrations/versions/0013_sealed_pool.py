"""sealed pool: pending secret ballots and comments on open secret polls are sealed

Revision ID: 0013_sealed_pool
Revises: 0012_questionnaire_versions
Create Date: 2026-11-30 17:00:00

Upgrade: the pool's rows become (id, poll_id, sealed). A migration runs without the privacy
key, so it cannot seal the ballots waiting at that moment: it moves them into the box
(`poll_ballots`) instead, shuffled, under new random keys, whatever their number (a poll's
box may gain a group of fewer than 5 ballots, once). Comments already stored on open secret
polls stay where they are; new ones are sealed (`poll_pending_comments`) until the close.

Downgrade: sealed ballots and comments are opened with the key from PRIVACY_KEY, else
DATA_DIR/privacy.key (DATA_DIR from the environment, default `data`): ballots go back into the
plaintext pool, comments into `poll_anonymous_comments`. Without the key, or with another one,
the downgrade stops before changing anything while sealed rows exist (close the secret polls
first, or provide the key): no vote is dropped.
"""

import json
import os
import random
import uuid
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0013_sealed_pool"
down_revision: str | None = "0012_questionnaire_versions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BALLOT_COLUMNS = (
    "choices",
    "region",
    "gender",
    "reason",
    "reason_voice_file_id",
    "reason_versions",  # JSON text as stored (0011_consensus_rounds)
)
_shuffle = random.SystemRandom().shuffle


def _token() -> str:
    return uuid.uuid4().hex


def _plain_pool() -> None:
    op.create_table(
        "poll_pending_ballots",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("choices", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=3), nullable=True),
        sa.Column("gender", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("reason_voice_file_id", sa.String(length=255), nullable=True),
        sa.Column("reason_versions", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["poll_id"], ["polls.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_poll_pending_ballots_poll_id", "poll_pending_ballots", ["poll_id"], unique=False
    )


def _sealed_table(name: str) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["poll_id"], ["polls.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_with_rowid=False,
    )
    op.create_index(f"ix_{name}_poll_id", name, ["poll_id"], unique=False)


def _drop(name: str) -> None:
    op.drop_index(f"ix_{name}_poll_id", table_name=name)
    op.drop_table(name)


def upgrade() -> None:
    conn = op.get_bind()
    columns = ", ".join(BALLOT_COLUMNS)
    waiting: dict[int, list[dict[str, object]]] = {}
    for row in conn.execute(sa.text(f"SELECT poll_id, {columns} FROM poll_pending_ballots")):
        fields = dict(row._mapping)
        waiting.setdefault(int(fields["poll_id"]), []).append(fields)
    box = sa.table(
        "poll_ballots",
        sa.column("id"),
        sa.column("poll_id"),
        *(sa.column(name) for name in BALLOT_COLUMNS),
    )
    for rows in waiting.values():
        _shuffle(rows)
        for fields in rows:
            fields["id"] = _token()
        conn.execute(sa.insert(box), rows)
    _drop("poll_pending_ballots")
    _sealed_table("poll_pending_ballots")
    _sealed_table("poll_pending_comments")


def _privacy_key() -> bytes:
    configured = os.environ.get("PRIVACY_KEY")
    if configured:
        return configured.encode()
    path = Path(os.environ.get("DATA_DIR") or "data") / "privacy.key"
    return path.read_text().strip().encode() if path.exists() else b""


def _open(key: bytes, purpose: bytes, poll_id: int, sealed: bytes) -> dict[str, object]:
    """A value sealed by bot.polls.ballot_box as this revision wrote it (purpose, the poll as
    associated data, JSON inside); SealError (a ValueError) when it does not open."""
    from bot.core.privacy import unseal

    found: dict[str, object] = json.loads(unseal(key, purpose, b"poll:%d" % poll_id, sealed))
    return found


def downgrade() -> None:
    conn = op.get_bind()
    ballots = conn.execute(sa.text("SELECT poll_id, sealed FROM poll_pending_ballots")).all()
    comments = conn.execute(sa.text("SELECT poll_id, sealed FROM poll_pending_comments")).all()
    opened_ballots: list[dict[str, object]] = []
    opened_comments: list[dict[str, object]] = []
    if ballots or comments:
        key = _privacy_key()
        try:
            for poll_id, sealed in ballots:
                fields = _open(key, b"ballot-pool", poll_id, bytes(sealed))
                versions = fields.get("reason_versions")
                fields["reason_versions"] = json.dumps(versions) if versions else None
                opened_ballots.append(
                    {"id": _token(), "poll_id": poll_id}
                    | {name: fields.get(name) for name in BALLOT_COLUMNS}
                )
            for poll_id, sealed in comments:
                fields = _open(key, b"comment-pool", poll_id, bytes(sealed))
                opened_comments.append(
                    {"id": _token(), "poll_id": poll_id}
                    | {name: fields.get(name) for name in ("text", "voice_file_id")}
                )
        except ValueError as error:  # SealError: no key, or not the one they were sealed with
            raise RuntimeError(
                f"{len(ballots)} sealed ballots and {len(comments)} sealed comments wait on open "
                "secret polls and do not open without the privacy key: set PRIVACY_KEY (or "
                "DATA_DIR holding privacy.key) as the bot has it, or close those polls first"
            ) from error
    _drop("poll_pending_comments")
    _drop("poll_pending_ballots")
    _plain_pool()
    if opened_ballots:
        pool = sa.table(
            "poll_pending_ballots",
            sa.column("id"),
            sa.column("poll_id"),
            *(sa.column(name) for name in BALLOT_COLUMNS),
        )
        conn.execute(sa.insert(pool), opened_ballots)
    if opened_comments:
        box = sa.table(
            "poll_anonymous_comments",
            sa.column("id"),
            sa.column("poll_id"),
            sa.column("text"),
            sa.column("voice_file_id"),
        )
        conn.execute(sa.insert(box), opened_comments)
