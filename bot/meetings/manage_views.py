"""What a coordinator sees while managing meetings: the list, one meeting's replies with names
(or the date poll's ranking) and actions, and the questions each change asks."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import geo
from bot.core.i18n import format_when
from bot.meetings.callbacks import ManageCb, MeetingCb
from bot.meetings.dates import local_time
from bot.meetings.poll_views import poll_summary_text
from bot.meetings.views import group_name, replies_text
from models.meeting import (
    Meeting,
    MeetingStatus,
    MinutesAudience,
    audience_ids,
    count_ids,
    get_poll,
    poll_respondents,
    poll_tallies,
    rsvp_names,
)
from models.member import Member

Gettext = Callable[..., str]
LISTED = 20


def managed_list(
    meetings: list[Meeting], member: Member, _: Gettext
) -> tuple[str, InlineKeyboardMarkup]:
    """The meetings and date polls this coordinator may manage, and ➕ New meeting."""
    kb = InlineKeyboardBuilder()
    for meeting in meetings[:LISTED]:
        title = meeting.text(member.locale)[0][:32]
        if meeting.start_at is None:
            label = "🗓 " + _("{title} (finding a date)").format(title=title)
        else:
            label = f"📅 {title} · {local_time(meeting.start_at, member.tz, member.locale)}"
        kb.button(text=label, callback_data=MeetingCb(action="manage", meeting_id=meeting.id))
    kb.button(text=_("➕ New meeting"), callback_data=MeetingCb(action="new", meeting_id=0))
    kb.adjust(1)
    text = _("<b>Meetings you manage</b>") if meetings else _("You manage no meetings yet.")
    return text, kb.as_markup()


async def manage_view(
    session: AsyncSession,
    meeting: Meeting,
    member: Member,
    _: Gettext,
    default_locale: str,
    now: datetime,
) -> tuple[str, InlineKeyboardMarkup]:
    """Replies with names (or the date poll's best slots) and what can be done now."""
    locale, zone = member.locale, member.tz
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
    name = await group_name(session, meeting.group_id, locale, default_locale)
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


def stop_button(kb: InlineKeyboardBuilder, meeting_id: int, _: Gettext) -> None:
    """A Cancel button that leaves the meeting as it is."""
    kb.button(text=_("✖ Cancel"), callback_data=ManageCb(action="stop", meeting_id=meeting_id))


def stop_keyboard(meeting_id: int, _: Gettext) -> InlineKeyboardMarkup:
    """Only the Cancel button, under a question that waits for a typed answer."""
    kb = InlineKeyboardBuilder()
    stop_button(kb, meeting_id, _)
    return kb.as_markup()


def cancel_question(meeting: Meeting, locale: str, _: Gettext) -> tuple[str, InlineKeyboardMarkup]:
    """Ask before cancelling: everyone invited will be told."""
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("Yes, cancel the meeting"),
        callback_data=ManageCb(action="cancel_ok", meeting_id=meeting.id),
    )
    kb.button(text=_("No, keep it"), callback_data=ManageCb(action="stop", meeting_id=meeting.id))
    kb.adjust(1)
    title = html.escape(meeting.text(locale)[0])
    text = _("Cancel <b>{title}</b>? Everyone invited will be told.").format(title=title)
    return text, kb.as_markup()


def new_time_question(
    meeting_id: int, zone: str, locale: str, _: Gettext, now: datetime
) -> tuple[str, InlineKeyboardMarkup]:
    """Ask for the new start in the zone the meeting was entered in (or one named)."""
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("🌍 Another time zone"),
        callback_data=ManageCb(action="zone", meeting_id=meeting_id),
    )
    stop_button(kb, meeting_id, _)
    kb.adjust(1)
    text = _("Send the new date and start time in <b>{zone}</b>.").format(
        zone=html.escape(geo.zone_label(zone, locale, now))
    )
    return text, kb.as_markup()


def move_question(
    meeting: Meeting, moment: datetime, member: Member, _: Gettext
) -> tuple[str, InlineKeyboardMarkup]:
    """The old and the new time, before everyone is told."""
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("✅ Move it and tell everyone"),
        callback_data=ManageCb(action="resched_ok", meeting_id=meeting.id),
    )
    stop_button(kb, meeting.id, _)
    kb.adjust(1)
    assert meeting.start_at is not None
    text = _("Move <b>{title}</b>\nfrom {old}\nto {new}?").format(
        title=html.escape(meeting.text(member.locale)[0]),
        old=format_when(meeting.start_at, member.tz, member.locale),
        new=format_when(moment, member.tz, member.locale),
    )
    return text, kb.as_markup()


def venue_question(meeting_id: int, field: str, _: Gettext) -> tuple[str, InlineKeyboardMarkup]:
    """Ask for a new link or place (`field`), with Remove it and Cancel."""
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("Remove it"),
        callback_data=ManageCb(action=f"{field}_rm", meeting_id=meeting_id),
    )
    stop_button(kb, meeting_id, _)
    kb.adjust(1)
    question = (
        _("Send the new link (starting with https://).")
        if field == "link"
        else _("Send the new place (address or room).")
    )
    return question, kb.as_markup()


def minutes_audience_question(
    meeting_id: int, attendees: int, everyone: int, _: Gettext
) -> tuple[str, InlineKeyboardMarkup]:
    """Who should receive the minutes: those who said Going, or the whole group."""
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("Those who said Going ({count})").format(count=attendees),
        callback_data=ManageCb(
            action="minutes_to", meeting_id=meeting_id, value=MinutesAudience.ATTENDEES
        ),
    )
    kb.button(
        text=_("The whole group ({count})").format(count=everyone),
        callback_data=ManageCb(
            action="minutes_to", meeting_id=meeting_id, value=MinutesAudience.GROUP
        ),
    )
    stop_button(kb, meeting_id, _)
    kb.adjust(1)
    return _("Who should receive them?"), kb.as_markup()
