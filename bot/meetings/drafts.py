"""A new meeting's draft: the limits on what is typed, and the Meeting (and date poll) it
becomes."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime
from typing import Any

from models.meeting import (
    DEFAULT_REMINDERS,
    DatePoll,
    DateSlot,
    Meeting,
    MeetingStatus,
    MeetingTranslation,
)
from models.member import Member

DURATIONS = (30, 60, 90, 120, 180, 240)
REMINDER_CHOICES = (7 * 24 * 60, 24 * 60, 3 * 60, 60, 15)
MAX_TITLE = 200
MAX_AGENDA = 2000
MAX_LINK = 500
MAX_PLACE = 300
MAX_SLOTS = 8
MAX_MINUTES = 3500


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


def time_passed(draft: dict[str, Any], now: datetime) -> bool:
    """Whether the drafted start, or one of the proposed times, is no longer ahead."""
    times = [draft["start"]] if draft.get("mode") != "poll" else draft.get("slots", [])
    return any(datetime.fromisoformat(value) <= now for value in times)


def new_draft(member: Member, group_id: int | None) -> dict[str, Any]:
    """An empty draft in the member's language and zone, with the usual reminders; the group
    is known already when the member coordinates only one."""
    draft: dict[str, Any] = {
        "steps": [],
        "locale": str(member.locale),
        "zone": member.tz,
        "texts": {},
        "reminders": list(DEFAULT_REMINDERS),
        "non_responders": False,
    }
    if group_id is not None:
        draft["group"] = group_id
    return draft
