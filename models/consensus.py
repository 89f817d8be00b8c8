"""Decisions by consensus: a proposal, its rounds (each one a consent poll), and the outcome."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import Select

from models.base import Base, UTCDateTime, utcnow
from models.poll import Participation, new_token

DEFAULT_QUORUM = 50  # per cent of the audience that must take part


class Outcome(enum.StrEnum):
    """Where a proposal stands: open while rounds go on, then decided once."""

    OPEN = "open"
    ADOPTED = "adopted"  # by consensus: no block, no disagreement
    STAND_ASIDES = "adopted_stand_asides"  # no block; some disagreed and stood aside
    NOT_ADOPTED = "not_adopted"
    WITHDRAWN = "withdrawn"


class Proposal(Base):
    """A proposal put to a working group (or, by an admin, the network) for consent."""

    __tablename__ = "consensus_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("working_groups.id", ondelete="CASCADE"), index=True
    )
    created_by_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    locale: Mapped[str] = mapped_column(String(8))
    quorum: Mapped[int] = mapped_column(Integer, default=DEFAULT_QUORUM)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(24), default=Outcome.OPEN, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    rounds: Mapped[list[Round]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="Round.number"
    )

    @property
    def is_open(self) -> bool:
        return self.status == Outcome.OPEN

    @property
    def last_round(self) -> Round:
        return self.rounds[-1]

    def title(self, locale: str) -> str:
        """The title of the latest round in `locale` when a version exists."""
        return self.last_round.version(locale)[0]


class Round(Base):
    """One round: the text put to consent, its poll, and what it showed at its close."""

    __tablename__ = "consensus_rounds"
    __table_args__ = (UniqueConstraint("proposal_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("consensus_proposals.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    poll_id: Mapped[int | None] = mapped_column(
        ForeignKey("polls.id", ondelete="SET NULL"), unique=True
    )
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    # Versions in other languages: {"es": {"title": ..., "text": ...}}
    versions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A voice note or a document sent with the text (a Telegram file id) and which of the two.
    attachment: Mapped[str | None] = mapped_column(String(255))
    attachment_kind: Mapped[str | None] = mapped_column(String(16))
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Frozen at the close: counts, audience, quorum met, and the objections (no member ids).
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    def version(self, locale: str) -> tuple[str, str]:
        """Title and text in `locale` when a version exists, else as written."""
        found = (self.versions or {}).get(locale)
        if found:
            return str(found["title"]), str(found["text"])
        return self.title, self.text


# --- queries -----------------------------------------------------------------------------------


async def get_proposal(session: AsyncSession, proposal_id: int) -> Proposal | None:
    """A proposal with its rounds."""
    return await session.get(Proposal, proposal_id)


async def get_round(session: AsyncSession, round_id: int) -> Round | None:
    """A round by id."""
    return await session.get(Round, round_id)


async def decisions_of(
    session: AsyncSession, group_id: int | None, limit: int = 20
) -> list[Proposal]:
    """A group's (or the network's) decided proposals, newest first."""
    where = Proposal.group_id.is_(None) if group_id is None else Proposal.group_id == group_id
    rows = await session.scalars(
        select(Proposal)
        .where(where, Proposal.status != Outcome.OPEN)
        .order_by(Proposal.decided_at.desc(), Proposal.id.desc())
        .limit(limit)
    )
    return list(rows)


def participant_ids(proposal: Proposal) -> Select[Any]:
    """SELECT of the members who answered any of the proposal's rounds."""
    polls = [r.poll_id for r in proposal.rounds if r.poll_id is not None]
    return select(Participation.member_id).where(Participation.poll_id.in_(polls)).distinct()


# --- priorities ----------------------------------------------------------------------------------


class PriorityMode(enum.StrEnum):
    """How members say what matters: their top 3 in order, or 5 points spread by taps."""

    RANK = "rank"
    POINTS = "points"


PICKS = {PriorityMode.RANK: 3, PriorityMode.POINTS: 5}
WEIGHTS = {PriorityMode.RANK: (3, 2, 1), PriorityMode.POINTS: (1, 1, 1, 1, 1)}


