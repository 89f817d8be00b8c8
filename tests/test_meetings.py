"""End to end: scheduling through the conversation, announcements in each member's language and
time zone with a correct calendar file, replies, reminders, changes and cancellation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.clock import FakeClock
from bot.core.i18n import RLM
from bot.sandbox.telegram import FakeTelegram
from models.job import Job, JobStatus
from models.meeting import Meeting, MeetingStatus, Rsvp
from tests.botclient import BotClient
from tests.harness import RunningBot
from tests.meeting_helpers import (
    NOW,
    Network,
    calendar_files,
    eventually,
    network,
    open_managed,
    settle,
    texts_with,
    wake_scheduler,
)

START = datetime(2027, 3, 10, 13, 0, tzinfo=UTC)  # 16:00 in Nairobi


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


async def schedule_by_conversation(net: Network, when: str = "10/03/2027 16:00") -> None:
    """The coordinator schedules the monthly meeting, tapping through every step."""
    c = net.coordinator
    reply = await c.send("/newmeeting")
    assert "title" in reply[-1]["text"]
    await c.send("Monthly meeting")
    await c.send("1. News\n2. Next campaign")
    await c.click("➕ Español")
    await c.send("Reunión mensual")
    await c.click("Skip")
    assert "English, Español" in c.last()["text"]
    await c.click("Continue ▶")
    await c.click("📅 I know the date and time")
    reply = await c.send(when)
    assert "Start: Wednesday 10 March 2027, 16:00" in reply[0]["text"]
    await c.click("1 hour 30 minutes")
    await c.send("https://meet.example.org/monthly")
    await c.click("Skip")
    await c.click("Continue ▶")


async def announcement(user: BotClient, title: str) -> dict[str, Any]:
    found = await eventually(lambda: [m for m in texts_with(user, title) if "reply_markup" in m])
    return found[-1]  # type: ignore[no-any-return]


async def test_each_member_sees_the_meeting_in_their_zone_and_language(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    net = await network(bot, client)
    await schedule_by_conversation(net)
    preview = net.coordinator.last()["text"]
    # the member whose clock is furthest from Nairobi's: Montevideo, six hours behind
    assert "Preview" in preview and "Montevideo (UTC−03:00)" in preview
    assert "10:00 (Uruguay Time, UTC−03:00)" in preview
    await net.coordinator.click("✅ Send (recipients: 4)")
    await eventually(lambda: texts_with(net.coordinator, "on its way (recipients: 4)"))

    lucia = (await announcement(net.montevideo, "Reunión mensual"))["text"]
    assert "10:00" in lucia and "UTC−03:00" in lucia and "Uruguay" in lucia
    assert "miércoles 10 marzo 2027" in lucia and "Mujeres y DESC" in lucia
    assert "1 hora 30 minutos" in lucia and "https://meet.example.org/monthly" in lucia

    omar = (await announcement(net.cairo, "Monthly meeting"))["text"]
    assert omar.startswith(RLM) and "15:00" in omar and "UTC+02:00" in omar
    assert "النساء والحقوق" in omar and "مصر" in omar

    maria = (await announcement(net.manila, "Monthly meeting"))["text"]
    assert "21:00" in maria and "UTC+08:00" in maria and "mercredi 10 mars 2027" in maria
    assert "Philippines" in maria and "Femmes et DESC" in maria

    wanjiru = (await announcement(net.coordinator, "Will you come?"))["text"]
    assert "Wednesday 10 March 2027, 16:00" in wanjiru and "UTC+03:00" in wanjiru
    assert "1. News\n2. Next campaign" in wanjiru

    assert texts_with(net.outsider, "Monthly") == []
    for user in net.invited:
        calendars = await eventually(lambda user=user: calendar_files(fake, user))
        event = calendars[0].walk("VEVENT")[0]
        assert event.decoded("dtstart") == START
        assert event.decoded("dtend") == START + timedelta(minutes=90)
        assert str(calendars[0]["method"]) == "PUBLISH"
    spanish = calendar_files(fake, net.montevideo)[0].walk("VEVENT")[0]
    assert str(spanish["summary"]) == "Reunión mensual"
    uids = {str(calendar_files(fake, u)[0].walk("VEVENT")[0]["uid"]) for u in net.invited}
    assert len(uids) == 1
    # the engine paces what it sends to each member (the coordinator's own chat also holds
    # the conversation's quick replies, which are answers, not a broadcast)
    paced = [v for v in fake.violations if f"chat {net.coordinator.user_id}:" not in v]
    assert paced == [], paced


async def test_replies_are_counted_with_names_for_the_coordinator(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    net = await network(bot, client)
    await schedule_by_conversation(net)
    await net.coordinator.click("✅ Send (recipients: 4)")
    for user, index in ((net.montevideo, 0), (net.cairo, 1), (net.manila, 2)):
        message = await announcement(user, "UTC")
        await user.click_nth(index, message)
    assert "Voy" in (net.montevideo.callback_answer() or {}).get("text", "")
    buttons = net.montevideo.buttons(await announcement(net.montevideo, "UTC"))
    assert buttons[0].startswith("»"), buttons

    reply = await net.coordinator.send("/meetings")
    assert "Monthly meeting" in reply[0]["text"]
    await open_managed(net.coordinator, "Monthly meeting")
    view = texts_with(net.coordinator, "Replies")[-1]["text"]
    assert "✅ Going (1): Lucía" in view
    assert "🤔 Maybe (1): Omar" in view
    assert "❌ Not going (1): Maria" in view
    assert "No answer yet: 1" in view
    assert "6101" not in view and "6102" not in view

    async def rsvps(session: Any) -> int:
        return len(list(await session.scalars(select(Rsvp))))

    assert await bot.db(rsvps) == 3


async def schedule_directly(
    bot: RunningBot,
    net: Network,
    start: datetime = START,
    *,
    reminders: tuple[int, ...] = (24 * 60, 60),
    non_responders: bool = False,
) -> int:
    """A meeting stored and announced through the same code as the conversation's Send."""
    from bot.meetings.drafts import build_meeting
    from bot.meetings.jobs import announce
    from models.member import get_member

    async def go(session: Any) -> int:
        coordinator = await get_member(session, net.coordinator.user_id)
        draft = {
            "group": net.group_id,
            "locale": "en",
            "zone": "Africa/Nairobi",
            "texts": {"en": {"title": "Strategy call", "agenda": ""}},
            "start": start.isoformat(),
            "duration": 60,
            "link": "https://meet.example.org/strategy",
            "reminders": list(reminders),
            "non_responders": non_responders,
        }
        meeting = build_meeting(draft, coordinator, NOW)
        session.add(meeting)
        await session.flush()
        await announce(session, meeting, coordinator, NOW)
        await session.commit()
        return int(meeting.id)

    meeting_id: int = await bot.db(go)
    for user in net.invited:
        await announcement(user, "Strategy call")
        await eventually(lambda user=user: calendar_files(user.fake, user))
    await settle(net.coordinator.fake)
    return meeting_id


