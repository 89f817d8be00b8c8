"""Meetings: reading dates in the coordinator's zone, calendar files, and what members see."""

from __future__ import annotations

import enum
import html
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import icalendar
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel import Locale
from babel.dates import format_datetime, format_timedelta
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import geo
from bot.i18n import RLM, RTL_LOCALES, format_when, utc_offset, zone_name
from models.group import WorkingGroup, is_coordinator
from models.meeting import (
    DatePoll,
    DateSlot,
    Meeting,
    MeetingStatus,
    MeetingTranslation,
    RsvpAnswer,
    SlotAnswer,
    SlotTally,
)
from models.member import Member

Gettext = Callable[..., str]
PARSE_LOCALES = ("en", "es", "fr", "pt", "ar")
DURATIONS = (30, 60, 90, 120, 180, 240)
REMINDER_CHOICES = (7 * 24 * 60, 24 * 60, 3 * 60, 60, 15)
MAX_TITLE = 200
MAX_AGENDA = 2000
MAX_LINK = 500
MAX_PLACE = 300
MAX_SLOTS = 8
ICS_PRODID = "-//Participation Bot//Meetings//EN"


# --- buttons -----------------------------------------------------------------------------------


class RsvpCb(CallbackData, prefix="rsvp"):
    """A member's Going / Maybe / Not going on a meeting (our id, never a Telegram id)."""

    meeting_id: int
    answer: str


class SlotCb(CallbackData, prefix="slot"):
    """A member's Yes / If need be / No on one proposed slot."""

    slot_id: int
    answer: str


class MeetingCb(CallbackData, prefix="mtg"):
    """Open, download or manage one meeting."""

    action: str
    meeting_id: int


# --- reading dates -----------------------------------------------------------------------------


class WhenProblem(enum.StrEnum):
    """Why a typed date and time was refused."""

    UNPARSABLE = "unparsable"
    NO_DATE = "no_date"
    NO_TIME = "no_time"
    BAD_DATE = "bad_date"
    PAST = "past"
    GAP = "gap"


class WhenError(ValueError):
    """A date the bot will not guess about; `local` is the wall time read, when there is one."""

    def __init__(self, problem: WhenProblem, local: datetime | None = None) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.local = local


@dataclass(frozen=True)
class Ambiguous:
    """A wall time that happens twice (clocks going back): the two instants, earlier first."""

    local: datetime
    zone: str
    earlier: datetime
    later: datetime


_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_TODAY = ("today", "hoy", "aujourd'hui", "aujourd hui", "aujourdhui", "hoje", "اليوم")
_TOMORROW = ("tomorrow", "manana", "demain", "amanha", "غدا", "بكره", "بكرة")
_AM = ("am", "a.m.", "a.m", "ص")
_PM = ("pm", "p.m.", "p.m", "م")
_ISO = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_DMY = re.compile(r"(?<!\d)(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})(?!\d)")
_DM_SLASH = re.compile(r"(?<![\d/.-])(\d{1,2})/(\d{1,2})(?![\d/.-])")
_DM_DOT = re.compile(r"(?<![\d/.-])(\d{1,2})\.(\d{1,2})(?![\d/.-])")
_PERIOD = r"(?:\s*(a\.m\.?|p\.m\.?|am|pm|ص|م)(?!\w))?"
_TIME_COLON = re.compile(r"(?<![\d/.-])(\d{1,2}):(\d{2})(?::\d{2})?(?!\d)" + _PERIOD)
_TIME_H = re.compile(r"(?<![\d/.-])(\d{1,2})\s*h\s*(\d{2})?(?![\w])")
_TIME_PERIOD = re.compile(
    r"(?<![\d/.-])(\d{1,2})(?:\.(\d{2}))?\s*(a\.m\.?|p\.m\.?|am|pm|ص|م)(?!\w)"
)
_TIME_DOT = re.compile(r"(?<![\d/.-])(\d{1,2})\.(\d{2})(?![\d/.-])")


