"""Meetings, replies to them, minutes afterwards, and "find a date" polls before them."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    ForeignKey,
    Integer,
    Select,
    String,
    Text,
    UniqueConstraint,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, utcnow
from models.group import (
    GroupMembership,
    GroupRole,
    MembershipStatus,
    WorkingGroup,
    active_member_ids,
)
from models.member import Member, MemberStatus

DEFAULT_REMINDERS = (24 * 60, 60)


class MeetingStatus(enum.StrEnum):
    """A meeting is proposed while its date is being found, then scheduled or cancelled."""

    PROPOSED = "proposed"
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class RsvpAnswer(enum.StrEnum):
    """A member's reply to an invitation."""

    GOING = "going"
    MAYBE = "maybe"
    NOT_GOING = "not_going"


class SlotAnswer(enum.StrEnum):
    """A member's availability for one proposed slot."""

    YES = "yes"
    IF_NEED_BE = "if_need_be"
    NO = "no"


class MinutesAudience(enum.StrEnum):
    """Who receives the minutes of a meeting."""

    ATTENDEES = "attendees"
    GROUP = "group"


class Meeting(Base):
    """One meeting of a working group (or of the whole network when group_id is empty)."""

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(64), unique=True, default=lambda: uuid.uuid4().hex)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("working_groups.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL")
    )
    locale: Mapped[str] = mapped_column(String(8))
    start_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    link: Mapped[str | None] = mapped_column(String(500))
    place: Mapped[str | None] = mapped_column(String(300))
    zone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=MeetingStatus.SCHEDULED)
    reminder_offsets: Mapped[list[int]] = mapped_column(
        JSON, default=lambda: list(DEFAULT_REMINDERS)
    )
    remind_non_responders: Mapped[bool] = mapped_column(Boolean, default=False)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    translations: Mapped[list[MeetingTranslation]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True
    )

    def text(self, locale: str) -> tuple[str, str]:
        """Title and agenda in the member's language, else in the language it was written in."""
        by_locale = {t.locale: t for t in self.translations}
        source = by_locale.get(self.locale) or (
            self.translations[0] if self.translations else None
        )
        chosen = by_locale.get(locale) or source
        if chosen is None or source is None:
            return "", ""
        return chosen.title, chosen.agenda or source.agenda

    @property
    def is_cancelled(self) -> bool:
        return self.status == MeetingStatus.CANCELLED


class MeetingTranslation(Base):
    """A meeting's title and agenda in one language."""

    __tablename__ = "meeting_translations"
    __table_args__ = (UniqueConstraint("meeting_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    agenda: Mapped[str] = mapped_column(Text, default="")


class Rsvp(Base):
    """A member's Going / Maybe / Not going; erased with the member."""

    __tablename__ = "meeting_rsvps"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    answer: Mapped[str] = mapped_column(String(16))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MeetingMinutes(Base):
    """Minutes or outcomes posted after a meeting: text, or a Telegram document or voice note."""

    __tablename__ = "meeting_minutes"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    file_id: Mapped[str | None] = mapped_column(String(200))
    file_name: Mapped[str | None] = mapped_column(String(200))
    audience: Mapped[str] = mapped_column(String(16))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DatePoll(Base):
    """A "find a date" poll for a proposed meeting: members answer each slot."""

    __tablename__ = "date_polls"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), unique=True
    )
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    slots: Mapped[list[DateSlot]] = relationship(
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="DateSlot.start_at",
        passive_deletes=True,
    )


