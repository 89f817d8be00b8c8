"""The delivery engine end to end, through the fake Bot API server and the real bot."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.delivery.notice import enqueue_notice
from bot.delivery.queue import Outgoing, Priority, RenderContext, enqueue_broadcast
from bot.delivery.sender import DeliveryService, engine_of
from bot.sandbox.telegram import ApiCall, FakeTelegram
from models.delivery import Broadcast, Delivery, DeliveryStatus
from models.member import Member
from tests.conftest import add_member
from tests.harness import RunningBot

GREETINGS = {
    "en": "Meeting moved to Friday",
    "es": "La reunión pasa al viernes",
    "fr": "La réunion est déplacée à vendredi",
    "pt": "A reunião passa para sexta-feira",
    "ar": "نُقل الاجتماع إلى يوم الجمعة",
}
LOCALES = list(GREETINGS)
FAST = {
    "delivery_progress_seconds": 1.0,
    "delivery_retry_seconds": 0.1,
    "delivery_lease_seconds": 2.0,
    "delivery_poll_seconds": 0.2,
    "scheduler_poll_seconds": 0.2,
}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return dict(FAST)


async def eventually(check: Callable[[], Any], within: float = 15.0) -> Any:
    """Wait until `check()` (sync or async) is truthy, or fail with what it last returned."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s (last: {result!r})")
        await asyncio.sleep(0.05)


async def members(
    bot: RunningBot, fake: FakeTelegram, count: int, start: int = 5000, **kwargs: Any
) -> list[int]:
    """`count` active members who started the bot, in the five languages in turn."""
    ids = []
    for i in range(count):
        locale = LOCALES[i % len(LOCALES)]
        user_id = start + i
        fake.add_user(user_id, f"Member {i}", language_code=locale)
        await add_member(bot, user_id, f"Member {i}", locale=locale, **kwargs)
        ids.append(user_id)
    return ids


async def statuses(bot: RunningBot, broadcast_id: int) -> dict[str, int]:
    """How many deliveries of the broadcast are in each status."""

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


async def settled(bot: RunningBot, broadcast_id: int) -> dict[str, int]:
    """Wait until nothing of the broadcast is pending or being sent; return the counts."""

    async def done() -> dict[str, int] | None:
        counts = await statuses(bot, broadcast_id)
        open_ = counts.get(DeliveryStatus.PENDING, 0) + counts.get(DeliveryStatus.SENDING, 0)
        return None if open_ else counts

    result: dict[str, int] = await eventually(done, within=30)
    return result


async def queue(bot: RunningBot, fn: Callable[[Any], Any]) -> Broadcast:
    """Queue a broadcast in a session of the bot's own (as a handler would) and commit."""

    async def go(session: Any) -> Broadcast:
        broadcast = await fn(session)
        await session.commit()
        return broadcast

    result: Broadcast = await bot.db(go)
    return result


def engine(bot: RunningBot) -> DeliveryService:
    assert bot.app is not None
    service = engine_of(bot.app)
    assert service is not None
    return service


def sends(fake: FakeTelegram, chat_id: int | None = None) -> list[ApiCall]:
    """Successful sendMessage calls (optionally to one chat)."""
    return [c for c in fake.calls_to("sendMessage", chat_id) if c.ok]


async def test_broadcast_arrives_once_in_each_members_language(
    bot: RunningBot, fake: FakeTelegram
) -> None:
    chats = await members(bot, fake, 45)
    broadcast = await queue(bot, lambda s: enqueue_notice(s, GREETINGS))
    assert broadcast.total == 45

    counts = await settled(bot, broadcast.id)
    assert counts == {DeliveryStatus.SENT: 45}
    for i, chat_id in enumerate(chats):
        texts = [m["text"] for m in fake.messages(chat_id)]
        assert texts == [GREETINGS[LOCALES[i % 5]]], (chat_id, texts)

    async def message_ids(session: Any) -> list[int | None]:
        rows = await session.scalars(
            select(Delivery.message_id).where(Delivery.broadcast_id == broadcast.id)
        )
        return list(rows)

    assert all(isinstance(mid, int) for mid in await bot.db(message_ids))
    assert fake.violations == []
    # 45 messages at 30/s: the limit is used, not exceeded.
    assert fake.max_sends_in_window(1.0) <= 30


