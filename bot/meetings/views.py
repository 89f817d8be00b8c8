"""What members see of a meeting: its card, invitation, reminders, change notices and replies,
each in the member's language and time zone."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_datetime, format_timedelta
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.i18n import RLM, RTL_LOCALES, format_when
from bot.meetings.callbacks import MeetingCb, RsvpCb
from models.group import WorkingGroup
from models.meeting import Meeting, RsvpAnswer, end_of, get_rsvp
from models.member import Member

Gettext = Callable[..., str]


def format_duration(minutes: int, locale: str) -> str:
    """1 hour 30 minutes, in the member's language."""
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(format_timedelta(timedelta(hours=hours), threshold=1, locale=locale))
    if rest:
        parts.append(format_timedelta(timedelta(minutes=rest), threshold=1, locale=locale))
    return " ".join(parts) or format_timedelta(timedelta(0), locale=locale)


def format_offset(minutes: int, locale: str) -> str:
    """A reminder's distance before the start (1 day, 3 hours, 15 minutes)."""
    return format_timedelta(timedelta(minutes=minutes), threshold=1, locale=locale)


def format_in(delta: timedelta, locale: str) -> str:
    """'in 1 hour' in the member's language."""
    return format_timedelta(delta, add_direction=True, threshold=0.95, locale=locale)


def end_time(start: datetime, minutes: int, zone: str, locale: str) -> str:
    """The local end time, HH:mm."""
    end = (start + timedelta(minutes=minutes)).astimezone(ZoneInfo(zone))
    return format_datetime(end, "HH:mm", tzinfo=ZoneInfo(zone), locale=locale)


def directed(text: str, locale: str) -> str:
    """Start right-to-left messages with a mark, so a leading emoji or title cannot turn the
    whole bubble left-to-right."""
    if locale in RTL_LOCALES and not text.startswith(RLM):
        return RLM + text
    return text


def group_label(group_name: str | None, _: Gettext) -> str:
    """The working group's name, or the whole network."""
    return html.escape(group_name) if group_name else _("Whole network")


def meeting_body(
    meeting: Meeting,
    group_name: str | None,
    locale: str,
    zone: str,
    _: Gettext,
    *,
    start: datetime | None = None,
) -> list[str]:
    """Title, group, time in the member's zone, duration, link, place and agenda."""
    title, agenda = meeting.text(locale)
    lines = [f"<b>{html.escape(title)}</b>", "👥 " + group_label(group_name, _)]
    start = start or meeting.start_at
    if start is not None:
        lines.append("🕒 " + format_when(start, zone, locale))
        lines.append(
            "⏱ "
            + _("{duration} (until {end})").format(
                duration=format_duration(meeting.duration_minutes, locale),
                end=end_time(start, meeting.duration_minutes, zone, locale),
            )
        )
    else:
        lines.append("⏱ " + format_duration(meeting.duration_minutes, locale))
    if meeting.link:
        lines.append("🔗 " + html.escape(meeting.link))
    if meeting.place:
        lines.append("📍 " + html.escape(meeting.place))
    if agenda:
        lines += ["", html.escape(agenda)]
    return lines


def announcement_text(
    meeting: Meeting, group_name: str | None, locale: str, zone: str, _: Gettext
) -> str:
    """The invitation a member gets, in their language and time zone."""
    lines = ["📅 " + _("<b>New meeting</b>"), ""]
    lines += meeting_body(meeting, group_name, locale, zone, _)
    lines += ["", _("Will you come? Your answer helps the coordinators prepare.")]
    return directed("\n".join(lines), locale)


def answer_label(answer: str | None, _: Gettext) -> str:
    """A reply in words."""
    labels: dict[str, str] = {
        RsvpAnswer.GOING: _("✅ Going"),
        RsvpAnswer.MAYBE: _("🤔 Maybe"),
        RsvpAnswer.NOT_GOING: _("❌ Not going"),
    }
    return labels.get(answer or "", _("No answer yet"))