def _fold(text: str) -> str:
    """Lower case, ASCII digits, no accents: what the date reader compares."""
    text = unicodedata.normalize("NFKC", text).translate(_ARABIC_DIGITS).casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    bare = bare.replace("\u2019", "'").replace("،", " ").replace(",", " ").replace(";", " ")
    bare = re.sub(r"(\d)t(\d)", r"\1 \2", bare)  # ISO 8601 "2027-03-14T18:00"
    return " ".join(bare.split())


@lru_cache(maxsize=1)
def _month_names() -> dict[str, int]:
    """Month names and abbreviations in every shipped language, folded; clashes dropped."""
    names: dict[str, int] = {}
    clashes: set[str] = set()
    for code in PARSE_LOCALES:
        months = Locale.parse(code).months
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                for number, name in months[context][width].items():
                    key = _fold(name).rstrip(".")
                    if names.get(key, number) != number:
                        clashes.add(key)
                    names[key] = number
    names["sept"] = 9
    return {name: number for name, number in names.items() if name not in clashes and name}


@lru_cache(maxsize=1)
def _month_pattern() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """'14 March 2027' / '14 de marzo' and 'March 14, 2027' as two expressions."""
    names = sorted(_month_names(), key=len, reverse=True)
    alternation = "|".join(re.escape(name) for name in names)
    day_first = re.compile(
        r"(?<!\d)(\d{1,2})(?:st|nd|rd|th|er|eme|o|º|ª)?\.?\s*(?:de\s+|of\s+)?"
        rf"({alternation})\.?(?!\w)(?:\s*(?:de\s+)?(\d{{4}})(?!\d))?"
    )
    month_first = re.compile(
        rf"(?<!\w)({alternation})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?!\d)(?:\s+(\d{{4}})(?!\d))?"
    )
    return day_first, month_first


def _cut(text: str, match: re.Match[str]) -> str:
    """The text with a recognised part blanked out, so it is not read twice."""
    return text[: match.start()] + " " + text[match.end() :]


