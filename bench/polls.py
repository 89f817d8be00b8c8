"""Benchmark: tally 100,000 ballots with the region × gender breakdown, for every poll kind.

One poll of each kind (one answer of 4, several answers of 12, scale 1-5, consent), secret
ballots, plus a named 12-option multiple choice. Runs on SQLite (a temporary file) and, when
BENCH_DATABASE_URL or TEST_DATABASE_URL is set, on PostgreSQL too (its schema is dropped and
recreated: point it at a scratch database). Prints the median of several runs of the whole
tally (one query plus the suppression of small groups; target 100 ms or less on SQLite),
then the one-off cost of closing the secret 12-option poll. `--quick`: 10,000 ballots.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, text

from bot.core.config import normalise_db_url
from bot.core.db import create_engine, create_sessionmaker, migrate
from bot.core.geo import REGIONS
from bot.polls.tally import tally
from models.member import Gender, Member
from models.poll import (
    AnonymousBallot,
    Audience,
    NamedVote,
    Poll,
    PollKind,
    PollOption,
    PollStatus,
    new_token,
)

BALLOTS = 100_000
RUNS = 9
CHUNK = 10_000
TARGET_MS = 100.0


# (label, kind, options, secret): every kind of poll the bot offers.
POLLS = (
    ("one answer of 4, secret", PollKind.SINGLE, 4, True),
    ("several answers of 12, secret", PollKind.MULTIPLE, 12, True),
    ("several answers of 12, named", PollKind.MULTIPLE, 12, False),
    ("scale 1-5, secret", PollKind.SCALE, 0, True),
    ("consent, secret", PollKind.CONSENT, 0, True),
)
SEALED = 1  # the poll whose closing is timed: the secret 12-option multiple choice


def choices_for(kind: str, options: int, rng: random.Random) -> int:
    """A plausible answer: one option (unevenly liked), or one to four of twelve."""
    if kind == PollKind.MULTIPLE:
        picked = rng.sample(range(options), rng.choice((1, 1, 2, 2, 3, 4)))
        return sum(1 << i for i in picked)
    count = {PollKind.SCALE: 5, PollKind.CONSENT: 4}.get(kind, options)
    weights = [8, 2, 3, 1, 4][:count]
    return 1 << rng.choices(range(count), weights)[0]


def ballots(
    poll_id: int, kind: str, options: int, count: int, seed: int = 7
) -> list[dict[str, object]]:
    """Plausible ballots: every answer, region and gender, unevenly spread."""
    rng = random.Random(seed + poll_id)
    genders = [*list(Gender), None]
    regions = [*REGIONS, None]
    return [
        {
            "id": new_token(),
            "poll_id": poll_id,
            "choices": choices_for(kind, options, rng),
            "region": rng.choice(regions),
            "gender": rng.choice(genders),
        }
        for _ in range(count)
    ]


async def prepare(url: str, count: int) -> list[int]:
    """A migrated store holding one poll of each kind with `count` ballots each."""
    await migrate(url)
    engine = create_engine(url)
    ids = []
    async with create_sessionmaker(engine)() as session:
        from datetime import UTC, datetime, timedelta

        now = datetime.now(UTC)
        for label, kind, options, secret in POLLS:
            poll = Poll(
                locale="en",
                question=f"Benchmark: {label}",
                kind=kind,
                anonymous=secret,
                audience=Audience.NETWORK,
                status=PollStatus.OPEN,
                closes_at=now + timedelta(days=1),
                created_at=now,
            )
            session.add(poll)
            await session.flush()
            session.add_all(
                PollOption(poll_id=poll.id, position=i, label=f"Option {i + 1}")
                for i in range(options)
            )
            ids.append(poll.id)
            rows = ballots(poll.id, kind, options, count)
            if not secret:
                rows = await named(session, rows)
            table = AnonymousBallot if secret else NamedVote
            for start in range(0, len(rows), CHUNK):
                await session.execute(insert(table), rows[start : start + CHUNK])
        await session.commit()
        async with engine.connect() as conn:
            await conn.execute(text("ANALYZE"))
            await conn.commit()
    await engine.dispose()
    return ids


async def named(session: object, rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """Named votes need a member each: add them, and give each row its member."""
    from sqlalchemy.ext.asyncio import AsyncSession

    assert isinstance(session, AsyncSession)
    first = 5_000_000
    members = [
        {
            "telegram_id": first + i,
            "display_name": f"Voter {i}",
            "locale": "en",
            "status": "active",
            "role": "member",
        }
        for i in range(len(rows))
    ]
    for start in range(0, len(members), CHUNK):
        await session.execute(insert(Member), members[start : start + CHUNK])
    from sqlalchemy import select

    ids = list(await session.scalars(select(Member.id).where(Member.telegram_id >= first)))
    return [
        {k: v for k, v in row.items() if k != "id"} | {"member_id": member_id}
        for row, member_id in zip(rows, sorted(ids), strict=True)
    ]


async def measure(url: str, poll_id: int) -> tuple[float, int, int]:
    """Median milliseconds of a full tally, the ballots counted, and the breakdown cells."""
    engine = create_engine(url)
    timings = []
    voters = cells = 0
    async with create_sessionmaker(engine)() as session:
        poll = await session.get(Poll, poll_id)
        assert poll is not None
        await tally(session, poll)  # warm the cache and the connection
        for _ in range(RUNS):
            start = time.perf_counter()
            result = await tally(session, poll)
            timings.append((time.perf_counter() - start) * 1000)
            voters, cells = result.total.voters, len(result.cross)
    await engine.dispose()
    return statistics.median(timings), voters, cells


async def measure_seal(url: str, poll_id: int) -> tuple[float, float]:
    """Milliseconds to close the poll (freeze the breakdowns and re-seal every ballot), and
    to scrub the old row versions afterwards (the background step after the close)."""
    from datetime import UTC, datetime

    from bot.core.privacy import scrub
    from bot.polls.ballot_box import BOX_TABLES
    from bot.polls.service import close_poll

    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session:
        poll = await session.get(Poll, poll_id)
        assert poll is not None
        start = time.perf_counter()
        await close_poll(session, poll, datetime.now(UTC), b"bench")
        await session.commit()
        took = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    await scrub(engine, BOX_TABLES)
    scrubbed = (time.perf_counter() - start) * 1000
    await engine.dispose()
    return took, scrubbed


async def reset_postgres(url: str) -> None:
    """An empty public schema."""
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def measure_all(count: int) -> list[tuple[str, float]]:
    """Benchmark every configured store and print one line per store and poll."""
    figures = []
    stores = [("SQLite", None)]
    pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if pg:
        stores.append(("PostgreSQL", normalise_db_url(pg)))
    with tempfile.TemporaryDirectory() as folder:
        for store, given in stores:
            url = given or f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
            if given:
                await reset_postgres(url)
            ids = await prepare(url, count)
            for (label, _kind, _options, _secret), poll_id in zip(POLLS, ids, strict=True):
                median, voters, cells = await measure(url, poll_id)
                figures.append((f"{store}: {label}", median))
                print(report(store, label, median, voters, cells), flush=True)
            took, scrubbed = await measure_seal(url, ids[SEALED])
            print(sealing(store, took, count), flush=True)
            print(f"polls: {store}, scrubbing after the close: {scrubbed:.0f} ms", flush=True)
    if not pg:
        print("polls: PostgreSQL skipped (set BENCH_DATABASE_URL to include it)")
    return figures


def report(store: str, label: str, median: float, voters: int, cells: int) -> str:
    """One printed line of figures."""
    verdict = "" if store != "SQLite" else (" ok" if median <= TARGET_MS else " OVER TARGET")
    return (
        f"polls: {store}, {label}: tally of {voters:,} ballots with region × gender "
        f"breakdown ({cells} cells): {median:.1f} ms (median of {RUNS}; target "
        f"≤ {TARGET_MS:.0f} ms on SQLite){verdict}"
    )


def sealing(store: str, took: float, voters: int) -> str:
    """The printed line for closing (sealing) the poll."""
    return (
        f"polls: {store}, closing the secret 12-option poll (freeze breakdowns, re-seal "
        f"{voters:,} ballots): {took:.0f} ms"
    )


def run(argv: list[str] | None = None) -> int:
    """Entry point for `python -m bench.polls` and `python -m bench` (`--quick`: 10,000)."""
    ap = argparse.ArgumentParser(prog="python -m bench polls", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="10,000 ballots per poll")
    args, _rest = ap.parse_known_args(argv)
    figures = asyncio.run(measure_all(BALLOTS // 10 if args.quick else BALLOTS))
    return 0 if all(ms <= TARGET_MS for name, ms in figures if name.startswith("SQLite")) else 1


if __name__ == "__main__":
    raise SystemExit(run())
