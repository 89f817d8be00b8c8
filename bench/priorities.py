"""Benchmark: tally 100,000 priority rankings with the region × gender breakdown.

Two consultations of 12 possible actions: top 3 in order (Borda count) and 5 points spread
(point totals), secret ballots unevenly spread over regions and genders. SQLite (a temporary
file), and PostgreSQL too when BENCH_DATABASE_URL or TEST_DATABASE_URL names a scratch
database (its schema is dropped and recreated). Prints the median of several runs of the
whole tally (one GROUP BY along the tally index, folded in Python, then the suppression of
small groups; target 200 ms or less on SQLite). `--quick`: 10,000 rankings.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from bench.polls import reset_postgres
from bot.consensus.priorities import PICK_COLUMNS, count_priorities
from bot.core.config import normalise_db_url
from bot.core.db import create_engine, create_sessionmaker, migrate
from bot.core.geo import REGIONS
from models.consensus import PICKS, Priorities, PriorityBallot, PriorityMode
from models.member import Gender
from models.poll import new_token

RANKINGS = 100_000
OPTIONS = 12
RUNS = 9
CHUNK = 10_000
TARGET_MS = 200.0


def rows(consultation_id: int, mode: PriorityMode, count: int) -> list[dict[str, object]]:
    """Plausible rankings: some actions much liked, every region and gender."""
    rng = random.Random(11 + consultation_id)
    liking = [rng.randint(1, 12) for _ in range(OPTIONS)]
    genders = [*list(Gender), None]
    regions = [*REGIONS, None]
    out = []
    for _ in range(count):
        if mode == PriorityMode.RANK:
            picks: list[int] = []
            while len(picks) < PICKS[mode]:
                pick = rng.choices(range(OPTIONS), liking)[0]
                if pick not in picks:
                    picks.append(pick)
        else:
            picks = sorted(rng.choices(range(OPTIONS), liking, k=PICKS[mode]))
        row: dict[str, object] = {
            "id": new_token(),
            "consultation_id": consultation_id,
            "region": rng.choice(regions),
            "gender": rng.choice(genders),
        }
        row.update(dict(zip(PICK_COLUMNS, picks, strict=False)))
        out.append(row)
    return out


async def prepare(url: str, count: int) -> list[int]:
    """A migrated store with one consultation per mode and `count` rankings each."""
    await migrate(url)
    engine = create_engine(url)
    ids = []
    now = datetime.now(UTC)
    async with create_sessionmaker(engine)() as session:
        for mode in PriorityMode:
            consultation = Priorities(
                locale="en",
                title=f"Benchmark: {mode}",
                options=[f"Action {i + 1}" for i in range(OPTIONS)],
                mode=mode,
                closes_at=now + timedelta(days=1),
                created_at=now,
            )
            session.add(consultation)
            await session.flush()
            ids.append(consultation.id)
            data = rows(consultation.id, mode, count)
            for start in range(0, len(data), CHUNK):
                await session.execute(insert(PriorityBallot), data[start : start + CHUNK])
        await session.commit()
    async with engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
        await conn.commit()
    await engine.dispose()
    return ids


async def measure(url: str, consultation_id: int) -> tuple[float, int, int]:
    """Median milliseconds of a full tally, the rankings counted, and the breakdown cells."""
    engine = create_engine(url)
    timings = []
    voters = cells = 0
    async with create_sessionmaker(engine)() as session:
        consultation = await session.get(Priorities, consultation_id)
        assert consultation is not None
        await count_priorities(session, consultation)
        for _ in range(RUNS):
            start = time.perf_counter()
            result = await count_priorities(session, consultation)
            timings.append((time.perf_counter() - start) * 1000)
            voters, cells = result.total.voters, len(result.cross)
    await engine.dispose()
    return statistics.median(timings), voters, cells


async def measure_all(count: int) -> list[tuple[str, float]]:
    """Benchmark every configured store; one printed line per store and mode."""
    figures = []
    stores: list[tuple[str, str | None]] = [("SQLite", None)]
    pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if pg:
        stores.append(("PostgreSQL", normalise_db_url(pg)))
    with tempfile.TemporaryDirectory() as folder:
        for store, given in stores:
            url = given or f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
            if given:
                await reset_postgres(url)
            for mode, consultation_id in zip(PriorityMode, await prepare(url, count), strict=True):
                median, voters, cells = await measure(url, consultation_id)
                figures.append((store, median))
                verdict = (
                    "" if store != "SQLite" else (" ok" if median <= TARGET_MS else " OVER TARGET")
                )
                print(
                    f"priorities: {store}, {mode} of {OPTIONS}: tally of {voters:,} rankings "
                    f"with region × gender breakdown ({cells} cells): {median:.1f} ms (median "
                    f"of {RUNS}; target ≤ {TARGET_MS:.0f} ms on SQLite){verdict}",
                    flush=True,
                )
    if not pg:
        print("priorities: PostgreSQL skipped (set BENCH_DATABASE_URL to include it)")
    return figures


def run(argv: list[str] | None = None) -> int:
    """Entry point for `python -m bench priorities` (`--quick`: 10,000 rankings)."""
    ap = argparse.ArgumentParser(prog="python -m bench priorities", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="10,000 rankings per consultation")
    args, _rest = ap.parse_known_args(argv)
    figures = asyncio.run(measure_all(RANKINGS // 10 if args.quick else RANKINGS))
    return 0 if all(ms <= TARGET_MS for store, ms in figures if store == "SQLite") else 1


if __name__ == "__main__":
    raise SystemExit(run())
