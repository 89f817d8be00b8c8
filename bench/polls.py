"""Benchmark: tally 100,000 secret ballots with the region × gender breakdown.

Runs on SQLite (a temporary file) and, when BENCH_DATABASE_URL or TEST_DATABASE_URL is set, on
PostgreSQL too (its schema is dropped and recreated: point it at a scratch database). Prints
the median of several runs of the whole tally (one GROUP BY query plus the suppression of
small groups; target 100 ms or less on SQLite), then the one-off cost of closing the poll.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, text

from bot.config import normalise_db_url
from bot.db import create_engine, create_sessionmaker, migrate
from bot.geo import REGIONS
from bot.poll_tally import tally
from models.member import Gender
from models.poll import AnonymousBallot, Audience, Poll, PollKind, PollStatus, new_token

BALLOTS = 100_000
RUNS = 9
CHUNK = 10_000
TARGET_MS = 100.0


def ballots(poll_id: int, count: int, seed: int = 7) -> list[dict[str, object]]:
    """Plausible ballots: every consent answer, region and gender, unevenly spread."""
    rng = random.Random(seed)
    genders = [*list(Gender), None]
    regions = [*REGIONS, None]
    weights = [8, 2, 3, 1]
    return [
        {
            "id": new_token(),
            "poll_id": poll_id,
            "choices": 1 << rng.choices(range(4), weights)[0],
            "region": rng.choice(regions),
            "gender": rng.choice(genders),
        }
        for _ in range(count)
    ]


async def prepare(url: str) -> None:
    """A migrated store holding one consent poll and BALLOTS secret ballots."""
    await migrate(url)
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session:
        from datetime import UTC, datetime, timedelta

        now = datetime.now(UTC)
        poll = Poll(
            locale="en",
            question="Benchmark",
            kind=PollKind.CONSENT,
            anonymous=True,
            audience=Audience.NETWORK,
            status=PollStatus.OPEN,
            closes_at=now + timedelta(days=1),
            created_at=now,
        )
        session.add(poll)
        await session.flush()
        rows = ballots(poll.id, BALLOTS)
        for start in range(0, len(rows), CHUNK):
            await session.execute(insert(AnonymousBallot), rows[start : start + CHUNK])
        await session.commit()
        if engine.dialect.name == "postgresql":
            async with engine.connect() as conn:
                await conn.execute(text("ANALYZE poll_ballots"))
                await conn.commit()
        else:
            async with engine.connect() as conn:
                await conn.execute(text("ANALYZE"))
                await conn.commit()
    await engine.dispose()


async def measure(url: str) -> tuple[float, int, int]:
    """Median milliseconds of a full tally, the ballots counted, and the breakdown cells."""
    engine = create_engine(url)
    timings = []
    voters = cells = 0
    async with create_sessionmaker(engine)() as session:
        poll = await session.get(Poll, 1)
        assert poll is not None
        await tally(session, poll)  # warm the cache and the connection
        for _ in range(RUNS):
            start = time.perf_counter()
            result = await tally(session, poll)
            timings.append((time.perf_counter() - start) * 1000)
            voters, cells = result.total.voters, len(result.cross)
    await engine.dispose()
    return statistics.median(timings), voters, cells


async def measure_seal(url: str) -> float:
    """Milliseconds to close the poll: freeze the breakdowns and re-seal every ballot."""
    from datetime import UTC, datetime

    from bot.polls import close_poll

    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session:
        poll = await session.get(Poll, 1)
        assert poll is not None
        start = time.perf_counter()
        await close_poll(session, poll, datetime.now(UTC))
        await session.commit()
        took = (time.perf_counter() - start) * 1000
    await engine.dispose()
    return took


async def reset_postgres(url: str) -> None:
    """An empty public schema."""
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def measure_all() -> list[tuple[str, float]]:
    """Benchmark every configured store and print one line per store."""
    figures = []
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
        await prepare(url)
        median, voters, cells = await measure(url)
        figures.append(("SQLite", median))
        print(report("SQLite", median, voters, cells))
        print(sealing("SQLite", await measure_seal(url), voters))
    pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if pg:
        url = normalise_db_url(pg)
        await reset_postgres(url)
        await prepare(url)
        median, voters, cells = await measure(url)
        figures.append(("PostgreSQL", median))
        print(report("PostgreSQL", median, voters, cells))
        print(sealing("PostgreSQL", await measure_seal(url), voters))
    else:
        print("polls: PostgreSQL skipped (set BENCH_DATABASE_URL to include it)")
    return figures


def report(store: str, median: float, voters: int, cells: int) -> str:
    """One printed line of figures."""
    verdict = "" if store != "SQLite" else (" ok" if median <= TARGET_MS else " OVER TARGET")
    return (
        f"polls: tally of {voters:,} secret ballots with region × gender breakdown "
        f"({cells} cells) on {store}: {median:.1f} ms (median of {RUNS}; target "
        f"≤ {TARGET_MS:.0f} ms on SQLite){verdict}"
    )


def sealing(store: str, took: float, voters: int) -> str:
    """The printed line for closing (sealing) the poll."""
    return (
        f"polls: closing the poll (freeze breakdowns, re-seal {voters:,} ballots) "
        f"on {store}: {took:.0f} ms"
    )


def run(argv: list[str] | None = None) -> int:
    """Entry point for `python -m bench.polls` and `python -m bench` (no options of its own)."""
    asyncio.run(measure_all())
    return 0


if __name__ == "__main__":
    raise SystemExit(run())