async def test_a_429_pauses_all_sending_for_retry_after(
    bot: RunningBot, fake: FakeTelegram
) -> None:
    chats = await members(bot, fake, 12)
    fake.inject_429(1, retry_after=2)
    broadcast = await queue(bot, lambda s: enqueue_notice(s, GREETINGS))
    await settled(bot, broadcast.id)

    refused = next(c for c in fake.calls_to("sendMessage") if c.status == 429)
    later = [c for c in fake.calls_to("sendMessage") if c.started > refused.at]
    assert later, "nothing was sent after the 429"
    assert min(c.started for c in later) >= refused.at + 2 - 0.05, "sent during retry_after"
    for chat_id in chats:
        assert len(fake.messages(chat_id)) == 1
    assert fake.violations == []


async def test_blocked_member_is_marked_skipped_and_back_after_start(
    bot: RunningBot, fake: FakeTelegram, client: Any
) -> None:
    chats = await members(bot, fake, 6)
    blocked = chats[2]
    fake.block(blocked)
    first = await queue(bot, lambda s: enqueue_notice(s, GREETINGS))
    counts = await settled(bot, first.id)
    assert counts == {DeliveryStatus.SENT: 5, DeliveryStatus.UNREACHABLE: 1}

    async def member(session: Any) -> Member:
        found: Member = await session.scalar(select(Member).where(Member.telegram_id == blocked))
        return found

    assert (await bot.db(member)).unreachable_at is not None

    attempts = len(fake.calls_to("sendMessage", blocked))
    second = await queue(bot, lambda s: enqueue_notice(s, GREETINGS))
    assert second.total == 5
    await settled(bot, second.id)
    assert len(fake.calls_to("sendMessage", blocked)) == attempts  # not even tried

    fake.unblock(blocked)
    user = client(blocked, "Member 2", language_code="fr")
    await user.send("/start")
    assert (await bot.db(member)).unreachable_at is None
    third = await queue(bot, lambda s: enqueue_notice(s, GREETINGS))
    assert third.total == 6
    await settled(bot, third.id)
    assert [m["text"] for m in fake.messages(blocked)][-1] == GREETINGS["fr"]


async def test_blocking_and_unblocking_in_telegram_updates_reachability(
    bot: RunningBot, fake: FakeTelegram
) -> None:
    [chat] = await members(bot, fake, 1)

    async def unreachable(session: Any) -> bool:
        found = await session.scalar(select(Member).where(Member.telegram_id == chat))
        return found.unreachable_at is not None

    fake.block(chat, notify=True)
    await eventually(lambda: bot.db(unreachable))
    fake.unblock(chat, notify=True)
    await eventually(lambda: _not(bot.db(unreachable)))


async def _not(result: Any) -> bool:
    return not await result


async def test_bad_request_is_recorded_as_failed_with_its_description(
    bot: RunningBot, fake: FakeTelegram
) -> None:
    chats = await members(bot, fake, 2)
    broadcast = await queue(
        bot, lambda s: enqueue_notice(s, GREETINGS, recipients=[], chat_ids=[-100999])
    )
    counts = await settled(bot, broadcast.id)
    assert counts == {DeliveryStatus.FAILED: 1}

    async def error(session: Any) -> str:
        row = await session.scalar(select(Delivery).where(Delivery.broadcast_id == broadcast.id))
        return str(row.error)

    assert await bot.db(error) == "Bad Request: chat not found"
    assert all(fake.messages(c) == [] for c in chats)


async def test_server_errors_are_retried_with_backoff_then_given_up(
    bot: RunningBot, fake: FakeTelegram
) -> None:
    [chat] = await members(bot, fake, 1)
    fake.fail_next(2, 502, "Bad Gateway", methods={"sendMessage"})
    broadcast = await queue(bot, lambda s: enqueue_notice(s, GREETINGS))
    assert await settled(bot, broadcast.id) == {DeliveryStatus.SENT: 1}
    tries = fake.calls_to("sendMessage", chat)
    assert [c.status for c in tries] == [502, 502, 200]
    assert tries[1].started - tries[0].at >= 0.1  # backoff, doubling
    assert tries[2].started - tries[1].at >= 0.2

    fake.fail_next(10, 500, methods={"sendMessage"})
    doomed = await queue(bot, lambda s: enqueue_notice(s, GREETINGS))
    assert await settled(bot, doomed.id) == {DeliveryStatus.FAILED: 1}
    assert len(fake.calls_to("sendMessage", chat)) == 3 + 5  # DELIVERY_MAX_ATTEMPTS
    assert len(fake.messages(chat)) == 1


