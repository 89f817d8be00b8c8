"""End to end: bad dates, daylight-saving traps, stale buttons and people who may not act get a
clear, translated answer, and nothing half-made is stored or sent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.core.clock import FakeClock
from bot.core.i18n import RLM
from bot.meetings.callbacks import RsvpCb
from bot.sandbox.telegram import FakeTelegram
from models.meeting import Meeting
from tests.harness import RunningBot
from tests.meeting_helpers import NOW, Network, eventually, network, texts_with
from tests.test_meetings import START, announcement, schedule_directly


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


async def to_date_step(net: Network) -> None:
    c = net.coordinator
    await c.send("/newmeeting")
    await c.send("Legal clinic")
    await c.click("Skip")
    await c.click("Continue ▶")
    await c.click("📅 I know the date and time")


async def meetings_stored(bot: RunningBot) -> int:
    return int(await bot.db(lambda s: s.scalar(select(func.count()).select_from(Meeting))))


async def test_only_coordinators_and_admins_schedule_and_manage(
    bot: RunningBot, client: Any
) -> None:
    net = await network(bot, client)
    reply = await net.montevideo.send("/newmeeting")
    assert "Solo" in reply[0]["text"] and "coordin" in reply[0]["text"]
    reply = await net.cairo.send("/newmeeting")
    assert reply[0]["text"].startswith(RLM)
    reply = await net.montevideo.send("/meetings")
    assert "Nueva reunión" not in str(reply[0].get("reply_markup"))
    await net.montevideo.press_data("nm:preview:send:")
    assert (net.montevideo.callback_answer() or {}).get("text")
    assert await meetings_stored(bot) == 0

    meeting_id = await schedule_directly(bot, net)
    await net.montevideo.press_data(f"mm:cancel_ok:{meeting_id}:")
    refusal = (net.montevideo.callback_answer() or {}).get("text", "")
    assert "Solo quienes coordinan el grupo" in refusal
    await net.montevideo.press_data(f"mtg:manage:{meeting_id}")
    assert "Solo quienes coordinan el grupo" in (net.montevideo.callback_answer() or {})["text"]
    meeting = await bot.db(lambda s: s.get(Meeting, meeting_id))
    assert meeting.status == "scheduled"


async def test_unparsable_past_and_incomplete_dates(bot: RunningBot, client: Any) -> None:
    net = await network(bot, client)
    await to_date_step(net)
    c = net.coordinator
    reply = await c.send("sometime next week")
    assert "could not read that date" in reply[0]["text"]
    reply = await c.send("15 March")
    assert "add the start time" in reply[0]["text"]
    reply = await c.send("31/04/2027 10:00")
    assert "does not exist in the calendar" in reply[0]["text"]
    reply = await c.send("01/02/2027 10:00")
    assert "already passed" in reply[0]["text"]
    assert "Monday 1 March 2027, 15:00" in reply[0]["text"]
    reply = await c.send("two hours")
    assert "could not read" in reply[0]["text"]
    reply = await c.send(sticker=True)
    assert "text message" in reply[0]["text"]
    await c.send("15/03/2027 10:00")
    reply = await c.send("two hours")  # the duration step expects a tap
    assert "use the buttons" in reply[0]["text"]
    assert "1 hour" in c.buttons()


async def test_daylight_saving_gap_and_overlap_in_a_named_zone(
    bot: RunningBot, client: Any
) -> None:
    net = await network(bot, client)
    await to_date_step(net)
    c = net.coordinator
    await c.click("🌍 Another time zone")
    reply = await c.send("nowhereville")
    assert "No time zone matches" in reply[0]["text"]
    for folder in ("America", "Etc", "Europe/"):  # folders of the tz database, not zones
        reply = await c.send(folder)
        assert "went wrong" not in reply[0]["text"], folder
        assert "No time zone matches" in reply[0]["text"] or c.buttons(reply[-1]), folder
        assert folder not in c.buttons(reply[-1])
    await c.send("Paris")
    await c.click("Paris (UTC+01:00)")
    assert "Paris" in c.last()["text"]

    reply = await c.send("28/03/2027 02:30")
    text = reply[0]["text"]
    assert "does not exist" in text and "clocks jump forward" in text and "03:30" in text

    reply = await c.send("31/10/2027 02:30")
    assert "happens twice" in reply[0]["text"]
    assert c.buttons() == [
        "First 31 Oct, 02:30 (UTC+02:00)",
        "Second 31 Oct, 02:30 (UTC+01:00)",
    ]
    await c.click("Second 31 Oct, 02:30 (UTC+01:00)")
    start = texts_with(c, "Start: Sunday 31 October 2027, 02:30")
    assert start and "UTC+01:00" in start[-1]["text"]
    await c.click("1 hour")
    await c.click("Skip")
    reply = await c.click("Skip")
    assert "link or a place" in (c.callback_answer() or {}).get("text", "")
    await c.send("Salle 3")
    await c.click("Continue ▶")
    preview = c.last()["text"]
    # the second 02:30 in Paris is 01:30 UTC: 09:30 in Manila, the furthest clock
    assert "Manila (UTC+08:00)" in preview and "Sunday 31 October 2027, 09:30" in preview


async def test_back_cancel_and_stale_buttons(bot: RunningBot, client: Any) -> None:
    net = await network(bot, client)
    await to_date_step(net)
    c = net.coordinator
    date_question = c.last()
    await c.send("15/03/2027 10:00")
    duration_question = c.last()
    await c.click("◀ Back")
    assert "Send the date and start time" in c.last()["text"]
    await c.press_data("nm:duration:set:60", duration_question)
    assert "no longer valid" in (c.callback_answer() or {}).get("text", "")
    await c.send("16/03/2027 10:00")
    await c.click("1 hour")
    await c.click("◀ Back")
    assert "How long" in c.last()["text"]
    await c.click("✖ Cancel")
    assert "nothing was sent" in c.last()["text"]
    await c.click("◀ Back", date_question)
    assert "no longer valid" in (c.callback_answer() or {}).get("text", "")
    reply = await c.send("Legal clinic")
    assert "didn't understand" in reply[0]["text"]
    assert await meetings_stored(bot) == 0


async def test_replies_refused_when_cancelled_started_or_not_invited(
    bot: RunningBot, client: Any, fake: FakeTelegram, clock: FakeClock
) -> None:
    net = await network(bot, client)
    meeting_id = await schedule_directly(bot, net, start=START)
    await net.outsider.send("/meetings")
    await net.outsider.press_data(RsvpCb(meeting_id=meeting_id, answer="going").pack())
    assert "otro grupo de trabajo" in (net.outsider.callback_answer() or {}).get("text", "")
    await net.outsider.press_data(RsvpCb(meeting_id=meeting_id, answer="sure").pack())
    assert "válido" in (net.outsider.callback_answer() or {}).get("text", "")

    invitation = await announcement(net.manila, "Strategy call")
    clock.set(START + timedelta(minutes=1))
    await net.manila.click_nth(0, invitation)
    assert "commencé" in (net.manila.callback_answer() or {}).get("text", "")

    clock.set(NOW)
    omar = await announcement(net.cairo, "Strategy call")

    async def cancel(session: Any) -> None:
        from bot.meetings.jobs import cancel_meeting
        from models.member import get_member

        meeting = await session.get(Meeting, meeting_id)
        coordinator = await get_member(session, net.coordinator.user_id)
        await cancel_meeting(session, meeting, coordinator, NOW)
        await session.commit()

    await bot.db(cancel)
    await eventually(lambda: len(texts_with(net.cairo, "Strategy call")) == 2)
    await net.cairo.click_nth(0, omar)
    answer = (net.cairo.callback_answer() or {}).get("text", "")
    assert answer.startswith(RLM) and len(answer) > 10
