"""Find a date: members answer for each proposed time, and a coordinator picks the time that
turns the poll into the meeting."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.bounded import row_id
from bot.core.clock import Clock
from bot.core.config import Settings
from bot.core.i18n import format_when
from bot.meetings.callbacks import ManageCb, MeetingCb, SlotCb
from bot.meetings.jobs import schedule_slot
from bot.meetings.poll_views import poll_keyboard, poll_text, slot_answer_label
from bot.meetings.service import Managed
from bot.meetings.views import group_name
from handlers.meetings.access import meeting_router
from handlers.meetings.redraw import redraw
from handlers.ui import clear_buttons, pressed
from models.meeting import (
    Meeting,
    MeetingStatus,
    SlotAnswer,
    audience_ids,
    count_ids,
    get_meeting,
    get_poll,
    get_slot,
    is_invited,
    meeting_of_poll,
    set_slot_answer,
    slot_answers_of,
)
from models.member import Member

router = meeting_router(__name__, manages=True)
Gettext = Callable[..., str]


@router.callback_query(MeetingCb.filter(F.action == "poll"))
async def open_poll(
    call: CallbackQuery,
    callback_data: MeetingCb,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    settings: Settings,
) -> None:
    """A date poll in the member's zone, with their answers so far."""
    message = pressed(call)
    meeting = await get_meeting(session, callback_data.meeting_id)
    poll = await get_poll(session, meeting.id) if meeting else None
    if meeting is None or poll is None or not await is_invited(session, meeting, member.id):
        await call.answer(_("This poll is no longer available."), show_alert=True)
        return
    if not poll.is_open:
        await call.answer(_("This poll is closed."), show_alert=True)
        return
    await call.answer()
    name = await group_name(session, meeting.group_id, member.locale, settings.default_locale)
    answers = await slot_answers_of(session, poll, member.id)
    await message.answer(
        poll_text(meeting, poll, name, answers, member.locale, member.tz, _),
        reply_markup=poll_keyboard(poll),
    )


@router.callback_query(SlotCb.filter())
async def answer_slot(
    call: CallbackQuery,
    callback_data: SlotCb,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    settings: Settings,
    clock: Clock,
) -> None:
    """Yes / If need be / No for one slot; the message is redrawn with the member's answers."""
    slot = await get_slot(session, callback_data.slot_id)
    if slot is None or callback_data.answer not in set(SlotAnswer):
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    meeting = await meeting_of_poll(session, slot.poll_id)
    poll = await get_poll(session, meeting.id) if meeting else None
    if meeting is None or poll is None or not poll.is_open or meeting.is_cancelled:
        await call.answer(_("This poll is closed."), show_alert=True)
        return
    if not await is_invited(session, meeting, member.id):
        await call.answer(
            _("You are not invited to this meeting: it is for another working group."),
            show_alert=True,
        )
        return
    await set_slot_answer(session, slot.id, member.id, callback_data.answer, clock.now())
    await call.answer(
        _("Saved: {answer}").format(answer=slot_answer_label(callback_data.answer, _))
    )
    name = await group_name(session, meeting.group_id, member.locale, settings.default_locale)
    answers = await slot_answers_of(session, poll, member.id)
    text = poll_text(meeting, poll, name, answers, member.locale, member.tz, _)
    await redraw(pressed(call), text, poll_keyboard(poll))


@router.callback_query(ManageCb.filter(F.action == "slot"), flags={"meeting": Managed.LIVE})
async def pick_slot(
    call: CallbackQuery,
    callback_data: ManageCb,
    meeting: Meeting,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    clock: Clock,
) -> None:
    """One tap turns a date poll into the meeting at that slot."""
    message = pressed(call)
    value, now = callback_data.value, clock.now()
    poll = await get_poll(session, meeting.id)
    slot_id = row_id(value)
    slot = await get_slot(session, slot_id) if slot_id is not None else None
    if poll is None or slot is None or slot.poll_id != poll.id:
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    if not poll.is_open or meeting.status != MeetingStatus.PROPOSED:
        await call.answer(_("A date was already chosen for this meeting."), show_alert=True)
        return
    if slot.start_at <= now:
        await call.answer(_("That time has already passed."), show_alert=True)
        return
    await call.answer()
    await clear_buttons(call)
    await schedule_slot(session, meeting, poll, slot, member, now)
    invited = await count_ids(session, audience_ids(meeting))
    await message.answer(
        _("✅ Scheduled for {when}. The invitation is on its way (recipients: {count}).").format(
            when=format_when(slot.start_at, member.tz, member.locale), count=invited
        )
    )
