"""Meetings through the delivery engine and the scheduler: invitations, changes, reminders,
minutes and date polls, each rendered per member at send time in their language and zone."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.queue import Outgoing, Priority, RenderContext, enqueue_broadcast
from bot.delivery.scheduler import JobContext, cancel_jobs, schedule
from bot.meetings.ics import ics_filename, meeting_ics
from bot.meetings.poll_views import poll_keyboard, poll_text
from bot.meetings.views import (
    Change,
    announcement_text,
    change_text,
    directed,
    group_name,
    minutes_caption,
    reminder_text,
    rsvp_keyboard,
)
from models.audit import AuditAction, record
from models.meeting import (
    DatePoll,
    DateSlot,
    Meeting,
    MeetingMinutes,
    MeetingStatus,
    MinutesAudience,
    RsvpAnswer,
    attendee_ids,
    audience_ids,
    clear_answers,
    end_of,
    get_poll,
    get_rsvp,
    reminder_ids,
    slot_answers_of,
)
from models.member import Member

REMIND_JOB = "meeting_remind"
URGENT_WITHIN = 60  # reminders this many minutes (or fewer) before the start jump the queue


def reminder_prefix(meeting_id: int) -> str:
    """Job keys of one meeting's reminders share this prefix (the colon keeps 1 apart from 12)."""
    return f"meeting:{meeting_id}:remind:"


# --- actions -----------------------------------------------------------------------------------


async def plan_reminders(session: AsyncSession, meeting: Meeting, now: datetime) -> int:
    """Replace the meeting's reminder jobs by one per chosen offset still ahead; none once it
    is cancelled. Each job expires at the start, so a late run never reminds afterwards."""
    await cancel_jobs(session, reminder_prefix(meeting.id))
    if meeting.status != MeetingStatus.SCHEDULED or meeting.start_at is None:
        return 0
    planned = 0
    for offset in meeting.reminder_offsets:
        due = meeting.start_at - timedelta(minutes=offset)
        if due <= now:
            continue
        await schedule(
            session,
            kind=REMIND_JOB,
            due_at=due,
            payload={
                "meeting_id": meeting.id,
                "offset": offset,
                "start": meeting.start_at.isoformat(),
            },
            key=f"{reminder_prefix(meeting.id)}{offset}",
            not_after=meeting.start_at,
        )
        planned += 1
    return planned


async def announce(session: AsyncSession, meeting: Meeting, by: Member, now: datetime) -> None:
    """Invite the audience (each member rendered in their language and zone) and plan the
    reminders."""
    await session.flush()
    await enqueue_broadcast(
        session,
        kind="meeting",
        payload={"meeting_id": meeting.id},
        recipients=audience_ids(meeting),
        priority=Priority.NORMAL,
        created_by_id=by.id,
        progress_chat_id=by.telegram_id,
        dedupe_key=f"meeting:{meeting.id}:announce",
    )
    await plan_reminders(session, meeting, now)


async def notify_change(
    session: AsyncSession, meeting: Meeting, change: Change, by: Member, now: datetime
) -> None:
    """Tell every invited member what changed, with a calendar file that updates the event."""
    meeting.sequence += 1
    meeting.updated_at = now
    await session.flush()
    await enqueue_broadcast(
        session,
        kind="meeting_change",
        payload={"meeting_id": meeting.id, "change": change.payload()},
        recipients=audience_ids(meeting),
        priority=Priority.HIGH,
        created_by_id=by.id,
        progress_chat_id=by.telegram_id,
        dedupe_key=f"meeting:{meeting.id}:change:{meeting.sequence}",
    )


async def reschedule(
    session: AsyncSession, meeting: Meeting, start: datetime, by: Member, now: datetime
) -> None:
    """Move the meeting: "Not going" answers are asked again (the new time may suit), Going
    and Maybe are kept, and the reminders move with it."""
    change = Change("rescheduled", old_start=meeting.start_at)
    meeting.start_at = start
    await clear_answers(session, meeting.id, (RsvpAnswer.NOT_GOING,))
    await notify_change(session, meeting, change, by, now)
    await plan_reminders(session, meeting, now)


async def change_link(
    session: AsyncSession, meeting: Meeting, link: str | None, by: Member, now: datetime
) -> None:
    """A new online link (or none); every answer still holds."""
    change = Change("link", old_link=meeting.link)
    meeting.link = link
    await notify_change(session, meeting, change, by, now)


async def change_place(
    session: AsyncSession, meeting: Meeting, place: str | None, by: Member, now: datetime
) -> None:
    """A new place (or none); every answer still holds."""
    change = Change("place", old_place=meeting.place)
    meeting.place = place
    await notify_change(session, meeting, change, by, now)


