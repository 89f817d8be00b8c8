"""Calendar files: one event per meeting that calendars update in place and remove on cancel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models.meeting import Meeting

ICS_PRODID = "-//Participation Bot//Meetings//EN"


def meeting_ics(meeting: Meeting, locale: str, now: datetime) -> bytes:
    """An iCalendar file for the meeting: UTC times, a stable UID, SEQUENCE bumped on each
    change, and METHOD:CANCEL once it is cancelled, so calendars update the same event."""
    assert meeting.start_at is not None
    title, agenda = meeting.text(locale)
    import icalendar  # only when a calendar file is made: it is slow to import

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
