"""Coordinators manage their meetings: replies with names, rescheduling, a new link or place,
cancelling, minutes afterwards, and turning a "find a date" poll into the meeting."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot import geo
from bot.clock import Clock
from bot.config import Settings
from bot.i18n import format_when
from bot.meeting_delivery import (
    cancel_meeting,
    change_link,
    change_place,
    post_minutes,
    reschedule,
    schedule_slot,
)
from bot.meetings import (
    MAX_AGENDA,
    MAX_PLACE,
    Ambiguous,
    MeetingCb,
    WhenError,
    ambiguous_labels,
    ambiguous_text,
    can_manage,
    clean,
    find_zones,
    group_name,
    parse_when,
    poll_summary_text,
    replies_text,
    resolve_local,
    short_time,
    valid_link,
    valid_zone,
    when_problem_text,
)
from handlers.filters import ActiveMember
from handlers.ui import clear_buttons
from models.meeting import (
    Meeting,
    MeetingMinutes,
    MeetingStatus,
    MinutesAudience,
    attendee_ids,
    audience_ids,
    count_ids,
    get_meeting,
    get_poll,
    get_slot,
    managed_meetings,
    poll_respondents,
    poll_tallies,
    rsvp_names,
)
from models.member import Member

router = Router(name=__name__)
router.message.filter(F.chat.type == "private", ActiveMember())
router.callback_query.filter(F.message.chat.type == "private", ActiveMember())
Gettext = Callable[..., str]


class ManageMeeting(StatesGroup):
    """Typed answers while changing a meeting."""

    when = State()
    zone = State()
    link = State()
    place = State()
    minutes = State()


class ManageCb(CallbackData, prefix="mm"):
    """A coordinator's action on one meeting."""

    action: str
    meeting_id: int
    value: str = ""


def local_time(moment: datetime, zone: str, locale: str) -> str:
    """A short day and time in a zone, for buttons."""
    return short_time(moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None), locale)


@router.callback_query(MeetingCb.filter(F.action == "managed"))
async def list_managed(
    call: CallbackQuery, member: Member, session: AsyncSession, _: Gettext, clock: Clock
) -> None:
    """The meetings and date polls this coordinator may manage."""
    assert isinstance(call.message, Message)
    await call.answer()
    meetings = await managed_meetings(session, member, clock.now())
    kb = InlineKeyboardBuilder()
    for meeting in meetings[:20]:
        title = meeting.text(member.locale)[0][:32]
        if meeting.start_at is None:
            label = "🗓 " + _("{title} (finding a date)").format(title=title)
        else:
            label = f"📅 {title} · {local_time(meeting.start_at, member.tz, member.locale)}"
        kb.button(text=label, callback_data=MeetingCb(action="manage", meeting_id=meeting.id))
    kb.button(text=_("➕ New meeting"), callback_data=MeetingCb(action="new", meeting_id=0))
    kb.adjust(1)
    text = _("<b>Meetings you manage</b>") if meetings else _("You manage no meetings yet.")
    await call.message.answer(text, reply_markup=kb.as_markup())


async def manage_view(
    session: AsyncSession,
    meeting: Meeting,
    member: Member,
    _: Gettext,
    settings: Settings,
    now: datetime,
) -> tuple[str, InlineKeyboardMarkup]:
    """Replies with names (or the date poll's best slots) and what can be done now."""
    locale, zone = member.locale, member.tz
    name = await group_name(session, meeting.group_id, locale, settings.default_locale)
    invited = await count_ids(session, audience_ids(meeting))
    kb = InlineKeyboardBuilder()

    def button(text: str, action: str, value: str = "") -> None:
        kb.button(
            text=text, callback_data=ManageCb(action=action, meeting_id=meeting.id, value=value)
        )

    if meeting.status == MeetingStatus.PROPOSED:
        poll = await get_poll(session, meeting.id)
        assert poll is not None
        tallies = await poll_tallies(session, meeting, poll)
        respondents = await poll_respondents(session, poll)
        text = poll_summary_text(meeting, tallies, respondents, invited, locale, zone, _)
        for tally in tallies:
            if tally.slot.start_at > now:
                when = local_time(tally.slot.start_at, zone, locale)
                button(_("📅 Schedule: {when}").format(when=when), "slot", str(tally.slot.id))
        button(_("🔄 Refresh"), "refresh")
        button(_("🚫 Cancel"), "cancel")
        kb.adjust(1)
        return text, kb.as_markup()
    names = await rsvp_names(session, meeting)
    text = replies_text(meeting, name, names, invited, locale, zone, _)
    if meeting.is_cancelled:
        return text, kb.as_markup()
    assert meeting.start_at is not None
    if meeting.start_at > now:
        button(_("🕒 Reschedule"), "resched")
        button(_("🔗 Change the link"), "link")
        button(_("📍 Change the place"), "place")
        button(_("🚫 Cancel the meeting"), "cancel")
    else:
        button(_("📝 Send minutes or outcomes"), "minutes")
    button(_("🔄 Refresh"), "refresh")
    kb.adjust(2)
    return text, kb.as_markup()