async def cancel_meeting(
    session: AsyncSession, meeting: Meeting, by: Member, now: datetime
) -> None:
    """Cancel: no reminder will be sent, and members get a calendar file that removes it."""
    was_scheduled = meeting.status == MeetingStatus.SCHEDULED
    meeting.status = MeetingStatus.CANCELLED
    await record(
        session,
        by,
        AuditAction.MEETING_CANCELLED,
        group_id=meeting.group_id,
        object_kind="meeting",
        object_id=meeting.id,
    )
    poll = await get_poll(session, meeting.id)
    if poll is not None:
        poll.is_open = False
    await cancel_jobs(session, reminder_prefix(meeting.id))
    if was_scheduled:
        await notify_change(session, meeting, Change("cancelled"), by, now)


async def post_minutes(
    session: AsyncSession, meeting: Meeting, minutes: MeetingMinutes, by: Member
) -> int:
    """Send minutes to those who said they were going, or to the whole group."""
    session.add(minutes)
    await session.flush()
    attendees = minutes.audience == MinutesAudience.ATTENDEES
    recipients = attendee_ids(meeting) if attendees else audience_ids(meeting)
    await enqueue_broadcast(
        session,
        kind="meeting_minutes",
        payload={"minutes_id": minutes.id},
        recipients=recipients,
        priority=Priority.NORMAL,
        created_by_id=by.id,
        progress_chat_id=by.telegram_id,
        dedupe_key=f"meeting:{meeting.id}:minutes:{minutes.id}",
    )
    return minutes.id


async def send_date_poll(session: AsyncSession, meeting: Meeting, by: Member) -> None:
    """Ask every invited member about each proposed slot."""
    await session.flush()
    await enqueue_broadcast(
        session,
        kind="date_poll",
        payload={"meeting_id": meeting.id},
        recipients=audience_ids(meeting),
        priority=Priority.NORMAL,
        created_by_id=by.id,
        progress_chat_id=by.telegram_id,
        dedupe_key=f"meeting:{meeting.id}:poll",
    )


async def schedule_slot(
    session: AsyncSession,
    meeting: Meeting,
    poll: DatePoll,
    slot: DateSlot,
    by: Member,
    now: datetime,
) -> None:
    """Turn a date poll into the meeting at the chosen slot, in one step."""
    poll.is_open = False
    meeting.start_at = slot.start_at
    meeting.status = MeetingStatus.SCHEDULED
    meeting.updated_at = now
    await announce(session, meeting, by, now)


# --- the reminder job --------------------------------------------------------------------------


async def run_reminder(ctx: JobContext) -> None:
    """Due reminder: send it once (dedupe key per start time) to Going / Maybe (and those who
    did not answer, if chosen) - unless the meeting moved, was cancelled or has begun."""
    payload: dict[str, Any] = ctx.job.payload
    meeting = await ctx.session.get(Meeting, int(payload["meeting_id"]))
    if meeting is None or meeting.status != MeetingStatus.SCHEDULED or meeting.start_at is None:
        return
    if meeting.start_at.isoformat() != payload.get("start"):
        return
    if ctx.app.clock.now() >= meeting.start_at:
        return
    offset = int(payload["offset"])
    await enqueue_broadcast(
        ctx.session,
        kind="meeting_reminder",
        payload={"meeting_id": meeting.id, "start": payload["start"], "offset": offset},
        recipients=reminder_ids(meeting),
        priority=Priority.URGENT if offset <= URGENT_WITHIN else Priority.HIGH,
        dedupe_key=f"meeting:{meeting.id}:remind:{offset}:{payload['start']}",
    )


# --- renderers ---------------------------------------------------------------------------------


async def _meeting(ctx: RenderContext) -> Meeting | None:
    """The broadcast's meeting, loaded once per render."""
    meeting_id = ctx.broadcast.payload.get("meeting_id")
    return await ctx.session.get(Meeting, int(meeting_id)) if meeting_id else None


async def _group(ctx: RenderContext, meeting: Meeting) -> str | None:
    """The group's name in the recipient's language."""
    return await group_name(
        ctx.session, meeting.group_id, ctx.locale, ctx.app.settings.default_locale
    )


async def _answer(ctx: RenderContext, meeting: Meeting) -> str | None:
    """The recipient's current reply, if any."""
    if ctx.member is None:
        return None
    rsvp = await get_rsvp(ctx.session, meeting.id, ctx.member.id)
    return rsvp.answer if rsvp else None


