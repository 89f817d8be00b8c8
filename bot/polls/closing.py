"""Closing times typed by coordinators in their own time zone, read leniently but never guessed."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

QUICK_CHOICES: dict[str, timedelta] = {
    "1d": timedelta(days=1),
    "3d": timedelta(days=3),
    "1w": timedelta(weeks=1),
}
LATEST = timedelta(days=366)
END_OF_DAY = time(23, 59)

_DATE_ISO = r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
_DATE_DMY = r"(?P<d>\d{1,2})[/.\-](?P<m>\d{1,2})(?:[/.\-](?P<y>\d{2}|\d{4}))?"
_TIME = r"(?P<H>\d{1,2})(?:[:.hH](?P<M>\d{2}))?\s*(?P<ampm>[aApP]\.?\s?[mM]\.?)?"
_PATTERNS = [re.compile(rf"^{date}(?:[\sT,]+{_TIME})?$") for date in (_DATE_ISO, _DATE_DMY)]


class TimeProblem(enum.StrEnum):
    """Why a typed closing time was refused."""

    UNREADABLE = "unreadable"
    NO_SUCH_DATE = "no_such_date"
    PAST = "past"
    TOO_FAR = "too_far"
    SKIPPED = "skipped"  # the clock jumps over it (spring forward)
    AMBIGUOUS = "ambiguous"  # it happens twice (fall back)


@dataclass(frozen=True)
class ParsedTime:
    """A closing time in UTC, or the reason it was refused."""

    moment: datetime | None = None
    problem: TimeProblem | None = None


def _wall_clock(text: str, today: datetime) -> datetime | TimeProblem:
    """The naive local date and time the text names (year and time filled in if left out)."""
    cleaned = " ".join(text.strip().split())
    for pattern in _PATTERNS:
        found = pattern.match(cleaned)
        if found:
            break
    else:
        return TimeProblem.UNREADABLE
    parts = found.groupdict()
    day, month = int(parts["d"]), int(parts["m"])
    year_text = parts.get("y")
    hour = int(parts["H"]) if parts.get("H") else END_OF_DAY.hour
    minute = int(parts["M"]) if parts.get("M") else (0 if parts.get("H") else END_OF_DAY.minute)
    if parts.get("ampm"):
        if not 1 <= hour <= 12:
            return TimeProblem.UNREADABLE
        hour = hour % 12 + (12 if parts["ampm"][0] in "pP" else 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return TimeProblem.UNREADABLE
    if year_text is None:
        year = today.year
    else:
        year = int(year_text) + (2000 if len(year_text) == 2 else 0)
    try:
        moment = datetime(year, month, day, hour, minute)
        if year_text is None and moment.date() < today.date():
            moment = moment.replace(year=year + 1)
    except ValueError:
        return TimeProblem.NO_SUCH_DATE
    return moment


def to_utc(local: datetime, zone: str) -> datetime | TimeProblem:
    """A wall-clock time in `zone` as UTC; refuses times DST skips or repeats."""
    tz = ZoneInfo(zone)
    first = local.replace(tzinfo=tz, fold=0)
    second = local.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(UTC)
    round_trip = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if round_trip != local:
        return TimeProblem.SKIPPED
    return TimeProblem.AMBIGUOUS


def parse_closing(text: str, zone: str, now: datetime) -> ParsedTime:
    """Read "2026-12-01 18:00", "1/12 18:00", "1.12.2026 6pm" (day before month) in `zone`."""
    local_now = now.astimezone(ZoneInfo(zone))
    wall = _wall_clock(text, local_now)
    if isinstance(wall, TimeProblem):
        return ParsedTime(problem=wall)
    moment = to_utc(wall, zone)
    if isinstance(moment, TimeProblem):
        return ParsedTime(problem=moment)
    return check_closing(moment, now)


def check_closing(moment: datetime, now: datetime) -> ParsedTime:
    """A closing time must be in the future and within a year."""
    if moment <= now:
        return ParsedTime(problem=TimeProblem.PAST)
    if moment - now > LATEST:
        return ParsedTime(problem=TimeProblem.TOO_FAR)
    return ParsedTime(moment=moment)


def quick_closing(choice: str, now: datetime) -> datetime | None:
    """The moment a quick button ("in 1 day"...) stands for, on a whole minute."""
    delta = QUICK_CHOICES.get(choice)
    if delta is None:
        return None
    moment = now + delta
    whole = moment.replace(second=0, microsecond=0)
    return whole if whole == moment else whole + timedelta(minutes=1)