def reminders_of(user: BotClient) -> list[dict[str, Any]]:
    return [m for m in user.messages() if "⏰" in str(m.get("text", ""))]


async def move_clock_to(
    bot: RunningBot, fake: FakeTelegram, clock: FakeClock, at: datetime
) -> None:
    clock.set(at)
    wake_scheduler(bot)
    await settle(fake)


async def test_reminders_go_to_going_and_maybe_once_each_across_a_restart(
    bot: RunningBot, client: Any, fake: FakeTelegram, clock: FakeClock
) -> None:
    net = await network(bot, client)
    await schedule_directly(bot, net)
    await net.montevideo.click_nth(0, await announcement(net.montevideo, "Strategy call"))
    await net.cairo.click_nth(1, await announcement(net.cairo, "Strategy call"))
    await net.manila.click_nth(2, await announcement(net.manila, "Strategy call"))
    # the coordinator does not answer

    await move_clock_to(bot, fake, clock, START - timedelta(hours=24, seconds=-1))
    await eventually(lambda: reminders_of(net.montevideo) and reminders_of(net.cairo))
    await settle(fake)
    assert "dentro de 1 día" in reminders_of(net.montevideo)[0]["text"]
    assert reminders_of(net.manila) == [] and reminders_of(net.coordinator) == []

    await bot.restart()
    await move_clock_to(bot, fake, clock, START - timedelta(hours=2))
    assert len(reminders_of(net.montevideo)) == 1, "the 24-hour reminder was not sent again"

    await move_clock_to(bot, fake, clock, START - timedelta(minutes=59))
    await eventually(lambda: len(reminders_of(net.cairo)) == 2)
    await bot.restart()
    await move_clock_to(bot, fake, clock, START - timedelta(minutes=30))
    assert len(reminders_of(net.montevideo)) == 2
    assert len(reminders_of(net.cairo)) == 2
    assert reminders_of(net.manila) == [] and reminders_of(net.coordinator) == []
    last = reminders_of(net.cairo)[-1]["text"]
    assert last.startswith(RLM) and "15:00" in last

    async def jobs(session: Any) -> list[str]:
        return [str(job.status) for job in await session.scalars(select(Job))]

    assert sorted(await bot.db(jobs)) == [JobStatus.DONE, JobStatus.DONE]


