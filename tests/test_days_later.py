"""Buttons pressed days later: Telegram sends the callback query with an InaccessibleMessage
(no text, no keyboard, date 0) and refuses to edit a message older than 48 hours. Every area
must still do the action and answer, with a new message where the old one can't change."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.clock import FakeClock
from bot.sandbox.telegram import FakeTelegram
from models.group import MembershipStatus
from models.meeting import Rsvp, RsvpAnswer
from models.member import Member, MemberStatus
from models.poll import AnonymousBallot, NamedVote, PollKind
from tests.botclient import BotClient
from tests.conftest import add_member, onboard
from tests.groupkit import make_group, membership_row
from tests.harness import RunningBot


async def member_row(bot: RunningBot, telegram_id: int) -> Member | None:
    return await bot.db(  # type: ignore[no-any-return]
        lambda s: s.scalar(select(Member).where(Member.telegram_id == telegram_id))
    )


def no_error(fake: FakeTelegram, user: BotClient) -> None:
    """The person never saw the polite error of the last safety net."""
    answers = [str(c.params.get("text", "")) for c in fake.calls_to("answerCallbackQuery")]
    seen = user.texts() + answers
    assert not any("something went wrong" in text for text in seen), seen


async def test_the_fake_sends_an_inaccessible_message_and_refuses_old_edits(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    user = client(7001, "Ana")
    await user.send("/start")
    keyboard = user.last()
    await user.press_later("English", days=3)
    [update] = [
        u for u in fake.calls_to("getUpdates") for u in (u.result or []) if "callback_query" in u
    ]
    assert update["callback_query"]["message"] == {
        "chat": fake.messages(user.chat_id)[0]["chat"],
        "message_id": keyboard["message_id"],
        "date": 0,
    }
    refused = [
        c for c in fake.calls if c.method.startswith("editMessage") and c.chat_id == user.chat_id
    ]
    assert refused and all(
        not c.ok and "message can't be edited" in str(c.error) for c in refused
    ), fake.format_calls()
    assert "✓ English" in user.buttons(keyboard), "a 3-day-old keyboard can't be removed"


async def test_onboarding_and_profile_buttons_pressed_days_later(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    user = client(7002, "Ana")
    await user.send("/start")
    keyboard = user.last()
    reply = await user.press_later("English", days=2)
    assert "What this bot does" in reply[-1]["text"]
    assert reply[-1]["message_id"] != keyboard["message_id"], "the question comes anew"
    await user.click_nth(0)  # Accept
    await user.click_nth(0)  # Keep name
    await user.send("Uruguay")
    reply = await user.press_later("Uruguay", days=2)
    assert any("Country: Uruguay" in m.get("text", "") for m in reply), reply
    await user.click_nth(-1)  # Skip organisation
    await user.press_later("Prefer not to say", days=2)
    row = await member_row(bot, 7002)
    assert row is not None and row.country == "UY" and row.status == MemberStatus.PENDING

    await bot.db(lambda s: _activate(s, 7002))
    await user.send("/profile")
    reply = await user.press_later("Gender", days=5)
    assert reply and "Prefer not to say" in user.buttons(), reply
    no_error(fake, user)


async def _activate(session: Any, telegram_id: int) -> None:
    row = await session.scalar(select(Member).where(Member.telegram_id == telegram_id))
    row.status = MemberStatus.ACTIVE
    await session.commit()


async def test_groups_list_card_and_join_pressed_days_later(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    bea = await add_member(bot, 7010, "Bea")
    women = await make_group(bot)
    user = client(7010, "Bea")
    await user.send("/groups")
    listing = user.last()
    reply = await user.press_later("Women and ESCR", listing, days=2)
    card = reply[-1]
    assert card["message_id"] != listing["message_id"], "the card comes as a new message"
    assert "Women and ESCR" in card["text"] and "➕ Join" in user.buttons(card)
    await user.press_later("➕ Join", card, days=3)
    assert any("You joined Women and ESCR" in t for t in user.texts()), user.texts()
    link = await membership_row(bot, women, bea.id)
    assert link is not None and link.status == MembershipStatus.ACTIVE
    no_error(fake, user)


class TestPolls:
    @pytest.fixture
    def clock(self) -> FakeClock:
        from tests.test_polls import NOW

        return FakeClock(NOW)

    async def test_a_vote_on_a_two_day_old_poll_is_counted(
        self, bot: RunningBot, client: Any, fake: FakeTelegram, clock: FakeClock
    ) -> None:
        from datetime import timedelta

        from tests.test_poll_flows import count, quick_poll
        from tests.test_polls import (
            COORDINATOR,
            NOW,
            eventually,
            has_text,
            network,
            poll_message,
        )

        await network(bot, fake)
        named = await quick_poll(
            bot,
            COORDINATOR,
            question="Where do we meet in 2027?",
            kind=PollKind.SINGLE,
            options=["Montevideo", "Nairobi", "Online"],
            anonymous=False,
            closes_at=NOW + timedelta(days=7),
        )
        secret = await quick_poll(
            bot,
            COORDINATOR,
            question="Do we adopt the budget?",
            kind=PollKind.CONSENT,
            closes_at=NOW + timedelta(days=7),
        )
        joy = client(600_203, "Joy", language_code="en")
        await eventually(lambda: has_text(fake, 600_203, "Where do we meet in 2027?"))
        await eventually(lambda: has_text(fake, 600_203, "Do we adopt the budget?"))
        clock.advance(timedelta(days=2))

        old = poll_message(fake, 600_203, "Where do we meet")
        await joy.press_later("2. Nairobi", old, days=2)
        assert "counted" in str(joy.callback_answer())
        assert await count(bot, NamedVote, named) == 1
        fresh = poll_message(fake, 600_203, "Where do we meet")
        assert fresh["message_id"] != old["message_id"], "the answered poll comes anew"
        assert "Your answer: Nairobi" in fresh["text"]

        await joy.press_later("👍 Agree", poll_message(fake, 600_203, "adopt the budget"), days=2)
        assert "counted" in str(joy.callback_answer())
        assert await count(bot, AnonymousBallot, secret) == 1
        no_error(fake, joy)


class TestMeetings:
    @pytest.fixture
    def clock(self) -> FakeClock:
        from tests.meeting_helpers import NOW

        return FakeClock(NOW)

    async def test_a_reply_to_an_old_invitation_is_saved(
        self, bot: RunningBot, client: Any, fake: FakeTelegram
    ) -> None:
        from tests.meeting_helpers import network
        from tests.test_meetings import announcement, schedule_directly

        net = await network(bot, client)
        await schedule_directly(bot, net)
        invitation = await announcement(net.cairo, "Strategy call")
        maybe = net.cairo.buttons(invitation)[1]
        await net.cairo.press_later(maybe, invitation, days=4)
        assert str((net.cairo.callback_answer() or {}).get("text", "")).strip()
        rows = list(await bot.db(lambda s: s.scalars(select(Rsvp))))
        assert [row.answer for row in rows] == [RsvpAnswer.MAYBE]
        no_error(fake, net.cairo)


class TestAdmins:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"admin_ids": [7020]}

    async def test_an_admin_approves_a_request_days_later(
        self, bot: RunningBot, client: Any, fake: FakeTelegram
    ) -> None:
        admin = client(7020, "Maria")
        await onboard(admin, language="✓ English")
        kofi = client(7021, "Kofi")
        await onboard(kofi, language="✓ English", country="Kenya")
        request = admin.last()
        assert "Kofi" in request["text"]
        reply = await admin.press_later("✅ Approve", request, days=3)
        assert any("Kofi was approved" in m.get("text", "") for m in reply), reply
        assert "approved" in kofi.last()["text"]
        row = await member_row(bot, 7021)
        assert row is not None and row.status == MemberStatus.ACTIVE
        no_error(fake, admin)


async def test_an_announcement_panel_used_days_later(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    from tests.groupkit import add_to_group

    chat = -1009876543210
    fake.add_group(chat, "Women chat")
    fake.set_bot_admin(chat)
    carla = await add_member(bot, 7030, "Carla")
    group = await make_group(bot, chat_id=chat, chat_title="Women chat")
    await add_to_group(bot, group, carla, coordinator=True)
    fake.add_user(7031, "Reader", language_code="en")
    await add_to_group(bot, group, await add_member(bot, 7031))
    coordinator = client(7030, "Carla")
    await coordinator.send("/groups")
    await coordinator.click("⭐ Women and ESCR")
    await coordinator.click("📣 Announcement")
    panel = (await coordinator.send("Assembly on Friday at 15:00."))[-1]
    reply = await coordinator.press_later("💬 Also in the group chat", panel, days=3)
    fresh = reply[-1]
    assert fresh["message_id"] != panel["message_id"], "the old panel can't change: a new one"
    assert "Also posted in the group chat: yes" in fresh["text"]
    await coordinator.press_later("✅ Send to the group", fresh, days=1)
    deadline = asyncio.get_running_loop().time() + 15
    while not any("Assembly on Friday" in str(m.get("text")) for m in fake.messages(7031)):
        assert asyncio.get_running_loop().time() < deadline, fake.messages(7031)
        await asyncio.sleep(0.05)
    assert any("Assembly on Friday" in str(m.get("text")) for m in fake.messages(chat))
    no_error(fake, coordinator)
