"""ORM models and the small named queries beside them; importing this registers every table."""

from models.base import Base, UTCDateTime, utcnow
from models.fsm import FsmRecord
from models.group import GroupMembership, GroupTranslation, WorkingGroup
from models.meeting import (
    DatePoll,
    DateSlot,
    DateSlotAnswer,
    Meeting,
    MeetingMinutes,
    MeetingTranslation,
    Rsvp,
)
from models.member import Gender, Member, MemberStatus, Role

__all__ = [
    "Base",
    "DatePoll",
    "DateSlot",
    "DateSlotAnswer",
    "FsmRecord",
    "Gender",
    "GroupMembership",
    "GroupTranslation",
    "Meeting",
    "MeetingMinutes",
    "MeetingTranslation",
    "Member",
    "MemberStatus",
    "Role",
    "Rsvp",
    "UTCDateTime",
    "WorkingGroup",
    "utcnow",
]