def rsvp_keyboard(
    meeting_id: int, current: str | None, _: Gettext, *, extra: Iterable[tuple[str, str]] = ()
) -> InlineKeyboardMarkup:
    """Going / Maybe / Not going, the current answer ticked, plus optional meeting buttons."""
    kb = InlineKeyboardBuilder()
    for answer in RsvpAnswer:
        label = answer_label(answer, _)
        if answer == current:
            label = "» " + label + " «"
        kb.button(text=label, callback_data=RsvpCb(meeting_id=meeting_id, answer=answer))
    kb.adjust(3)
    more = InlineKeyboardBuilder()
    for action, text in extra:
        more.button(text=text, callback_data=MeetingCb(action=action, meeting_id=meeting_id))
    more.adjust(2)
    kb.attach(more)
    return kb.as_markup()


def reminder_text(
    meeting: Meeting,
    group_name: str | None,
    locale: str,
    zone: str,
    now: datetime,
    _: Gettext,
) -> str:
    """A reminder shortly before the start."""
    assert meeting.start_at is not None
    lines = [
        "⏰ "
        + _("<b>Reminder:</b> the meeting starts {when}.").format(
            when=format_in(meeting.start_at - now, locale)
        ),
        "",
    ]
    lines += meeting_body(meeting, group_name, locale, zone, _)
    return directed("\n".join(lines), locale)


@dataclass(frozen=True)
class Change:
    """What changed in a meeting, as carried in a notification's payload."""

    kind: str  # rescheduled, link, place, cancelled
    old_start: datetime | None = None
    old_link: str | None = None
    old_place: str | None = None

    def payload(self) -> dict[str, str | None]:
        return {
            "kind": self.kind,
            "old_start": self.old_start.isoformat() if self.old_start else None,
            "old_link": self.old_link,
            "old_place": self.old_place,
        }

    @classmethod
    def from_payload(cls, data: dict[str, str | None]) -> Change:
        old = data.get("old_start")
        return cls(
            kind=str(data.get("kind")),
            old_start=datetime.fromisoformat(old) if old else None,
            old_link=data.get("old_link"),
            old_place=data.get("old_place"),
        )


def change_text(
    meeting: Meeting,
    change: Change,
    group_name: str | None,
    locale: str,
    zone: str,
    current: str | None,
    _: Gettext,
) -> str:
    """A change notice: the old and new time (or link, or place), each in the member's zone."""
    title = html.escape(meeting.text(locale)[0])
    none = "—"
    if change.kind == "cancelled":
        lines = ["🚫 " + _("<b>Meeting cancelled:</b> {title}").format(title=title)]
        if meeting.start_at is not None:
            lines.append(
                _("It was planned for {when}.").format(
                    when=format_when(meeting.start_at, zone, locale)
                )
            )
        lines += ["👥 " + group_label(group_name, _), ""]
        lines.append(_("The calendar file below removes it from your calendar."))
        return directed("\n".join(lines), locale)
    if change.kind == "rescheduled":
        head = "🔁 " + _("<b>New time</b> for {title}").format(title=title)
        detail = [
            _("Before: <s>{when}</s>").format(
                when=format_when(change.old_start, zone, locale) if change.old_start else none
            ),
            _("Now: <b>{when}</b>").format(
                when=format_when(meeting.start_at, zone, locale) if meeting.start_at else none
            ),
        ]
    elif change.kind == "link":
        head = "🔗 " + _("<b>New link</b> for {title}").format(title=title)
        detail = [
            _("Before: <s>{value}</s>").format(value=html.escape(change.old_link or none)),
            _("Now: <b>{value}</b>").format(value=html.escape(meeting.link or none)),
        ]
    else:
        head = "📍 " + _("<b>New place</b> for {title}").format(title=title)
        detail = [
            _("Before: <s>{value}</s>").format(value=html.escape(change.old_place or none)),
            _("Now: <b>{value}</b>").format(value=html.escape(meeting.place or none)),
        ]
    lines = [head, *detail, ""]
    lines += meeting_body(meeting, group_name, locale, zone, _)
    lines += ["", _("Your answer: {answer}").format(answer=answer_label(current, _))]
    if change.kind == "rescheduled" and current is None:
        lines.append(_("Can you come at the new time?"))
    return directed("\n".join(lines), locale)


