"""The delivery engine end to end: broadcasts reach every member once, in their language."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from bot.notice import enqueue_notice
from models.delivery import Broadcast, Delivery, DeliveryStatus
from tests.conftest import add_member
from tests.fake_telegram import FakeTelegram
from tests.harness import RunningBot

GREETINGS = {
    "en": "Meeting moved to Friday",
    "es": "La reunión pasa al viernes",
    "fr": "La réunion est déplacée à vendredi",
    "pt": "A reunião passa para sexta-feira",
    "ar": "نُقل الاجتماع إلى يوم الجمعة",
}


async def eventually(check: Callable[[], Any], within: float = 15.0) -> None:
    """Wait until `check()` is truthy (polling), or fail with what it last returned."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s (last: {result!r})")
        await asyncio.sleep(0.05)


async def members(bot: RunningBot, fake: FakeTelegram, count: int, start: int = 5000) -> list[int]:
    """`count` active members who started the bot, in the five languages in turn."""
    ids = []
    for i in range(count):
        locale = list(GREETINGS)[i % len(GREETINGS)]
        user_id = start + i
        fake.add_user(user_id, f"Member {i}", language_code=locale)
        await add_member(bot, user_id, f"Member {i}", locale=locale)
        ids.append(user_id)
    return ids


async def statuses(bot: RunningBot, broadcast_id: int) -> dict[str, int]:
    async def read(session: Any) -> dict[str, int]:
        rows = await session.scalars(
            select(Delivery.status).where(Delivery.broadcast_id == broadcast_id)
        )
        counts: dict[str, int] = {}
        for status in rows:
            counts[status] = counts.get(status, 0) + 1
        return counts

    result: dict[str, int] = await bot.db(read)
    return result


async def queue_notice(bot: RunningBot, **kwargs: Any) -> Broadcast:
    async def go(session: Any) -> Broadcast:
        broadcast = await enqueue_notice(session, GREETINGS, **kwargs)
        await session.commit()
        return broadcast

    result: Broadcast = await bot.db(go)
    return result


async def test_broadcast_arrives_once_in_each_members_language(
    bot: RunningBot, fake: FakeTelegram
) -> None:
    chats = await members(bot, fake, 40)
    broadcast = await queue_notice(bot)
    assert broadcast.total == 40

    await eventually(lambda: len(fake.calls_to("sendMessage")) >= 40)
    await eventually(lambda: _all_sent(bot, broadcast.id, 40))
    for i, chat_id in enumerate(chats):
        texts = [m["text"] for m in fake.messages(chat_id)]
        expected = GREETINGS[list(GREETINGS)[i % 5]]
        assert len(texts) == 1, (chat_id, texts)
        assert texts[0].lstrip("\u200f") == expected
    assert fake.violations == []


async def _all_sent(bot: RunningBot, broadcast_id: int, total: int) -> bool:
    counts = await statuses(bot, broadcast_id)
    return counts.get(DeliveryStatus.SENT, 0) == total


async def test_scheduled_notice_runs_once_when_due(
    bot: RunningBot, fake: FakeTelegram, clock: Any
) -> None:
    from datetime import timedelta

    from bot.notice import schedule_notice
    from models.job import Job, JobStatus

    chats = await members(bot, fake, 3, start=7000)

    async def plan(session: Any) -> None:
        await schedule_notice(
            session, GREETINGS, key="notice:test", due_at=clock.now() + timedelta(hours=1)
        )
        await session.commit()

    await bot.db(plan)
    await asyncio.sleep(0.5)
    assert all(fake.messages(chat) == [] for chat in chats)
    clock.advance(timedelta(hours=1, seconds=1))
    await eventually(lambda: all(len(fake.messages(chat)) == 1 for chat in chats))

    async def job_status(session: Any) -> str:
        job = await session.scalar(select(Job).where(Job.key == "notice:test"))
        return str(job.status)

    assert await bot.db(job_status) == JobStatus.DONE
