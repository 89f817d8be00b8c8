"""Reading a typed date and time in the coordinator's zone: refused with a reason rather than
guessed, and the two moments of a time that happens twice told apart."""

from __future__ import annotations

import enum
import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from aiogram.filters.callback_data import CallbackData
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel import Locale
from babel.dates import format_datetime

from bot.core.config import SUPPORTED_LOCALES
from bot.core.i18n import format_when, utc_offset, zone_name

Gettext = Callable[..., str]


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


# Colloquial words CLDR does not give (its own "today"/"tomorrow" in every language are added).
_EXTRA_DAYS = {"aujourd hui": 0, "aujourdhui": 0, "بكره": 1, "بكرة": 1}
_ISO = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_DMY = re.compile(r"(?<!\d)(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})(?!\d)")
_DM_SLASH = re.compile(r"(?<![\d/.-])(\d{1,2})/(\d{1,2})(?![\d/.-])")
_DM_DOT = re.compile(r"(?<![\d/.-])(\d{1,2})\.(\d{1,2})(?![\d/.-])")
_TIME_H = re.compile(r"(?<![\d/.-])(\d{1,2})\s*h\s*(\d{2})?(?![\w])")
_TIME_DOT = re.compile(r"(?<![\d/.-])(\d{1,2})\.(\d{2})(?![\d/.-])")
_DIGIT = re.compile(r"\d")  # any script's decimal digit: Arabic-Indic, Persian, Devanagari...


def parse_locales() -> tuple[str, ...]:
    """Every language the bot ships: a date may be typed in any of them, whatever the screen."""
    return SUPPORTED_LOCALES


def fold_text(text: str) -> str:
    """Lower case, ASCII digits, no accents: what the date reader compares."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _DIGIT.sub(lambda m: str(unicodedata.decimal(m.group(), 0)), text)
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    bare = bare.replace("\u2019", "'").replace("،", " ").replace(",", " ").replace(";", " ")
    bare = re.sub(r"(\d)t(\d)", r"\1 \2", bare)  # ISO 8601 "2027-03-14T18:00"
    return " ".join(bare.split())


def _without_clashes(pairs: list[tuple[str, int]]) -> dict[str, int]:
    """Keep the words that mean one thing in every language ("mar" is March, not Tuesday)."""
    names: dict[str, int] = {}
    clashes: set[str] = set()
    for key, value in pairs:
        if names.get(key, value) != value:
            clashes.add(key)
        names[key] = value
    return {name: value for name, value in names.items() if name not in clashes and name}


@lru_cache(maxsize=8)
def _month_names(locales: tuple[str, ...] | None = None) -> dict[str, int]:
    """Month names and abbreviations in every shipped language, folded; clashes dropped."""
    pairs: list[tuple[str, int]] = [("sept", 9)]
    for code in locales or parse_locales():
        months = Locale.parse(code).months
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                for number, name in months[context][width].items():
                    pairs.append((fold_text(name).rstrip("."), number))
    return _without_clashes(pairs)


@lru_cache(maxsize=8)
def _day_words(locales: tuple[str, ...] | None = None) -> tuple[tuple[str, int], ...]:
    """CLDR's "today", "tomorrow" and "the day after" in every language, longest first (so
    "pasado mañana" is read before "mañana")."""
    pairs = list(_EXTRA_DAYS.items())
    for code in locales or parse_locales():
        fields = Locale.parse(code)._data.get("date_fields", {})  # no public accessor
        relative = fields.get("day", {}).get("relative", {})
        pairs += [(fold_text(word), shift) for shift, word in relative.items() if shift >= 0]
    return tuple(sorted(_without_clashes(pairs).items(), key=lambda p: -len(p[0])))


@lru_cache(maxsize=8)
def _periods(locales: tuple[str, ...] | None = None) -> dict[str, bool]:
    """AM/PM markers in every language (folded, without spaces) → whether it is afternoon."""
    pairs: list[tuple[str, int]] = [("am", 0), ("a.m", 0), ("pm", 1), ("p.m", 1)]
    for code in locales or parse_locales():
        periods = Locale.parse(code).day_periods.get("format", {})
        for width in ("abbreviated", "wide"):
            for key, evening in (("am", 0), ("pm", 1)):
                name = periods.get(width, {}).get(key)
                folded = fold_text(name or "").replace(" ", "").rstrip(".")
                if len(folded) > 1 or (folded and not folded.isascii()):
                    pairs.append((folded, evening))  # one Latin letter ("a") is too risky
    return {name: bool(evening) for name, evening in _without_clashes(pairs).items()}


@lru_cache(maxsize=8)
def _time_patterns(
    locales: tuple[str, ...] | None = None,
) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """18:30 (with an optional am/pm) and 6 pm / 6.30 pm, with every language's markers."""
    names = sorted(_periods(locales), key=len, reverse=True)
    marker = "|".join(re.escape(n).replace(r"\.", r"\.\s*") + r"\.?" for n in names)
    period = rf"(?:\s*({marker})(?!\w))?"
    colon = re.compile(r"(?<![\d/.-])(\d{1,2}):(\d{2})(?::\d{2})?(?!\d)" + period)
    bare = re.compile(rf"(?<![\d/.-])(\d{{1,2}})(?:\.(\d{{2}}))?\s*({marker})(?!\w)")
    return colon, bare


