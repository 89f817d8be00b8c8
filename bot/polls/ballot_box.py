"""The secret ballot box: ballots wait in a pool and enter the box in shuffled batches.

A vote's transaction writes the participation and a pending ballot (so a crash loses no vote).
The pending ballot is sealed (AES-GCM under a key derived from the privacy key, bound to the
poll, padded to one size): the row that shares the vote's transaction id holds nothing
readable without the key. Comments on a secret poll are sealed the same way and enter the
box (`poll_anonymous_comments`) at the close. Once POOL_BATCH ballots of a poll wait,
another transaction opens them and moves them into `poll_ballots` in random order under new
random keys, and the old row versions are scrubbed from the files (SQLite: secure_delete and
a truncating WAL checkpoint; PostgreSQL: VACUUM FULL). The box therefore only ever gains
groups of at least POOL_BATCH ballots, and the live results of a secret poll, counted from
the box, move in steps of at least POOL_BATCH votes. At the close the rest of the pool and
the sealed comments go in, whatever their number, and the whole box is re-sealed.
"""

from __future__ import annotations

import json
import random
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.privacy import seal, unseal
from models.poll import (
    AnonymousBallot,
    AnonymousComment,
    PendingBallot,
    PendingComment,
    Poll,
    new_token,
)

if TYPE_CHECKING:
    from bot.core.app import App

POOL_BATCH = 5
POOL_TABLES = ["poll_pending_ballots"]
BOX_TABLES = [
    "poll_pending_ballots",
    "poll_ballots",
    "poll_pending_comments",
    "poll_anonymous_comments",
    "poll_comment_counts",
]
_shuffle = random.SystemRandom().shuffle
BALLOT_PURPOSE = b"ballot-pool"
COMMENT_PURPOSE = b"comment-pool"
# Every sealed ballot and comment is padded to this many bytes: room for the longest reason
# or comment and one version of it in another language (1,000 characters each, of up to 4
# bytes, JSON-escaped) and a voice note's file id, so a blob's length tells neither whether a
# reason came with it nor how long it is.
SEALED_SIZE = 9216
BALLOT_FIELDS = (
    "choices",
    "region",
    "gender",
    "reason",
    "reason_voice_file_id",
    "reason_versions",
)
COMMENT_FIELDS = ("text", "voice_file_id")


def _seal(key: bytes, purpose: bytes, poll_id: int, fields: dict[str, Any]) -> bytes:
    payload = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()
    return seal(key, purpose, b"poll:%d" % poll_id, payload, SEALED_SIZE)


def _open(
    key: bytes, purpose: bytes, poll_id: int, blob: bytes, names: tuple[str, ...]
) -> dict[str, Any]:
    found = json.loads(unseal(key, purpose, b"poll:%d" % poll_id, blob))
    return {name: found.get(name) for name in names}


def seal_ballot(
    key: bytes,
    poll_id: int,
    *,
    choices: int,
    region: str | None,
    gender: str | None,
    reason: str | None = None,
    reason_voice_file_id: str | None = None,
    reason_versions: dict[str, str] | None = None,
) -> bytes:
    """A secret ballot's whole content sealed for the pool (SealError without a key)."""
    fields = {
        "choices": choices,
        "region": region,
        "gender": gender,
        "reason": reason,
        "reason_voice_file_id": reason_voice_file_id,
        "reason_versions": reason_versions,
    }
    return _seal(key, BALLOT_PURPOSE, poll_id, fields)


def open_ballot(key: bytes, poll_id: int, blob: bytes) -> dict[str, Any]:
    """The fields of a ballot sealed for this poll (SealError with another key or poll)."""
    return _open(key, BALLOT_PURPOSE, poll_id, blob, BALLOT_FIELDS)


def seal_comment(key: bytes, poll_id: int, text: str | None, voice_file_id: str | None) -> bytes:
    """A comment on a secret poll sealed until the close."""
    return _seal(key, COMMENT_PURPOSE, poll_id, {"text": text, "voice_file_id": voice_file_id})


def open_comment(key: bytes, poll_id: int, blob: bytes) -> dict[str, Any]:
    """The text and voice note of a comment sealed for this poll."""
    return _open(key, COMMENT_PURPOSE, poll_id, blob, COMMENT_FIELDS)


async def waiting(session: AsyncSession, poll_id: int) -> int:
    """How many ballots of the poll wait in the pool."""
    found = await session.scalar(
        select(func.count()).select_from(PendingBallot).where(PendingBallot.poll_id == poll_id)
    )
    return int(found or 0)


async def empty_pool(
    session: AsyncSession, poll_id: int, key: bytes, *, everything: bool = False
) -> int:
    """Open the poll's waiting ballots and move them into the box, shuffled, under new keys,
    when at least POOL_BATCH wait (or all of them with `everything`); returns how many moved.
    A ballot that does not open with `key` stops the move (SealError): none is dropped."""
    blobs = list(
        await session.scalars(
            select(PendingBallot.sealed).where(PendingBallot.poll_id == poll_id).with_for_update()
        )
    )
    if not blobs or (len(blobs) < POOL_BATCH and not everything):
        return 0
    rows = [open_ballot(key, poll_id, blob) for blob in blobs]
    await session.execute(delete(PendingBallot).where(PendingBallot.poll_id == poll_id))
    _shuffle(rows)
    for row in rows:
        row.update(id=new_token(), poll_id=poll_id)
    await session.execute(insert(AnonymousBallot), rows)
    return len(rows)


async def pending_comments(
    session: AsyncSession, poll_id: int, key: bytes
) -> list[dict[str, Any]]:
    """The sealed comments of an open secret poll, opened (text and voice note)."""
    blobs = await session.scalars(
        select(PendingComment.sealed)
        .where(PendingComment.poll_id == poll_id)
        .order_by(PendingComment.id)
    )
    return [open_comment(key, poll_id, blob) for blob in blobs]


async def empty_comments(session: AsyncSession, poll_id: int, key: bytes) -> int:
    """At the close: the sealed comments enter `poll_anonymous_comments`, opened (the close
    then re-writes them all, shuffled). Returns how many moved."""
    rows = await pending_comments(session, poll_id, key)
    if not rows:
        return 0
    await session.execute(delete(PendingComment).where(PendingComment.poll_id == poll_id))
    for row in rows:
        row.update(id=new_token(), poll_id=poll_id)
    await session.execute(insert(AnonymousComment), rows)
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
        moved = await empty_pool(session, poll_id, app.privacy_key)
        if moved or app.engine.dialect.name == "sqlite":
            app.scrub_after_commit(session, POOL_TABLES)
    return moved


def scrub_box_after_commit(app: App, session: AsyncSession) -> None:
    """Once the close commits, scrub the old versions of the pool, the box and the comments."""

    app.scrub_after_commit(session, BOX_TABLES)