async def test_non_responders_are_reminded_when_chosen(
    bot: RunningBot, client: Any, fake: FakeTelegram, clock: FakeClock
) -> None:
    net = await network(bot, client)
    await schedule_directly(bot, net, reminders=(60,), non_responders=True)
    await net.manila.click_nth(2, await announcement(net.manila, "Strategy call"))
    await move_clock_to(bot, fake, clock, START - timedelta(minutes=59))
    await eventually(lambda: reminders_of(net.montevideo) and reminders_of(net.coordinator))
    await settle(fake)
    assert reminders_of(net.manila) == []
    assert len(reminders_of(net.cairo)) == 1


async def test_no_late_reminder_after_downtime(
    bot: RunningBot, client: Any, fake: FakeTelegram, clock: FakeClock
) -> None:
    net = await network(bot, client)
    await schedule_directly(bot, net, reminders=(60,))
    await net.montevideo.click_nth(0, await announcement(net.montevideo, "Strategy call"))
    await bot.stop()
    clock.set(START + timedelta(minutes=5))  # down through the reminder and the start
    await bot.start()
    await move_clock_to(bot, fake, clock, START + timedelta(minutes=6))
    assert reminders_of(net.montevideo) == []

    async def statuses(session: Any) -> list[str]:
        return [str(job.status) for job in await session.scalars(select(Job))]

    assert await bot.db(statuses) == [JobStatus.EXPIRED]


