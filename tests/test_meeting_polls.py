"""End to end: "find a date" shows each member the slots in their own zone, the coordinator
sees the best slots and turns one into the meeting in one tap; members' answers are exportable
and erasable."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.clock import FakeClock
from bot.sandbox.telegram import FakeTelegram
from models.meeting import DatePoll, Meeting, MeetingStatus
from models.member import Member
from tests.harness import RunningBot
from tests.meeting_helpers import (
    NOW,
    Network,
    calendar_files,
    eventually,
    network,
    open_managed,
    texts_with,
)
from tests.test_privacy import row_counts_mentioning


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


async def propose_dates(net: Network) -> None:
    """Three slots typed in Nairobi time: 16:00 on the 10th, 09:00 on the 11th, 20:00 on the
    12th (13:00, 06:00 and 17:00 UTC)."""
    c = net.coordinator
    await c.send("/newmeeting")
    await c.send("Planning day")
    await c.click("Skip")
    await c.click("Continue ▶")
    await c.click("🗓 Find a date with the group")
    await c.send("10/03/2027 16:00")
    assert "Propose at least two times" in c.last()["text"]
    await c.send("11/03/2027 9am")
    await c.send("12/03/2027 20:00")
    assert "3. Friday 12 March 2027, 20:00" in c.last()["text"]
    await c.click("✅ Done")
    await c.click("2 hours")
    await c.click("Skip")
    await c.send("Casa de la Cultura")
    await c.click("Continue ▶")
    preview = c.last()["text"]
    assert "Find a date" in preview and "Montevideo" in preview
    await c.click("✅ Send the poll (recipients: 4)")


async def poll_message(user: Any, needle: str) -> dict[str, Any]:
    found = await eventually(lambda: texts_with(user, needle))
    return found[0]  # type: ignore[no-any-return]


async def test_find_a_date_in_each_zone_and_schedule_the_best_slot(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    net = await network(bot, client)
    await propose_dates(net)

    lucia = (await poll_message(net.montevideo, "Planning day"))["text"]
    assert "1. miércoles 10 marzo 2027, 10:00" in lucia
    assert "2. jueves 11 marzo 2027, 03:00" in lucia
    assert "3. viernes 12 marzo 2027, 14:00" in lucia
    maria = (await poll_message(net.manila, "Planning day"))["text"]
    assert "1. mercredi 10 mars 2027, 21:00" in maria
    assert "3. samedi 13 mars 2027, 01:00" in maria  # the next day in Manila
    omar = (await poll_message(net.cairo, "Planning day"))["text"]
    assert "15:00" in omar and "08:00" in omar and "19:00" in omar and "UTC+02:00" in omar

    answers = {
        net.montevideo: ("1 ✅", "2 ❌", "3 ✅"),
        net.cairo: ("1 🤔", "2 ✅", "3 ✅"),
        net.manila: ("1 ✅", "2 ✅", "3 ❌"),
    }
    for user, taps in answers.items():
        message = await poll_message(user, "Planning day")
        for tap in taps:
            await user.click(tap, message)
    redrawn = net.montevideo.messages()[-1]["text"].split("\n")
    assert next(line for line in redrawn if line.startswith("1.")).endswith("— ✅ Sí")
    assert next(line for line in redrawn if line.startswith("2.")).endswith("— ❌ No")
    assert "⏱ 2 horas" in redrawn

    c = net.coordinator
    await open_managed(c, "Planning day")
    summary = texts_with(c, "Answered:")[-1]["text"]
    assert "Answered: 3 of 4 invited." in summary
    first = summary.index("⭐ 1. Wednesday 10 March 2027, 16:00")
    second = summary.index("2. Thursday 11 March 2027, 09:00")
    third = summary.index("3. Friday 12 March 2027, 20:00")
    assert first < second < third
    assert "✅ 2: Lucía, Maria\n   🤔 1: Omar\n   ❌ 0: —" in summary
    assert c.buttons()[0] == "📅 Schedule: 10 Mar, 16:00"

    await c.click("📅 Schedule: 10 Mar, 16:00")
    await eventually(lambda: texts_with(c, "Scheduled for Wednesday 10 March 2027, 16:00"))
    invitation = await eventually(lambda: texts_with(net.manila, "Casa de la Cultura")[1:])
    assert "21:00" in invitation[0]["text"]
    calendar = await eventually(lambda: calendar_files(fake, net.cairo))
    start = calendar[0].walk("VEVENT")[0].decoded("dtstart")
    assert start == datetime(2027, 3, 10, 13, 0, tzinfo=UTC)

    # the poll is closed now
    await net.montevideo.click("1 ❌", await poll_message(net.montevideo, "Planning day"))
    assert "cerr" in (net.montevideo.callback_answer() or {}).get("text", "")

    async def stored(session: Any) -> tuple[str, bool]:
        meeting = await session.scalar(select(Meeting))
        poll = await session.scalar(select(DatePoll))
        return meeting.status, poll.is_open

    assert await bot.db(stored) == (MeetingStatus.SCHEDULED, False)


async def test_answers_are_in_mydata_and_forget_erases_them(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    net = await network(bot, client)
    await propose_dates(net)
    await net.montevideo.click("2 🤔", await poll_message(net.montevideo, "Planning day"))
    c = net.coordinator
    await open_managed(c, "Planning day")
    await c.click("📅 Schedule: 10 Mar, 16:00")
    invitation = await eventually(lambda: texts_with(net.montevideo, "Casa de la Cultura")[1:])
    await net.montevideo.click_nth(1, invitation[0])

    reply = await net.montevideo.send("/mydata")
    assert "Respuestas a reuniones: 1" in reply[0]["text"]
    document = next(m for m in reply if "document" in m)
    data = json.loads(fake.files[document["document"]["file_id"]].data)
    assert data["meeting_replies"][0]["answer"] == "maybe"
    assert data["meeting_replies"][0]["meeting"] == "Planning day"
    assert data["date_poll_answers"][0]["answer"] == "if_need_be"
    assert data["date_poll_answers"][0]["slot"].startswith("2027-03-11T06:00")

    member = await bot.db(
        lambda s: s.scalar(select(Member).where(Member.telegram_id == net.montevideo.user_id))
    )
    assert await row_counts_mentioning(bot, member.id, net.montevideo.user_id)
    await net.montevideo.send("/forget")
    await net.montevideo.click_nth(0)
    assert await row_counts_mentioning(bot, member.id, net.montevideo.user_id) == {}


async def test_a_coordinator_who_forgets_leaves_no_trace(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    net = await network(bot, client)
    await propose_dates(net)
    c = net.coordinator
    await open_managed(c, "Planning day")
    await c.click("📅 Schedule: 10 Mar, 16:00")
    await eventually(lambda: texts_with(net.cairo, "Casa de la Cultura")[1:])
    member = await bot.db(
        lambda s: s.scalar(select(Member).where(Member.telegram_id == c.user_id))
    )
    await c.send("/forget")
    await c.click("Yes, erase everything")
    assert await row_counts_mentioning(bot, member.id, c.user_id) == {}
    meeting = await bot.db(lambda s: s.scalar(select(Meeting)))
    assert meeting.created_by_id is None and meeting.status == MeetingStatus.SCHEDULED
