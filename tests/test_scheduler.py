"""The persistent scheduler: jobs run once when due, survive restarts, expire, get replaced."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.clock import FakeClock
from bot.delivery.scheduler import JobContext, Scheduler, cancel_jobs, schedule, scheduler_of
from bot.sandbox.telegram import FakeTelegram
from models.job import Job, JobStatus
from tests.harness import RunningBot
from tests.test_delivery import FAST, eventually


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return dict(FAST)


def scheduler(bot: RunningBot) -> Scheduler:
    assert bot.app is not None
    found = scheduler_of(bot.app)
    assert found is not None
    return found


def recorder(bot: RunningBot, runs: list[dict[str, Any]], kind: str = "test") -> None:
    """Register a handler that notes each run (and writes to the store in the job's session)."""

    async def handler(ctx: JobContext) -> None:
        runs.append(dict(ctx.job.payload))

    scheduler(bot).handlers[kind] = handler


async def plan(bot: RunningBot, **kwargs: Any) -> Job:
    async def go(session: Any) -> Job:
        job = await schedule(session, **kwargs)
        await session.commit()
        return job

    result: Job = await bot.db(go)
    return result


async def job_row(bot: RunningBot, key: str) -> Job:
    async def read(session: Any) -> Job:
        found: Job = await session.scalar(select(Job).where(Job.key == key))
        return found

    result: Job = await bot.db(read)
    return result


async def test_job_runs_once_when_due_and_not_before(bot: RunningBot, clock: FakeClock) -> None:
    runs: list[dict[str, Any]] = []
    recorder(bot, runs)
    await plan(
        bot, kind="test", due_at=clock.now() + timedelta(hours=2), payload={"n": 1}, key="t:1"
    )
    assert await scheduler(bot).run_due() == 0
    assert runs == []
    clock.advance(timedelta(hours=2, seconds=1))
    await eventually(lambda: runs)
    assert runs == [{"n": 1}]
    assert (await job_row(bot, "t:1")).status == JobStatus.DONE
    clock.advance(timedelta(days=1))
    scheduler(bot).wake()
    assert await scheduler(bot).run_due() == 0
    assert runs == [{"n": 1}]


async def test_job_survives_a_restart_and_runs_once(bot: RunningBot, clock: FakeClock) -> None:
    await plan(bot, kind="test", due_at=clock.now() + timedelta(minutes=30), payload={}, key="t:r")
    await bot.restart()
    runs: list[dict[str, Any]] = []
    recorder(bot, runs)
    clock.advance(timedelta(minutes=31))
    await eventually(lambda: runs)
    await bot.restart()
    recorder(bot, runs)
    scheduler(bot).wake()
    assert await scheduler(bot).run_due() == 0
    assert len(runs) == 1


async def test_job_past_not_after_is_expired_not_run(bot: RunningBot, clock: FakeClock) -> None:
    runs: list[dict[str, Any]] = []
    recorder(bot, runs)
    now = clock.now()
    await plan(
        bot,
        kind="test",
        due_at=now + timedelta(minutes=10),
        not_after=now + timedelta(minutes=15),
        payload={},
        key="t:late",
    )
    await bot.stop()  # the bot is down while the job falls due and its window closes
    clock.advance(timedelta(minutes=20))
    await bot.start()
    recorder(bot, runs)
    await eventually(lambda: _status_is(bot, "t:late", JobStatus.EXPIRED))
    assert runs == []


async def _status_is(bot: RunningBot, key: str, status: str) -> bool:
    return (await job_row(bot, key)).status == status


async def test_scheduling_the_same_key_replaces_the_job(bot: RunningBot, clock: FakeClock) -> None:
    runs: list[dict[str, Any]] = []
    recorder(bot, runs)
    now = clock.now()
    first = await plan(
        bot, kind="test", due_at=now + timedelta(hours=1), payload={"v": 1}, key="meeting:9"
    )
    second = await plan(
        bot, kind="test", due_at=now + timedelta(hours=3), payload={"v": 2}, key="meeting:9"
    )
    assert second.id == first.id and second.revision == first.revision + 1

    async def count(session: Any) -> int:
        return len(list(await session.scalars(select(Job).where(Job.key == "meeting:9"))))

    assert await bot.db(count) == 1
    clock.advance(timedelta(hours=2))
    scheduler(bot).wake()
    assert await scheduler(bot).run_due() == 0
    assert runs == []
    clock.advance(timedelta(hours=1, seconds=1))
    await eventually(lambda: runs)
    assert runs == [{"v": 2}]


async def test_a_done_job_can_be_scheduled_again(bot: RunningBot, clock: FakeClock) -> None:
    runs: list[dict[str, Any]] = []
    recorder(bot, runs)
    await plan(bot, kind="test", due_at=clock.now(), payload={"n": 1}, key="again")
    await eventually(lambda: len(runs) == 1)
    await plan(bot, kind="test", due_at=clock.now(), payload={"n": 2}, key="again")
    await eventually(lambda: len(runs) == 2)
    assert runs == [{"n": 1}, {"n": 2}]


async def test_cancel_by_key_prefix(bot: RunningBot, clock: FakeClock) -> None:
    runs: list[dict[str, Any]] = []
    recorder(bot, runs)
    due = clock.now() + timedelta(hours=1)
    for key in ("meeting:5:reminder:24h", "meeting:5:reminder:1h", "meeting:50:reminder:1h"):
        await plan(bot, kind="test", due_at=due, payload={"key": key}, key=key)

    async def cancel(session: Any) -> int:
        count = await cancel_jobs(session, "meeting:5:")
        await session.commit()
        return count

    assert await bot.db(cancel) == 2
    clock.advance(timedelta(hours=2))
    await eventually(lambda: runs)
    assert runs == [{"key": "meeting:50:reminder:1h"}]
    assert (await job_row(bot, "meeting:5:reminder:1h")).status == JobStatus.CANCELLED


async def test_failing_job_is_retried_then_marked_failed(
    bot: RunningBot, clock: FakeClock
) -> None:
    calls: list[int] = []

    async def flaky(ctx: JobContext) -> None:
        calls.append(ctx.job.attempts)
        await schedule(
            ctx.session,
            kind="x",
            due_at=clock.now() + timedelta(days=1),
            payload={},
            key=f"side-effect:{len(calls)}",
        )
        if len(calls) < 3:
            raise RuntimeError("the meeting service is down")

    scheduler(bot).handlers["flaky"] = flaky
    await plan(bot, kind="flaky", due_at=clock.now(), payload={}, key="flaky:1")
    await eventually(lambda: _status_is(bot, "flaky:1", JobStatus.DONE))
    assert calls == [1, 2, 3]

    async def side_effects(session: Any) -> list[str]:
        rows = await session.scalars(select(Job.key).where(Job.key.startswith("side-effect:")))
        return sorted(rows)

    # The failed runs' writes were rolled back with them: only the successful run's remains.
    assert await bot.db(side_effects) == ["side-effect:3"]

    token = bot.settings.bot_token.get_secret_value()

    async def always(ctx: JobContext) -> None:
        raise RuntimeError(f"still down at /bot{token}/sendMessage")

    scheduler(bot).handlers["always"] = always
    await plan(bot, kind="always", due_at=clock.now(), payload={}, key="always:1")
    await eventually(lambda: _status_is(bot, "always:1", JobStatus.FAILED), within=20)
    job = await job_row(bot, "always:1")
    assert job.attempts == 5 and "still down" in (job.last_error or "")
    assert token not in (job.last_error or "") and "<redacted>" in (job.last_error or "")


async def test_unknown_kind_fails_without_retrying(bot: RunningBot, clock: FakeClock) -> None:
    await plan(bot, kind="nobody-handles-this", due_at=clock.now(), payload={}, key="orphan")
    await eventually(lambda: _status_is(bot, "orphan", JobStatus.FAILED))
    assert (await job_row(bot, "orphan")).attempts == 1


async def test_naive_due_time_is_refused(bot: RunningBot) -> None:
    from datetime import datetime

    async def go(session: Any) -> None:
        await schedule(session, kind="test", due_at=datetime(2030, 1, 1), payload={}, key="n")

    with pytest.raises(ValueError, match="timezone-aware"):
        await bot.db(go)


async def test_scheduled_notice_reaches_members_once_across_restarts(
    bot: RunningBot, clock: FakeClock, fake: FakeTelegram
) -> None:
    from bot.delivery.notice import schedule_notice
    from tests.test_delivery import GREETINGS, members

    chats = await members(bot, fake, 5)

    async def go(session: Any) -> None:
        await schedule_notice(
            session, GREETINGS, key="notice:assembly", due_at=clock.now() + timedelta(hours=1)
        )
        await session.commit()

    await bot.db(go)
    await bot.restart()
    assert await scheduler(bot).run_due() == 0
    clock.advance(timedelta(hours=1, seconds=1))
    await eventually(lambda: all(len(fake.messages(c)) == 1 for c in chats))
    await bot.restart()
    clock.advance(timedelta(hours=1))
    scheduler(bot).wake()
    await fake.settle(quiet=0.5)
    assert [len(fake.messages(c)) for c in chats] == [1] * 5
    assert fake.messages(chats[1])[0]["text"] == GREETINGS["es"]
