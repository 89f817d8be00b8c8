"""The questions of the new-meeting conversation: each step's text and buttons, drawn from the
draft so far. Every question has Back (except the first) and Cancel."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import geo
from bot.core.clock import Clock
from bot.core.config import SUPPORTED_LOCALES, Settings
from bot.core.i18n import LANGUAGE_NAMES, format_when
from bot.meetings.callbacks import NewCb
from bot.meetings.drafts import (
    DURATIONS,
    MAX_AGENDA,
    MAX_TITLE,
    REMINDER_CHOICES,
    build_meeting,
    build_poll,
)
from bot.meetings.poll_views import poll_text
from bot.meetings.views import announcement_text, format_duration, format_offset
from bot.meetings.zones import preview_zone, zone_prompt
from models.meeting import audience_ids, count_ids, schedulable_groups
from models.member import Member

Gettext = Callable[..., str]


class Asker(Protocol):
    """What a question needs: who is asked, in which language, and the time now."""

    @property
    def member(self) -> Member: ...

    @property
    def session(self) -> AsyncSession: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def _(self) -> Gettext: ...

    @property
    def locale(self) -> str: ...


def nav(kb: InlineKeyboardBuilder, step: str, _: Gettext, *, back: bool = True) -> None:
    """Add the Back and Cancel row."""
    row = InlineKeyboardBuilder()
    if back:
        # TRANSLATORS: a button going to the previous question; keep the arrow.
        row.button(text=_("◀ Back"), callback_data=NewCb(step=step, action="back"))
    row.button(text=_("✖ Cancel"), callback_data=NewCb(step=step, action="cancel"))
    kb.attach(row)


def example_time(now: datetime, zone: str) -> str:
    """A typing example a week ahead, day before month."""
    local = (now + timedelta(days=7)).astimezone(ZoneInfo(zone))
    return f"{local:%d/%m} 18:30"


Question = Callable[[Asker, dict[str, Any]], Awaitable[tuple[str, InlineKeyboardMarkup]]]


async def q_group(f: Asker, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
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


async def q_title(f: Asker, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    _ = f._
    kb = InlineKeyboardBuilder()
    nav(kb, "title", _, back=len(data["steps"]) > 1)
    text = _("<b>New meeting</b>\nSend the title of the meeting (up to {limit} characters).")
    return text.format(limit=MAX_TITLE), kb.as_markup()


async def q_agenda(f: Asker, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    _ = f._
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Skip"), callback_data=NewCb(step="agenda", action="skip"))
    nav(kb, "agenda", _)
    text = _("Send the agenda or a short description (up to {limit} characters), or tap Skip.")
    return text.format(limit=MAX_AGENDA), kb.as_markup()


async def q_languages(f: Asker, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
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


async def q_tr_title(f: Asker, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    _ = f._
    kb = InlineKeyboardBuilder()
    nav(kb, "tr_title", _)
    text = _("Send the title in {language}.").format(language=LANGUAGE_NAMES[data["tr"]])
    return text, kb.as_markup()


async def q_tr_agenda(f: Asker, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    _ = f._
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Skip"), callback_data=NewCb(step="tr_agenda", action="skip"))
    nav(kb, "tr_agenda", _)
    text = _("Send the agenda in {language}, or tap Skip to show the {source} agenda.").format(
        language=LANGUAGE_NAMES[data["tr"]], source=LANGUAGE_NAMES.get(data["locale"], "")
    )
    return text, kb.as_markup()


async def q_mode(f: Asker, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
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


async def q_when(f: Asker, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
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


async def q_slots(f: Asker, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
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


async def q_zone(f: Asker, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    _ = f._
    kb = InlineKeyboardBuilder()
    nav(kb, "zone", _)
    return (
        zone_prompt(_),
        kb.as_markup(),
    )


async def q_duration(f: Asker, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
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


async def q_link(f: Asker, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
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


async def q_place(f: Asker, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
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


async def q_reminders(f: Asker, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    _ = f._
    text = _(
        "Reminders go to the members who said Going or Maybe, before the start. Tap to choose "
        "when:"
    )
    return text, reminders_keyboard(data, f.locale, _)


async def q_preview(f: Asker, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
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
