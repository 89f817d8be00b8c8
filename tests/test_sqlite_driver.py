"""SQLite's adapter: one trip to the connection's thread per statement, none for ending a
transaction that never wrote, and writers of one engine queued on a gate rather than asleep
in SQLite's busy handler."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from bot.core.db import create_engine, create_sessionmaker
from bot.core.sqlite_driver import OneTripDBAPI
from models.base import WRITE_LATER


@pytest.fixture
async def engine(tmp_path: Path) -> Any:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.sqlite3'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every function sent to a connection's thread, by name."""
    seen: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return seen


async def test_a_read_costs_one_trip_and_its_end_none(engine: Any, trips: list[str]) -> None:
    sessions = create_sessionmaker(engine)
    async with sessions() as session:  # the pool's connection is open: count from here
        await session.execute(text("SELECT 1"))
        await session.commit()
    trips.clear()
    async with sessions() as session:
        rows = (await session.execute(text("SELECT id, body FROM notes"))).all()
        await session.commit()
    assert rows == []
    assert trips == ["_statement"]  # no cursor, fetch or close trips; no commit or rollback


async def test_a_write_is_begun_written_and_committed_in_two_trips(
    engine: Any, trips: list[str]
) -> None:
    sessions = create_sessionmaker(engine)
    async with sessions() as session:
        await session.execute(text("SELECT 1"))
    trips.clear()
    async with sessions() as session, session.begin():
        result = await session.execute(text("INSERT INTO notes (body) VALUES ('a')"))
        assert result.rowcount == 1  # counts come back with the statement
    assert trips == ["_statement", "_end"]  # BEGIN IMMEDIATE with the INSERT, COMMIT
    async with sessions() as session:
        assert (await session.execute(text("SELECT body FROM notes"))).scalars().all() == ["a"]


async def test_writers_queue_on_the_gate_and_each_starts_when_the_last_ends(engine: Any) -> None:
    """Twenty writers at once, each holding its transaction open for 20 ms: all commit, one
    after another (never two open at once), with no "database is locked"."""
    sessions = create_sessionmaker(engine)
    open_now: list[int] = []
    most = 0

    async def write(n: int) -> None:
        nonlocal most
        async with sessions() as session, session.begin():
            await session.execute(text("INSERT INTO notes (body) VALUES (:b)"), {"b": str(n)})
            open_now.append(n)
            most = max(most, len(open_now))
            await asyncio.sleep(0.02)
            open_now.remove(n)

    await asyncio.gather(*(write(n) for n in range(20)))
    async with sessions() as session:
        count = await session.scalar(text("SELECT count(*) FROM notes"))
    assert count == 20
    assert most == 1


async def test_a_writer_that_waits_too_long_is_told_the_database_is_locked(
    tmp_path: Path,
) -> None:
    engine = create_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'gate.sqlite3'}", module=OneTripDBAPI(0.2)
    )
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
    sessions = create_sessionmaker(engine)
    try:
        async with sessions() as holder:
            await holder.execute(text("INSERT INTO notes (body) VALUES ('first')"))
            async with sessions() as late:
                # told after the gate's 0.2 s, not after SQLite's own 30 s busy timeout
                with pytest.raises(OperationalError, match="database is locked"):
                    await asyncio.wait_for(
                        late.execute(text("INSERT INTO notes (body) VALUES ('late')")), 5
                    )
                await late.rollback()
            await holder.commit()
        # the gate is open again: the next writer goes straight in
        async with sessions() as session, session.begin():
            await session.execute(text("INSERT INTO notes (body) VALUES ('after')"))
        async with sessions() as session:
            bodies = (await session.execute(text("SELECT body FROM notes"))).scalars().all()
        assert sorted(bodies) == ["after", "first"]
    finally:
        await engine.dispose()


