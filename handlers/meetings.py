"""/meetings for members: upcoming meetings in their own zone, replies, calendar files, and
the "find a date" polls waiting for their answers."""

from __future__ import annotations

import html
from collections.abc import Callable

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import format_when
from bot.meetings import (
    MeetingCb,
    RsvpCb,
    SlotCb,
    answer_label,
    can_manage,
    directed,
    group_name,
    ics_filename,
    meeting_body,
    meeting_ics,
    poll_keyboard,
    poll_text,
    rsvp_keyboard,
    slot_answer_label,
)
from handlers.filters import ActiveMember
from models.group import GroupRole, MembershipStatus, memberships_of
from models.meeting import (
    Meeting,
    MeetingStatus,
    RsvpAnswer,
    SlotAnswer,
    end_of,
    get_meeting,
    get_poll,
    get_rsvp,
    get_slot,
    is_invited,
    meeting_of_poll,
    open_polls_for,
    set_rsvp,
    set_slot_answer,
    slot_answers_of,
    upcoming_for,
)
from models.member import Member

router = Router(name=__name__)
router.message.filter(F.chat.type == "private", ActiveMember())
router.callback_query.filter(F.message.chat.type == "private", ActiveMember())
Gettext = Callable[..., str]
LISTED = 10


async def may_schedule(session: AsyncSession, member: Member) -> bool:
    """Admins, and coordinators of at least one group, see the scheduling buttons."""
    if member.is_admin:
        return True
    return any(
        link.role == GroupRole.COORDINATOR and link.status == MembershipStatus.ACTIVE
        for link in await memberships_of(session, member.id)
    )


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
    now = clock.now()
    meetings = (await upcoming_for(session, member, now))[:LISTED]
    polls = await open_polls_for(session, member)
    kb = InlineKeyboardBuilder()
    lines = []
    if meetings:
        lines.append(_("<b>Your upcoming meetings</b>"))
        for number, meeting in enumerate(meetings, start=1):
            assert meeting.start_at is not None
            rsvp = await get_rsvp(session, meeting.id, member.id)
            title = meeting.text(member.locale)[0]
            lines += [
                "",
                f"{number}. <b>{html.escape(title)}</b>",
                "🕒 " + format_when(meeting.start_at, member.tz, member.locale),
                _("Your answer: {answer}").format(
                    answer=answer_label(rsvp.answer if rsvp else None, _)
                ),
            ]
            kb.button(
                text=f"{number}. {title[:40]}",
                callback_data=MeetingCb(action="open", meeting_id=meeting.id),
            )
    else:
        lines.append(_("You have no upcoming meetings."))
    if polls:
        lines += ["", _("<b>Find a date:</b> tell the coordinators when you can come.")]
        for meeting, _poll in polls:
            title = meeting.text(member.locale)[0]
            lines.append("🗓 " + html.escape(title))
            kb.button(
                text="🗓 " + title[:40],
                callback_data=MeetingCb(action="poll", meeting_id=meeting.id),
            )
    if await may_schedule(session, member):
        kb.button(text=_("➕ New meeting"), callback_data=MeetingCb(action="new", meeting_id=0))
        kb.button(
            text=_("⚙️ Manage meetings"), callback_data=MeetingCb(action="managed", meeting_id=0)
        )
    kb.adjust(1)
    await message.answer("\n".join(lines), reply_markup=kb.as_markup())


async def visible(session: AsyncSession, member: Member, meeting: Meeting | None) -> bool:
    """Invited members and the meeting's managers may open it."""
    if meeting is None:
        return False
    return await is_invited(session, meeting, member.id) or await can_manage(
        session, member, meeting
    )


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
    assert isinstance(call.message, Message)
    meeting = await get_meeting(session, callback_data.meeting_id)
    if meeting is None or not await visible(session, member, meeting):
        await call.answer(_("This meeting is no longer available."), show_alert=True)
        return
    await call.answer()
    name = await group_name(session, meeting.group_id, member.locale, settings.default_locale)
    lines = meeting_body(meeting, name, member.locale, member.tz, _)
    if meeting.is_cancelled:
        lines += ["", "🚫 " + _("This meeting was cancelled.")]
        await call.message.answer(directed("\n".join(lines), member.locale))
        return
    rsvp = await get_rsvp(session, meeting.id, member.id)
    extra = [("ics", _("📅 Calendar file"))]
    if await can_manage(session, member, meeting):
        extra.append(("manage", _("⚙️ Manage")))
    if meeting.start_at is not None and end_of(meeting) <= clock.now():
        lines += ["", _("This meeting has ended.")]
        kb = InlineKeyboardBuilder()
        for action, text in extra:
            kb.button(text=text, callback_data=MeetingCb(action=action, meeting_id=meeting.id))
        await call.message.answer(
            directed("\n".join(lines), member.locale), reply_markup=kb.as_markup()
        )
        return
    keyboard = rsvp_keyboard(meeting.id, rsvp.answer if rsvp else None, _, extra=extra)
    await call.message.answer(directed("\n".join(lines), member.locale), reply_markup=keyboard)


def with_rsvp_row(
    markup: InlineKeyboardMarkup | None, meeting_id: int, current: str, _: Gettext
) -> InlineKeyboardMarkup:
    """The message's keyboard with the reply row redrawn and its other buttons kept."""
    row = rsvp_keyboard(meeting_id, current, _).inline_keyboard[0]
    rest = markup.inline_keyboard[1:] if markup else []
    return InlineKeyboardMarkup(inline_keyboard=[row, *rest])


async def edit_markup(message: Message, markup: InlineKeyboardMarkup) -> None:
    """Redraw buttons; an identical keyboard (a double tap) is not an error."""
    try:
        await message.edit_reply_markup(reply_markup=markup)
    except TelegramBadRequest as exc:
        if "not modified" not in exc.message:
            raise


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
    assert isinstance(call.message, Message)
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
    markup = call.message.reply_markup
    await edit_markup(call.message, with_rsvp_row(markup, meeting.id, callback_data.answer, _))


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
    assert isinstance(call.message, Message)
    meeting = await get_meeting(session, callback_data.meeting_id)
    if meeting is None or meeting.start_at is None or not await visible(session, member, meeting):
        await call.answer(_("This meeting is no longer available."), show_alert=True)
        return
    await call.answer()
    data = meeting_ics(meeting, member.locale, clock.now())
    await call.message.answer_document(
        BufferedInputFile(data, filename=ics_filename(meeting)),
        caption=_("Open this file to add the meeting to your calendar."),
    )


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
    assert isinstance(call.message, Message)
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
    await call.message.answer(
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
    assert isinstance(call.message, Message)
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
    try:
        await call.message.edit_text(
            poll_text(meeting, poll, name, answers, member.locale, member.tz, _),
            reply_markup=poll_keyboard(poll),
        )
    except TelegramBadRequest as exc:
        if "not modified" not in exc.message:
            raise
