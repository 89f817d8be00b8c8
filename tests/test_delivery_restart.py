"""Crash and restart: the real bot as a child process, killed (SIGKILL) or stopped (SIGTERM)
mid-broadcast and started again, sends the rest; nothing is lost, duplicates obey the policy."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from bot.core.db import create_engine, create_sessionmaker, migrate
from bot.delivery.notice import enqueue_notice
from bot.sandbox.telegram import FakeTelegram
from models.delivery import Delivery, DeliveryStatus
from models.member import Member
from tests.harness import BotProcess

LATENCY = 0.2
LEASE = 1.0
FLUSH = 0.1  # an outcome commit, with margin
RATE = 30.0
FIRST = 30_000
TEXTS = {"en": "Assembly on Friday", "es": "Asamblea el viernes", "ar": "الجمعية يوم الجمعة"}


def env_for(fake: FakeTelegram, backend: dict[str, Any]) -> dict[str, str]:
    env = {
        "BOT_TOKEN": fake.token,
        "TELEGRAM_API_URL": fake.base_url,
        "DATABASE_URL": backend["db_url"],
        "DELIVERY_LEASE_SECONDS": str(LEASE),
        "DELIVERY_POLL_SECONDS": "0.2",
        "SEND_RATE_GLOBAL": str(RATE),
        "ADMIN_IDS": "",
        # Deliveries at any hour of the real clock (quiet hours are tested with the test clock).
        "QUIET_HOURS": "false",
    }
    if backend["redis_url"]:
        env["REDIS_URL"] = backend["redis_url"]
    return env


async def prepare(fake: FakeTelegram, db_url: str, count: int) -> tuple[list[int], int]:
    """`count` members who started the bot, and one notice queued to them all."""
    await migrate(db_url)
    engine = create_engine(db_url)
    chats = [FIRST + i for i in range(count)]
    for chat in chats:
        fake.add_user(chat, f"Member {chat}")
    try:
        async with create_sessionmaker(engine)() as session:
            await session.execute(
                insert(Member),
                [
                    {
                        "telegram_id": chat,
                        "display_name": f"Member {chat}",
                        "locale": ("en", "es", "ar")[chat % 3],
                        "country": "UY",
                        "status": "active",
                        "role": "member",
                    }
                    for chat in chats
                ],
            )
            broadcast = await enqueue_notice(session, TEXTS)
            await session.commit()
            return chats, broadcast.id
    finally:
        await engine.dispose()


async def open_and_sent(db_url: str, broadcast_id: int) -> tuple[int, int]:
    """Deliveries still pending/sending, and deliveries sent, as the store says."""
    engine = create_engine(db_url)
    try:
        async with create_sessionmaker(engine)() as session:
            rows = await session.execute(
                select(Delivery.status, func.count())
                .where(Delivery.broadcast_id == broadcast_id)
                .group_by(Delivery.status)
            )
            counts = dict(rows.all())
    finally:
        await engine.dispose()
    pending = counts.get(DeliveryStatus.PENDING, 0) + counts.get(DeliveryStatus.SENDING, 0)
    return pending, counts.get(DeliveryStatus.SENT, 0)


async def senders(db_url: str, broadcast_id: int) -> set[str]:
    """The workers that sent the broadcast's deliveries."""
    engine = create_engine(db_url)
    try:
        async with create_sessionmaker(engine)() as session:
            rows = await session.scalars(
                select(Delivery.claimed_by).where(Delivery.broadcast_id == broadcast_id).distinct()
            )
            return {str(row) for row in rows}
    finally:
        await engine.dispose()


def received(fake: FakeTelegram, chats: list[int]) -> Counter[int]:
    """How many copies of the notice each member got."""
    texts = set(TEXTS.values())
    return Counter(
        {chat: sum(m.get("text") in texts for m in fake.messages(chat)) for chat in chats}
    )