def _hour(hour: int, minute: int, period: str | None) -> tuple[int, int]:
    """24-hour clock from a reading with an optional am/pm."""
    if period:
        if not 1 <= hour <= 12:
            raise WhenError(WhenProblem.UNPARSABLE)
        evening = period in _PM or period.startswith("p")
        hour = hour % 12 + (12 if evening else 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise WhenError(WhenProblem.UNPARSABLE)
    return hour, minute


def _find_time(text: str) -> tuple[tuple[int, int] | None, str]:
    """The first time of day written as 18:30, 6:30pm, 18h30, 18h or 6 pm."""
    for pattern in (_TIME_COLON, _TIME_PERIOD, _TIME_H):
        match = pattern.search(text)
        if match is None:
            continue
        groups = match.groups()
        period = groups[2] if len(groups) > 2 else None
        minute = int(groups[1]) if groups[1] else 0
        return _hour(int(groups[0]), minute, period), _cut(text, match)
    return None, text


def parse_local(text: str, now_local: datetime) -> datetime:
    """Read a wall-clock date and time (naive), day before month, year optional.

    Accepts 14/03/2027 18:30, 2027-03-14 18:30, 14 March 18h30, March 14 6:30pm, 14 de marzo
    18:30, demain 9h and the same with Arabic digits. Refuses rather than guesses.
    """
    rest = _fold(text)
    if not rest:
        raise WhenError(WhenProblem.UNPARSABLE)
    year: int | None = None
    month = day = None
    for pattern, order in ((_ISO, "ymd"), (_DMY, "dmy")):
        match = pattern.search(rest)
        if match:
            parts = dict(zip(order, (int(g) for g in match.groups()), strict=True))
            year, month, day = parts["y"], parts["m"], parts["d"]
            year = year + 2000 if year < 100 else year
            rest = _cut(rest, match)
            break
    clock, rest = _find_time(rest)
    if day is None:
        match = _DM_SLASH.search(rest) or (_DM_DOT.search(rest) if clock else None)
        if match:
            day, month = int(match.group(1)), int(match.group(2))
            rest = _cut(rest, match)
    if clock is None:
        match = _TIME_DOT.search(rest)
        if match:
            clock = _hour(int(match.group(1)), int(match.group(2)), None)
            rest = _cut(rest, match)
    if day is None:
        day_first, month_first = _month_pattern()
        match = day_first.search(rest)
        if match:
            day, month = int(match.group(1)), _month_names()[match.group(2)]
            year = int(match.group(3)) if match.group(3) else None
        else:
            match = month_first.search(rest)
            if match:
                month, day = _month_names()[match.group(1)], int(match.group(2))
                year = int(match.group(3)) if match.group(3) else None
        if match:
            rest = _cut(rest, match)
    if day is None:
        shift = _relative_day(rest)
        if shift is not None:
            moved = now_local + timedelta(days=shift)
            year, month, day = moved.year, moved.month, moved.day
    if re.search(r"\d", rest):
        missing_time = day is not None and clock is None
        raise WhenError(WhenProblem.NO_TIME if missing_time else WhenProblem.UNPARSABLE)
    if day is None or month is None:
        raise WhenError(WhenProblem.NO_DATE if clock else WhenProblem.UNPARSABLE)
    if clock is None:
        raise WhenError(WhenProblem.NO_TIME)
    explicit_year = year is not None
    try:
        local = datetime(year or now_local.year, month, day, *clock)
    except ValueError:
        raise WhenError(WhenProblem.BAD_DATE) from None
    if not explicit_year and local < now_local.replace(tzinfo=None):
        try:
            local = local.replace(year=local.year + 1)
        except ValueError:  # 29 February
            raise WhenError(WhenProblem.BAD_DATE) from None
    return local


def _relative_day(text: str) -> int | None:
    """0 for 'today', 1 for 'tomorrow' in the shipped languages, else None."""
    words = set(text.split())
    if any(word in text for word in _TODAY if " " in word) or words & set(_TODAY):
        return 0
    if words & set(_TOMORROW):
        return 1
    return None


def resolve_local(local: datetime, zone: str, now: datetime) -> datetime | Ambiguous:
    """The UTC instant of a wall time in a zone; refuses times skipped by a clock change
    and returns both candidates for times that happen twice."""
    tz = ZoneInfo(zone)
    first = local.replace(tzinfo=tz, fold=0)
    second = local.replace(tzinfo=tz, fold=1)
    if first.utcoffset() != second.utcoffset():
        round_trip = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        if round_trip != local:
            raise WhenError(WhenProblem.GAP, local)
        earlier, later = sorted((first.astimezone(UTC), second.astimezone(UTC)))
        if later <= now:
            raise WhenError(WhenProblem.PAST, local)
        return Ambiguous(local, zone, earlier, later)
    moment = first.astimezone(UTC)
    if moment <= now:
        raise WhenError(WhenProblem.PAST, local)
    return moment


def parse_when(text: str, zone: str, now: datetime) -> datetime | Ambiguous:
    """A typed date and time, read in `zone`, as an aware UTC instant in the future."""
    local_now = now.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    return resolve_local(parse_local(text, local_now), zone, now)


def after_gap(local: datetime, zone: str) -> datetime:
    """The wall time a skipped time would read as once the clocks jumped (a suggestion)."""
    tz = ZoneInfo(zone)
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC).astimezone(tz).replace(tzinfo=None)


