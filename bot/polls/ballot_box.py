"""The secret ballot box: ballots wait in a pool and enter the box in shuffled batches.

A vote's transaction writes the participation and a pending ballot (so a crash loses no vote).
Once POOL_BATCH ballots of a poll wait, another transaction moves them into `poll_ballots`
in random order under new random keys, and the old row versions are scrubbed from the files
(SQLite: secure_delete and a truncating WAL checkpoint; PostgreSQL: VACUUM FULL). The box
therefore only ever gains groups of at least POOL_BATCH ballots, and the live results of a
secret poll, counted from the box, move in steps of at least POOL_BATCH votes. At the close
the rest of the pool goes in, whatever its size, and the whole box is re-sealed.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.poll import AnonymousBallot, PendingBallot, Poll, new_token

if TYPE_CHECKING:
    from bot.core.app import App

POOL_BATCH = 5
POOL_TABLES = ["poll_pending_ballots"]
BOX_TABLES = [
    "poll_pending_ballots",
    "poll_ballots",
    "poll_anonymous_comments",
    "poll_comment_counts",
]
_shuffle = random.SystemRandom().shuffle
_COLUMNS = ("choices", "region", "gender", "reason", "reason_voice_file_id", "reason_versions")


async def waiting(session: AsyncSession, poll_id: int) -> int:
    """How many ballots of the poll wait in the pool."""
    found = await session.scalar(
        select(func.count()).select_from(PendingBallot).where(PendingBallot.poll_id == poll_id)
    )
    return int(found or 0)


async def empty_pool(session: AsyncSession, poll_id: int, *, everything: bool = False) -> int:
    """Move the poll's waiting ballots into the box, shuffled, under new keys, when at least
    POOL_BATCH wait (or all of them with `everything`); returns how many moved."""
    columns = [getattr(PendingBallot, name) for name in _COLUMNS]
    rows = [
        dict(row._mapping)
        for row in await session.execute(
            select(*columns).where(PendingBallot.poll_id == poll_id).with_for_update()
        )
    ]
    if not rows or (len(rows) < POOL_BATCH and not everything):
        return 0
    await session.execute(delete(PendingBallot).where(PendingBallot.poll_id == poll_id))
    _shuffle(rows)
    for row in rows:
        row.update(id=new_token(), poll_id=poll_id)
    await session.execute(insert(AnonymousBallot), rows)
    return len(rows)


async def settle(app: App, poll_id: int) -> int:
    """After a vote's commit: empty the pool in a transaction of its own if a batch is full;
    once that commits, scrub the pool's old row versions in the background. Returns how many
    ballots moved. On SQLite the log is checkpointed after every secret vote, so it does not
    keep a vote's commit (which holds the participation and the pending ballot together)."""
    async with app.sessionmaker() as session, session.begin():
        poll = await session.get(Poll, poll_id, with_for_update=True)
        if poll is None or not poll.anonymous or not poll.is_open:
            return 0
        moved = await empty_pool(session, poll_id)
        if moved or app.engine.dialect.name == "sqlite":
            app.scrub_after_commit(session, POOL_TABLES)
    return moved


def scrub_box_after_commit(app: App, session: AsyncSession) -> None:
    """Once the close commits, scrub the old versions of the pool, the box and the comments."""

    app.scrub_after_commit(session, BOX_TABLES)
