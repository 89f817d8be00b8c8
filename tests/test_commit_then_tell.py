"""Commit first, then tell: what a member is told has happened is in the store before they are
told, a stale tap does not undo it, a broadcast never written to its recipients can be sent
again, and the error alert speaks the member's language."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.groups.announcements import Draft, send_announcement
from bot.sandbox.telegram import QUERY_TOO_OLD, FakeTelegram
from models.delivery import Broadcast, Delivery
from models.group import get_group
from tests.conftest import add_member
from tests.groupkit import add_to_group, make_group
from tests.harness import RunningBot
from tests.test_announcements import eventually, texts_of


async def coordinator_with_readers(bot: RunningBot, fake: FakeTelegram, base: int) -> int:
    """A group with a coordinator (base, a reader too) and two readers (base+1, base+2)."""
    carla = await add_member(bot, base, "Carla")
    group = await make_group(bot)
    await add_to_group(bot, group, carla, coordinator=True)
    for user_id in (base + 1, base + 2):
        fake.add_user(user_id, f"Reader {user_id}")
        await add_to_group(bot, group, await add_member(bot, user_id))
    return group


async def stored(bot: RunningBot) -> tuple[int, int]:
    """(broadcasts, deliveries) in the store."""

    async def read(session: Any) -> tuple[int, int]:
        broadcasts = await session.scalar(select(func.count()).select_from(Broadcast))
        deliveries = await session.scalar(select(func.count()).select_from(Delivery))
        return int(broadcasts or 0), int(deliveries or 0)

    return await bot.db(read)


async def test_a_stale_tap_on_send_still_sends_and_the_coordinator_is_told(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    await coordinator_with_readers(bot, fake, 8300)
    coordinator = client(8300, "Carla")
    await coordinator.send("/groups")
    await coordinator.click("⭐ Women and ESCR")
    await coordinator.click("📣 Announcement")
    await coordinator.send("Assembly on Friday.")

    # Telegram refuses the answer to the tap (it came too late): the work is already
    # committed, so the members get it and the coordinator is told so, not "went wrong".
    fake.fail_next(1, 400, f"Bad Request: {QUERY_TOO_OLD}", {"answerCallbackQuery"})
    await coordinator.click("✅ Send to the group")
    await eventually(lambda: texts_of(fake, 8301) and texts_of(fake, 8302))
    assert any("Sending now (recipients: 3)" in t for t in coordinator.texts())
    assert not any("went wrong" in t for t in coordinator.texts())
    assert await stored(bot) == (1, 3)
    await eventually(lambda: any("has been sent" in t for t in coordinator.texts()))


async def test_a_broadcast_stored_without_recipients_does_not_block_the_retry(
    bot: RunningBot, fake: FakeTelegram
) -> None:
    """A store written before transactions were whole on SQLite may hold an announcement
    with its dedupe key and no recipient: sending the same draft again must queue it."""
    group_id = await coordinator_with_readers(bot, fake, 8400)
    draft = Draft(group_id=group_id, token="t1", main="en", texts={"en": "Hello"})
    key = f"announcement:{group_id}:t1"

    async def broken(session: Any) -> None:
        session.add(Broadcast(kind="announcement", payload={}, dedupe_key=key, status="done"))
        await session.commit()

    await bot.db(broken)

    async def send_again(session: Any) -> tuple[bool, int]:
        group = await get_group(session, group_id)
        broadcast, new = await send_announcement(
            session, draft, group, author_id=1, author_chat_id=8400
        )
        await session.commit()
        return new, broadcast.total

    assert await bot.db(send_again) == (True, 3)
    assert await stored(bot) == (1, 3)
    await eventually(lambda: texts_of(fake, 8401) and texts_of(fake, 8402))
    # Now it has its recipients: a third tap queues nothing more.
    assert await bot.db(send_again) == (False, 3)


async def test_the_error_alert_is_in_the_members_language(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    # Telegram's language says English; the member chose Spanish in the bot.
    await add_member(bot, 8500, "Sofía", locale="es")
    sofia = client(8500, "Sofía", language_code="en")
    fake.fail_next(1, 500, "Internal Server Error", {"sendMessage"})
    await sofia.send("/groups")
    assert any("algo falló de nuestro lado" in t for t in sofia.texts()), sofia.texts()


async def test_the_final_summary_arrives_after_telegram_refused_it_once(
    bot: RunningBot, fake: FakeTelegram
) -> None:
    from bot.delivery.notice import enqueue_notice

    fake.add_user(8600, "Carla")
    fake.add_user(8601, "Reader")
    await add_member(bot, 8600, "Carla")
    reader = await add_member(bot, 8601)

    async def queue(session: Any) -> None:
        await enqueue_notice(
            session, {"en": "Hello"}, recipients=[reader.id], progress_chat_id=8600
        )
        await session.commit()

    await bot.db(queue)
    await eventually(lambda: texts_of(fake, 8601))
    # Telegram fails the next send (the summary): it is owed still and sent again.
    fake.fail_next(1, 500, "Internal Server Error", {"sendMessage"})
    await eventually(lambda: any("has been sent" in t for t in texts_of(fake, 8600)))
    await fake.settle(quiet=0.5)
    summaries = [t for t in texts_of(fake, 8600) if "has been sent" in t]
    assert len(summaries) == 1 and "Delivered: 1 of 1" in summaries[0]
    failed = [c for c in fake.calls_to("sendMessage") if not c.ok and c.chat_id == 8600]
    assert failed, "the refusal hit the summary"
