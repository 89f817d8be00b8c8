"""/meetings for members: upcoming meetings in their own zone, replies and calendar files."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.config import Settings
from bot.meetings.callbacks import MeetingCb, RsvpCb
from bot.meetings.ics import ics_filename, meeting_ics
from bot.meetings.service import can_manage, may_schedule, visible
from bot.meetings.views import answer_label, meeting_card, meetings_listing, with_rsvp_row
from handlers.meetings.access import meeting_router
from handlers.ui import edit_buttons, pressed
from models.meeting import (
    MeetingStatus,
    RsvpAnswer,
    get_meeting,
    is_invited,
    open_polls_for,
    set_rsvp,
    upcoming_for,
)
from models.member import Member

router = meeting_router(__name__)
Gettext = Callable[..., str]
LISTED = 10


@router.message(Command("meetings"))
async def list_meetings(
    message: Message,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    clock: Clock,
) -> None:
    """Upcoming meetings (time in the member's zone, their answer), and open date polls."""
    await state.set_state(None)
    meetings = (await upcoming_for(session, member, clock.now()))[:LISTED]
    polls = [meeting for meeting, _poll in await open_polls_for(session, member)]
    scheduler = await may_schedule(session, member)
    text, markup = await meetings_listing(session, member, meetings, polls, scheduler, _)
    await message.answer(text, reply_markup=markup)


@router.callback_query(MeetingCb.filter(F.action == "open"))
async def open_meeting(
    call: CallbackQuery,
    callback_data: MeetingCb,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    settings: Settings,
    clock: Clock,
) -> None:
    """One meeting in the member's zone, with reply buttons and its calendar file."""
    message = pressed(call)
    meeting = await get_meeting(session, callback_data.meeting_id)
    if meeting is None or not await visible(session, member, meeting):
        await call.answer(_("This meeting is no longer available."), show_alert=True)
        return
    await call.answer()
    manager = await can_manage(session, member, meeting)
    text, markup = await meeting_card(
        session, meeting, member, manager, settings.default_locale, clock.now(), _
    )
    await message.answer(text, reply_markup=markup)


@router.callback_query(RsvpCb.filter())
async def reply(
    call: CallbackQuery,
    callback_data: RsvpCb,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    clock: Clock,
) -> None:
    """Going / Maybe / Not going, refused for cancelled, begun or foreign meetings."""
    message = pressed(call)
    if callback_data.answer not in set(RsvpAnswer):
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    meeting = await get_meeting(session, callback_data.meeting_id)
    now = clock.now()
    if meeting is None or meeting.status == MeetingStatus.PROPOSED:
        await call.answer(_("This meeting is no longer available."), show_alert=True)
        return
    if meeting.is_cancelled:
        await call.answer(
            _("This meeting was cancelled, so there is nothing to answer."), show_alert=True
        )
        return
    if meeting.start_at is None or meeting.start_at <= now:
        await call.answer(_("This meeting has already started."), show_alert=True)
        return
    if not await is_invited(session, meeting, member.id):
        await call.answer(
            _("You are not invited to this meeting: it is for another working group."),
            show_alert=True,
        )
        return
    await set_rsvp(session, meeting.id, member.id, callback_data.answer, now)
    await call.answer(_("Saved: {answer}").format(answer=answer_label(callback_data.answer, _)))
    if isinstance(message, Message):  # an old invitation keeps its buttons as they were
        markup = with_rsvp_row(message.reply_markup, meeting.id, callback_data.answer, _)
        await edit_buttons(call, markup)


@router.callback_query(MeetingCb.filter(F.action == "ics"))
async def calendar_file(
    call: CallbackQuery,
    callback_data: MeetingCb,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    clock: Clock,
) -> None:
    """The meeting's .ics file, with the current time and sequence."""
    message = pressed(call)
    meeting = await get_meeting(session, callback_data.meeting_id)
    if meeting is None or meeting.start_at is None or not await visible(session, member, meeting):
        await call.answer(_("This meeting is no longer available."), show_alert=True)
        return
    await call.answer()
    data = meeting_ics(meeting, member.locale, clock.now())
    await message.answer_document(
        BufferedInputFile(data, filename=ics_filename(meeting)),
        caption=_("Open this file to add the meeting to your calendar."),
    )