async def test_reschedule_tells_everyone_and_moves_the_reminders(
    bot: RunningBot, client: Any, fake: FakeTelegram, clock: FakeClock
) -> None:
    net = await network(bot, client)
    meeting_id = await schedule_directly(bot, net, reminders=(60,))
    await net.montevideo.click_nth(0, await announcement(net.montevideo, "Strategy call"))
    await net.manila.click_nth(2, await announcement(net.manila, "Strategy call"))

    c = net.coordinator
    await c.send("/meetings")
    await c.click("1. Strategy call")
    await c.click("⚙️ Manage")
    await c.click("🕒 Reschedule")
    assert "Nairobi" in c.last()["text"]
    await c.send("12/03/2027 18:00")
    confirm = texts_with(c, "to Friday 12 March 2027, 18:00")[-1]["text"]
    assert "from Wednesday 10 March 2027, 16:00" in confirm
    await c.click("✅ Move it and tell everyone")
    await eventually(lambda: texts_with(c, "Moved to Friday 12 March 2027, 18:00"))

    new_start = datetime(2027, 3, 12, 15, 0, tzinfo=UTC)
    lucia = (await eventually(lambda: texts_with(net.montevideo, "Antes")))[0]["text"]
    assert "10:00" in lucia and "12:00" in lucia and "UTC−03:00" in lucia
    maria = (await eventually(lambda: texts_with(net.manila, "Avant")))[0]["text"]
    assert "21:00" in maria and "23:00" in maria
    omar = (await eventually(lambda: texts_with(net.cairo, "Strategy call")))[-1]["text"]
    assert "15:00" in omar and "17:00" in omar
    calendars = await eventually(lambda: len(calendar_files(fake, net.cairo)) == 2)
    assert calendars
    updated = calendar_files(fake, net.cairo)[-1].walk("VEVENT")[0]
    assert updated.decoded("dtstart") == new_start and int(updated["sequence"]) == 1

    async def meeting_state(session: Any) -> tuple[list[str], list[datetime]]:
        answers = [r.answer for r in await session.scalars(select(Rsvp))]
        dues = [job.due_at for job in await session.scalars(select(Job))]
        return answers, dues

    answers, dues = await bot.db(meeting_state)
    assert answers == ["going"], "Going is kept; Not going is asked again"
    assert dues == [new_start - timedelta(hours=1)]

    await move_clock_to(bot, fake, clock, START - timedelta(minutes=59))
    assert reminders_of(net.montevideo) == [], "no reminder at the old time"
    await move_clock_to(bot, fake, clock, new_start - timedelta(minutes=59))
    await eventually(lambda: reminders_of(net.montevideo))
    assert meeting_id


async def test_cancelled_meeting_sends_no_reminder_and_refuses_replies(
    bot: RunningBot, client: Any, fake: FakeTelegram, clock: FakeClock
) -> None:
    net = await network(bot, client)
    await schedule_directly(bot, net, reminders=(24 * 60, 60))
    invitation = await announcement(net.montevideo, "Strategy call")
    await net.montevideo.click_nth(0, invitation)

    c = net.coordinator
    await c.send("/meetings")
    await c.click("1. Strategy call")
    await c.click("⚙️ Manage")
    await c.click("🚫 Cancel the meeting")
    await c.click("Yes, cancel the meeting")
    await eventually(lambda: texts_with(c, "The meeting is cancelled"))

    notice = (await eventually(lambda: texts_with(net.montevideo, "cancelada")))[0]
    assert "10:00" in notice["text"]
    calendars = await eventually(lambda: len(calendar_files(fake, net.montevideo)) == 2)
    assert calendars
    cancelled = calendar_files(fake, net.montevideo)[-1]
    assert str(cancelled["method"]) == "CANCEL"
    assert str(cancelled.walk("VEVENT")[0]["status"]) == "CANCELLED"

    await net.montevideo.click_nth(1, invitation)
    assert "cancelada" in (net.montevideo.callback_answer() or {}).get("text", "")

    await move_clock_to(bot, fake, clock, START - timedelta(hours=23))
    await move_clock_to(bot, fake, clock, START - timedelta(minutes=30))
    assert reminders_of(net.montevideo) == []

    async def state(session: Any) -> tuple[str, list[str]]:
        meeting = await session.scalar(select(Meeting))
        return meeting.status, [str(j.status) for j in await session.scalars(select(Job))]

    status, jobs = await bot.db(state)
    assert status == MeetingStatus.CANCELLED and set(jobs) == {JobStatus.CANCELLED}


