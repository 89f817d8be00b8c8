"""Members' attention, end to end with the test clock: quiet hours in each member's own zone
(normal messages wait until morning, urgent ones go through), changed from /profile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.clock import FakeClock
from bot.delivery.attention import in_quiet_hours, next_digest, quiet_until
from bot.sandbox.telegram import FakeTelegram
from models.member import Member
from tests.botclient import BotClient
from tests.harness import RunningBot
from tests.meeting_helpers import (
    Network,
    eventually,
    network,
    settle,
    texts_with,
    wake_scheduler,
)

# 15:00 UTC: 23:00 in Manila, 12:00 in Montevideo, 17:00 in Cairo, 18:00 in Nairobi.
MANILA_23H = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)
MANILA_7H = datetime(2027, 3, 1, 23, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MANILA_23H)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"quiet_hours": True, "delivery_progress_seconds": 0.5}


def test_quiet_hours_wrap_past_midnight_and_end_in_the_members_zone() -> None:
    assert in_quiet_hours(datetime(2027, 3, 1, 23, 30), 22, 7)
    assert in_quiet_hours(datetime(2027, 3, 1, 6, 59), 22, 7)
    assert not in_quiet_hours(datetime(2027, 3, 1, 7, 0), 22, 7)
    assert in_quiet_hours(datetime(2027, 3, 1, 13, 0), 13, 15)
    assert not in_quiet_hours(datetime(2027, 3, 1, 13, 0), 13, 13)
    assert quiet_until("Asia/Manila", 22, 7, MANILA_23H) == MANILA_7H
    assert quiet_until("America/Montevideo", 22, 7, MANILA_23H) is None
    # New York springs forward on 14 March 2027: 07:00 local is 11:00 UTC that morning.
    night = datetime(2027, 3, 14, 6, 30, tzinfo=UTC)
    assert quiet_until("America/New_York", 22, 7, night) == datetime(
        2027, 3, 14, 11, 0, tzinfo=UTC
    )
    assert next_digest("Asia/Manila", 8, MANILA_23H) == datetime(2027, 3, 2, 0, 0, tzinfo=UTC)
    assert next_digest("Asia/Manila", 23, MANILA_23H) == datetime(2027, 3, 2, 15, 0, tzinfo=UTC)


async def send_announcement(coordinator: BotClient, text: str) -> None:
    """The coordinator writes and sends an announcement to the group by taps."""
    # Each tap on the message it belongs to: a poll report may arrive meanwhile.
    listing = await coordinator.send("/groups")
    card = await coordinator.click("⭐ Women and ESCR", with_button(listing, "⭐ Women and ESCR"))
    await coordinator.click("📣 Announcement", with_button(card, "📣 Announcement"))
    panel = await coordinator.send(text)
    await coordinator.click("✅ Send to the group", with_button(panel, "✅ Send to the group"))


def with_button(messages: list[dict[str, Any]], label: str) -> dict[str, Any]:
    """The message among `messages` that has the button `label`."""
    for message in reversed(messages):
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        if any(button.get("text") == label for row in rows for button in row):
            return message
    raise AssertionError(f"no message with the button {label!r}")


async def test_an_announcement_at_23h_in_manila_arrives_at_7h_there_and_at_once_elsewhere(
    bot: RunningBot, client: Any, fake: FakeTelegram, clock: FakeClock
) -> None:
    net = await network(bot, client)
    await send_announcement(net.coordinator, "Assembly on Friday.")

    await eventually(
        lambda: texts_with(net.montevideo, "Assembly") and texts_with(net.cairo, "Assembly")
    )
    progress = await eventually(
        lambda: [t for t in net.coordinator.texts() if "Held until morning" in t]
    )
    assert "🌙 Held until morning (quiet hours): 1" in progress[-1]
    await settle(fake)
    assert texts_with(net.manila, "Assembly") == [], "23:00 in Manila: it waits"

    clock.set(MANILA_7H - timedelta(minutes=1))
    await settle(fake, 1.5)
    assert texts_with(net.manila, "Assembly") == [], "06:59 in Manila: still waiting"

    clock.set(MANILA_7H)
    await eventually(lambda: texts_with(net.manila, "Assembly"), within=10)
    await eventually(lambda: any("has been sent" in t for t in net.coordinator.texts()))
    assert len(texts_with(net.manila, "Assembly")) == 1
    assert len(texts_with(net.montevideo, "Assembly")) == 1


async def test_a_meeting_reminder_within_the_hour_goes_through_quiet_hours(
    bot: RunningBot, client: Any, fake: FakeTelegram, clock: FakeClock
) -> None:
    from tests.test_meetings import announcement, schedule_directly

    clock.set(datetime(2027, 3, 1, 10, 0, tzinfo=UTC))  # 18:00 in Manila: nothing held
    net = await network(bot, client)
    start = datetime(2027, 3, 1, 15, 30, tzinfo=UTC)  # 23:30 in Manila
    await schedule_directly(bot, net, start, reminders=(60,))
    await net.manila.click_nth(0, await announcement(net.manila, "Strategy call"))

    clock.set(start - timedelta(minutes=59))  # 22:31 in Manila
    wake_scheduler(bot)
    await eventually(lambda: [m for m in net.manila.messages() if "⏰" in str(m.get("text"))])


async def test_quiet_hours_changed_from_the_profile_apply_to_the_next_message(
    bot: RunningBot, client: Any, fake: FakeTelegram, clock: FakeClock
) -> None:
    net = await network(bot, client)
    manila = net.manila  # French
    await manila.send("/profile")
    assert "Heures calmes : 22:00–07:00" in manila.last()["text"]
    await manila.click("🌙 Heures calmes et résumé")
    screen = manila.last()["text"]
    assert "Asia/Manila" in screen
    await manila.click("Fin à 06:00")
    assert "22:00–06:00" in manila.last()["text"]
    await manila.click("🔔 Désactiver les heures calmes")
    assert "Heures calmes : désactivées" in manila.last()["text"]

    async def stored(session: Any) -> tuple[bool, int, int]:
        m = await session.scalar(select(Member).where(Member.telegram_id == manila.user_id))
        return m.quiet_hours, m.quiet_start, m.quiet_end

    assert await bot.db(stored) == (False, 22, 6)
    await send_announcement(net.coordinator, "Assembly on Friday.")
    await eventually(lambda: texts_with(manila, "Assembly"))


async def test_forged_attention_buttons_change_nothing(
    bot: RunningBot, client: Any, fake: FakeTelegram, clock: FakeClock
) -> None:
    net = await network(bot, client)
    user: Network = net
    await user.manila.send("/profile")
    await user.manila.click("🌙 Heures calmes et résumé")
    for data in ("att:start:99999999999999999999", "att:end:22", "att:explode:1", "att:dhour:3"):
        await user.manila.press_data(data)
        assert user.manila.callback_answer()["show_alert"] is True

    async def stored(session: Any) -> tuple[bool, int, int, int | None]:
        m = await session.scalar(select(Member).where(Member.telegram_id == user.manila.user_id))
        return m.quiet_hours, m.quiet_start, m.quiet_end, m.digest_hour

    assert await bot.db(stored) == (True, 22, 7, None)


async def test_a_member_mutes_a_groups_announcements_without_leaving_it(
    bot: RunningBot, client: Any, fake: FakeTelegram, clock: FakeClock
) -> None:
    net = await network(bot, client)
    lucia = net.montevideo  # Spanish
    await lucia.send("/groups")
    await lucia.click("Mujeres y DESC")
    await lucia.click("🔕 Silenciar sus anuncios")
    card = lucia.last()
    assert "silenciado sus anuncios" in card["text"]
    assert "🔔 Volver a recibir sus anuncios" in lucia.buttons(card)

    await send_announcement(net.coordinator, "First assembly.")
    await eventually(lambda: texts_with(net.cairo, "First assembly"))
    await settle(fake)
    assert texts_with(lucia, "First assembly") == [], "muted: no announcement"

    async def link(session: Any) -> tuple[str, bool]:
        from models.group import GroupMembership

        m = await session.scalar(select(Member).where(Member.telegram_id == lucia.user_id))
        found = await session.scalar(
            select(GroupMembership).where(GroupMembership.member_id == m.id)
        )
        return found.status, found.muted

    assert await bot.db(link) == ("active", True), "still a member of the group"

    await lucia.click("🔔 Volver a recibir sus anuncios", card)
    assert "silenciado" not in lucia.last()["text"]
    await send_announcement(net.coordinator, "Second assembly.")
    await eventually(lambda: texts_with(lucia, "Second assembly"))


async def quick_poll(bot: RunningBot, creator: int, question: str, closes: datetime) -> int:
    """A poll to the group, stored and sent as the creation conversation would."""
    from bot.polls.jobs import launch_poll
    from bot.polls.service import Draft, save_poll
    from models.group import WorkingGroup

    assert bot.app is not None
    app = bot.app

    async def create(session: Any) -> int:
        member = await session.scalar(select(Member).where(Member.telegram_id == creator))
        group_id = await session.scalar(
            select(WorkingGroup.id).where(WorkingGroup.code == "women")
        )
        draft = Draft(
            locale="en",
            question=question,
            options=["Yes", "No"],
            group_ids=[group_id],
            closes_at=closes.isoformat(),
            remind_hours=None,
        )
        poll = await save_poll(session, draft, member, app.clock.now())
        await launch_poll(session, app, poll, member)
        await session.commit()
        return int(poll.id)

    result: int = await bot.db(create)
    return result


async def test_a_digest_member_gets_one_message_a_day_with_everything(
    bot: RunningBot, client: Any, fake: FakeTelegram, clock: FakeClock
) -> None:
    net = await network(bot, client)
    lucia = net.montevideo  # Spanish, 12:00 in Montevideo
    await lucia.send("/profile")
    await lucia.click("🌙 Horas de silencio y resumen")
    await lucia.click("📰 Recibir un resumen diario")
    assert "Resumen diario: todos los días a las 18:00" in lucia.last()["text"]
    seen = len(lucia.messages())

    await send_announcement(net.coordinator, "First assembly.")
    await send_announcement(net.coordinator, "Second assembly.")
    await quick_poll(
        bot, net.coordinator.user_id, "Join the march?", MANILA_23H + timedelta(days=3)
    )
    await quick_poll(bot, net.coordinator.user_id, "Lunch today?", MANILA_23H + timedelta(hours=2))
    await eventually(lambda: len(texts_with(net.cairo, "assembly")) == 2)
    await eventually(lambda: texts_with(net.cairo, "Join the march?"))
    await eventually(lambda: texts_with(lucia, "Lunch today?"))
    await settle(fake)
    new = lucia.messages()[seen:]
    assert len(new) == 1, "only the poll closing before the digest came at once"
    progress = await eventually(
        lambda: [t for t in net.coordinator.texts() if "In daily digests" in t]
    )
    assert "📰 In daily digests: 1" in progress[-1]

    # 18:00 in Montevideo: everything else, in one message with a button for the poll.
    clock.set(datetime(2027, 3, 1, 21, 0, tzinfo=UTC))
    wake_scheduler(bot)
    digest = await eventually(lambda: texts_with(lucia, "Tu resumen diario"))
    await settle(fake)
    assert len(lucia.messages()) == seen + 2
    text = digest[0]["text"]
    assert "First assembly." in text and "Second assembly." in text
    assert "Join the march?" in text and "Lunch today?" not in text
    assert text.count("📣 Mujeres y DESC") == 2
    assert lucia.buttons(digest[0]) == ["🗳 Join the march?"]
    await lucia.click("🗳 Join the march?", digest[0])
    assert "Join the march?" in lucia.last()["text"] and "1. Yes" in lucia.buttons()

    # The next day's announcement waits for the next digest; nothing comes in between.
    await send_announcement(net.coordinator, "Third assembly.")
    await settle(fake)  # 23:00 in Cairo: held there for quiet hours
    clock.set(datetime(2027, 3, 2, 20, 59, tzinfo=UTC))
    wake_scheduler(bot)
    await settle(fake)
    assert texts_with(lucia, "Third assembly") == []
    clock.set(datetime(2027, 3, 2, 21, 0, tzinfo=UTC))
    wake_scheduler(bot)
    await eventually(lambda: len(texts_with(lucia, "Tu resumen diario")) == 2)
    assert "Third assembly." in texts_with(lucia, "Tu resumen diario")[-1]["text"]


async def test_mydata_holds_the_settings_and_turning_the_digest_off_sends_what_waited(
    bot: RunningBot, client: Any, fake: FakeTelegram, clock: FakeClock
) -> None:
    import json

    net = await network(bot, client)
    lucia = net.montevideo
    await lucia.send("/profile")
    await lucia.click("🌙 Horas de silencio y resumen")
    await lucia.click("📰 Recibir un resumen diario")
    await lucia.click("Resumen a las 19:00")
    await lucia.click("Empezar a las 23:00")
    await lucia.send("/groups")
    await lucia.click("Mujeres y DESC")
    await lucia.click("🔕 Silenciar sus anuncios")

    reply = await lucia.send("/mydata")
    summary = next(m for m in reply if "text" in m)["text"]
    assert "Horas de silencio: 23:00–07:00" in summary
    assert "Resumen diario: todos los días a las 19:00" in summary
    document = next(m for m in reply if "document" in m)
    data = json.loads(fake.files[document["document"]["file_id"]].data)
    assert data["member"]["quiet_hours"] == {"from": "23:00", "until": "07:00"}
    assert data["member"]["daily_digest_at"] == "19:00"
    assert [m["announcements_muted"] for m in data["working_groups"]] == [True]

    card = next(m for m in lucia.messages() if "silenciado sus anuncios" in m.get("text", ""))
    await lucia.click("🔔 Volver a recibir sus anuncios", card)
    await send_announcement(net.coordinator, "Assembly on Friday.")
    await eventually(lambda: texts_with(net.cairo, "Assembly"))
    await settle(fake)
    assert texts_with(lucia, "Assembly") == [], "waiting for the 19:00 digest"
    await lucia.send("/profile")
    await lucia.click("🌙 Horas de silencio y resumen")
    await lucia.click("📨 Dejar el resumen diario")
    await eventually(lambda: texts_with(lucia, "Assembly"), within=10)
    assert not texts_with(lucia, "Tu resumen diario")


async def test_an_urgent_alert_goes_through_quiet_hours_and_a_normal_notice_waits(
    bot: RunningBot, client: Any, fake: FakeTelegram, clock: FakeClock
) -> None:
    from bot.delivery.notice import enqueue_notice
    from bot.delivery.queue import Priority

    net = await network(bot, client)

    async def alert(session: Any) -> None:
        await enqueue_notice(
            session, {"en": "Solidarity alert: a defender was detained."}, priority=Priority.URGENT
        )
        await enqueue_notice(session, {"en": "Newsletter of March."}, priority=Priority.BULK)
        await session.commit()

    await bot.db(alert)
    await eventually(lambda: texts_with(net.manila, "Solidarity alert"))
    await eventually(lambda: texts_with(net.montevideo, "Newsletter"))
    await settle(fake)
    assert texts_with(net.manila, "Newsletter") == [], "23:00 in Manila: the newsletter waits"