async def managed(
    call: CallbackQuery, session: AsyncSession, member: Member, meeting_id: int, _: Gettext
) -> Meeting | None:
    """The meeting, if this member may manage it; otherwise a clear refusal."""
    meeting = await get_meeting(session, meeting_id)
    if meeting is None:
        await call.answer(_("This meeting is no longer available."), show_alert=True)
        return None
    if not await can_manage(session, member, meeting):
        await call.answer(
            _("Only the group's coordinators and network admins can manage this meeting."),
            show_alert=True,
        )
        return None
    return meeting


@router.callback_query(MeetingCb.filter(F.action == "manage"))
async def open_managed(
    call: CallbackQuery,
    callback_data: MeetingCb,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    settings: Settings,
    clock: Clock,
) -> None:
    """A coordinator opens one meeting: replies, or the date poll's ranking."""
    assert isinstance(call.message, Message)
    meeting = await managed(call, session, member, callback_data.meeting_id, _)
    if meeting is None:
        return
    await call.answer()
    text, markup = await manage_view(session, meeting, member, _, settings, clock.now())
    await call.message.answer(text, reply_markup=markup)


@router.callback_query(ManageCb.filter())
async def on_action(
    call: CallbackQuery,
    callback_data: ManageCb,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    settings: Settings,
    clock: Clock,
) -> None:
    """Every management button; each re-checks the right to manage and the meeting's state."""
    assert isinstance(call.message, Message)
    meeting = await managed(call, session, member, callback_data.meeting_id, _)
    if meeting is None:
        return
    action, value, now = callback_data.action, callback_data.value, clock.now()
    message = call.message
    upcoming = (
        meeting.status == MeetingStatus.SCHEDULED
        and meeting.start_at is not None
        and meeting.start_at > now
    )
    if action == "refresh":
        await call.answer()
        text, markup = await manage_view(session, meeting, member, _, settings, now)
        try:
            await message.edit_text(text, reply_markup=markup)
        except TelegramBadRequest as exc:
            if "not modified" not in exc.message:
                raise
        return
    if action == "stop":
        await call.answer()
        await clear_buttons(call)
        await state.clear()
        await message.answer(_("Nothing was changed."))
        return
    if meeting.is_cancelled:
        await call.answer(_("This meeting was cancelled."), show_alert=True)
        return
    if action == "slot":
        await pick_slot(call, meeting, member, session, state, _, now, value)
        return
    if action == "cancel":
        await call.answer()
        kb = InlineKeyboardBuilder()
        kb.button(
            text=_("Yes, cancel the meeting"),
            callback_data=ManageCb(action="cancel_ok", meeting_id=meeting.id),
        )
        kb.button(
            text=_("No, keep it"), callback_data=ManageCb(action="stop", meeting_id=meeting.id)
        )
        kb.adjust(1)
        title = html.escape(meeting.text(member.locale)[0])
        await message.answer(
            _("Cancel <b>{title}</b>? Everyone invited will be told.").format(title=title),
            reply_markup=kb.as_markup(),
        )
        return
    if action == "cancel_ok":
        await call.answer()
        await clear_buttons(call)
        await cancel_meeting(session, meeting, member, now)
        await state.clear()
        await message.answer(
            _("🚫 The meeting is cancelled. Everyone invited is being told; no reminder will go.")
        )
        return
    if action == "minutes":
        if meeting.start_at is None or meeting.start_at > now:
            await call.answer(
                _("Minutes can be sent once the meeting has started."), show_alert=True
            )
            return
        await call.answer()
        await state.set_state(ManageMeeting.minutes)
        await state.set_data({"meeting_id": meeting.id})
        await message.answer(
            _("Send the minutes or outcomes: a text, a document or a voice note."),
            reply_markup=stop_keyboard(meeting.id, _),
        )
        return
    if action == "minutes_to":
        await send_minutes(call, meeting, member, session, state, _, value)
        return
    if not upcoming:
        await call.answer(_("This meeting has already started."), show_alert=True)
        return
    await call.answer()
    if action == "resched":
        await state.set_state(ManageMeeting.when)
        await state.set_data({"meeting_id": meeting.id, "zone": meeting.zone})
        await ask_new_time(message, meeting.id, meeting.zone, member.locale, _, now)
    elif action == "zone":
        await state.set_state(ManageMeeting.zone)
        await message.answer(
            _("Type a city, a country or a time zone, for example Paris, Kenya or America/Lima."),
            reply_markup=stop_keyboard(meeting.id, _),
        )
    elif action == "zone_pick" and valid_zone(value):
        await clear_buttons(call)
        await state.set_state(ManageMeeting.when)
        await state.update_data(zone=value)
        await ask_new_time(message, meeting.id, value, member.locale, _, now)
    elif action == "fold":
        await choose_fold(message, meeting, member, state, _, now, value)
    elif action == "resched_ok":
        data = await state.get_data()
        start = data.get("new_start")
        if data.get("meeting_id") != meeting.id or not start:
            await message.answer(_("This button is no longer valid."))
            return
        moment = datetime.fromisoformat(start)
        if moment <= now:
            await message.answer(_("That time has already passed. Please send another one."))
            return
        await clear_buttons(call)
        meeting.zone = data.get("zone") or meeting.zone  # the zone the new time was given in
        await reschedule(session, meeting, moment, member, now)
        await state.clear()
        await message.answer(
            _(
                "✅ Moved to {when}. Everyone invited is being told, and the reminders moved."
            ).format(when=format_when(moment, member.tz, member.locale))
        )
    elif action in ("link", "place"):
        await state.set_state(ManageMeeting.link if action == "link" else ManageMeeting.place)
        await state.set_data({"meeting_id": meeting.id})
        kb = InlineKeyboardBuilder()
        kb.button(
            text=_("Remove it"),
            callback_data=ManageCb(action=f"{action}_rm", meeting_id=meeting.id),
        )
        kb.attach(InlineKeyboardBuilder.from_markup(stop_keyboard(meeting.id, _)))
        question = (
            _("Send the new link (starting with https://).")
            if action == "link"
            else _("Send the new place (address or room).")
        )
        await message.answer(question, reply_markup=kb.as_markup())
    elif action in ("link_rm", "place_rm"):
        other = meeting.place if action == "link_rm" else meeting.link
        if not other:
            await message.answer(_("Please give a link or a place, so members know where to go."))
            return
        await clear_buttons(call)
        if action == "link_rm":
            await change_link(session, meeting, None, member, now)
        else:
            await change_place(session, meeting, None, member, now)
        await state.clear()
        await message.answer(_("✅ Changed. Everyone invited is being told."))
    else:
        await message.answer(_("This button is no longer valid."))


