"""End to end: every change to a meeting is checked against the member's role at the moment it
is made (a tap or a typed answer), a group picked for a new meeting is checked at the tap, and
the changes' less travelled paths (another zone, removing a link or a place) do what they say."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.core.clock import FakeClock
from models.group import GroupMembership, GroupRole, WorkingGroup
from models.meeting import Meeting, MeetingStatus
from models.member import Member, Role
from tests.botclient import BotClient
from tests.conftest import add_member
from tests.harness import RunningBot
from tests.meeting_helpers import COORDINATOR, NOW, eventually, network, texts_with
from tests.test_meetings import schedule_directly


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


async def manage(c: BotClient) -> dict[str, Any]:
    """Open the meeting's management view from /meetings; returns that view."""
    await c.send("/meetings")
    await c.click("1. Strategy call")
    await c.click("⚙️ Manage")
    return texts_with(c, "Replies")[-1]


async def stored(bot: RunningBot, meeting_id: int) -> Meeting:
    async def get(session: Any) -> Meeting:
        meeting = await session.get(Meeting, meeting_id)
        await session.refresh(meeting)
        return meeting  # type: ignore[no-any-return]

    return await bot.db(get)


async def set_role(bot: RunningBot, telegram_id: int, group_role: str) -> None:
    async def change(session: Any) -> None:
        member_id = await session.scalar(
            select(Member.id).where(Member.telegram_id == telegram_id)
        )
        await session.execute(
            update(GroupMembership)
            .where(GroupMembership.member_id == member_id)
            .values(role=group_role)
        )
        await session.commit()

    await bot.db(change)


async def test_a_coordinator_dismissed_mid_change_is_refused_and_nothing_changes(
    bot: RunningBot, client: Any
) -> None:
    net = await network(bot, client)
    meeting_id = await schedule_directly(bot, net)
    c = net.coordinator
    view = await manage(c)
    await c.click("🔗 Change the link")
    assert "Send the new link" in c.last()["text"]

    await set_role(bot, COORDINATOR, GroupRole.MEMBER)
    reply = await c.send("https://meet.example.org/hijacked")
    assert reply[0]["text"] == "This meeting is no longer available."
    await c.click("🚫 Cancel the meeting", view)
    refusal = (c.callback_answer() or {}).get("text", "")
    assert refusal == "Only the group's coordinators and network admins can manage this meeting."
    meeting = await stored(bot, meeting_id)
    assert meeting.link == "https://meet.example.org/strategy"
    assert meeting.status == MeetingStatus.SCHEDULED

    await set_role(bot, COORDINATOR, GroupRole.COORDINATOR)
    await c.click("🔗 Change the link", view)
    reply = await c.send("https://meet.example.org/new-room")
    assert "Changed" in reply[0]["text"]
    assert (await stored(bot, meeting_id)).link == "https://meet.example.org/new-room"


async def test_reschedule_in_another_zone_at_a_time_that_happens_twice(
    bot: RunningBot, client: Any
) -> None:
    net = await network(bot, client)
    meeting_id = await schedule_directly(bot, net)
    c = net.coordinator
    await manage(c)
    await c.click("🕒 Reschedule")
    await c.click("🌍 Another time zone")
    reply = await c.send("nowhereville")
    assert "No time zone matches" in reply[0]["text"]
    await c.send("Paris")
    await c.click("Paris (UTC+01:00)")
    assert "Send the new date and start time in Paris" in c.last()["text"]
    reply = await c.send("31/10/2027 02:30")
    assert "happens twice" in reply[0]["text"]
    await c.click("Second 31 Oct, 02:30 (UTC+01:00)")
    confirm = c.last()["text"]
    assert "to Sunday 31 October 2027, 04:30" in confirm  # 01:30 UTC, in Nairobi
    await c.click("✅ Move it and tell everyone")
    await eventually(lambda: texts_with(c, "Moved to Sunday 31 October 2027, 04:30"))
    meeting = await stored(bot, meeting_id)
    assert meeting.start_at == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)
    assert meeting.zone == "Europe/Paris"


async def test_a_link_or_place_is_removed_only_while_the_other_remains(
    bot: RunningBot, client: Any
) -> None:
    net = await network(bot, client)
    meeting_id = await schedule_directly(bot, net)
    c = net.coordinator
    view = await manage(c)
    await c.click("🔗 Change the link")
    await c.click("Remove it")
    assert "link or a place" in c.last()["text"]
    assert (await stored(bot, meeting_id)).link == "https://meet.example.org/strategy"

    await c.click("📍 Change the place", view)
    reply = await c.send("Salle 3")
    assert "Changed" in reply[0]["text"]
    await eventually(lambda: texts_with(net.manila, "Salle 3"))
    await c.click("🔗 Change the link", view)
    await c.click("Remove it")
    assert "Changed" in c.last()["text"]
    meeting = await stored(bot, meeting_id)
    assert (meeting.link, meeting.place) == (None, "Salle 3")


async def test_the_group_of_a_new_meeting_is_checked_at_the_tap(
    bot: RunningBot, client: Any
) -> None:
    net = await network(bot, client)
    admin = client(6199, "Admin", language_code="en")
    await add_member(bot, 6199, "Admin", locale="en", country="FR", role="admin")
    await admin.send("/newmeeting")
    question = admin.last()

    async def set_admin(role: str, archived: bool) -> None:
        async def change(session: Any) -> None:
            await session.execute(
                update(Member).where(Member.telegram_id == 6199).values(role=role)
            )
            await session.execute(
                update(WorkingGroup)
                .where(WorkingGroup.id == net.group_id)
                .values(archived=archived)
            )
            await session.commit()

        await bot.db(change)

    await set_admin(Role.MEMBER, archived=False)
    await admin.click("Women and ESCR", question)
    assert (admin.callback_answer() or {}).get("text") == (
        "Only the coordinators of this group can do this."
    )
    await admin.click("🌐 Whole network", question)
    assert (admin.callback_answer() or {}).get("text") == "Only network admins can do this."
    await set_admin(Role.ADMIN, archived=True)
    await admin.click("Women and ESCR", question)
    assert (admin.callback_answer() or {}).get("text") == "This working group is archived."
    assert "title" not in admin.last()["text"]

    await set_admin(Role.ADMIN, archived=False)
    await admin.click("Women and ESCR", question)
    assert "Send the title" in admin.last()["text"]


async def test_a_proposed_time_can_be_taken_back(bot: RunningBot, client: Any) -> None:
    net = await network(bot, client)
    c = net.coordinator
    await c.send("/newmeeting")
    await c.send("Planning day")
    await c.click("Skip")
    await c.click("Continue ▶")
    await c.click("🗓 Find a date with the group")
    await c.send("10/03/2027 16:00")
    await c.send("11/03/2027 9am")
    reply = await c.send("11/03/2027 09:00")
    assert "already proposed" in reply[0]["text"]
    await c.click("↩ Remove the last")
    assert "2. " not in c.last()["text"] and "1. Wednesday 10 March 2027" in c.last()["text"]
    assert "✅ Done" not in c.buttons()
    await c.send("12/03/2027 20:00")
    await c.click("✅ Done")
    assert "How long" in c.last()["text"]