def when_problem_text(error: WhenError, zone: str, now: datetime, locale: str, _: Gettext) -> str:
    """A clear, translated refusal of a typed date."""
    place = html.escape(zone_name(zone, locale))
    if error.problem == WhenProblem.PAST:
        return _(
            "That time has already passed: it is now {now}. Please send a future time."
        ).format(now=format_when(now, zone, locale))
    if error.problem == WhenProblem.GAP and error.local is not None:
        return _(
            "{time} does not exist on that day ({zone}): the clocks jump forward for daylight "
            "saving time. Please send another time, for example {suggestion}."
        ).format(
            time=short_time(error.local, locale),
            zone=place,
            suggestion=short_time(after_gap(error.local, zone), locale),
        )
    if error.problem == WhenProblem.NO_TIME:
        return _("Please add the start time, for example 14/03 18:30 or 14 March 6:30pm.")
    if error.problem == WhenProblem.NO_DATE:
        return _("Please add the day, for example 14/03 18:30 or 14 March 6:30pm.")
    if error.problem == WhenProblem.BAD_DATE:
        return _("That day does not exist in the calendar. Please check the day and the month.")
    return _(
        "I could not read that date. Please write the day, the month and the time, for example "
        "14/03/2027 18:30 or 14 March 6:30pm (day before month)."
    )


def ambiguous_text(choice: Ambiguous, locale: str, _: Gettext) -> str:
    """Ask which of the two moments a time that happens twice means."""
    return _(
        "{time} happens twice on that day ({zone}), because the clocks go back an hour. "
        "Which one do you mean?"
    ).format(
        time=short_time(choice.local, locale), zone=html.escape(zone_name(choice.zone, locale))
    )


def ambiguous_labels(choice: Ambiguous, locale: str, _: Gettext) -> tuple[str, str]:
    """Button texts for the two moments, each with its UTC offset."""
    tz = ZoneInfo(choice.zone)
    time = short_time(choice.local, locale)
    return (
        _("First {time} ({offset})").format(
            time=time, offset=utc_offset(choice.earlier.astimezone(tz))
        ),
        _("Second {time} ({offset})").format(
            time=time, offset=utc_offset(choice.later.astimezone(tz))
        ),
    )


def short_time(local: datetime, locale: str) -> str:
    """A wall time as HH:mm (with the day) in the member's language."""
    return format_datetime(local, "d MMM, HH:mm", locale=locale)


# --- typed text --------------------------------------------------------------------------------


def clean(text: str, limit: int, *, lines: bool = False) -> str | None:
    """Text without control characters (newlines kept where asked); None if empty or too long."""
    kept = "".join(
        ch for ch in text if (lines and ch == "\n") or unicodedata.category(ch)[0] != "C"
    )
    kept = "\n".join(" ".join(line.split()) for line in kept.strip().split("\n"))
    if not kept or len(kept) > limit:
        return None
    return kept


def valid_link(link: str) -> bool:
    """An http(s) address without spaces, short enough to store."""
    return (
        link.startswith(("https://", "http://"))
        and len(link) > len("https://")
        and len(link) <= MAX_LINK
        and not any(ch.isspace() for ch in link)
    )


# --- time zones by name ------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _zone_index() -> tuple[tuple[str, str], ...]:
    """(folded city, zone) for every zone on this system."""
    index = []
    for zone in sorted(available_timezones()):
        if "/" not in zone or zone.startswith(("Etc/", "SystemV/", "posix/", "right/")):
            continue
        city = zone.rsplit("/", 1)[-1].replace("_", " ")
        index.append((_fold(city), zone))
    return tuple(index)


def find_zones(query: str, locale: str, limit: int = 8) -> list[str]:
    """Zones matching a typed name: an IANA id, a city, or a country."""
    text = query.strip()
    if not text or len(text) > 64:
        return []
    if text.upper() in ("UTC", "GMT"):
        return ["UTC"]
    try:
        ZoneInfo(text)
        if "/" in text:
            return [text]
    except (ZoneInfoNotFoundError, ValueError):
        pass
    folded = _fold(text)
    found: list[str] = [z for city, z in _zone_index() if city == folded]
    found += [z for city, z in _zone_index() if city.startswith(folded) and z not in found]
    for code, _name in geo.search_countries(text, locale, limit=3):
        found += [z for z in geo.timezones_for(code) if z not in found]
    return found[:limit]


def valid_zone(zone: str) -> bool:
    """Whether a zone name (from a button) is one this system knows."""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