def stop_keyboard(meeting_id: int, _: Gettext) -> InlineKeyboardMarkup:
    """A Cancel button that leaves the meeting as it is."""
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✖ Cancel"), callback_data=ManageCb(action="stop", meeting_id=meeting_id))
    return kb.as_markup()


async def ask_new_time(
    message: Message, meeting_id: int, zone: str, locale: str, _: Gettext, now: datetime
) -> None:
    """Ask for the new start in the zone the meeting was entered in (or one named)."""
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("🌍 Another time zone"),
        callback_data=ManageCb(action="zone", meeting_id=meeting_id),
    )
    kb.button(text=_("✖ Cancel"), callback_data=ManageCb(action="stop", meeting_id=meeting_id))
    kb.adjust(1)
    await message.answer(
        _("Send the new date and start time in <b>{zone}</b>.").format(
            zone=html.escape(geo.zone_label(zone, locale, now))
        ),
        reply_markup=kb.as_markup(),
    )


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
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("✅ Move it and tell everyone"),
        callback_data=ManageCb(action="resched_ok", meeting_id=meeting.id),
    )
    kb.button(text=_("✖ Cancel"), callback_data=ManageCb(action="stop", meeting_id=meeting.id))
    kb.adjust(1)
    assert meeting.start_at is not None
    await message.answer(
        _("Move <b>{title}</b>\nfrom {old}\nto {new}?").format(
            title=html.escape(meeting.text(member.locale)[0]),
            old=format_when(meeting.start_at, member.tz, member.locale),
            new=format_when(moment, member.tz, member.locale),
        ),
        reply_markup=kb.as_markup(),
    )