class Priorities(Base):
    """A priorities consultation: up to 12 possible collective actions to rank."""

    __tablename__ = "priority_consultations"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("working_groups.id", ondelete="CASCADE"), index=True
    )
    created_by_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    locale: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    options: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The question and actions in other languages: {"es": {"title": ..., "options": [...]}}
    versions: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    mode: Mapped[str] = mapped_column(String(16), default=PriorityMode.RANK)
    # Secret (the default): no ballot names anyone. Named: the coordinator sees who ranked what.
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Frozen (already protected) at the close, when the ballots lose region and gender.
    results: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def text(self, locale: str) -> tuple[str, list[str]]:
        """The question and the actions in `locale` when a version exists, else as written."""
        found = (self.versions or {}).get(locale)
        if found:
            return str(found["title"]), [str(o) for o in found["options"]]
        return self.title, list(self.options)

    @property
    def picks(self) -> int:
        return PICKS[PriorityMode(self.mode)]

    @property
    def weights(self) -> tuple[int, ...]:
        return WEIGHTS[PriorityMode(self.mode)]


class PriorityParticipation(Base):
    """Only THAT a member answered: no time, no order, nothing tying them to a ballot."""

    __tablename__ = "priority_participations"
    __table_args__ = ({"sqlite_with_rowid": False},)

    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("priority_consultations.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class PriorityBallot(Base):
    """A secret ranking: the options picked in order (points: sorted), region and gender."""

    __tablename__ = "priority_ballots"
    __table_args__ = (
        Index(
            "ix_priority_ballots_tally",
            "consultation_id",
            "region",
            "gender",
            "p1",
            "p2",
            "p3",
            "p4",
            "p5",
        ),
        # One per later pick, so that each position's GROUP BY walks an index in order.
        *(
            Index(f"ix_priority_ballots_{name}", "consultation_id", "region", "gender", name)
            for name in ("p2", "p3", "p4", "p5")
        ),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_token)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("priority_consultations.id", ondelete="CASCADE")
    )
    p1: Mapped[int | None] = mapped_column(SmallInteger)
    p2: Mapped[int | None] = mapped_column(SmallInteger)
    p3: Mapped[int | None] = mapped_column(SmallInteger)
    p4: Mapped[int | None] = mapped_column(SmallInteger)
    p5: Mapped[int | None] = mapped_column(SmallInteger)
    region: Mapped[str | None] = mapped_column(String(3))
    gender: Mapped[str | None] = mapped_column(String(16))
    # Only on a named consultation: whose ranking it is (always None on a secret one).
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )


async def get_priorities(session: AsyncSession, consultation_id: int) -> Priorities | None:
    """A priorities consultation by id."""
    return await session.get(Priorities, consultation_id)


async def has_ranked(session: AsyncSession, consultation_id: int, member_id: int) -> bool:
    """Whether the member already answered."""
    return await session.get(PriorityParticipation, (consultation_id, member_id)) is not None


# --- questionnaires (the annual evaluation) ------------------------------------------------


class QuestionKind(enum.StrEnum):
    """What kind of answer a question of a questionnaire takes."""

    SINGLE = "single"
    MULTIPLE = "multiple"
    SCALE = "scale"
    TEXT = "text"