async def test_a_failed_write_rolls_back_and_opens_the_gate(engine: Any) -> None:
    sessions = create_sessionmaker(engine)
    async with sessions() as session:
        await session.execute(text("INSERT INTO notes (id, body) VALUES (1, 'one')"))
        await session.commit()
    async with sessions() as session:
        with pytest.raises(Exception, match="UNIQUE"):
            await session.execute(text("INSERT INTO notes (id, body) VALUES (1, 'again')"))
        await session.rollback()
    async with sessions() as session, session.begin():  # would wait forever on a stuck gate
        await asyncio.wait_for(
            session.execute(text("INSERT INTO notes (id, body) VALUES (2, 'two')")), 5
        )


LATER = {WRITE_LATER: True}


async def test_a_write_nobody_reads_goes_with_the_commit(engine: Any, trips: list[str]) -> None:
    """The writer is held for two trips, not three: the second INSERT rides with COMMIT."""
    sessions = create_sessionmaker(engine)
    async with sessions() as session:
        await session.execute(text("SELECT 1"))
    trips.clear()
    async with sessions() as session, session.begin():
        await session.execute(text("INSERT INTO notes (id, body) VALUES (1, 'a')"))
        await session.execute(
            text("INSERT INTO notes (id, body) VALUES (2, 'b')"), execution_options=LATER
        )
    assert trips == ["_statement", "_end"]
    async with sessions() as session:
        bodies = (await session.execute(text("SELECT body FROM notes ORDER BY id"))).scalars()
        assert bodies.all() == ["a", "b"]


async def test_a_later_write_is_seen_by_the_next_statement_of_its_transaction(
    engine: Any, trips: list[str]
) -> None:
    sessions = create_sessionmaker(engine)
    async with sessions() as session, session.begin():
        await session.execute(
            text("INSERT INTO notes (body) VALUES ('a')"), execution_options=LATER
        )
        assert trips == []  # nothing sent yet: BEGIN IMMEDIATE and the INSERT wait
        seen = (await session.execute(text("SELECT body FROM notes"))).scalars().all()
        assert seen == ["a"]
        assert trips == ["_statement"]
        await session.rollback()
    async with sessions() as session:
        assert (await session.execute(text("SELECT count(*) FROM notes"))).scalar() == 0


async def test_a_later_write_rolled_back_never_reaches_sqlite(
    engine: Any, trips: list[str]
) -> None:
    sessions = create_sessionmaker(engine)
    async with sessions() as session:
        await session.execute(
            text("INSERT INTO notes (body) VALUES ('a')"), execution_options=LATER
        )
        await session.rollback()
    assert trips == []
    async with sessions() as session, session.begin():  # the gate was never taken
        await asyncio.wait_for(session.execute(text("INSERT INTO notes (body) VALUES ('b')")), 5)
    async with sessions() as session:
        assert (await session.execute(text("SELECT body FROM notes"))).scalars().all() == ["b"]


async def test_a_later_write_that_fails_fails_the_commit_and_keeps_nothing(engine: Any) -> None:
    sessions = create_sessionmaker(engine)
    async with sessions() as session, session.begin():
        await session.execute(text("INSERT INTO notes (id, body) VALUES (1, 'one')"))
    async with sessions() as session:
        await session.execute(text("INSERT INTO notes (id, body) VALUES (2, 'two')"))
        await session.execute(
            text("INSERT INTO notes (id, body) VALUES (1, 'again')"), execution_options=LATER
        )
        with pytest.raises(Exception, match="UNIQUE"):
            await session.commit()
        await session.rollback()
    async with sessions() as session, session.begin():  # would wait forever on a stuck gate
        await asyncio.wait_for(
            session.execute(text("INSERT INTO notes (id, body) VALUES (3, 'three')")), 5
        )
    async with sessions() as session:
        bodies = (await session.execute(text("SELECT body FROM notes ORDER BY id"))).scalars()
        assert bodies.all() == ["one", "three"]  # 'two' went back with the failed commit
