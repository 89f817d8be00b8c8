"""Scheduling a meeting (or a "find a date" poll) as a guided conversation with Back and Cancel.

Every step is a state; `steps` in the FSM data is the path walked so far, so Back returns to
the previous question with the answers kept. Buttons carry their step, so a button of an
earlier question cannot act on a later one.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot import geo
from bot.clock import Clock
from bot.config import SUPPORTED_LOCALES, Settings
from bot.i18n import LANGUAGE_NAMES, format_when
from bot.meeting_delivery import announce, send_date_poll
from bot.meetings import (
    DURATIONS,
    MAX_AGENDA,
    MAX_PLACE,
    MAX_SLOTS,
    MAX_TITLE,
    REMINDER_CHOICES,
    Ambiguous,
    MeetingCb,
    WhenError,
    ambiguous_labels,
    ambiguous_text,
    announcement_text,
    build_meeting,
    build_poll,
    clean,
    find_zones,
    format_duration,
    format_offset,
    parse_when,
    poll_text,
    preview_zone,
    resolve_local,
    valid_link,
    valid_zone,
    when_problem_text,
)
from handlers.filters import ActiveMember
from handlers.ui import clear_buttons
from models.meeting import DEFAULT_REMINDERS, audience_ids, count_ids, schedulable_groups
from models.member import Member

router = Router(name=__name__)
router.message.filter(F.chat.type == "private", ActiveMember())
router.callback_query.filter(F.message.chat.type == "private", ActiveMember())
Gettext = Callable[..., str]


class NewMeeting(StatesGroup):
    """One state per question."""

    group = State()
    title = State()
    agenda = State()
    languages = State()
    tr_title = State()
    tr_agenda = State()
    mode = State()
    when = State()
    slots = State()
    zone = State()
    duration = State()
    link = State()
    place = State()
    reminders = State()
    preview = State()


TEXT_STEPS = frozenset(
    {"title", "agenda", "tr_title", "tr_agenda", "when", "slots", "zone", "link", "place"}
)


class NewCb(CallbackData, prefix="nm"):
    """A button of one step of the conversation."""

    step: str
    action: str
    value: str = ""


@dataclass
class Flow:
    """What every step needs: the conversation's state and the update's context."""

    state: FSMContext
    member: Member
    session: AsyncSession
    _: Gettext
    clock: Clock
    settings: Settings

    @classmethod
    def of(cls, ctx: dict[str, Any]) -> Flow:
        return cls(
            ctx["state"], ctx["member"], ctx["session"], ctx["_"], ctx["clock"], ctx["settings"]
        )

    @property
    def locale(self) -> str:
        return str(self.member.locale)


def nav(kb: InlineKeyboardBuilder, step: str, _: Gettext, *, back: bool = True) -> None:
    """Add the Back and Cancel row."""
    row = InlineKeyboardBuilder()
    if back:
        row.button(text=_("◀ Back"), callback_data=NewCb(step=step, action="back"))
    row.button(text=_("✖ Cancel"), callback_data=NewCb(step=step, action="cancel"))
    kb.attach(row)


def example_time(now: datetime, zone: str) -> str:
    """A typing example a week ahead, day before month."""
    local = (now + timedelta(days=7)).astimezone(ZoneInfo(zone))
    return f"{local:%d/%m} 18:30"


# --- questions ---------------------------------------------------------------------------------

Question = Callable[[Flow, dict[str, Any]], Awaitable[tuple[str, InlineKeyboardMarkup]]]


async def q_group(f: Flow, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    _ = f._
    kb = InlineKeyboardBuilder()
    for group in await schedulable_groups(f.session, f.member):
        name = group.text(f.locale, f.settings.default_locale)[0]
        kb.button(text=name, callback_data=NewCb(step="group", action="pick", value=str(group.id)))
    if f.member.is_admin:
        kb.button(text=_("🌐 Whole network"), callback_data=NewCb(step="group", action="pick"))
    kb.adjust(1)
    nav(kb, "group", _, back=False)
    return _("<b>New meeting</b>\nWhich working group is it for?"), kb.as_markup()


async def q_title(f: Flow, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    _ = f._
    kb = InlineKeyboardBuilder()
    nav(kb, "title", _, back=len(data["steps"]) > 1)
    text = _("<b>New meeting</b>\nSend the title of the meeting (up to {limit} characters).")
    return text.format(limit=MAX_TITLE), kb.as_markup()


async def q_agenda(f: Flow, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    _ = f._
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Skip"), callback_data=NewCb(step="agenda", action="skip"))
    nav(kb, "agenda", _)
    text = _("Send the agenda or a short description (up to {limit} characters), or tap Skip.")
    return text.format(limit=MAX_AGENDA), kb.as_markup()


async def q_languages(f: Flow, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    """Other languages' versions, so fewer members read a fallback."""
    _ = f._
    texts: dict[str, dict[str, str]] = data["texts"]
    kb = InlineKeyboardBuilder()
    for code in SUPPORTED_LOCALES:
        if code not in texts:
            kb.button(
                text="➕ " + LANGUAGE_NAMES[code],
                callback_data=NewCb(step="languages", action="add", value=code),
            )
    kb.button(text=_("Continue ▶"), callback_data=NewCb(step="languages", action="next"))
    kb.adjust(2)
    nav(kb, "languages", _)
    text = _(
        "The title and agenda are written in: {languages}. Members who read another language "
        "see the {source} version. You can add a version in another language:"
    ).format(
        languages=", ".join(LANGUAGE_NAMES.get(code, code) for code in texts),
        source=LANGUAGE_NAMES.get(data["locale"], data["locale"]),
    )
    return text, kb.as_markup()