async def test_urgent_goes_ahead_of_bulk_already_queued(
    bot: RunningBot, fake: FakeTelegram
) -> None:
    bulk_chats = await members(bot, fake, 150, start=6000)
    urgent_chats = await members(bot, fake, 5, start=9000)
    bulk = await queue(
        bot,
        lambda s: enqueue_notice(
            s,
            GREETINGS,
            recipients=select(Member.id).where(Member.telegram_id < 9000),
            priority=Priority.BULK,
        ),
    )
    await eventually(lambda: len(sends(fake)) >= 20)
    queued_at = time.monotonic()
    urgent = await queue(
        bot,
        lambda s: enqueue_notice(
            s,
            GREETINGS,
            recipients=select(Member.id).where(Member.telegram_id >= 9000),
            priority=Priority.URGENT,
        ),
    )
    await settled(bot, urgent.id)
    await settled(bot, bulk.id)
    urgent_times = [c.started for c in sends(fake) if c.chat_id in urgent_chats]
    bulk_times = [c.started for c in sends(fake) if c.chat_id in bulk_chats]
    assert len(urgent_times) == 5 and len(bulk_times) == 150
    overtaken = [t for t in bulk_times if t > max(urgent_times)]
    assert len(overtaken) >= 60, "urgent deliveries waited behind the bulk ones"
    # Only what was already in the engine's hands (about two seconds' worth) went first.
    went_first = [t for t in bulk_times if queued_at < t < min(urgent_times)]
    assert len(went_first) <= engine(bot).high_water
    assert fake.violations == []


async def test_each_chat_gets_one_message_a_second(bot: RunningBot, fake: FakeTelegram) -> None:
    chats = await members(bot, fake, 3)

    async def three_parts(ctx: RenderContext) -> list[Outgoing]:
        return [Outgoing(text=ctx._("Part {n}").format(n=n)) for n in (1, 2, 3)]

    engine(bot).renderers["three-parts"] = three_parts
    broadcast = await queue(
        bot,
        lambda s: enqueue_broadcast(
            s, kind="three-parts", payload={}, recipients=select(Member.id)
        ),
    )
    await settled(bot, broadcast.id)
    for chat_id in chats:
        assert [m["text"] for m in fake.messages(chat_id)] == ["Part 1", "Part 2", "Part 3"]
        times = [c.started for c in sends(fake, chat_id)]
        assert all(b - a >= 0.95 for a, b in itertools.pairwise(times)), times
    assert fake.violations == []


async def test_group_chat_gets_at_most_its_share_per_minute(
    bot: RunningBot, fake: FakeTelegram
) -> None:
    # The fake's group window shrunk to 6 s: 2 per 6 s is the same pace as 20 a minute.
    fake.group_window, fake.group_limit = 6.0, 2
    fake.add_group(-100500, "Women and ESCR")

    async def parts(ctx: RenderContext) -> list[Outgoing]:
        return [Outgoing(text=f"Minutes, page {n}") for n in (1, 2, 3)]

    engine(bot).renderers["minutes"] = parts
    broadcast = await queue(
        bot,
        lambda s: enqueue_broadcast(
            s, kind="minutes", payload={}, recipients=[], chat_ids=[-100500]
        ),
    )
    await settled(bot, broadcast.id)
    times = [c.started for c in sends(fake, -100500)]
    assert len(times) == 3
    assert times[2] - times[0] >= 6.0
    assert fake.violations == []