async def choose_fold(
    message: Message,
    meeting: Meeting,
    member: Member,
    state: FSMContext,
    _: Gettext,
    now: datetime,
    value: str,
) -> None:
    """One of the two moments of a time that happens twice."""
    data = await state.get_data()
    pending, zone = data.get("pending"), data.get("zone", meeting.zone)
    if not pending or value not in ("0", "1") or data.get("meeting_id") != meeting.id:
        await message.answer(_("This button is no longer valid."))
        return
    try:
        choice = resolve_local(datetime.fromisoformat(pending), zone, now)
    except WhenError as error:
        await message.answer(when_problem_text(error, zone, now, member.locale, _))
        return
    assert isinstance(choice, Ambiguous)
    await confirm_time(
        message, meeting, member, state, _, choice.later if value == "1" else choice.earlier
    )


async def pick_slot(
    call: CallbackQuery,
    meeting: Meeting,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    now: datetime,
    value: str,
) -> None:
    """One tap turns a date poll into the meeting at that slot."""
    assert isinstance(call.message, Message)
    poll = await get_poll(session, meeting.id)
    slot = await get_slot(session, int(value)) if value.isdigit() else None
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
    await call.message.answer(
        _("✅ Scheduled for {when}. The invitation is on its way (recipients: {count}).").format(
            when=format_when(slot.start_at, member.tz, member.locale), count=invited
        )
    )


async def send_minutes(
    call: CallbackQuery,
    meeting: Meeting,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    value: str,
) -> None:
    """Send the minutes held in the conversation to the chosen audience."""
    assert isinstance(call.message, Message)
    data = await state.get_data()
    draft = data.get("minutes")
    if data.get("meeting_id") != meeting.id or not draft or value not in set(MinutesAudience):
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await clear_buttons(call)
    minutes = MeetingMinutes(
        meeting_id=meeting.id,
        kind=draft["kind"],
        text=draft.get("text") or "",
        file_id=draft.get("file_id"),
        file_name=draft.get("file_name"),
        audience=value,
        created_by_id=member.id,
    )
    await post_minutes(session, meeting, minutes, member)
    query = attendee_ids(meeting) if value == MinutesAudience.ATTENDEES else audience_ids(meeting)
    count = await count_ids(session, query)
    await state.clear()
    await call.message.answer(
        _("✅ The minutes are on their way (recipients: {count}).").format(count=count)
    )


async def state_meeting(
    message: Message, state: FSMContext, session: AsyncSession, member: Member, _: Gettext
) -> Meeting | None:
    """The meeting a typed answer is about, if it may still be managed."""
    data = await state.get_data()
    meeting = await get_meeting(session, int(data.get("meeting_id") or 0))
    if meeting is None or meeting.is_cancelled or not await can_manage(session, member, meeting):
        await state.clear()
        await message.answer(_("This meeting is no longer available."))
        return None
    return meeting


@router.message(StateFilter(ManageMeeting.when), F.text)
async def typed_time(
    message: Message,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    clock: Clock,
) -> None:
    """The new start: refused with a reason, asked about if ambiguous, else confirmed."""
    meeting = await state_meeting(message, state, session, member, _)
    if meeting is None:
        return
    data = await state.get_data()
    zone, now = data.get("zone") or meeting.zone, clock.now()
    try:
        result = parse_when((message.text or "")[:100], zone, now)
    except WhenError as error:
        await message.answer(when_problem_text(error, zone, now, member.locale, _))
        return
    if isinstance(result, Ambiguous):
        await state.update_data(pending=result.local.isoformat())
        first, second = ambiguous_labels(result, member.locale, _)
        kb = InlineKeyboardBuilder()
        for label, fold in ((first, "0"), (second, "1")):
            kb.button(
                text=label,
                callback_data=ManageCb(action="fold", meeting_id=meeting.id, value=fold),
            )
        kb.adjust(1)
        await message.answer(ambiguous_text(result, member.locale, _), reply_markup=kb.as_markup())
        return
    await confirm_time(message, meeting, member, state, _, result)


