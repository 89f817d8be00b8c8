"""Consultations: polls, their options and translations, and the votes, kept secret or named."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    and_,
    exists,
    false,
    func,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship
from sqlalchemy.sql import Select

from models.base import Base, UTCDateTime, kept, utcnow
from models.group import GroupMembership, MembershipStatus
from models.member import Member, MemberStatus


class PollKind(enum.StrEnum):
    """What kind of answer a poll asks for."""

    SINGLE = "single"
    MULTIPLE = "multiple"
    SCALE = "scale"
    CONSENT = "consent"


class Audience(enum.StrEnum):
    """Who a poll is for."""

    GROUPS = "groups"
    NETWORK = "network"
    REGION = "region"


class PollStatus(enum.StrEnum):
    """A poll is open from the moment it is sent until it closes, once."""

    OPEN = "open"
    CLOSED = "closed"


SCALE_POINTS = 5
CONSENT_CODES = ("agree", "abstain", "disagree", "block")
BLOCK = CONSENT_CODES.index("block")
DISAGREE = CONSENT_CODES.index("disagree")


def new_token() -> str:
    """A random identifier with no order in it (secret ballots and their comments use it)."""
    return uuid.uuid4().hex


class Poll(Base):
    """A consultation: one question asked of an audience until a closing time."""

    __tablename__ = "polls"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    locale: Mapped[str] = mapped_column(String(8))
    question: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    anonymous: Mapped[bool] = mapped_column(Boolean)
    audience: Mapped[str] = mapped_column(String(16))
    region: Mapped[str | None] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default=PollStatus.OPEN, index=True)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    results_live: Mapped[bool] = mapped_column(Boolean, default=False)
    share_results: Mapped[bool] = mapped_column(Boolean, default=True)
    voice_file_id: Mapped[str | None] = mapped_column(String(255))
    # Consent polls of a consensus round also ask a disagreement for its reason.
    reason_on_disagree: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Secret ballots: the breakdowns frozen (already suppressed) when the ballots are sealed.
    results: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    options: Mapped[list[PollOption]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="PollOption.position"
    )
    translations: Mapped[list[PollTranslation]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    groups: Mapped[list[PollGroup]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def is_open(self) -> bool:
        return self.status == PollStatus.OPEN

    @property
    def group_ids(self) -> list[int]:
        return [link.group_id for link in self.groups]

    @property
    def option_count(self) -> int:
        """How many answers there are to choose from."""
        if self.kind == PollKind.SCALE:
            return SCALE_POINTS
        if self.kind == PollKind.CONSENT:
            return len(CONSENT_CODES)
        return len(self.options)

    def has_version(self, locale: str) -> bool:
        """Whether the question was written in, or translated into, this language."""
        return locale == self.locale or any(v.locale == locale for v in self.translations)

    def text(self, locale: str) -> tuple[str, list[str]]:
        """Question and option labels in `locale` when a version exists, else as written."""
        for version in self.translations:
            if version.locale == locale:
                return version.question, list(version.options or [])
        return self.question, [option.label for option in self.options]


class PollGroup(Base):
    """A working group whose active members are (part of) a poll's audience."""

    __tablename__ = "poll_groups"

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("working_groups.id", ondelete="CASCADE"), primary_key=True
    )