async def test_renderer_skip_and_failure_are_recorded(bot: RunningBot, fake: FakeTelegram) -> None:
    chats = await members(bot, fake, 3)

    async def picky(ctx: RenderContext) -> list[Outgoing] | None:
        if ctx.chat_id == chats[0]:
            return None
        if ctx.chat_id == chats[1]:
            raise RuntimeError("poll was deleted")
        return [Outgoing(text="for you")]

    engine(bot).renderers["picky"] = picky
    broadcast = await queue(
        bot,
        lambda s: enqueue_broadcast(s, kind="picky", payload={}, recipients=select(Member.id)),
    )
    counts = await settled(bot, broadcast.id)
    assert counts == {
        DeliveryStatus.SKIPPED: 1,
        DeliveryStatus.FAILED: 1,
        DeliveryStatus.SENT: 1,
    }
    assert [len(fake.messages(c)) for c in chats] == [0, 0, 1]


async def test_dedupe_key_queues_a_broadcast_once(bot: RunningBot, fake: FakeTelegram) -> None:
    [chat] = await members(bot, fake, 1)
    first = await queue(bot, lambda s: enqueue_notice(s, GREETINGS, dedupe_key="reminder:7"))
    again = await queue(bot, lambda s: enqueue_notice(s, GREETINGS, dedupe_key="reminder:7"))
    assert again.id == first.id
    await settled(bot, first.id)
    await asyncio.sleep(0.3)
    assert len(fake.messages(chat)) == 1


async def test_documents_are_uploaded_once_then_sent_by_file_id(
    bot: RunningBot, fake: FakeTelegram
) -> None:
    chats = await members(bot, fake, 3)

    async def agenda(ctx: RenderContext) -> list[Outgoing]:
        return [Outgoing(document=("agenda.txt", b"1. Welcome"), caption=ctx._("Agenda"))]

    engine(bot).renderers["agenda"] = agenda
    broadcast = await queue(
        bot,
        lambda s: enqueue_broadcast(s, kind="agenda", payload={}, recipients=select(Member.id)),
    )
    await settled(bot, broadcast.id)
    assert len([u for u in fake.uploads if u.filename == "agenda.txt"]) == 1
    for chat_id in chats:
        [message] = fake.messages(chat_id)
        assert message["document"]["file_name"] == "agenda.txt"


async def test_coordinator_sees_progress_then_a_summary_in_their_language(
    bot: RunningBot, fake: FakeTelegram
) -> None:
    await members(bot, fake, 100)
    coordinator = 4242
    fake.add_user(coordinator, "Amina", language_code="es")
    boss = await add_member(bot, coordinator, "Amina", locale="es", status="active")
    broadcast = await queue(
        bot,
        lambda s: enqueue_notice(
            s,
            GREETINGS,
            recipients=select(Member.id).where(Member.id != boss.id),
            created_by_id=boss.id,
            progress_chat_id=coordinator,
        ),
    )
    await settled(bot, broadcast.id)
    summary = await eventually(lambda: _summary(fake, coordinator), within=10)
    assert "Tu mensaje se ha enviado" in summary["text"]
    assert "Entregados: 100 de 100" in summary["text"]
    assert "Inalcanzables: 0 · Fallidos: 0" in summary["text"]
    # One status message while sending (edited, not repeated), then only the summary is left.
    statuses_sent = [c for c in sends(fake, coordinator) if "Enviando" in c.params["text"]]
    assert len(statuses_sent) == 1
    edits = [c for c in fake.calls_to("editMessageText", coordinator) if c.ok]
    assert edits, "the status message was never updated"
    stamps = [statuses_sent[0].started] + [c.started for c in edits]
    assert all(b - a >= 0.9 for a, b in itertools.pairwise(stamps)), stamps
    assert "Tiempo restante" in edits[0].params["text"]
    assert [m["text"] for m in fake.messages(coordinator)] == [summary["text"]]

    async def kept_chat(session: Any) -> int | None:
        row = await session.get(Broadcast, broadcast.id)
        return row.progress_chat_id if row else None

    async def forgotten() -> bool:
        return await bot.db(kept_chat) is None

    await eventually(forgotten)
    assert fake.violations == []


def _summary(fake: FakeTelegram, chat_id: int) -> dict[str, Any] | None:
    last = fake.last_message(chat_id)
    return last if last and "Tu mensaje se ha enviado" in last.get("text", "") else None


