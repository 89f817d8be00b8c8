"""Meetings: members' view and replies, find-a-date polls, scheduling, and the coordinators'
management."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.app import Gettext, Registry
from bot.meetings import jobs
from bot.meetings.service import may_schedule
from handlers.meetings import browse, find_date
from handlers.meetings.create import about, details, flow, send, when
from handlers.meetings.manage import cancel, conversation, minutes, replies, reschedule, venue
from models.meeting import export_meetings
from models.member import Member


def setup(registry: Registry) -> None:
    """Add the meetings' routers, broadcast kinds, reminders and /mydata section.

    Each conversation's fallback comes after all its steps: it answers the taps and messages
    no step took.
    """
    registry.add_help_section(help_lines)
    registry.include_routers(
        browse.router,
        find_date.router,
        flow.router,
        about.router,
        when.router,
        details.router,
        send.router,
        flow.fallback,
        replies.router,
        conversation.router,
        reschedule.router,
        venue.router,
        cancel.router,
        minutes.router,
        conversation.fallback,
    )
    registry.add_renderer("meeting", jobs.render_meeting)
    registry.add_renderer("meeting_change", jobs.render_change)
    registry.add_renderer("meeting_reminder", jobs.render_reminder)
    registry.add_renderer("meeting_minutes", jobs.render_minutes)
    registry.add_renderer("date_poll", jobs.render_date_poll)
    registry.add_job(jobs.REMIND_JOB, jobs.run_reminder)
    registry.add_data_section(export_meetings)


async def help_lines(session: AsyncSession, member: Member, _: Gettext) -> list[str]:
    """/help tells coordinators and admins how to schedule."""
    if not await may_schedule(session, member):
        return []
    return [_("/newmeeting: schedule a meeting or find a date")]