def _zone(ctx: RenderContext) -> str:
    """The recipient's zone (UTC for a chat without a member)."""
    return ctx.member.tz if ctx.member is not None else "UTC"


def _calendar_file(ctx: RenderContext, meeting: Meeting) -> Outgoing:
    """The .ics as of now, in the recipient's language."""
    data = meeting_ics(meeting, ctx.locale, ctx.app.clock.now())
    return Outgoing(
        document=(ics_filename(meeting), data),
        caption=ctx._("Open this file to add the meeting to your calendar."),
    )


async def render_meeting(ctx: RenderContext) -> list[Outgoing] | None:
    """The invitation with RSVP buttons, and its calendar file."""
    meeting = await _meeting(ctx)
    if meeting is None or meeting.status != MeetingStatus.SCHEDULED or meeting.start_at is None:
        return None
    if end_of(meeting) <= ctx.app.clock.now():
        return None
    text = announcement_text(meeting, await _group(ctx, meeting), ctx.locale, _zone(ctx), ctx._)
    keyboard = rsvp_keyboard(meeting.id, await _answer(ctx, meeting), ctx._)
    return [Outgoing(text=text, reply_markup=keyboard), _calendar_file(ctx, meeting)]


async def render_change(ctx: RenderContext) -> list[Outgoing] | None:
    """What changed, old and new each in the member's zone, with an updated calendar file."""
    meeting = await _meeting(ctx)
    if meeting is None or meeting.start_at is None:
        return None
    change = Change.from_payload(ctx.broadcast.payload["change"])
    if change.kind != "cancelled" and meeting.is_cancelled:
        return None  # the cancellation notice says all
    if change.kind != "cancelled" and end_of(meeting) <= ctx.app.clock.now():
        return None
    answer = await _answer(ctx, meeting)
    text = change_text(
        meeting, change, await _group(ctx, meeting), ctx.locale, _zone(ctx), answer, ctx._
    )
    keyboard = None if meeting.is_cancelled else rsvp_keyboard(meeting.id, answer, ctx._)
    return [Outgoing(text=text, reply_markup=keyboard), _calendar_file(ctx, meeting)]


async def render_reminder(ctx: RenderContext) -> list[Outgoing] | None:
    """A reminder, only while the meeting is still ahead and the member still coming."""
    meeting = await _meeting(ctx)
    now = ctx.app.clock.now()
    if meeting is None or meeting.status != MeetingStatus.SCHEDULED or meeting.start_at is None:
        return None
    if meeting.start_at.isoformat() != ctx.broadcast.payload.get("start"):
        return None
    if now >= meeting.start_at:
        return None
    answer = await _answer(ctx, meeting)
    coming = answer in (RsvpAnswer.GOING, RsvpAnswer.MAYBE)
    if not coming and not (answer is None and meeting.remind_non_responders):
        return None
    text = reminder_text(meeting, await _group(ctx, meeting), ctx.locale, _zone(ctx), now, ctx._)
    return [Outgoing(text=text, reply_markup=rsvp_keyboard(meeting.id, answer, ctx._))]


async def render_minutes(ctx: RenderContext) -> list[Outgoing] | None:
    """Minutes as text, a document or a voice note, headed by the meeting's title."""
    minutes = await ctx.session.get(MeetingMinutes, int(ctx.broadcast.payload["minutes_id"]))
    if minutes is None:
        return None
    meeting = await ctx.session.get(Meeting, minutes.meeting_id)
    if meeting is None:
        return None
    heading = minutes_caption(meeting, ctx.locale, ctx._)
    text = directed(
        heading + ("\n\n" + html.escape(minutes.text) if minutes.text else ""), ctx.locale
    )
    messages = [Outgoing(text=text)]
    if minutes.kind == "document" and minutes.file_id:
        messages.append(Outgoing(document=minutes.file_id))
    elif minutes.kind == "voice" and minutes.file_id:
        messages.append(Outgoing(voice=minutes.file_id))
    return messages


async def render_date_poll(ctx: RenderContext) -> list[Outgoing] | None:
    """The slots in the member's zone, with Yes / If need be / No for each."""
    meeting = await _meeting(ctx)
    if meeting is None or meeting.status != MeetingStatus.PROPOSED:
        return None
    poll = await get_poll(ctx.session, meeting.id)
    if poll is None or not poll.is_open:
        return None
    answers = await slot_answers_of(ctx.session, poll, ctx.member.id) if ctx.member else {}
    text = poll_text(
        meeting, poll, await _group(ctx, meeting), answers, ctx.locale, _zone(ctx), ctx._
    )
    return [Outgoing(text=text, reply_markup=poll_keyboard(poll))]
