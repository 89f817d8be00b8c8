"""A new time for a meeting: typed in the zone it was entered in (or another one named), shown
beside the old one, then told to everyone invited with the reminders moved."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.i18n import format_when
from bot.meetings.callbacks import ManageCb
from bot.meetings.jobs import reschedule
from bot.meetings.manage_views import move_question, new_time_question, stop_keyboard
from bot.meetings.service import Managed
from bot.meetings.zones import find_zones, no_zone_text, valid_zone, zone_buttons, zone_prompt
from handlers.meetings.access import meeting_router
from handlers.meetings.manage.conversation import ManageMeeting
from handlers.meetings.typed_time import chosen_moment, read_time
from handlers.ui import clear_buttons
from models.meeting import Meeting
from models.member import Member

router = meeting_router(__name__, manages=True)
Gettext = Callable[..., str]
UPCOMING = {"meeting": Managed.UPCOMING}


async def ask_new_time(
    message: Message, meeting: Meeting, zone: str, member: Member, _: Gettext, now: datetime
) -> None:
    """Ask for the new start in `zone`."""
    text, markup = new_time_question(meeting.id, zone, member.locale, _, now)
    await message.answer(text, reply_markup=markup)


async def confirm_time(
    message: Message,
    meeting: Meeting,
    member: Member,
    state: FSMContext,
    _: Gettext,
    moment: datetime,
) -> None:
    """Show old and new time before telling everyone."""
    await state.update_data(new_start=moment.isoformat(), pending=None)
    text, markup = move_question(meeting, moment, member, _)
    await message.answer(text, reply_markup=markup)


@router.callback_query(ManageCb.filter(F.action == "resched"), flags=UPCOMING)
async def start_reschedule(
    call: CallbackQuery,
    meeting: Meeting,
    member: Member,
    state: FSMContext,
    _: Gettext,
    clock: Clock,
) -> None:
    """Ask for the new time, in the zone the meeting was entered in."""
    assert isinstance(call.message, Message)
    await call.answer()
    await state.set_state(ManageMeeting.when)
    await state.set_data({"meeting_id": meeting.id, "zone": meeting.zone})
    await ask_new_time(call.message, meeting, meeting.zone, member, _, clock.now())


@router.callback_query(ManageCb.filter(F.action == "zone"), flags=UPCOMING)
async def ask_zone(call: CallbackQuery, meeting: Meeting, state: FSMContext, _: Gettext) -> None:
    """Give the new time in another zone: ask which."""
    assert isinstance(call.message, Message)
    await call.answer()
    await state.set_state(ManageMeeting.zone)
    await call.message.answer(
        zone_prompt(_),
        reply_markup=stop_keyboard(meeting.id, _),
    )


@router.message(ManageMeeting.zone, F.text, flags={"meeting": Managed.LIVE})
async def typed_zone(
    message: Message, meeting: Meeting, member: Member, _: Gettext, clock: Clock
) -> None:
    """Zones matching a typed city, country or id, as buttons."""
    raw = message.text or ""
    found = find_zones(raw, member.locale, clock.now())
    if not found:
        await message.answer(no_zone_text(raw, _))
        return

    def pick(zone: str) -> ManageCb:
        return ManageCb(action="zone_pick", meeting_id=meeting.id, value=zone)

    buttons = zone_buttons(found, member.locale, clock.now(), pick)
    await message.answer(_("Tap the time zone:"), reply_markup=buttons.as_markup())


@router.callback_query(ManageCb.filter(F.action == "zone_pick"), flags=UPCOMING)
async def pick_zone(
    call: CallbackQuery,
    callback_data: ManageCb,
    meeting: Meeting,
    member: Member,
    state: FSMContext,
    _: Gettext,
    clock: Clock,
) -> None:
    """Use the zone tapped, and ask for the new time in it."""
    assert isinstance(call.message, Message)
    await call.answer()
    if not valid_zone(callback_data.value):
        await call.message.answer(_("This button is no longer valid."))
        return
    await clear_buttons(call)
    await state.set_state(ManageMeeting.when)
    await state.update_data(zone=callback_data.value)
    await ask_new_time(call.message, meeting, callback_data.value, member, _, clock.now())


@router.message(ManageMeeting.when, F.text, flags={"meeting": Managed.LIVE})
async def typed_time(
    message: Message,
    meeting: Meeting,
    member: Member,
    state: FSMContext,
    _: Gettext,
    clock: Clock,
) -> None:
    """The new start: refused with a reason, asked about if ambiguous, else confirmed."""
    data = await state.get_data()
    zone = data.get("zone") or meeting.zone

    def which(fold: str) -> ManageCb:
        return ManageCb(action="fold", meeting_id=meeting.id, value=fold)

    moment = await read_time(message, state, zone, clock.now(), member.locale, _, which)
    if moment is not None:
        await confirm_time(message, meeting, member, state, _, moment)


@router.callback_query(ManageCb.filter(F.action == "fold"), flags=UPCOMING)
async def choose_fold(
    call: CallbackQuery,
    callback_data: ManageCb,
    meeting: Meeting,
    member: Member,
    state: FSMContext,
    _: Gettext,
    clock: Clock,
) -> None:
    """One of the two moments of a time that happens twice."""
    assert isinstance(call.message, Message)
    await call.answer()
    data = await state.get_data()
    pending, zone = data.get("pending"), data.get("zone", meeting.zone)
    which = callback_data.value
    if not pending or which not in ("0", "1") or data.get("meeting_id") != meeting.id:
        await call.message.answer(_("This button is no longer valid."))
        return
    now = clock.now()
    moment = await chosen_moment(call.message, pending, which, zone, now, member.locale, _)
    if moment is not None:
        await confirm_time(call.message, meeting, member, state, _, moment)


@router.callback_query(ManageCb.filter(F.action == "resched_ok"), flags=UPCOMING)
async def move(
    call: CallbackQuery,
    meeting: Meeting,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    clock: Clock,
) -> None:
    """Move the meeting: everyone invited is told, and the reminders move with it."""
    assert isinstance(call.message, Message)
    await call.answer()
    data, now = await state.get_data(), clock.now()
    start = data.get("new_start")
    if data.get("meeting_id") != meeting.id or not start:
        await call.message.answer(_("This button is no longer valid."))
        return
    moment = datetime.fromisoformat(start)
    if moment <= now:
        await call.message.answer(_("That time has already passed. Please send another one."))
        return
    await clear_buttons(call)
    meeting.zone = data.get("zone") or meeting.zone  # the zone the new time was given in
    await reschedule(session, meeting, moment, member, now)
    await state.clear()
    await call.message.answer(
        _("✅ Moved to {when}. Everyone invited is being told, and the reminders moved.").format(
            when=format_when(moment, member.tz, member.locale)
        )
    )
