"""ORM models and the small named queries beside them; importing this registers every table."""

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
    WorkingGroup,
)
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
    NamedVote,
    Participation,
    Poll,
    PollComment,
    PollGroup,
    PollOption,
    PollTranslation,
)
from models.solidarity import CaseEvent, CaseResponse, CaseSignature, SolidarityCase

__all__ = [
    "AnonymousBallot",
    "AnonymousComment",
    "Base",
    "Broadcast",
    "CaseEvent",
    "CaseResponse",
    "CaseSignature",
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
    "Job",
    "Meeting",
    "MeetingMinutes",
    "MeetingTranslation",
    "Member",
    "MemberStatus",
    "NamedVote",
    "Outcome",
    "Participation",
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
    "Role",
    "Round",
    "Rsvp",
    "SolidarityCase",
    "UTCDateTime",
    "WorkingGroup",
    "utcnow",
]
