"""ORM models and the small named queries beside them; importing this registers every table."""

from models.audit import AuditEntry
from models.base import Base, UTCDateTime, utcnow
from models.consensus import (
    Outcome,
    Priorities,
    PriorityBallot,
    PriorityParticipation,
    Proposal,
    Questionnaire,
    QuestionnaireAnswer,
    QuestionnaireProgress,
    Round,
)
from models.delivery import Broadcast, Delivery
from models.fsm import FsmRecord
from models.group import (
    GroupInvite,
    GroupMembership,
    GroupRemoval,
    GroupTranslation,
    RemovalToken,
    WorkingGroup,
)
from models.inbox import InboxUpdate
from models.job import Job
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
from models.poll import (
    AnonymousBallot,
    AnonymousComment,
    CommentCount,
    NamedVote,
    Participation,
    PendingBallot,
    PendingComment,
    Poll,
    PollComment,
    PollGroup,
    PollOption,
    PollTranslation,
    VoterToken,
)
from models.solidarity import CaseEvent, CaseResponse, CaseSignature, SolidarityCase

__all__ = [
    "AnonymousBallot",
    "AnonymousComment",
    "AuditEntry",
    "Base",
    "Broadcast",
    "CaseEvent",
    "CaseResponse",
    "CaseSignature",
    "CommentCount",
    "DatePoll",
    "DateSlot",
    "DateSlotAnswer",
    "Delivery",
    "FsmRecord",
    "Gender",
    "GroupInvite",
    "GroupMembership",
    "GroupRemoval",
    "GroupTranslation",
    "InboxUpdate",
    "Job",
    "Meeting",
    "MeetingMinutes",
    "MeetingTranslation",
    "Member",
    "MemberStatus",
    "NamedVote",
    "Outcome",
    "Participation",
    "PendingBallot",
    "PendingComment",
    "Poll",
    "PollComment",
    "PollGroup",
    "PollOption",
    "PollTranslation",
    "Priorities",
    "PriorityBallot",
    "PriorityParticipation",
    "Proposal",
    "Questionnaire",
    "QuestionnaireAnswer",
    "QuestionnaireProgress",
    "RemovalToken",
    "Role",
    "Round",
    "Rsvp",
    "SolidarityCase",
    "UTCDateTime",
    "VoterToken",
    "WorkingGroup",
    "utcnow",
]