def replies_text(
    meeting: Meeting,
    group_name: str | None,
    names: dict[str, list[str]],
    invited: int,
    locale: str,
    zone: str,
    _: Gettext,
) -> str:
    """What a coordinator sees: counts and display names per answer, and who has not replied."""
    lines = meeting_body(meeting, group_name, locale, zone, _)
    if meeting.is_cancelled:
        lines += ["", "🚫 " + _("This meeting was cancelled.")]
    lines += ["", _("<b>Replies</b> (invited: {count})").format(count=invited)]
    answered = 0
    for answer in RsvpAnswer:
        people = names.get(answer, [])
        answered += len(people)
        listed = ", ".join(html.escape(name) for name in people) or "—"
        lines.append(f"{answer_label(answer, _)} ({len(people)}): {listed}")
    lines.append(_("No answer yet: {count}").format(count=max(invited - answered, 0)))
    return directed("\n".join(lines), locale)


def minutes_caption(meeting: Meeting, locale: str, _: Gettext) -> str:
    """The heading sent with minutes."""
    title = html.escape(meeting.text(locale)[0])
    return "📝 " + _("<b>Minutes</b> of {title}").format(title=title)


async def group_name(
    session: AsyncSession, group_id: int | None, locale: str, default_locale: str
) -> str | None:
    """The working group's name in the member's language (None for the whole network)."""
    if group_id is None:
        return None
    group = await session.get(WorkingGroup, group_id)
    return group.text(locale, default_locale)[0] if group else None


async def meetings_listing(
    session: AsyncSession,
    member: Member,
    meetings: list[Meeting],
    polls: list[Meeting],
    scheduler: bool,
    _: Gettext,
) -> tuple[str, InlineKeyboardMarkup]:
    """/meetings: upcoming meetings (time in the member's zone, their answer), the open date
    polls, and the scheduling buttons for those who may schedule."""
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
        for meeting in polls:
            title = meeting.text(member.locale)[0]
            lines.append("🗓 " + html.escape(title))
            kb.button(
                text="🗓 " + title[:40],
                callback_data=MeetingCb(action="poll", meeting_id=meeting.id),
            )
    if scheduler:
        kb.button(text=_("➕ New meeting"), callback_data=MeetingCb(action="new", meeting_id=0))
        kb.button(
            text=_("⚙️ Manage meetings"), callback_data=MeetingCb(action="managed", meeting_id=0)
        )
    kb.adjust(1)
    return "\n".join(lines), kb.as_markup()


async def meeting_card(
    session: AsyncSession,
    meeting: Meeting,
    member: Member,
    manager: bool,
    default_locale: str,
    now: datetime,
    _: Gettext,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One meeting in the member's zone: reply buttons while it is ahead, the calendar file,
    and Manage for its managers; a cancelled one without buttons."""
    name = await group_name(session, meeting.group_id, member.locale, default_locale)
    lines = meeting_body(meeting, name, member.locale, member.tz, _)
    if meeting.is_cancelled:
        lines += ["", "🚫 " + _("This meeting was cancelled.")]
        return directed("\n".join(lines), member.locale), None
    rsvp = await get_rsvp(session, meeting.id, member.id)
    extra = [("ics", _("📅 Calendar file"))]
    if manager:
        extra.append(("manage", _("⚙️ Manage")))
    if meeting.start_at is not None and end_of(meeting) <= now:
        lines += ["", _("This meeting has ended.")]
        kb = InlineKeyboardBuilder()
        for action, text in extra:
            kb.button(text=text, callback_data=MeetingCb(action=action, meeting_id=meeting.id))
        return directed("\n".join(lines), member.locale), kb.as_markup()
    keyboard = rsvp_keyboard(meeting.id, rsvp.answer if rsvp else None, _, extra=extra)
    return directed("\n".join(lines), member.locale), keyboard


def with_rsvp_row(
    markup: InlineKeyboardMarkup | None, meeting_id: int, current: str, _: Gettext
) -> InlineKeyboardMarkup:
    """The message's keyboard with the reply row redrawn and its other buttons kept."""
    row = rsvp_keyboard(meeting_id, current, _).inline_keyboard[0]
    rest = markup.inline_keyboard[1:] if markup else []
    return InlineKeyboardMarkup(inline_keyboard=[row, *rest])