async def wait_for(predicate: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def notice_sends(fake: FakeTelegram) -> list[Any]:
    texts = set(TEXTS.values())
    return [c for c in fake.calls_to("sendMessage") if c.ok and c.params.get("text") in texts]


async def test_kill_9_mid_broadcast_then_restart_delivers_everyone(
    fake: FakeTelegram, backend: dict[str, Any]
) -> None:
    fake.latency = LATENCY
    chats, broadcast_id = await prepare(fake, backend["db_url"], 90)
    env = env_for(fake, backend)

    first = BotProcess(env, "run")
    await first.start()
    await wait_for(lambda: len(notice_sends(fake)) >= 30, 30, "30 sends before the crash")
    await first.kill()
    killed_at = time.monotonic()
    before_crash = {c.chat_id for c in notice_sends(fake)}
    assert len(before_crash) < len(chats), "the broadcast finished before the kill"

    second = BotProcess(env, "run")
    await second.start()
    await wait_for(
        lambda: len(received(fake, chats)) == 90 and min(received(fake, chats).values()) >= 1,
        60,
        "every member to get the notice",
    )
    await asyncio.sleep(LEASE + 1)  # a late duplicate would show up by now
    err = await second.terminate()
    assert b"Traceback" not in err, err.decode()[-3000:]

    copies = received(fake, chats)
    assert set(copies) == set(chats) and min(copies.values()) == 1  # nobody skipped
    duplicated = [chat for chat, n in copies.items() if n > 1]
    assert all(copies[chat] == 2 for chat in duplicated)
    # Policy: at-least-once only for sends whose outcome the crash hid -- those in flight at
    # the kill or finished within the last outcome flush before it. Nothing earlier repeats.
    first_send = {}
    for call in notice_sends(fake):
        first_send.setdefault(call.chat_id, call)
    window = LATENCY + FLUSH + 0.3
    for chat in duplicated:
        assert first_send[chat].started >= killed_at - window - LATENCY, chat
    assert len(duplicated) <= (window + LATENCY) * RATE
    assert await open_and_sent(backend["db_url"], broadcast_id) == (0, 90)
    assert fake.violations == []


async def test_sigterm_mid_broadcast_then_restart_sends_nothing_twice(
    fake: FakeTelegram, backend: dict[str, Any]
) -> None:
    fake.latency = LATENCY
    chats, broadcast_id = await prepare(fake, backend["db_url"], 90)
    env = env_for(fake, backend)

    # The worker sub-command: the engine alone, as deployed at scale.
    first = BotProcess(env, "worker")
    await first.start()
    await wait_for(lambda: len(notice_sends(fake)) >= 30, 30, "30 sends before the stop")
    err = await first.terminate()
    assert b"Traceback" not in err, err.decode()[-3000:]
    assert len({c.chat_id for c in notice_sends(fake)}) < len(chats)

    second = BotProcess(env, "worker")
    await second.start()
    await wait_for(lambda: len(notice_sends(fake)) >= 90, 60, "every member to get the notice")
    await asyncio.sleep(LEASE + 1)
    await second.terminate()
    copies = received(fake, chats)
    assert copies == Counter(dict.fromkeys(chats, 1))
    assert await open_and_sent(backend["db_url"], broadcast_id) == (0, 90)
    assert fake.violations == []


async def test_two_workers_never_send_the_same_delivery(
    fake: FakeTelegram, backend: dict[str, Any]
) -> None:
    if backend["name"] != "postgres":
        pytest.skip("several workers need PostgreSQL (row locks with SKIP LOCKED)")
    fake.latency = 0.05
    chats, broadcast_id = await prepare(fake, backend["db_url"], 120)
    # Two workers share Telegram's 30/s: each gets half.
    env = {**env_for(fake, backend), "SEND_RATE_GLOBAL": str(RATE / 2)}
    workers = [BotProcess(env, "worker"), BotProcess(env, "worker")]
    for worker in workers:
        await worker.start()
    await wait_for(lambda: len(notice_sends(fake)) >= 120, 60, "every member to get it")
    await asyncio.sleep(0.5)
    for worker in workers:
        err = await worker.terminate()
        assert b"Traceback" not in err, err.decode()[-3000:]
    assert received(fake, chats) == Counter(dict.fromkeys(chats, 1))
    assert await open_and_sent(backend["db_url"], broadcast_id) == (0, 120)
    assert len(await senders(backend["db_url"], broadcast_id)) == 2, "one worker did it all"
    assert fake.violations == []


@pytest.mark.parametrize("command", ["run", "worker"])
async def test_repeated_sigterm_stops_send_nothing_twice_and_lose_nothing(
    fake: FakeTelegram, backend: dict[str, Any], command: str
) -> None:
    """Stopped again and again mid-broadcast (SIGTERM), every outcome in hand is written and
    every transaction ends cleanly: each member gets exactly one copy."""
    fake.latency = LATENCY
    chats, broadcast_id = await prepare(fake, backend["db_url"], 150)
    env = env_for(fake, backend)
    for stop in range(5):
        process = BotProcess(env, command)
        await process.start()
        target = min(len(chats), 20 * (stop + 1))
        await wait_for(lambda n=target: len(notice_sends(fake)) >= n, 30, f"{target} sends")
        err = await process.terminate()
        assert b"Traceback" not in err, err.decode()[-3000:]
        assert b"Exception during reset" not in err, err.decode()[-3000:]
        assert b"could not record" not in err, err.decode()[-3000:]
    last = BotProcess(env, command)
    await last.start()
    await wait_for(lambda: len(notice_sends(fake)) >= len(chats), 60, "every member")
    await asyncio.sleep(LEASE + 1)  # a late duplicate would show up by now
    await last.terminate()
    assert received(fake, chats) == Counter(dict.fromkeys(chats, 1))
    assert await open_and_sent(backend["db_url"], broadcast_id) == (0, len(chats))
    assert fake.violations == []