async def test_members_unreachable_or_erased_are_not_messaged(
    bot: RunningBot, fake: FakeTelegram, client: Any
) -> None:
    chats = await members(bot, fake, 3)

    async def mark(session: Any) -> None:
        member = await session.scalar(select(Member).where(Member.telegram_id == chats[0]))
        member.unreachable_at = bot.clock.now() - timedelta(days=1)
        await session.commit()

    await bot.db(mark)
    broadcast = await queue(bot, lambda s: enqueue_notice(s, GREETINGS))
    assert broadcast.total == 2
    await settled(bot, broadcast.id)
    assert fake.messages(chats[0]) == []


async def test_without_run_delivery_the_polling_process_sends_nothing(
    fake: FakeTelegram, backend: dict[str, Any], clock: Any
) -> None:
    from tests.harness import make_settings

    settings = make_settings(fake, backend["db_url"], backend["redis_url"], run_delivery=False)
    running = RunningBot(settings, clock)
    await running.start()
    try:
        assert running.app is not None and running.app.services == []
        fake.add_user(777, "Solo")
        await add_member(running, 777, "Solo")
        broadcast = await queue(running, lambda s: enqueue_notice(s, GREETINGS))
        await asyncio.sleep(0.5)
        assert fake.messages(777) == []
        assert (await statuses(running, broadcast.id)) == {DeliveryStatus.PENDING: 1}
    finally:
        await running.stop()


async def test_member_erased_mid_send_does_not_stall_the_engine(
    bot: RunningBot, fake: FakeTelegram
) -> None:
    chats = await members(bot, fake, 2)
    release = asyncio.Event()
    rendering = asyncio.Event()

    async def slow(ctx: RenderContext) -> list[Outgoing]:
        rendering.set()
        await release.wait()
        return [Outgoing(text="hello")]

    engine(bot).renderers["slow"] = slow
    await queue(
        bot, lambda s: enqueue_broadcast(s, kind="slow", payload={}, recipients=select(Member.id))
    )
    await asyncio.wait_for(rendering.wait(), 5)

    async def erase(session: Any) -> None:
        from models.member import delete_member

        member = await session.scalar(select(Member).where(Member.telegram_id == chats[0]))
        await delete_member(session, member)
        await session.commit()

    await bot.db(erase)  # its delivery row goes with it while the engine holds it
    release.set()
    await eventually(lambda: fake.messages(chats[1]))
    # The engine is still writing outcomes and sending.
    later = await queue(bot, lambda s: enqueue_notice(s, GREETINGS))
    assert await settled(bot, later.id) == {DeliveryStatus.SENT: 1}


async def test_long_finished_broadcasts_and_jobs_are_erased(
    bot: RunningBot, fake: FakeTelegram, clock: Any
) -> None:
    from bot.delivery.scheduler import schedule, scheduler_of
    from models.job import Job

    await members(bot, fake, 2)
    old = await queue(bot, lambda s: enqueue_notice(s, GREETINGS))
    recent = await queue(bot, lambda s: enqueue_notice(s, GREETINGS))
    await settled(bot, old.id)
    await settled(bot, recent.id)

    async def finished(session: Any) -> bool:
        rows = await session.scalars(select(Broadcast.finished_at))
        return all(row is not None for row in rows)

    await eventually(lambda: bot.db(finished))

    async def age(session: Any) -> None:
        row = await session.get(Broadcast, old.id)
        row.finished_at = row.finished_at - timedelta(days=61)
        await schedule(session, kind="x", due_at=clock.now(), payload={}, key="old-job")
        job = await session.scalar(select(Job).where(Job.key == "old-job"))
        job.status, job.finished_at = "done", clock.now() - timedelta(days=61)
        await session.commit()

    await bot.db(age)
    assert bot.app is not None
    await engine(bot)._prune()
    scheduler = scheduler_of(bot.app)
    assert scheduler is not None
    await scheduler._prune()

    async def left(session: Any) -> tuple[list[int], set[int], list[str]]:
        broadcasts = list(await session.scalars(select(Broadcast.id)))
        deliveries = set(await session.scalars(select(Delivery.broadcast_id)))
        jobs = list(await session.scalars(select(Job.key)))
        return broadcasts, deliveries, jobs

    assert await bot.db(left) == ([recent.id], {recent.id}, [])