@lru_cache(maxsize=8)
def _month_pattern(
    locales: tuple[str, ...] | None = None,
) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """'14 March 2027' / '14 de marzo' and 'March 14, 2027' as two expressions."""
    names = sorted(_month_names(locales), key=len, reverse=True)
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


def _hour(
    hour: int, minute: int, period: str | None, locales: tuple[str, ...] | None = None
) -> tuple[int, int]:
    """24-hour clock from a reading with an optional am/pm."""
    if period:
        if not 1 <= hour <= 12:
            raise WhenError(WhenProblem.UNPARSABLE)
        marker = period.replace(" ", "").rstrip(".")
        evening = _periods(locales).get(marker, marker.startswith("p"))
        hour = hour % 12 + (12 if evening else 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise WhenError(WhenProblem.UNPARSABLE)
    return hour, minute


def _find_time(
    text: str, locales: tuple[str, ...] | None = None
) -> tuple[tuple[int, int] | None, str]:
    """The first time of day written as 18:30, 6:30pm, 18h30, 18h or 6 pm."""
    for pattern in (*_time_patterns(locales), _TIME_H):
        match = pattern.search(text)
        if match is None:
            continue
        groups = match.groups()
        period = groups[2] if len(groups) > 2 else None
        minute = int(groups[1]) if groups[1] else 0
        return _hour(int(groups[0]), minute, period, locales), _cut(text, match)
    return None, text


def parse_local(
    text: str, now_local: datetime, locales: tuple[str, ...] | None = None
) -> datetime:
    """Read a wall-clock date and time (naive), day before month, year optional.

    Accepts 14/03/2027 18:30, 2027-03-14 18:30, 14 March 18h30, March 14 6:30pm, 14 de marzo
    18:30, demain 9h and the same with Arabic digits, with month names, day words and am/pm in
    every shipped language (`locales`, for tests). Refuses rather than guesses.
    """
    rest = fold_text(text)
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
    clock, rest = _find_time(rest, locales)
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
        day_first, month_first = _month_pattern(locales)
        match = day_first.search(rest)
        if match:
            day, month = int(match.group(1)), _month_names(locales)[match.group(2)]
            year = int(match.group(3)) if match.group(3) else None
        else:
            match = month_first.search(rest)
            if match:
                month, day = _month_names(locales)[match.group(1)], int(match.group(2))
                year = int(match.group(3)) if match.group(3) else None
        if match:
            rest = _cut(rest, match)
    if day is None:
        shift = _relative_day(rest, locales)
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


def _relative_day(text: str, locales: tuple[str, ...] | None = None) -> int | None:
    """Days from today for 'today', 'tomorrow', 'the day after' in any language, else None."""
    padded = f" {text} "
    for phrase, shift in _day_words(locales):
        if f" {phrase} " in padded:
            return shift
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
        # TRANSLATORS: a button; the clocks go back, so this time happens twice: the first one.
        _("First {time} ({offset})").format(
            time=time, offset=utc_offset(choice.earlier.astimezone(tz))
        ),
        # TRANSLATORS: a button; the second time the same clock time happens that day.
        _("Second {time} ({offset})").format(
            time=time, offset=utc_offset(choice.later.astimezone(tz))
        ),
    )


def ambiguous_buttons(
    choice: Ambiguous, locale: str, _: Gettext, data: Callable[[str], CallbackData]
) -> InlineKeyboardBuilder:
    """The two moments as buttons, one a row; `data` makes a button's data from "0" or "1"."""
    kb = InlineKeyboardBuilder()
    for label, which in zip(ambiguous_labels(choice, locale, _), ("0", "1"), strict=True):
        kb.button(text=label, callback_data=data(which))
    kb.adjust(1)
    return kb


def short_time(local: datetime, locale: str) -> str:
    """A wall time as HH:mm (with the day) in the member's language."""
    return format_datetime(local, "d MMM, HH:mm", locale=locale)


def local_time(moment: datetime, zone: str, locale: str) -> str:
    """A short day and time in a zone, for buttons."""
    return short_time(moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None), locale)
