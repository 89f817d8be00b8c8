"""ORM models and the small named queries beside them; importing this registers every table."""

from models.base import Base, UTCDateTime, utcnow
from models.fsm import FsmRecord
from models.group import GroupMembership, GroupTranslation, WorkingGroup
from models.member import Gender, Member, MemberStatus, Role

__all__ = [
    "Base",
    "FsmRecord",
    "Gender",
    "GroupMembership",
    "GroupTranslation",
    "Member",
    "MemberStatus",
    "Role",
    "UTCDateTime",
    "WorkingGroup",
    "utcnow",
]