async def q_tr_title(f: Flow, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    _ = f._
    kb = InlineKeyboardBuilder()
    nav(kb, "tr_title", _)
    text = _("Send the title in {language}.").format(language=LANGUAGE_NAMES[data["tr"]])
    return text, kb.as_markup()


async def q_tr_agenda(f: Flow, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    _ = f._
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Skip"), callback_data=NewCb(step="tr_agenda", action="skip"))
    nav(kb, "tr_agenda", _)
    text = _("Send the agenda in {language}, or tap Skip to show the {source} agenda.").format(
        language=LANGUAGE_NAMES[data["tr"]], source=LANGUAGE_NAMES.get(data["locale"], "")
    )
    return text, kb.as_markup()


async def q_mode(f: Flow, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    _ = f._
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("📅 I know the date and time"), callback_data=NewCb(step="mode", action="date")
    )
    kb.button(
        text=_("🗓 Find a date with the group"), callback_data=NewCb(step="mode", action="poll")
    )
    kb.adjust(1)
    nav(kb, "mode", _)
    return _("When will the meeting take place?"), kb.as_markup()


def zone_button(kb: InlineKeyboardBuilder, step: str, _: Gettext) -> None:
    kb.button(text=_("🌍 Another time zone"), callback_data=NewCb(step=step, action="zone"))


async def q_when(f: Flow, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    """The start, typed in the coordinator's zone (or the one they named)."""
    _ = f._
    now = f.clock.now()
    kb = InlineKeyboardBuilder()
    zone_button(kb, "when", _)
    nav(kb, "when", _)
    text = _(
        "Send the date and start time in <b>{zone}</b>, for example <code>{example}</code> "
        "(day before month; 24-hour clock or am/pm)."
    ).format(
        zone=html.escape(geo.zone_label(data["zone"], f.locale, now)),
        example=example_time(now, data["zone"]),
    )
    return text, kb.as_markup()


async def q_slots(f: Flow, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    """Proposed times for a date poll, with the list so far."""
    _ = f._
    now = f.clock.now()
    slots = [datetime.fromisoformat(value) for value in data.get("slots", [])]
    kb = InlineKeyboardBuilder()
    if len(slots) >= 2:
        kb.button(text=_("✅ Done"), callback_data=NewCb(step="slots", action="done"))
    if slots:
        kb.button(text=_("↩ Remove the last"), callback_data=NewCb(step="slots", action="undo"))
    zone_button(kb, "slots", _)
    kb.adjust(1)
    nav(kb, "slots", _)
    lines = [
        _(
            "Propose times for the group to choose from: send one date and start time per "
            "message, in <b>{zone}</b>, for example <code>{example}</code>."
        ).format(
            zone=html.escape(geo.zone_label(data["zone"], f.locale, now)),
            example=example_time(now, data["zone"]),
        )
    ]
    if slots:
        lines += ["", _("Proposed so far:")]
        lines += [f"{n}. {format_when(s, data['zone'], f.locale)}" for n, s in enumerate(slots, 1)]
    if len(slots) < 2:
        lines += ["", _("Propose at least two times.")]
    return "\n".join(lines), kb.as_markup()


async def q_zone(f: Flow, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    _ = f._
    kb = InlineKeyboardBuilder()
    nav(kb, "zone", _)
    return (
        _("Type a city, a country or a time zone, for example Paris, Kenya or America/Lima."),
        kb.as_markup(),
    )


async def q_duration(f: Flow, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    _ = f._
    kb = InlineKeyboardBuilder()
    for minutes in DURATIONS:
        kb.button(
            text=format_duration(minutes, f.locale),
            callback_data=NewCb(step="duration", action="set", value=str(minutes)),
        )
    kb.adjust(2)
    nav(kb, "duration", _)
    return _("How long will it last?"), kb.as_markup()


async def q_link(f: Flow, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    _ = f._
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Skip"), callback_data=NewCb(step="link", action="skip"))
    nav(kb, "link", _)
    return (
        _(
            "Send the link to join online (starting with https://), or tap Skip if the meeting "
            "is only in person."
        ),
        kb.as_markup(),
    )


async def q_place(f: Flow, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    _ = f._
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Skip"), callback_data=NewCb(step="place", action="skip"))
    nav(kb, "place", _)
    return (
        _("Send the place (address or room), or tap Skip if the meeting is only online."),
        kb.as_markup(),
    )


def reminders_keyboard(data: dict[str, Any], locale: str, _: Gettext) -> InlineKeyboardMarkup:
    """Toggles for each reminder and for reminding those who did not answer."""
    chosen = set(data.get("reminders", []))
    kb = InlineKeyboardBuilder()
    for offset in REMINDER_CHOICES:
        mark = "✅" if offset in chosen else "▫️"
        label = _("{time} before").format(time=format_offset(offset, locale))
        kb.button(
            text=f"{mark} {label}",
            callback_data=NewCb(step="reminders", action="toggle", value=str(offset)),
        )
    kb.adjust(2)
    extra = InlineKeyboardBuilder()
    mark = "✅" if data.get("non_responders") else "▫️"
    extra.button(
        text=f"{mark} " + _("Also those who have not answered"),
        callback_data=NewCb(step="reminders", action="others"),
    )
    extra.button(text=_("Continue ▶"), callback_data=NewCb(step="reminders", action="next"))
    extra.adjust(1)
    kb.attach(extra)
    nav(kb, "reminders", _)
    return kb.as_markup()


async def q_reminders(f: Flow, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    _ = f._
    text = _(
        "Reminders go to the members who said Going or Maybe, before the start. Tap to choose "
        "when:"
    )
    return text, reminders_keyboard(data, f.locale, _)


async def q_preview(f: Flow, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    """What a member in the farthest zone of the group will see, before anything is sent."""
    _ = f._
    now = f.clock.now()
    meeting = build_meeting(data, f.member, now)
    audience = audience_ids(meeting)
    invited = await count_ids(f.session, audience)
    name = None
    if meeting.group_id is not None:
        groups = await schedulable_groups(f.session, f.member)
        name = next(
            (
                g.text(f.locale, f.settings.default_locale)[0]
                for g in groups
                if g.id == meeting.group_id
            ),
            None,
        )
    if data.get("mode") == "poll":
        poll = build_poll(data, now)
        at = poll.slots[0].start_at
        zone = await preview_zone(f.session, audience, data["zone"], at)
        shown = poll_text(meeting, poll, name, {}, f.locale, zone, _)
        send = _("✅ Send the poll (recipients: {count})").format(count=invited)
    else:
        assert meeting.start_at is not None
        zone = await preview_zone(f.session, audience, data["zone"], meeting.start_at)
        shown = announcement_text(meeting, name, f.locale, zone, _)
        send = _("✅ Send (recipients: {count})").format(count=invited)
    head = _("<b>Preview</b>: a member in {zone} will see:").format(
        zone=html.escape(geo.zone_label(zone, f.locale, now))
    )
    foot = _("Each member sees it in their own language and time zone.")
    kb = InlineKeyboardBuilder()
    kb.button(text=send, callback_data=NewCb(step="preview", action="send"))
    nav(kb, "preview", _)
    return f"{head}\n\n{shown}\n\n<i>{foot}</i>", kb.as_markup()


QUESTIONS: dict[str, Question] = {
    "group": q_group,
    "title": q_title,
    "agenda": q_agenda,
    "languages": q_languages,
    "tr_title": q_tr_title,
    "tr_agenda": q_tr_agenda,
    "mode": q_mode,
    "when": q_when,
    "slots": q_slots,
    "zone": q_zone,
    "duration": q_duration,
    "link": q_link,
    "place": q_place,
    "reminders": q_reminders,
    "preview": q_preview,
}


# --- navigation --------------------------------------------------------------------------------


async def ask(message: Message, f: Flow, step: str) -> None:
    """Put the conversation on `step` and ask its question."""
    await f.state.set_state(getattr(NewMeeting, step))
    data = await f.state.get_data()
    text, markup = await QUESTIONS[step](f, data)
    await message.answer(text, reply_markup=markup)


async def goto(message: Message, f: Flow, step: str) -> None:
    """Go forward to `step`."""
    data = await f.state.get_data()
    await f.state.update_data(steps=[*data.get("steps", []), step])
    await ask(message, f, step)


async def current_step(state: FSMContext) -> str | None:
    """The step the conversation is on, if it is this conversation."""
    name = await state.get_state()
    if not name or not name.startswith("NewMeeting:"):
        return None
    return name.split(":", 1)[1]


async def start(message: Message, f: Flow) -> None:
    """Begin a new draft, or refuse members who may not schedule."""
    _ = f._
    groups = await schedulable_groups(f.session, f.member)
    if not groups and not f.member.is_admin:
        await f.state.set_state(None)
        await message.answer(
            _(
                "Only the coordinators of a working group and network admins can schedule "
                "meetings. Ask your group's coordinator if you would like to propose one."
            )
        )
        return
    draft: dict[str, Any] = {
        "steps": [],
        "locale": f.locale,
        "zone": f.member.tz,
        "texts": {},
        "reminders": list(DEFAULT_REMINDERS),
        "non_responders": False,
    }
    if len(groups) == 1 and not f.member.is_admin:
        draft["group"] = groups[0].id
    await f.state.set_state(None)
    await f.state.set_data(draft)
    await goto(message, f, "title" if "group" in draft else "group")


@router.message(Command("newmeeting"))
async def new_meeting_command(message: Message, **ctx: Any) -> None:
    """/newmeeting starts a draft."""
    await start(message, Flow.of(ctx))


@router.callback_query(MeetingCb.filter(F.action == "new"))
async def new_meeting_button(call: CallbackQuery, **ctx: Any) -> None:
    """➕ New meeting in /meetings starts a draft."""
    assert isinstance(call.message, Message)
    await call.answer()
    await start(call.message, Flow.of(ctx))


@router.callback_query(NewCb.filter())
async def on_button(call: CallbackQuery, callback_data: NewCb, **ctx: Any) -> None:
    """Every button of the conversation: refused unless it belongs to the current step."""
    assert isinstance(call.message, Message)
    f = Flow.of(ctx)
    _ = f._
    step = await current_step(f.state)
    if step is None or step != callback_data.step:
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    action = BUTTONS.get((step, callback_data.action)) or BUTTONS.get(("*", callback_data.action))
    if action is None:
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await action(call, call.message, f, callback_data.value)


Action = Callable[[CallbackQuery, Message, Flow, str], Awaitable[None]]


async def back(call: CallbackQuery, message: Message, f: Flow, value: str) -> None:
    """Return to the previous question; answers given so far are kept."""
    await call.answer()
    await clear_buttons(call)
    data = await f.state.get_data()
    steps = list(data.get("steps", []))
    if len(steps) > 1:
        steps.pop()
    await f.state.update_data(steps=steps)
    await ask(message, f, steps[-1])


async def cancel(call: CallbackQuery, message: Message, f: Flow, value: str) -> None:
    """Drop the draft; nothing was stored or sent."""
    await call.answer()
    await clear_buttons(call)
    await f.state.clear()
    await message.answer(f._("Cancelled: nothing was sent. /meetings shows your meetings."))


async def pick_group(call: CallbackQuery, message: Message, f: Flow, value: str) -> None:
    """The group, re-checked: coordinators only for their groups, admins for all."""
    allowed = {g.id for g in await schedulable_groups(f.session, f.member)}
    group_id = int(value) if value.isdigit() else 0
    if (group_id and group_id not in allowed) or (not group_id and not f.member.is_admin):
        await call.answer(f._("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await clear_buttons(call)
    await f.state.update_data(group=group_id)
    await goto(message, f, "title")


async def skip_agenda(call: CallbackQuery, message: Message, f: Flow, value: str) -> None:
    await call.answer()
    await clear_buttons(call)
    await store_text(f, None, "agenda", "")
    await goto(message, f, "languages")


async def add_language(call: CallbackQuery, message: Message, f: Flow, value: str) -> None:
    data = await f.state.get_data()
    if value not in SUPPORTED_LOCALES or value in data["texts"]:
        await call.answer(f._("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await clear_buttons(call)
    await f.state.update_data(tr=value)
    await goto(message, f, "tr_title")


async def languages_done(call: CallbackQuery, message: Message, f: Flow, value: str) -> None:
    await call.answer()
    await clear_buttons(call)
    await goto(message, f, "mode")


async def skip_tr_agenda(call: CallbackQuery, message: Message, f: Flow, value: str) -> None:
    await call.answer()
    await clear_buttons(call)
    data = await f.state.get_data()
    await store_text(f, data["tr"], "agenda", "")
    await back_to_languages(message, f)


async def choose_date(call: CallbackQuery, message: Message, f: Flow, value: str) -> None:
    await call.answer()
    await clear_buttons(call)
    await f.state.update_data(mode="date")
    await goto(message, f, "when")


async def choose_poll(call: CallbackQuery, message: Message, f: Flow, value: str) -> None:
    await call.answer()
    await clear_buttons(call)
    await f.state.update_data(mode="poll")
    await goto(message, f, "slots")


async def ask_zone(call: CallbackQuery, message: Message, f: Flow, value: str) -> None:
    await call.answer()
    await clear_buttons(call)
    await goto(message, f, "zone")


async def pick_zone(call: CallbackQuery, message: Message, f: Flow, value: str) -> None:
    """Use a named zone, then ask again the question that needed it."""
    if not valid_zone(value):
        await call.answer(f._("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await clear_buttons(call)
    data = await f.state.get_data()
    steps = list(data["steps"])
    steps.pop()  # leave the zone question for the one that asked it
    await f.state.update_data(zone=value, steps=steps)
    await message.answer(
        f._("Time zone: {zone}").format(
            zone=html.escape(geo.zone_label(value, f.locale, f.clock.now()))
        )
    )
    await ask(message, f, steps[-1])


async def choose_fold(call: CallbackQuery, message: Message, f: Flow, value: str) -> None:
    """One of the two moments of a time that happens twice."""
    data = await f.state.get_data()
    pending = data.get("pending")
    if not pending or value not in ("0", "1"):
        await call.answer(f._("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await clear_buttons(call)
    now = f.clock.now()
    try:
        choice = resolve_local(datetime.fromisoformat(pending), data["zone"], now)
    except WhenError as error:
        await message.answer(when_problem_text(error, data["zone"], now, f.locale, f._))
        return
    assert isinstance(choice, Ambiguous)
    moment = choice.later if value == "1" else choice.earlier
    if moment <= now:
        await message.answer(f._("That time has already passed. Please send another one."))
        return
    await f.state.update_data(pending=None)
    await accept_time(message, f, moment)


async def slots_done(call: CallbackQuery, message: Message, f: Flow, value: str) -> None:
    data = await f.state.get_data()
    if len(data.get("slots", [])) < 2:
        await call.answer(f._("Propose at least two times."), show_alert=True)
        return
    await call.answer()
    await clear_buttons(call)
    await goto(message, f, "duration")


async def slots_undo(call: CallbackQuery, message: Message, f: Flow, value: str) -> None:
    await call.answer()
    await clear_buttons(call)
    data = await f.state.get_data()
    await f.state.update_data(slots=list(data.get("slots", []))[:-1])
    await ask(message, f, "slots")


async def set_duration(call: CallbackQuery, message: Message, f: Flow, value: str) -> None:
    if not value.isdigit() or int(value) not in DURATIONS:
        await call.answer(f._("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await clear_buttons(call)
    await f.state.update_data(duration=int(value))
    await goto(message, f, "link")


async def skip_link(call: CallbackQuery, message: Message, f: Flow, value: str) -> None:
    await call.answer()
    await clear_buttons(call)
    await f.state.update_data(link=None)
    await goto(message, f, "place")


async def skip_place(call: CallbackQuery, message: Message, f: Flow, value: str) -> None:
    """A meeting needs somewhere to be: a link or a place."""
    data = await f.state.get_data()
    if not data.get("link"):
        await call.answer(
            f._("Please give a link or a place, so members know where to go."), show_alert=True
        )
        return
    await call.answer()
    await clear_buttons(call)
    await f.state.update_data(place=None)
    await goto(message, f, "reminders")


async def toggle_reminder(call: CallbackQuery, message: Message, f: Flow, value: str) -> None:
    """Switch one reminder on or off in place, without a new message."""
    if not value.isdigit() or int(value) not in REMINDER_CHOICES:
        await call.answer(f._("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    data = await f.state.get_data()
    chosen = set(data.get("reminders", []))
    chosen ^= {int(value)}
    await f.state.update_data(reminders=sorted(chosen, reverse=True))
    data = await f.state.get_data()
    await message.edit_reply_markup(reply_markup=reminders_keyboard(data, f.locale, f._))


async def toggle_others(call: CallbackQuery, message: Message, f: Flow, value: str) -> None:
    await call.answer()
    data = await f.state.get_data()
    await f.state.update_data(non_responders=not data.get("non_responders"))
    data = await f.state.get_data()
    await message.edit_reply_markup(reply_markup=reminders_keyboard(data, f.locale, f._))


async def reminders_done(call: CallbackQuery, message: Message, f: Flow, value: str) -> None:
    await call.answer()
    await clear_buttons(call)
    await goto(message, f, "preview")


async def send(call: CallbackQuery, message: Message, f: Flow, value: str) -> None:
    """Create the meeting (or poll) and hand it to the delivery engine."""
    _ = f._
    data = await f.state.get_data()
    now = f.clock.now()
    allowed = {g.id for g in await schedulable_groups(f.session, f.member)}
    group_id = data.get("group") or 0
    if (group_id and group_id not in allowed) or (not group_id and not f.member.is_admin):
        await call.answer(
            _("You can no longer schedule meetings for this group."), show_alert=True
        )
        await f.state.clear()
        return
    times = [data["start"]] if data.get("mode") != "poll" else data.get("slots", [])
    if any(datetime.fromisoformat(value) <= now for value in times):
        await call.answer(
            _("A proposed time has passed meanwhile. Please change it."), show_alert=True
        )
        return
    await call.answer()
    await clear_buttons(call)
    meeting = build_meeting(data, f.member, now)
    f.session.add(meeting)
    await f.session.flush()
    invited = await count_ids(f.session, audience_ids(meeting))
    if data.get("mode") == "poll":
        poll = build_poll(data, now)
        poll.meeting_id = meeting.id
        f.session.add(poll)
        await send_date_poll(f.session, meeting, f.member)
        text = _(
            "✅ The poll is on its way (recipients: {count}). Open /meetings, then Manage "
            "meetings, to see the answers and pick the date."
        )
    else:
        await announce(f.session, meeting, f.member, now)
        text = _(
            "✅ The invitation is on its way (recipients: {count}). /meetings shows the replies."
        )
    await f.state.clear()
    await message.answer(text.format(count=invited))


BUTTONS: dict[tuple[str, str], Action] = {
    ("*", "back"): back,
    ("*", "cancel"): cancel,
    ("group", "pick"): pick_group,
    ("agenda", "skip"): skip_agenda,
    ("languages", "add"): add_language,
    ("languages", "next"): languages_done,
    ("tr_agenda", "skip"): skip_tr_agenda,
    ("mode", "date"): choose_date,
    ("mode", "poll"): choose_poll,
    ("when", "zone"): ask_zone,
    ("slots", "zone"): ask_zone,
    ("zone", "pick"): pick_zone,
    ("when", "fold"): choose_fold,
    ("slots", "fold"): choose_fold,
    ("slots", "done"): slots_done,
    ("slots", "undo"): slots_undo,
    ("duration", "set"): set_duration,
    ("link", "skip"): skip_link,
    ("place", "skip"): skip_place,
    ("reminders", "toggle"): toggle_reminder,
    ("reminders", "others"): toggle_others,
    ("reminders", "next"): reminders_done,
    ("preview", "send"): send,
}


# --- typed answers -----------------------------------------------------------------------------


async def store_text(f: Flow, locale: str | None, field: str, value: str) -> None:
    """Keep a title or agenda for one language."""
    data = await f.state.get_data()
    texts = {code: dict(text) for code, text in data["texts"].items()}
    code = locale or data["locale"]
    texts.setdefault(code, {"title": "", "agenda": ""})[field] = value
    await f.state.update_data(texts=texts)


async def back_to_languages(message: Message, f: Flow) -> None:
    """After a translation, return to the languages question (Back then skips it)."""
    data = await f.state.get_data()
    steps = list(data["steps"])
    while steps and steps[-1] != "languages":
        steps.pop()
    await f.state.update_data(steps=steps, tr=None)
    await ask(message, f, "languages")


async def accept_time(message: Message, f: Flow, moment: datetime) -> None:
    """A start time read: confirm it in words and move on (or add it to the slots)."""
    data = await f.state.get_data()
    zone = data["zone"]
    shown = format_when(moment, zone, f.locale)
    if await current_step(f.state) == "slots":
        slots = list(data.get("slots", []))
        if moment.isoformat() in slots:
            await message.answer(f._("This time is already proposed."))
            return
        if len(slots) >= MAX_SLOTS:
            await message.answer(
                f._("You can propose up to {count} times.").format(count=MAX_SLOTS)
            )
            return
        await f.state.update_data(slots=sorted([*slots, moment.isoformat()]))
        await message.answer(f._("Added: {when}").format(when=shown))
        await ask(message, f, "slots")
        return
    await f.state.update_data(start=moment.isoformat())
    await message.answer(f._("🕒 Start: {when}").format(when=shown))
    await goto(message, f, "duration")


@router.message(StateFilter(NewMeeting), F.text)
async def on_text(message: Message, **ctx: Any) -> None:
    """Typed answers, by step; where a button is expected, say so and ask again."""
    f = Flow.of(ctx)
    _ = f._
    step = await current_step(f.state)
    assert step is not None
    raw = message.text or ""
    if raw.startswith("/"):
        await message.answer(
            _("You are preparing a meeting. Send what is asked, or tap Cancel to stop.")
        )
        return
    if step not in TEXT_STEPS:
        await message.answer(_("Please use the buttons."))
        await ask(message, f, step)
        return
    await TYPED[step](message, f, raw)


@router.message(StateFilter(NewMeeting))
async def on_other(message: Message, **ctx: Any) -> None:
    """Stickers, photos and files during the conversation."""
    f = Flow.of(ctx)
    step = await current_step(f.state)
    assert step is not None
    if step in TEXT_STEPS:
        await message.answer(f._("Please send it as a text message."))
    else:
        await message.answer(f._("Please use the buttons."))
        await ask(message, f, step)


Typed = Callable[[Message, Flow, str], Awaitable[None]]


async def typed_title(message: Message, f: Flow, raw: str) -> None:
    title = clean(raw, MAX_TITLE)
    if title is None:
        await message.answer(
            f._("Please send a title of 1 to {limit} characters.").format(limit=MAX_TITLE)
        )
        return
    step = await current_step(f.state)
    data = await f.state.get_data()
    await store_text(f, data.get("tr") if step == "tr_title" else None, "title", title)
    await goto(message, f, "tr_agenda" if step == "tr_title" else "agenda")


async def typed_agenda(message: Message, f: Flow, raw: str) -> None:
    agenda = clean(raw, MAX_AGENDA, lines=True)
    if agenda is None:
        await message.answer(
            f._("Please send an agenda of up to {limit} characters.").format(limit=MAX_AGENDA)
        )
        return
    if await current_step(f.state) == "tr_agenda":
        data = await f.state.get_data()
        await store_text(f, data["tr"], "agenda", agenda)
        await back_to_languages(message, f)
        return
    await store_text(f, None, "agenda", agenda)
    await goto(message, f, "languages")


async def typed_when(message: Message, f: Flow, raw: str) -> None:
    """A typed start (or slot): refused with a reason, asked about if ambiguous."""
    data = await f.state.get_data()
    zone = data["zone"]
    now = f.clock.now()
    try:
        result = parse_when(raw[:100], zone, now)
    except WhenError as error:
        await message.answer(when_problem_text(error, zone, now, f.locale, f._))
        return
    if isinstance(result, Ambiguous):
        step = await current_step(f.state) or "when"
        await f.state.update_data(pending=result.local.isoformat())
        first, second = ambiguous_labels(result, f.locale, f._)
        kb = InlineKeyboardBuilder()
        kb.button(text=first, callback_data=NewCb(step=step, action="fold", value="0"))
        kb.button(text=second, callback_data=NewCb(step=step, action="fold", value="1"))
        kb.adjust(1)
        await message.answer(ambiguous_text(result, f.locale, f._), reply_markup=kb.as_markup())
        return
    await accept_time(message, f, result)


async def typed_zone(message: Message, f: Flow, raw: str) -> None:
    """Zones matching a typed city, country or id, as buttons."""
    found = find_zones(raw, f.locale)
    if not found:
        await message.answer(
            f._("No time zone matches “{query}”. Try a city or a country name.").format(
                query=html.escape(raw[:64])
            )
        )
        return
    now = f.clock.now()
    kb = InlineKeyboardBuilder()
    for zone in found:
        kb.button(
            text=geo.zone_label(zone, f.locale, now),
            callback_data=NewCb(step="zone", action="pick", value=zone),
        )
    kb.adjust(1)
    nav(kb, "zone", f._)
    await message.answer(f._("Tap the time zone:"), reply_markup=kb.as_markup())


async def typed_link(message: Message, f: Flow, raw: str) -> None:
    """An online link, checked before it reaches everyone."""
    link = raw.strip()
    if not valid_link(link):
        await message.answer(
            f._("Please send a web link starting with https:// (or http://), without spaces.")
        )
        return
    await f.state.update_data(link=link)
    await goto(message, f, "place")


async def typed_place(message: Message, f: Flow, raw: str) -> None:
    place = clean(raw, MAX_PLACE)
    if place is None:
        await message.answer(
            f._("Please send a place of up to {limit} characters.").format(limit=MAX_PLACE)
        )
        return
    await f.state.update_data(place=place)
    await goto(message, f, "reminders")


TYPED: dict[str, Typed] = {
    "title": typed_title,
    "tr_title": typed_title,
    "agenda": typed_agenda,
    "tr_agenda": typed_agenda,
    "when": typed_when,
    "slots": typed_when,
    "zone": typed_zone,
    "link": typed_link,
    "place": typed_place,
}