class Questionnaire(Base):
    """Several questions in one consultation, answered one at a time; secret or named."""

    __tablename__ = "questionnaires"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("working_groups.id", ondelete="CASCADE"), index=True
    )
    created_by_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    locale: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    # [{"kind": "scale", "text": "...", "options": [...]}]
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The title and questions in other languages (same questions, same answers, in order):
    # {"es": {"title": ..., "questions": [{"text": ..., "options": [...]}, ...]}}
    versions: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Secret questionnaires: each question's protected tally, frozen when the answers lose
    # their region and gender at the close.
    results: Mapped[list[Any] | None] = mapped_column(JSON)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def in_language(self, locale: str) -> Questionnaire:
        """As a reader of `locale` sees it: a copy (never stored) with the title and the
        questions of that version, or itself as written when there is none. The copy's
        `locale` is the version's, so `locale != shown.locale` means "shown as written"."""
        found = (self.versions or {}).get(locale)
        if not found or locale == self.locale:
            return self
        if len(found.get("questions") or []) != len(self.questions):
            return self  # never stored so (checked in the builder): read as written
        questions = [
            {**q, "text": str(v["text"]), "options": [str(o) for o in v.get("options") or []]}
            for q, v in zip(self.questions, found["questions"], strict=True)
        ]
        return Questionnaire(
            id=self.id,
            group_id=self.group_id,
            created_by_member_id=self.created_by_member_id,
            locale=locale,
            title=str(found["title"]),
            questions=questions,
            versions=self.versions,
            anonymous=self.anonymous,
            closes_at=self.closes_at,
            closed_at=self.closed_at,
            created_at=self.created_at,
            results=self.results,
        )


class QuestionnaireProgress(Base):
    """Where a member is in a questionnaire and their answers so far (kept across restarts);
    once sent only the fact that they answered stays."""

    __tablename__ = "questionnaire_progress"

    questionnaire_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaires.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sent: Mapped[bool] = mapped_column(Boolean, default=False)


class QuestionnaireAnswer(Base):
    """One answer to one question. Secret: no member, a random key, no rowid — nothing ties
    a respondent's answers together. Named: the member."""

    __tablename__ = "questionnaire_answers"
    __table_args__ = (
        Index(
            "ix_questionnaire_answers_tally",
            "questionnaire_id",
            "question",
            "choices",
            "region",
            "gender",
        ),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_token)
    questionnaire_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaires.id", ondelete="CASCADE")
    )
    question: Mapped[int] = mapped_column(SmallInteger)
    choices: Mapped[int | None] = mapped_column(Integer)  # bit i: option i (scale: point i+1)
    text: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(String(3))
    gender: Mapped[str | None] = mapped_column(String(16))
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )


async def get_questionnaire(session: AsyncSession, questionnaire_id: int) -> Questionnaire | None:
    return await session.get(Questionnaire, questionnaire_id)


async def consensus_records(session: AsyncSession, member: Any) -> dict[str, Any]:
    """What decisions, priorities and questionnaires hold about a member, for /mydata (never
    a secret ranking or a secret answer: nothing links those to anyone)."""
    rows = await session.scalars(
        select(Proposal).where(Proposal.created_by_member_id == member.id).order_by(Proposal.id)
    )
    proposals = [
        {"proposal": p.id, "title": p.last_round.title, "outcome": p.status}
        for p in rows
        if p.rounds
    ]
    ranked = await session.scalars(
        select(PriorityParticipation.consultation_id).where(
            PriorityParticipation.member_id == member.id
        )
    )
    rankings = await session.scalars(
        select(PriorityBallot)
        .where(PriorityBallot.member_id == member.id)
        .order_by(PriorityBallot.consultation_id)
    )
    progress = await session.scalars(
        select(QuestionnaireProgress).where(QuestionnaireProgress.member_id == member.id)
    )
    named = await session.execute(
        select(
            QuestionnaireAnswer.questionnaire_id,
            QuestionnaireAnswer.question,
            QuestionnaireAnswer.choices,
            QuestionnaireAnswer.text,
        )
        .where(QuestionnaireAnswer.member_id == member.id)
        .order_by(QuestionnaireAnswer.questionnaire_id, QuestionnaireAnswer.question)
    )
    return {
        "proposals": proposals,
        "priorities_answered": sorted(ranked),
        "priorities_named_rankings": [
            {
                "consultation": b.consultation_id,
                "picks": [p + 1 for p in (b.p1, b.p2, b.p3, b.p4, b.p5) if p is not None],
            }
            for b in rankings
        ],
        "questionnaires": [
            {
                "questionnaire": p.questionnaire_id,
                "sent": p.sent,
                "answers_not_yet_sent": p.answers,
            }
            for p in progress
        ],
        "questionnaire_named_answers": [
            {"questionnaire": q, "question": n + 1, "choices": c, "text": t}
            for q, n, c, t in named.all()
        ],
    }
