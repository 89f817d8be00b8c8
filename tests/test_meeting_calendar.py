"""Calendar files: UTC times, one UID per meeting, SEQUENCE growing with changes, CANCEL."""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar

from bot.meetings.ics import meeting_ics
from models.meeting import Meeting, MeetingStatus, MeetingTranslation

START = datetime(2027, 3, 10, 13, 0, tzinfo=UTC)
NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def meeting(**changes: object) -> Meeting:
    values: dict[str, object] = {
        "id": 7,
        "uid": "5f2c0e0b6a6d4e0c9d4f0d6f6b8a1c2e",
        "locale": "en",
        "start_at": START,
        "duration_minutes": 90,
        "link": "https://meet.example.org/monthly",
        "place": None,
        "zone": "Africa/Nairobi",
        "status": MeetingStatus.SCHEDULED,
        "sequence": 0,
        "translations": [
            MeetingTranslation(locale="en", title="Monthly meeting", agenda="1. News"),
            MeetingTranslation(locale="es", title="Reunión mensual", agenda=""),
        ],
    }
    values.update(changes)
    return Meeting(**values)


def event(data: bytes) -> tuple[icalendar.Calendar, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(data)
    return calendar, calendar.walk("VEVENT")[0]


def test_times_are_utc_and_text_is_in_the_members_language() -> None:
    calendar, first = event(meeting_ics(meeting(), "es", NOW))
    assert b"DTSTART:20270310T130000Z" in meeting_ics(meeting(), "es", NOW)
    assert first.decoded("dtstart") == START
    assert first.decoded("dtend") == datetime(2027, 3, 10, 14, 30, tzinfo=UTC)
    assert str(first["summary"]) == "Reunión mensual"
    assert "1. News" in str(first["description"])  # the agenda falls back to English
    assert str(first["location"]) == "https://meet.example.org/monthly"
    assert str(calendar["method"]) == "PUBLISH" and str(first["status"]) == "CONFIRMED"


def test_changes_keep_the_uid_and_bump_the_sequence() -> None:
    _, before = event(meeting_ics(meeting(), "en", NOW))
    moved = meeting(start_at=datetime(2027, 3, 12, 15, 0, tzinfo=UTC), sequence=1)
    _, after = event(meeting_ics(moved, "en", NOW))
    assert str(before["uid"]) == str(after["uid"])
    assert int(after["sequence"]) == 1 > int(before["sequence"])

    cancelled = meeting(status=MeetingStatus.CANCELLED, sequence=2)
    calendar, gone = event(meeting_ics(cancelled, "fr", NOW))
    assert str(calendar["method"]) == "CANCEL" and str(gone["status"]) == "CANCELLED"
    assert str(gone["uid"]) == str(before["uid"]) and int(gone["sequence"]) == 2