# --- formatting --------------------------------------------------------------------------------


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


def slot_answer_label(answer: str | None, _: Gettext) -> str:
    """Availability in words."""
    labels: dict[str, str] = {
        SlotAnswer.YES: _("✅ Yes"),
        SlotAnswer.IF_NEED_BE: _("🤔 If need be"),
        SlotAnswer.NO: _("❌ No"),
    }
    return labels.get(answer or "", _("not answered"))


SLOT_MARKS = {SlotAnswer.YES: "✅", SlotAnswer.IF_NEED_BE: "🤔", SlotAnswer.NO: "❌"}


def poll_text(
    meeting: Meeting,
    poll: DatePoll,
    group_name: str | None,
    answers: dict[int, str],
    locale: str,
    zone: str,
    _: Gettext,
) -> str:
    """A date poll as one member sees it: each slot in their zone, with their answers."""
    lines = ["🗓 " + _("<b>Find a date</b>"), ""]
    lines += meeting_body(meeting, group_name, locale, zone, _)
    lines += ["", _("When can you come? Answer for each time:")]
    for number, slot in enumerate(poll.slots, start=1):
        lines.append(
            f"{number}. {format_when(slot.start_at, zone, locale)} — "
            + slot_answer_label(answers.get(slot.id), _)
        )
    lines += ["", _("✅ Yes · 🤔 If need be · ❌ No")]
    return directed("\n".join(lines), locale)


def poll_keyboard(poll: DatePoll) -> InlineKeyboardMarkup:
    """One row per slot: Yes / If need be / No."""
    kb = InlineKeyboardBuilder()
    for number, slot in enumerate(poll.slots, start=1):
        for answer, mark in SLOT_MARKS.items():
            kb.button(
                text=f"{number} {mark}", callback_data=SlotCb(slot_id=slot.id, answer=answer)
            )
    kb.adjust(3)
    return kb.as_markup()


def poll_summary_text(
    meeting: Meeting,
    tallies: list[SlotTally],
    respondents: int,
    invited: int,
    locale: str,
    zone: str,
    _: Gettext,
) -> str:
    """The coordinator's view of a date poll: slots from best to worst, with names."""
    title = html.escape(meeting.text(locale)[0])
    lines = [
        "🗓 " + _("<b>Find a date:</b> {title}").format(title=title),
        _("Answered: {count} of {invited} invited.").format(count=respondents, invited=invited),
        "",
    ]
    for rank, tally in enumerate(tallies, start=1):
        star = "⭐ " if rank == 1 and (tally.yes or tally.if_need_be) else ""
        lines.append(f"{star}<b>{rank}. {format_when(tally.slot.start_at, zone, locale)}</b>")
        for mark, people in (("✅", tally.yes), ("🤔", tally.if_need_be), ("❌", tally.no)):
            listed = ", ".join(html.escape(name) for name in people) or "—"
            lines.append(f"   {mark} {len(people)}: {listed}")
    lines += ["", _("Tap a time to schedule the meeting then. Everyone will be invited.")]
    return directed("\n".join(lines), locale)


def minutes_caption(meeting: Meeting, locale: str, _: Gettext) -> str:
    """The heading sent with minutes."""
    title = html.escape(meeting.text(locale)[0])
    return "📝 " + _("<b>Minutes</b> of {title}").format(title=title)


# --- calendar files ----------------------------------------------------------------------------


