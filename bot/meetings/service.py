"""Meetings: who may manage a meeting or schedule one, checked at the moment of the action, and
what a coordinator's decisions store and send."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.meetings.drafts import build_meeting, build_poll
from bot.meetings.jobs import announce, post_minutes, send_date_poll
from models.audit import AuditAction, record
from models.group import (
    coordinates_any,
    is_coordinator,
)
from models.meeting import (
    Meeting,
    MeetingMinutes,
    MeetingStatus,
    MinutesAudience,
    attendee_ids,
    audience_ids,
    count_ids,
    get_meeting,
    is_invited,
)
from models.member import Member


class Managed(enum.StrEnum):
    """What a meeting must still be for a management action on it."""

    ANY = "any"  # it exists and the member may manage it
    LIVE = "live"  # as ANY, and it is not cancelled
    UPCOMING = "upcoming"  # as LIVE, and it is scheduled and has not started


class Refusal(enum.StrEnum):
    """Why a management action is refused."""

    GONE = "gone"
    NOT_MANAGER = "not_manager"
    CANCELLED = "cancelled"
    STARTED = "started"  # begun already, or its date is still being found


async def can_manage(session: AsyncSession, member: Member, meeting: Meeting) -> bool:
    """Network admins manage every meeting; coordinators those of their working group."""
    if member.is_admin and member.is_active:
        return True
    if meeting.group_id is None or not member.is_active:
        return False
    return await is_coordinator(session, member.id, meeting.group_id)


def is_upcoming(meeting: Meeting, now: datetime) -> bool:
    """Scheduled and not started: the time, link and place may still change."""
    return (
        meeting.status == MeetingStatus.SCHEDULED
        and meeting.start_at is not None
        and meeting.start_at > now
    )


async def manageable(
    session: AsyncSession, member: Member, meeting_id: int, need: Managed, now: datetime
) -> Meeting | Refusal:
    """The meeting if this member may act on it now as `need` says, else why not."""
    meeting = await get_meeting(session, meeting_id)
    if meeting is None:
        return Refusal.GONE
    if not await can_manage(session, member, meeting):
        return Refusal.NOT_MANAGER
    if need is Managed.ANY:
        return meeting
    if meeting.is_cancelled:
        return Refusal.CANCELLED
    if need is Managed.UPCOMING and not is_upcoming(meeting, now):
        return Refusal.STARTED
    return meeting


async def may_schedule(session: AsyncSession, member: Member) -> bool:
    """Admins, and coordinators of at least one group, see the scheduling buttons."""
    if member.is_admin:
        return True
    return await coordinates_any(session, member.id)


async def visible(session: AsyncSession, member: Member, meeting: Meeting | None) -> bool:
    """Invited members and the meeting's managers may open it."""
    if meeting is None:
        return False
    return await is_invited(session, meeting, member.id) or await can_manage(
        session, member, meeting
    )


async def publish(
    session: AsyncSession, draft: dict[str, Any], member: Member, now: datetime
) -> int:
    """Store the drafted meeting (with its date poll, if any) and hand the invitation or the
    poll to the delivery engine; returns how many members are invited."""
    meeting = build_meeting(draft, member, now)
    session.add(meeting)
    await session.flush()
    await record(
        session,
        member,
        AuditAction.MEETING_SCHEDULED,
        group_id=meeting.group_id,
        object_kind="meeting",
        object_id=meeting.id,
    )
    invited = await count_ids(session, audience_ids(meeting))
    if draft.get("mode") == "poll":
        poll = build_poll(draft, now)
        poll.meeting_id = meeting.id
        session.add(poll)
        await send_date_poll(session, meeting, member)
    else:
        await announce(session, meeting, member, now)
    return invited


async def send_minutes(
    session: AsyncSession,
    meeting: Meeting,
    draft: dict[str, Any],
    audience: str,
    member: Member,
) -> int:
    """Store the minutes held in the conversation and send them; returns the recipients."""
    minutes = MeetingMinutes(
        meeting_id=meeting.id,
        kind=draft["kind"],
        text=draft.get("text") or "",
        file_id=draft.get("file_id"),
        file_name=draft.get("file_name"),
        audience=audience,
        created_by_id=member.id,
    )
    await post_minutes(session, meeting, minutes, member)
    query = (
        attendee_ids(meeting) if audience == MinutesAudience.ATTENDEES else audience_ids(meeting)
    )
    return await count_ids(session, query)
