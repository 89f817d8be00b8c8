"""Transactions are whole on every database: a savepoint inside a transaction commits nothing
by itself, so a failure after it leaves the store as it was before the whole step."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core import geo
from bot.core.db import create_engine, create_sessionmaker, migrate
from bot.delivery.notice import enqueue_notice
from bot.polls.service import Draft, VoteResult, cast_vote
from models.delivery import Broadcast, Delivery
from models.member import Member
from models.poll import AnonymousBallot, Participation, PendingBallot, Poll, PollKind

NOW = datetime.now(UTC).replace(microsecond=0)
KEY = b"test-privacy-key"  # the server's privacy key: a secret ballot is sealed with it


@pytest.fixture
async def sessions(backend: dict[str, Any]) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a freshly migrated store."""
    await migrate(backend["db_url"])
    engine = create_engine(backend["db_url"])
    yield create_sessionmaker(engine)
    await engine.dispose()


async def count(sessions: async_sessionmaker[AsyncSession], model: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def add_members(sessions: async_sessionmaker[AsyncSession], n: int) -> list[Member]:
    async with sessions() as session:
        members = [
            Member(
                telegram_id=50_000 + i,
                display_name=f"M{i}",
                locale="en",
                country="UY",
                region=geo.region_of("UY"),
                status="active",
                role="member",
            )
            for i in range(n)
        ]
        session.add_all(members)
        await session.commit()
        return members


async def secret_poll(sessions: async_sessionmaker[AsyncSession]) -> int:
    """An open secret poll to the whole network; its id."""
    draft = Draft(
        locale="en",
        question="Adopt the charter?",
        kind=PollKind.SINGLE,
        options=["Yes", "No"],
        anonymous=True,
        audience="network",
        closes_at=(NOW + timedelta(days=2)).isoformat(),
    )
    async with sessions() as session:
        poll = draft.build(None, NOW)
        session.add(poll)
        await session.commit()
        return poll.id


async def test_a_released_savepoint_is_undone_by_the_outer_rollback(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await add_members(sessions, 1)
    async with sessions() as session:
        # A read first, then a savepoint before any write: the case SQLite's driver got wrong.
        assert await session.scalar(select(func.count()).select_from(Member)) == 1
        async with session.begin_nested():
            session.add(Broadcast(kind="notice", payload={}, dedupe_key="k1"))
            await session.flush()
        await session.execute(text("UPDATE members SET display_name = 'changed'"))
        await session.rollback()
    assert await count(sessions, Broadcast) == 0
    async with sessions() as session:
        assert await session.scalar(select(Member.display_name)) == "M0"


async def test_a_broadcast_is_never_stored_without_its_deliveries(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await add_members(sessions, 3)
    async with sessions() as session:
        broadcast = await enqueue_notice(session, {"en": "hello"}, dedupe_key="once")
        assert broadcast.total == 3
        await session.rollback()  # the handler failed after queueing: nothing may remain
    assert await count(sessions, Broadcast) == 0
    assert await count(sessions, Delivery) == 0
    # ... so the same key queues it again, with its recipients.
    async with sessions() as session:
        broadcast = await enqueue_notice(session, {"en": "hello"}, dedupe_key="once")
        await session.commit()
    assert broadcast.total == 3
    assert await count(sessions, Delivery) == 3


async def test_a_secret_participation_is_never_stored_without_its_ballot(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    (member,) = await add_members(sessions, 1)
    poll_id = await secret_poll(sessions)

    class Boom(Exception):
        """The process failing between the participation and the ballot."""

    real_flush = AsyncSession.flush

    async def failing_flush(self: AsyncSession, *args: Any, **kwargs: Any) -> None:
        if any(isinstance(o, PendingBallot) for o in self.new):
            raise Boom
        await real_flush(self, *args, **kwargs)

    async with sessions() as session:
        poll = await session.get(Poll, poll_id)
        voter = await session.get(Member, member.id)
        assert poll is not None and voter is not None
        monkeypatch.setattr(AsyncSession, "flush", failing_flush)
        with pytest.raises(Boom):
            await cast_vote(session, poll, voter, 1, datetime.now(UTC), key=KEY)
        monkeypatch.undo()
        await session.rollback()
    assert await count(sessions, Participation) == 0
    assert await count(sessions, PendingBallot) == 0
    assert await count(sessions, AnonymousBallot) == 0
    # The member was not told "already voted": the vote goes through afterwards.
    async with sessions() as session:
        poll = await session.get(Poll, poll_id)
        voter = await session.get(Member, member.id)
        assert poll is not None and voter is not None
        voted = await cast_vote(session, poll, voter, 1, datetime.now(UTC), key=KEY)
        assert voted is VoteResult.RECORDED
        await session.commit()
    # the ballot waits in the pool (issue 11) until a batch of 5 or the close moves it
    stored = await count(sessions, PendingBallot) + await count(sessions, AnonymousBallot)
    assert (await count(sessions, Participation), stored) == (1, 1)


async def test_readers_and_writers_do_not_lock_each_other_out(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Read, let another session commit, then write: no 'database is locked' (SQLite's
    deferred transactions would fail here; ours begin at the first write)."""
    await add_members(sessions, 2)
    async with sessions() as first, sessions() as second:
        await first.scalar(select(Member.display_name).where(Member.telegram_id == 50_000))
        await second.execute(
            text("UPDATE members SET display_name = 'B' WHERE telegram_id = 50001")
        )
        await second.commit()
        await first.execute(
            text("UPDATE members SET display_name = 'A' WHERE telegram_id = 50000")
        )
        await first.commit()
    async with sessions() as session:
        names = set(await session.scalars(select(Member.display_name)))
    assert names == {"A", "B"}


async def test_a_vote_racing_the_close_is_counted_or_refused(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A close that runs while a vote is between "the poll is open" and its write either
    waits for the vote and counts it, or makes the vote be refused: never "recorded" and
    left out of the results (a ballot stranded in a closed poll's pool)."""
    import asyncio

    from bot.polls import service

    (member,) = await add_members(sessions, 1)
    poll_id = await secret_poll(sessions)

    async def close() -> bool:
        async with sessions() as session:
            closing = await session.get(Poll, poll_id)
            assert closing is not None
            closed = await service.close_poll(session, closing, datetime.now(UTC), KEY)
            await session.commit()
            return closed

    closer: list[asyncio.Task[bool]] = []
    real_add = service.add_participation

    async def add_while_closing(*args: Any, **kwargs: Any) -> bool:
        closer.append(asyncio.create_task(close()))
        await asyncio.sleep(0.5)  # the close runs as far as it can before the vote writes
        return await real_add(*args, **kwargs)

    monkeypatch.setattr(service, "add_participation", add_while_closing)
    async with sessions() as session:
        voting = await session.get(Poll, poll_id)
        voter = await session.get(Member, member.id)
        assert voting is not None and voter is not None
        result = await cast_vote(session, voting, voter, 1, datetime.now(UTC), key=KEY)
        await session.commit()
    monkeypatch.undo()
    assert closer and await asyncio.wait_for(closer[0], 30)
    assert result in (VoteResult.RECORDED, VoteResult.CLOSED)
    counted = 1 if result is VoteResult.RECORDED else 0
    assert await count(sessions, PendingBallot) == 0  # nothing waits in a closed poll
    assert await count(sessions, AnonymousBallot) == counted
    assert await count(sessions, Participation) == counted
    async with sessions() as session:
        closed = await session.get(Poll, poll_id)
        assert closed is not None and closed.results is not None
        assert closed.results["total"]["voters"] == counted