class DateSlot(Base):
    """One proposed start time."""

    __tablename__ = "date_slots"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(
        ForeignKey("date_polls.id", ondelete="CASCADE"), index=True
    )
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DateSlotAnswer(Base):
    """A member's Yes / If need be / No for one slot; erased with the member."""

    __tablename__ = "date_slot_answers"
    __table_args__ = (UniqueConstraint("slot_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("date_slots.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    answer: Mapped[str] = mapped_column(String(16))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- queries -----------------------------------------------------------------------------------


async def get_meeting(session: AsyncSession, meeting_id: int) -> Meeting | None:
    """A meeting by id (callback data carries it)."""
    return await session.get(Meeting, meeting_id)


def audience_ids(meeting: Meeting) -> Select[int]:
    """Active members invited: the group's active members, or everyone for a network meeting."""
    if meeting.group_id is None:
        return select(Member.id).where(Member.status == MemberStatus.ACTIVE)
    return active_member_ids(meeting.group_id)


def reminder_ids(meeting: Meeting) -> Select[int]:
    """Invited members who said Going or Maybe (and those who did not answer, if chosen)."""
    replied = select(Rsvp.id).where(Rsvp.meeting_id == meeting.id, Rsvp.member_id == Member.id)
    coming = replied.where(Rsvp.answer.in_((RsvpAnswer.GOING, RsvpAnswer.MAYBE)))
    condition: ColumnElement[bool] = exists(coming)
    if meeting.remind_non_responders:
        condition = or_(condition, ~exists(replied))
    return audience_ids(meeting).where(condition)


def attendee_ids(meeting: Meeting) -> Select[int]:
    """Invited members who said they were going (the minutes' "attendees")."""
    going = select(Rsvp.id).where(
        Rsvp.meeting_id == meeting.id,
        Rsvp.member_id == Member.id,
        Rsvp.answer == RsvpAnswer.GOING,
    )
    return audience_ids(meeting).where(exists(going))


async def is_invited(session: AsyncSession, meeting: Meeting, member_id: int) -> bool:
    """Whether the member belongs to the meeting's audience now."""
    found = await session.scalar(audience_ids(meeting).where(Member.id == member_id))
    return found is not None


async def count_ids(session: AsyncSession, query: Select[int]) -> int:
    """How many members a query of Member.id selects."""
    return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)


async def get_rsvp(session: AsyncSession, meeting_id: int, member_id: int) -> Rsvp | None:
    """The member's reply to a meeting, if any."""
    return await session.scalar(
        select(Rsvp).where(Rsvp.meeting_id == meeting_id, Rsvp.member_id == member_id)
    )


async def set_rsvp(
    session: AsyncSession, meeting_id: int, member_id: int, answer: str, at: datetime
) -> Rsvp:
    """Record or change a reply."""
    rsvp = await get_rsvp(session, meeting_id, member_id)
    if rsvp is None:
        rsvp = Rsvp(meeting_id=meeting_id, member_id=member_id, answer=answer, answered_at=at)
        session.add(rsvp)
    else:
        rsvp.answer = answer
        rsvp.answered_at = at
    await session.flush()
    return rsvp


async def rsvp_names(session: AsyncSession, meeting: Meeting) -> dict[str, list[str]]:
    """Display names by answer (only names: coordinators never see ids or usernames)."""
    rows = await session.execute(
        select(Rsvp.answer, Member.display_name)
        .join(Member, Member.id == Rsvp.member_id)
        .where(Rsvp.meeting_id == meeting.id, Member.id.in_(audience_ids(meeting)))
        .order_by(Member.display_name)
    )
    names: dict[str, list[str]] = {answer: [] for answer in RsvpAnswer}
    for answer, name in rows:
        names.setdefault(answer, []).append(name)
    return names


async def clear_answers(session: AsyncSession, meeting_id: int, answers: tuple[str, ...]) -> int:
    """Forget replies that no longer make sense (e.g. Not going, after a new time)."""
    rows = list(
        await session.scalars(
            select(Rsvp).where(Rsvp.meeting_id == meeting_id, Rsvp.answer.in_(answers))
        )
    )
    for rsvp in rows:
        await session.delete(rsvp)
    return len(rows)


def visible_meetings(member: Member) -> Select[Meeting]:
    """Meetings whose audience includes the member (their active groups, and network-wide)."""
    groups = select(GroupMembership.group_id).where(
        GroupMembership.member_id == member.id,
        GroupMembership.status == MembershipStatus.ACTIVE,
    )
    return select(Meeting).where(or_(Meeting.group_id.is_(None), Meeting.group_id.in_(groups)))


async def upcoming_for(session: AsyncSession, member: Member, now: datetime) -> list[Meeting]:
    """Scheduled meetings of the member's groups that have not ended yet, soonest first."""
    rows = await session.scalars(
        visible_meetings(member)
        .where(
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.start_at > now - timedelta(days=1),  # no meeting lasts longer
        )
        .order_by(Meeting.start_at)
    )
    return [m for m in rows if m.start_at and end_of(m) > now]


async def open_polls_for(session: AsyncSession, member: Member) -> list[tuple[Meeting, DatePoll]]:
    """Date polls still open in the member's groups."""
    rows = await session.execute(
        visible_meetings(member)
        .add_columns(DatePoll)
        .join(DatePoll, DatePoll.meeting_id == Meeting.id)
        .where(DatePoll.is_open.is_(True), Meeting.status == MeetingStatus.PROPOSED)
        .order_by(DatePoll.created_at)
    )
    return [(meeting, poll) for meeting, poll in rows]


async def managed_meetings(session: AsyncSession, member: Member, now: datetime) -> list[Meeting]:
    """Meetings the member may manage: recent and upcoming ones, date polls included."""
    query = select(Meeting).where(
        Meeting.status != MeetingStatus.CANCELLED,
        or_(Meeting.start_at.is_(None), Meeting.start_at > now - timedelta(days=30)),
    )
    if not member.is_admin:
        query = query.where(Meeting.group_id.in_(coordinated_groups_query(member.id)))
    return list(await session.scalars(query.order_by(Meeting.id.desc())))


def end_of(meeting: Meeting) -> datetime:
    """When the meeting ends."""
    assert meeting.start_at is not None
    return meeting.start_at + timedelta(minutes=meeting.duration_minutes)


def coordinated_groups_query(member_id: int) -> Select[int]:
    """Groups the member coordinates."""
    return select(GroupMembership.group_id).where(
        GroupMembership.member_id == member_id,
        GroupMembership.role == GroupRole.COORDINATOR,
        GroupMembership.status == MembershipStatus.ACTIVE,
    )


async def schedulable_groups(session: AsyncSession, member: Member) -> list[WorkingGroup]:
    """Groups the member may schedule for: coordinated ones, every open group for admins."""
    query = select(WorkingGroup).where(WorkingGroup.archived.is_(False))
    if not member.is_admin:
        query = query.where(WorkingGroup.id.in_(coordinated_groups_query(member.id)))
    return list(await session.scalars(query.order_by(WorkingGroup.code)))


async def get_poll(session: AsyncSession, meeting_id: int) -> DatePoll | None:
    """The date poll of a proposed meeting."""
    return await session.scalar(select(DatePoll).where(DatePoll.meeting_id == meeting_id))


async def meeting_of_poll(session: AsyncSession, poll_id: int) -> Meeting | None:
    """The meeting a date poll belongs to."""
    poll = await session.get(DatePoll, poll_id)
    return await session.get(Meeting, poll.meeting_id) if poll else None


async def get_slot(session: AsyncSession, slot_id: int) -> DateSlot | None:
    """One proposed slot."""
    return await session.get(DateSlot, slot_id)


async def slot_answers_of(session: AsyncSession, poll: DatePoll, member_id: int) -> dict[int, str]:
    """slot id -> the member's answer."""
    rows = await session.execute(
        select(DateSlotAnswer.slot_id, DateSlotAnswer.answer).where(
            DateSlotAnswer.member_id == member_id,
            DateSlotAnswer.slot_id.in_([slot.id for slot in poll.slots]),
        )
    )
    return {slot_id: answer for slot_id, answer in rows}


async def set_slot_answer(
    session: AsyncSession, slot_id: int, member_id: int, answer: str, at: datetime
) -> None:
    """Record or change one availability answer."""
    row = await session.scalar(
        select(DateSlotAnswer).where(
            DateSlotAnswer.slot_id == slot_id, DateSlotAnswer.member_id == member_id
        )
    )
    if row is None:
        session.add(
            DateSlotAnswer(slot_id=slot_id, member_id=member_id, answer=answer, answered_at=at)
        )
    else:
        row.answer = answer
        row.answered_at = at
    await session.flush()


@dataclass
class SlotTally:
    """How one slot fared: counts and the names of those who can come."""

    slot: DateSlot
    yes: list[str]
    if_need_be: list[str]
    no: list[str]

    @property
    def score(self) -> tuple[int, int, int, float]:
        """More who can come first, then more firm yeses, fewer noes, then the earlier slot."""
        return (
            len(self.yes) + len(self.if_need_be),
            len(self.yes),
            -len(self.no),
            -self.slot.start_at.timestamp(),
        )


async def poll_tallies(session: AsyncSession, meeting: Meeting, poll: DatePoll) -> list[SlotTally]:
    """Every slot's answers from members still invited, best slot first."""
    tallies = {slot.id: SlotTally(slot, [], [], []) for slot in poll.slots}
    rows = await session.execute(
        select(DateSlotAnswer.slot_id, DateSlotAnswer.answer, Member.display_name)
        .join(Member, Member.id == DateSlotAnswer.member_id)
        .where(
            DateSlotAnswer.slot_id.in_(list(tallies)),
            Member.id.in_(audience_ids(meeting)),
        )
        .order_by(Member.display_name)
    )
    for slot_id, answer, name in rows:
        buckets: dict[str, str] = {SlotAnswer.YES: "yes", SlotAnswer.IF_NEED_BE: "if_need_be"}
        bucket = buckets.get(answer, "no")
        getattr(tallies[slot_id], bucket).append(name)
    return sorted(tallies.values(), key=lambda t: t.score, reverse=True)


async def poll_respondents(session: AsyncSession, poll: DatePoll) -> int:
    """How many members answered at least one slot."""
    return int(
        await session.scalar(
            select(func.count(func.distinct(DateSlotAnswer.member_id))).where(
                DateSlotAnswer.slot_id.in_([slot.id for slot in poll.slots])
            )
        )
        or 0
    )


async def export_meetings(session: AsyncSession, member: Member) -> dict[str, Any]:
    """The member's replies and availability answers, for /mydata."""
    member_id = member.id
    rsvps = await session.execute(
        select(Rsvp, Meeting)
        .join(Meeting, Meeting.id == Rsvp.meeting_id)
        .where(Rsvp.member_id == member_id)
        .order_by(Rsvp.answered_at)
    )
    slots = await session.execute(
        select(DateSlotAnswer, DateSlot, DatePoll, Meeting)
        .join(DateSlot, DateSlot.id == DateSlotAnswer.slot_id)
        .join(DatePoll, DatePoll.id == DateSlot.poll_id)
        .join(Meeting, Meeting.id == DatePoll.meeting_id)
        .where(DateSlotAnswer.member_id == member_id)
        .order_by(DateSlot.start_at)
    )
    return {
        "meeting_replies": [
            {
                "meeting": meeting.text(meeting.locale)[0],
                "start": meeting.start_at.isoformat() if meeting.start_at else None,
                "answer": rsvp.answer,
                "answered_at": rsvp.answered_at.isoformat(),
            }
            for rsvp, meeting in rsvps
        ],
        "date_poll_answers": [
            {
                "meeting": meeting.text(meeting.locale)[0],
                "slot": slot.start_at.isoformat(),
                "answer": answer.answer,
                "answered_at": answer.answered_at.isoformat(),
            }
            for answer, slot, _poll, meeting in slots
        ],
        "meetings_created": [
            {
                "meeting": meeting.text(meeting.locale)[0],
                "start": meeting.start_at.isoformat() if meeting.start_at else None,
                "status": meeting.status,
            }
            for meeting in await session.scalars(
                select(Meeting).where(Meeting.created_by_id == member_id).order_by(Meeting.id)
            )
        ],
    }