async def test_change_of_link_is_announced_and_answers_kept(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    net = await network(bot, client)
    await schedule_directly(bot, net)
    await net.cairo.click_nth(0, await announcement(net.cairo, "Strategy call"))
    c = net.coordinator
    await c.send("/meetings")
    await c.click("1. Strategy call")
    await c.click("⚙️ Manage")
    await c.click("🔗 Change the link")
    await c.send("not a link")
    assert "https://" in c.last()["text"]
    await c.send("https://meet.example.org/new-room")
    notice = (await eventually(lambda: texts_with(net.manila, "new-room")))[0]["text"]
    assert "https://meet.example.org/strategy" in notice
    cairo = (await eventually(lambda: texts_with(net.cairo, "new-room")))[0]
    assert cairo["reply_markup"]["inline_keyboard"][0][0]["text"].startswith("»")


async def test_minutes_go_to_those_who_attended_or_to_everyone(
    bot: RunningBot, client: Any, fake: FakeTelegram, clock: FakeClock
) -> None:
    net = await network(bot, client)
    await schedule_directly(bot, net, reminders=())
    await net.montevideo.click_nth(0, await announcement(net.montevideo, "Strategy call"))
    c = net.coordinator

    async def open_manage() -> None:
        await open_managed(c, "Strategy call")
        assert texts_with(c, "no upcoming meetings")

    clock.set(START + timedelta(hours=2))
    await open_manage()
    await c.click("📝 Send minutes or outcomes")
    await c.send(document=b"%PDF-1.4 minutes", file_name="minutes.pdf")
    await c.click("Those who said Going (1)")
    await eventually(lambda: texts_with(c, "on their way (recipients: 1)"))

    def pdfs(user: BotClient) -> list[dict[str, Any]]:
        return [
            m for m in user.messages() if m.get("document", {}).get("file_name") == "minutes.pdf"
        ]

    document = await eventually(lambda: pdfs(net.montevideo))
    assert fake.files[document[0]["document"]["file_id"]].data == b"%PDF-1.4 minutes"
    await eventually(lambda: texts_with(net.montevideo, "Acta"))
    await settle(fake)
    assert pdfs(net.cairo) == [] and pdfs(net.manila) == []

    await open_manage()
    await c.click("📝 Send minutes or outcomes")
    await c.send(voice=True)
    await c.click("The whole group (4)")
    voices = await eventually(lambda: [m for m in net.cairo.messages() if "voice" in m])
    assert len(voices) == 1
    await eventually(lambda: [m for m in net.manila.messages() if "voice" in m])

    await open_managed(c, "Strategy call")
    await c.click("📝 Send minutes or outcomes")
    await c.send(sticker=True)
    assert texts_with(c, "Please send a text, a document or a voice note.")
    await c.send("Decisions: <b>campaign</b> in May")
    await c.click("The whole group (4)")
    minutes = await eventually(lambda: texts_with(net.manila, "Decisions:"))
    assert "Compte rendu" in minutes[0]["text"]
    assert "<b>campaign</b>" in minutes[0]["text"], "typed text is shown as written"


async def test_admin_schedules_for_the_whole_network(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    from tests.conftest import add_member

    net = await network(bot, client)
    admin = client(6199, "Admin", language_code="en")
    await add_member(bot, 6199, "Admin", locale="en", country="FR", role="admin")
    await admin.send("/newmeeting")
    assert "Women and ESCR" in admin.buttons()
    await admin.click("🌐 Whole network")
    await admin.send("General assembly")
    await admin.click("Skip")
    await admin.click("Continue ▶")
    await admin.click("📅 I know the date and time")
    await admin.send("20/03/2027 15:00")  # Paris, UTC+01:00
    await admin.click("2 hours")
    await admin.send("https://meet.example.org/assembly")
    await admin.click("Skip")
    await admin.click("Continue ▶")
    await admin.click("✅ Send (recipients: 6)")
    pedro = await announcement(net.outsider, "General assembly")
    assert "11:00" in pedro["text"] and "Toda la red" in pedro["text"]