class PollOption(Base):
    """One answer of a single- or multiple-choice poll, in the language it was written in."""

    __tablename__ = "poll_options"
    __table_args__ = (UniqueConstraint("poll_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(64))


class PollTranslation(Base):
    """The question and option labels in another language."""

    __tablename__ = "poll_translations"
    __table_args__ = (UniqueConstraint("poll_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(8))
    question: Mapped[str] = mapped_column(Text)
    options: Mapped[list[str]] = mapped_column(JSON, default=list)


class Participation(Base):
    """Only THAT a member answered a poll: stops double votes, tells reminders whom to skip.

    No time and no sequence number: nothing to line up against the order of secret ballots.
    """

    __tablename__ = "poll_participations"
    __table_args__ = ({"sqlite_with_rowid": False},)

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class NamedVote(Base):
    """A member's answer to a named poll; they may change it until the close."""

    __tablename__ = "poll_named_votes"
    __table_args__ = (
        UniqueConstraint("poll_id", "member_id"),
        Index("ix_poll_named_votes_tally", "poll_id", "choices", "region", "gender"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    choices: Mapped[int] = mapped_column(Integer)  # bit i set: option i chosen
    region: Mapped[str | None] = mapped_column(String(3))
    gender: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    reason_voice_file_id: Mapped[str | None] = mapped_column(String(255))
    # The reason in other languages, kept with it: {"en": "..."} (never the writer's locale)
    reason_versions: Mapped[dict[str, str] | None] = mapped_column(JSON)
    voted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AnonymousBallot(Base):
    """A secret ballot: the answer and coarse attributes for breakdowns, nothing else.

    No member, no time, a random key, and (on SQLite) no hidden rowid, so neither a column
    nor the storage order can tie it to a participation. Closing a poll re-seals its ballots.
    """

    __tablename__ = "poll_ballots"
    __table_args__ = (
        Index("ix_poll_ballots_tally", "poll_id", "choices", "region", "gender"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_token)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    choices: Mapped[int] = mapped_column(Integer)
    region: Mapped[str | None] = mapped_column(String(3))
    gender: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    reason_voice_file_id: Mapped[str | None] = mapped_column(String(255))
    # The reason in other languages, kept with it: {"en": "..."} (never the writer's locale)
    reason_versions: Mapped[dict[str, str] | None] = mapped_column(JSON)


class PendingBallot(Base):
    """A secret ballot waiting in the pool until enough others join it (or the poll closes).

    Written in the vote's own transaction (a crash loses no vote), so it shares the vote's
    transaction id with the participation: its whole content is therefore sealed (AES-GCM
    under a key derived from the server's privacy key, bound to the poll, padded to one size;
    see bot.polls.ballot_box). A random key, no member, no time, no rowid. Opened and moved to
    `poll_ballots` in shuffled batches of at least POOL_BATCH, in another transaction, so the
    ballot box never holds one voter's ballot alone.
    """

    __tablename__ = "poll_pending_ballots"
    __table_args__ = (
        Index("ix_poll_pending_ballots_poll_id", "poll_id"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_token)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class VoterToken(Base):
    """A keyed one-way token (HMAC of the poll and the Telegram id) saying someone voted.

    It survives /forget, so erasing oneself does not give a second vote, and it cannot be
    turned back into a member without the server's key; it says nothing about the ballot.
    """

    __tablename__ = "poll_voter_tokens"
    __table_args__ = ({"sqlite_with_rowid": False},)

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(String(64), primary_key=True)


class CommentCount(Base):
    """How many comments someone left on a poll, under a keyed one-way token of the poll and
    their Telegram id (bounds comments on secret polls without naming their author)."""

    __tablename__ = "poll_comment_counts"
    __table_args__ = ({"sqlite_with_rowid": False},)

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class PollComment(Base):
    """A comment on a named poll, text or voice."""

    __tablename__ = "poll_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str | None] = mapped_column(Text)
    voice_file_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AnonymousComment(Base):
    """A comment on a secret-ballot poll: like the ballot, nothing ties it to its author."""

    __tablename__ = "poll_anonymous_comments"
    __table_args__ = (
        Index("ix_poll_anonymous_comments_poll_id", "poll_id"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_token)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    text: Mapped[str | None] = mapped_column(Text)
    voice_file_id: Mapped[str | None] = mapped_column(String(255))


class PendingComment(Base):
    """A comment on an open secret poll, sealed like a pending ballot: its transaction also
    writes the author's keyed comment counter, so nothing readable may share it. Opened for
    coordinators while the poll is open; enters `poll_anonymous_comments` at the close."""

    __tablename__ = "poll_pending_comments"
    __table_args__ = (
        Index("ix_poll_pending_comments_poll_id", "poll_id"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_token)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


# --- queries -----------------------------------------------------------------------------------


def audience_filter(poll: Poll) -> Any:
    """SQL condition on Member selecting the poll's audience (active members only)."""
    active = Member.status == MemberStatus.ACTIVE
    if poll.audience == Audience.NETWORK:
        return active
    if poll.audience == Audience.REGION:
        return and_(active, Member.region == poll.region)
    in_groups = exists().where(
        GroupMembership.member_id == Member.id,
        GroupMembership.group_id.in_(poll.group_ids),
        GroupMembership.status == MembershipStatus.ACTIVE,
    )
    return and_(active, in_groups)


def audience_ids(poll: Poll) -> Select[Any]:
    """SELECT of the ids of every member the poll is for."""
    return select(Member.id).where(audience_filter(poll))


def not_answered_ids(poll: Poll) -> Select[Any]:
    """SELECT of the audience members who have not answered yet (reminders go to them)."""
    answered = exists().where(
        Participation.poll_id == poll.id, Participation.member_id == Member.id
    )
    return select(Member.id).where(audience_filter(poll), ~answered)


async def audience_count(session: AsyncSession, poll: Poll) -> int:
    """How many members the poll reaches now (a draft's too: the preview shows it)."""
    found = await session.scalar(
        select(func.count()).select_from(Member).where(audience_filter(poll))
    )
    return int(found or 0)


async def in_audience(session: AsyncSession, poll: Poll, member_id: int) -> bool:
    """Whether the poll is meant for this member (now)."""
    found = await session.scalar(
        select(Member.id).where(Member.id == member_id, audience_filter(poll))
    )
    return found is not None


async def member_in_audience(session: AsyncSession, poll: Poll, member: Member) -> bool:
    """As in_audience, for a member loaded in this transaction: the network's and a region's
    audiences are read off the member's row, only working groups need the database."""
    if poll.audience == Audience.NETWORK:
        return member.status == MemberStatus.ACTIVE
    if poll.audience == Audience.REGION:
        return member.status == MemberStatus.ACTIVE and member.region == poll.region
    return await in_audience(session, poll, member.id)


async def add_participation(session: AsyncSession, poll_id: int, member_id: int) -> bool:
    """Note that the member answered, if the poll is still open: False when it is not, or
    when they already had answered. One statement, which also holds the poll until commit:
    a close at the same moment waits for this answer (and counts it), or this one sees the
    poll closed. (SQLite: the INSERT waits for the writer, then reads the latest commit;
    PostgreSQL: FOR SHARE waits for a close in progress and reads its outcome.)"""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = Participation.__table__
    polls = Poll.__table__
    still_open = (
        select(polls.c.id)
        .where(polls.c.id == poll_id, polls.c.status == PollStatus.OPEN)
        .with_for_update(read=True)
    )
    row = select(literal(poll_id), literal(member_id)).where(exists(still_open))
    statement = (
        dialect.insert(table)
        .from_select(["poll_id", "member_id"], row)
        .on_conflict_do_nothing()
        .returning(table.c.poll_id)
    )
    return (await session.execute(statement)).first() is not None


async def has_participated(session: AsyncSession, poll_id: int, member_id: int) -> bool:
    """Whether the member already answered."""
    found = await session.get(Participation, (poll_id, member_id))
    return found is not None


async def get_poll(session: AsyncSession, poll_id: int) -> Poll | None:
    """A poll by id, with its options, versions and groups (one statement)."""
    return await session.get(
        Poll,
        poll_id,
        options=[
            joinedload(Poll.options),
            joinedload(Poll.translations),
            joinedload(Poll.groups),
        ],
    )


async def named_vote(session: AsyncSession, poll_id: int, member_id: int) -> NamedVote | None:
    """The member's current answer to a named poll (from memory if this update cast it)."""
    for vote in kept(session, NamedVote):
        if vote.poll_id == poll_id and vote.member_id == member_id:
            return vote
    return await session.scalar(
        select(NamedVote).where(NamedVote.poll_id == poll_id, NamedVote.member_id == member_id)
    )


async def open_polls_for(session: AsyncSession, member: Member) -> list[Poll]:
    """Open polls meant for the member, soonest closing first."""
    polls = await session.scalars(
        select(Poll).where(Poll.status == PollStatus.OPEN).order_by(Poll.closes_at, Poll.id)
    )
    found = []
    for poll in polls:
        if await in_audience(session, poll, member.id):
            found.append(poll)
    return found


async def answered_poll_ids(session: AsyncSession, member_id: int) -> set[int]:
    """Ids of the polls the member has answered."""
    rows = await session.scalars(
        select(Participation.poll_id).where(Participation.member_id == member_id)
    )
    return set(rows)


async def participations_of(session: AsyncSession, member_id: int) -> list[Poll]:
    """Polls the member answered (for /mydata)."""
    rows = await session.scalars(
        select(Poll)
        .join(Participation, Participation.poll_id == Poll.id)
        .where(Participation.member_id == member_id)
        .order_by(Poll.id)
    )
    return list(rows)


async def named_votes_of(session: AsyncSession, member_id: int) -> list[NamedVote]:
    """The member's named answers (for /mydata)."""
    rows = await session.scalars(
        select(NamedVote).where(NamedVote.member_id == member_id).order_by(NamedVote.poll_id)
    )
    return list(rows)


async def comments_of(session: AsyncSession, member_id: int) -> list[PollComment]:
    """The member's comments on named polls (for /mydata)."""
    rows = await session.scalars(
        select(PollComment).where(PollComment.member_id == member_id).order_by(PollComment.id)
    )
    return list(rows)


def option_codes(poll: Poll) -> list[str]:
    """Language-neutral names of the options (for exports)."""
    if poll.kind == PollKind.CONSENT:
        return list(CONSENT_CODES)
    if poll.kind == PollKind.SCALE:
        return [str(point) for point in range(1, SCALE_POINTS + 1)]
    return [option.label for option in poll.options]


async def poll_records(session: AsyncSession, member: Member) -> dict[str, Any]:
    """What the consultations hold about one member, for /mydata (never a secret ballot:
    nothing links those to anyone)."""
    member_id = member.id
    polls: dict[int, Poll] = {}

    async def poll_of(poll_id: int) -> Poll | None:
        if poll_id not in polls:
            found = await session.get(Poll, poll_id)
            if found is None:
                return None
            polls[poll_id] = found
        return polls[poll_id]

    votes = []
    for vote in await named_votes_of(session, member_id):
        poll = await poll_of(vote.poll_id)
        codes = option_codes(poll) if poll else []
        votes.append(
            {
                "poll": vote.poll_id,
                "answer": [code for i, code in enumerate(codes) if vote.choices >> i & 1],
                "reason": vote.reason,
                "reason_voice_note": vote.reason_voice_file_id is not None,
                "voted_at": vote.voted_at.isoformat(),
            }
        )
    comments = [
        {
            "poll": comment.poll_id,
            "text": comment.text,
            "voice_note": comment.voice_file_id is not None,
            "created_at": comment.created_at.isoformat(),
        }
        for comment in await comments_of(session, member_id)
    ]
    created = await session.scalars(
        select(Poll).where(Poll.created_by_member_id == member_id).order_by(Poll.id)
    )
    answered = [
        {"poll": poll.id, "question": poll.question}
        for poll in await participations_of(session, member_id)
    ]
    return {
        "consultations": {
            "answered": answered,
            "named_answers": votes,
            "comments": comments,
            "created": [{"poll": poll.id, "question": poll.question} for poll in created],
        }
    }