def meeting_ics(meeting: Meeting, locale: str, now: datetime) -> bytes:
    """An iCalendar file for the meeting: UTC times, a stable UID, SEQUENCE bumped on each
    change, and METHOD:CANCEL once it is cancelled, so calendars update the same event."""
    assert meeting.start_at is not None
    title, agenda = meeting.text(locale)
    calendar = icalendar.Calendar()
    calendar.add("prodid", ICS_PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if meeting.is_cancelled else "PUBLISH")
    event = icalendar.Event()
    event.add("uid", f"{meeting.uid}@participation-bot")
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", meeting.start_at.astimezone(UTC))
    event.add("dtend", (meeting.start_at + timedelta(minutes=meeting.duration_minutes)))
    event.add("sequence", meeting.sequence)
    event.add("summary", title)
    description = "\n\n".join(part for part in (agenda, meeting.link or "") if part)
    if description:
        event.add("description", description)
    if meeting.place or meeting.link:
        event.add("location", meeting.place or meeting.link)
    if meeting.link:
        event.add("url", meeting.link)
    event.add("status", "CANCELLED" if meeting.is_cancelled else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()


def ics_filename(meeting: Meeting) -> str:
    """A short file name calendars recognise."""
    return f"meeting-{meeting.id}.ics"


# --- drafts, permissions, names --------------------------------------------------------------


async def can_manage(session: AsyncSession, member: Member, meeting: Meeting) -> bool:
    """Network admins manage every meeting; coordinators those of their working group."""
    if member.is_admin and member.is_active:
        return True
    if meeting.group_id is None or not member.is_active:
        return False
    return await is_coordinator(session, member.id, meeting.group_id)


async def group_name(
    session: AsyncSession, group_id: int | None, locale: str, default_locale: str
) -> str | None:
    """The working group's name in the member's language (None for the whole network)."""
    if group_id is None:
        return None
    group = await session.get(WorkingGroup, group_id)
    return group.text(locale, default_locale)[0] if group else None


def build_meeting(draft: dict[str, Any], creator: Member, now: datetime) -> Meeting:
    """A Meeting from the conversation's draft (proposed while a date poll runs)."""
    texts: dict[str, dict[str, str]] = draft["texts"]
    meeting = Meeting(
        uid=uuid.uuid4().hex,
        group_id=draft.get("group") or None,
        created_by_id=creator.id,
        locale=draft["locale"],
        start_at=datetime.fromisoformat(draft["start"]) if draft.get("start") else None,
        duration_minutes=int(draft["duration"]),
        link=draft.get("link"),
        place=draft.get("place"),
        zone=draft["zone"],
        status=MeetingStatus.PROPOSED if draft.get("mode") == "poll" else MeetingStatus.SCHEDULED,
        reminder_offsets=sorted(set(draft.get("reminders", [])), reverse=True),
        remind_non_responders=bool(draft.get("non_responders")),
        sequence=0,
        created_at=now,
        updated_at=now,
        translations=[
            MeetingTranslation(locale=loc, title=text["title"], agenda=text.get("agenda", ""))
            for loc, text in texts.items()
        ],
    )
    return meeting


def build_poll(draft: dict[str, Any], now: datetime) -> DatePoll:
    """The date poll of a proposed meeting, its slots in time order."""
    starts = sorted(datetime.fromisoformat(value) for value in draft.get("slots", []))
    return DatePoll(is_open=True, created_at=now, slots=[DateSlot(start_at=s) for s in starts])


SAMPLE_ZONES = ("Asia/Manila", "America/Montevideo", "Africa/Nairobi", "Europe/Paris")


async def preview_zone(
    session: AsyncSession, audience: Select[int], zone: str, at: datetime
) -> str:
    """The zone whose clock differs most from the coordinator's, among the invited members
    (or a few far-apart zones when the group is small), to preview what others will see."""
    zones = set(
        await session.scalars(
            select(Member.timezone).where(Member.id.in_(audience), Member.timezone.is_not(None))
        )
    )
    candidates = sorted(z for z in zones if z and valid_zone(z)) or list(SAMPLE_ZONES)

    def distance(other: str) -> int:
        here = at.astimezone(ZoneInfo(zone)).utcoffset() or timedelta(0)
        there = at.astimezone(ZoneInfo(other)).utcoffset() or timedelta(0)
        diff = abs(int((there - here).total_seconds()))
        return min(diff, 24 * 3600 - diff)

    best = max(candidates, key=distance)
    if distance(best) == 0:
        best = max(SAMPLE_ZONES, key=distance)
    return best