@router.message(StateFilter(ManageMeeting.zone), F.text)
async def typed_zone(
    message: Message,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    clock: Clock,
) -> None:
    """Zones matching a typed city, country or id, as buttons."""
    meeting = await state_meeting(message, state, session, member, _)
    if meeting is None:
        return
    raw = message.text or ""
    found = find_zones(raw, member.locale)
    if not found:
        await message.answer(
            _("No time zone matches “{query}”. Try a city or a country name.").format(
                query=html.escape(raw[:64])
            )
        )
        return
    kb = InlineKeyboardBuilder()
    for zone in found:
        kb.button(
            text=geo.zone_label(zone, member.locale, clock.now()),
            callback_data=ManageCb(action="zone_pick", meeting_id=meeting.id, value=zone),
        )
    kb.adjust(1)
    await message.answer(_("Tap the time zone:"), reply_markup=kb.as_markup())


@router.message(StateFilter(ManageMeeting.link, ManageMeeting.place), F.text)
async def typed_link_or_place(
    message: Message,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    clock: Clock,
) -> None:
    """A new link or place, told to everyone invited at once."""
    meeting = await state_meeting(message, state, session, member, _)
    if meeting is None:
        return
    raw = (message.text or "").strip()
    now = clock.now()
    if meeting.start_at is None or meeting.start_at <= now:
        await state.clear()
        await message.answer(_("This meeting has already started."))
        return
    if await state.get_state() == ManageMeeting.link.state:
        if not valid_link(raw):
            await message.answer(
                _("Please send a web link starting with https:// (or http://), without spaces.")
            )
            return
        await change_link(session, meeting, raw, member, now)
    else:
        place = clean(raw, MAX_PLACE)
        if place is None:
            await message.answer(
                _("Please send a place of up to {limit} characters.").format(limit=MAX_PLACE)
            )
            return
        await change_place(session, meeting, place, member, now)
    await state.clear()
    await message.answer(_("✅ Changed. Everyone invited is being told."))


@router.message(StateFilter(ManageMeeting.minutes))
async def typed_minutes(
    message: Message,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
) -> None:
    """Minutes as text, a document or a voice note; then who should receive them."""
    meeting = await state_meeting(message, state, session, member, _)
    if meeting is None:
        return
    draft: dict[str, Any]
    if message.document is not None:
        draft = {
            "kind": "document",
            "file_id": message.document.file_id,
            "file_name": message.document.file_name,
            "text": clean(message.caption or "", MAX_AGENDA, lines=True) or "",
        }
    elif message.voice is not None:
        draft = {
            "kind": "voice",
            "file_id": message.voice.file_id,
            "text": clean(message.caption or "", MAX_AGENDA, lines=True) or "",
        }
    elif message.text and not message.text.startswith("/"):
        text = clean(message.text, 3500, lines=True)
        if text is None:
            await message.answer(_("Please send up to 3500 characters, or a document."))
            return
        draft = {"kind": "text", "text": text}
    else:
        await message.answer(_("Please send a text, a document or a voice note."))
        return
    await state.update_data(minutes=draft)
    attendees = await count_ids(session, attendee_ids(meeting))
    everyone = await count_ids(session, audience_ids(meeting))
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("Those who said Going ({count})").format(count=attendees),
        callback_data=ManageCb(
            action="minutes_to", meeting_id=meeting.id, value=MinutesAudience.ATTENDEES
        ),
    )
    kb.button(
        text=_("The whole group ({count})").format(count=everyone),
        callback_data=ManageCb(
            action="minutes_to", meeting_id=meeting.id, value=MinutesAudience.GROUP
        ),
    )
    kb.button(text=_("✖ Cancel"), callback_data=ManageCb(action="stop", meeting_id=meeting.id))
    kb.adjust(1)
    await message.answer(_("Who should receive them?"), reply_markup=kb.as_markup())


@router.message(StateFilter(ManageMeeting))
async def other_input(message: Message, _: Gettext) -> None:
    """Anything else while changing a meeting."""
    await message.answer(_("Please send it as a text message, or tap Cancel."))
