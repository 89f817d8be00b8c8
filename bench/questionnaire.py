"""Benchmark: results of a 10-question questionnaire with 10,000 respondents, with breakdowns.

Secret answers (a row per answer: 100,000 rows), unevenly spread over regions and genders:
scales, single and multiple choices, and two text questions. SQLite (a temporary file), and
PostgreSQL too when BENCH_DATABASE_URL or TEST_DATABASE_URL names a scratch database (its
schema is dropped and recreated). Prints the median of several runs of the whole count (one
GROUP BY for every question, then the suppression of small groups per question; target 200 ms
or less on SQLite). `--quick`: 1,000 respondents.
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
from bot.consensus.questionnaire import count_questions, option_count
from bot.core.config import normalise_db_url
from bot.core.db import create_engine, create_sessionmaker, migrate
from bot.core.geo import REGIONS
from models.consensus import QuestionKind, Questionnaire, QuestionnaireAnswer
from models.member import Gender
from models.poll import new_token

RESPONDENTS = 10_000
RUNS = 9
CHUNK = 10_000
TARGET_MS = 200.0
KINDS = [
    QuestionKind.SCALE,
    QuestionKind.SINGLE,
    QuestionKind.MULTIPLE,
    QuestionKind.TEXT,
    QuestionKind.SCALE,
    QuestionKind.SINGLE,
    QuestionKind.MULTIPLE,
    QuestionKind.SCALE,
    QuestionKind.TEXT,
    QuestionKind.MULTIPLE,
]


def questions() -> list[dict[str, object]]:
    return [
        {
            "kind": kind,
            "text": f"Question {i + 1}",
            "options": [f"Option {n + 1}" for n in range(6)]
            if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE)
            else [],
        }
        for i, kind in enumerate(KINDS)
    ]


def rows(questionnaire_id: int, count: int) -> list[dict[str, object]]:
    """Every respondent answers every question; answers stored apart, as secret ones are."""
    rng = random.Random(5)
    genders = [*list(Gender), None]
    regions = [*REGIONS, None]
    out: list[dict[str, object]] = []
    asked = questions()
    for _ in range(count):
        region, gender = rng.choice(regions), rng.choice(genders)
        for number, question in enumerate(asked):
            kind = question["kind"]
            choices: int | None = None
            said: str | None = None
            if kind == QuestionKind.TEXT:
                said = rng.choice(("More meetings", "Less paperwork", "Good campaign"))
            elif kind == QuestionKind.MULTIPLE:
                picked = rng.sample(range(6), rng.choice((1, 2, 2, 3)))
                choices = sum(1 << i for i in picked)
            else:
                choices = 1 << rng.randrange(option_count(question))
            out.append(
                {
                    "id": new_token(),
                    "questionnaire_id": questionnaire_id,
                    "question": number,
                    "choices": choices,
                    "text": said,
                    "region": region,
                    "gender": gender,
                    "member_id": None,
                }
            )
    return out


async def prepare(url: str, count: int) -> int:
    await migrate(url)
    engine = create_engine(url)
    now = datetime.now(UTC)
    async with create_sessionmaker(engine)() as session:
        questionnaire = Questionnaire(
            locale="en",
            title="Benchmark",
            questions=questions(),
            anonymous=True,
            closes_at=now + timedelta(days=1),
            created_at=now,
        )
        session.add(questionnaire)
        await session.flush()
        data = rows(questionnaire.id, count)
        for start in range(0, len(data), CHUNK):
            await session.execute(insert(QuestionnaireAnswer), data[start : start + CHUNK])
        await session.commit()
        found = questionnaire.id
    async with engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
        await conn.commit()
    await engine.dispose()
    return found


async def measure(url: str, questionnaire_id: int) -> tuple[float, int]:
    engine = create_engine(url)
    timings = []
    answered = 0
    async with create_sessionmaker(engine)() as session:
        questionnaire = await session.get(Questionnaire, questionnaire_id)
        assert questionnaire is not None
        await count_questions(session, questionnaire)
        for _ in range(RUNS):
            start = time.perf_counter()
            tallies = await count_questions(session, questionnaire)
            timings.append((time.perf_counter() - start) * 1000)
            answered = max(t.total.voters for t in tallies if t is not None)
    await engine.dispose()
    return statistics.median(timings), answered


async def measure_all(count: int) -> list[tuple[str, float]]:
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
            median, answered = await measure(url, await prepare(url, count))
            figures.append((store, median))
            verdict = ""
            if store == "SQLite":
                verdict = " ok" if median <= TARGET_MS else " OVER TARGET"
            print(
                f"questionnaire: {store}, 10 questions × {answered:,} respondents: results of "
                f"every question with region and gender breakdowns: {median:.1f} ms (median of "
                f"{RUNS}; target ≤ {TARGET_MS:.0f} ms on SQLite){verdict}",
                flush=True,
            )
    if not pg:
        print("questionnaire: PostgreSQL skipped (set BENCH_DATABASE_URL to include it)")
    return figures


def run(argv: list[str] | None = None) -> int:
    """Entry point for `python -m bench questionnaire` (`--quick`: 1,000 respondents)."""
    ap = argparse.ArgumentParser(prog="python -m bench questionnaire", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="1,000 respondents")
    args, _rest = ap.parse_known_args(argv)
    figures = asyncio.run(measure_all(RESPONDENTS // 10 if args.quick else RESPONDENTS))
    return 0 if all(ms <= TARGET_MS for store, ms in figures if store == "SQLite") else 1


if __name__ == "__main__":
    raise SystemExit(run())
