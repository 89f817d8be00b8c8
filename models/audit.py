"""The audit trail: who did what, on what, when, for every coordinator's and admin's action.

The person who acted and the person acted on are links to `members`; `/forget` deletes the
member and the database sets those links to NULL (ON DELETE SET NULL), so the record stays
and reads "a former member". Nothing else personal is kept: `detail` holds a code (a group's
code, a chat's id is never stored) or nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, Select, String, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow
from models.member import Member


class AuditAction(enum.StrEnum):
    """Every action the trail records."""

    MEMBER_APPROVED = "member_approved"
    MEMBER_DECLINED = "member_declined"
    JOIN_APPROVED = "join_approved"
    JOIN_DECLINED = "join_declined"
    MEMBER_REMOVED = "member_removed"
    COORDINATOR_APPOINTED = "coordinator_appointed"
    COORDINATOR_DISMISSED = "coordinator_dismissed"
    GROUP_CREATED = "group_created"
    GROUP_ARCHIVED = "group_archived"
    GROUP_RESTORED = "group_restored"
    CHAT_LINKED = "chat_linked"
    CHAT_UNLINKED = "chat_unlinked"
    ANNOUNCEMENT_SENT = "announcement_sent"
    POLL_CREATED = "poll_created"
    POLL_CLOSED = "poll_closed"
    RESULTS_EXPORTED = "results_exported"
    MEETING_SCHEDULED = "meeting_scheduled"
    MEETING_CANCELLED = "meeting_cancelled"


class AuditEntry(Base):
    """One action: its time, the actor, the action, and what it was done to."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_group_at", "group_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(32))
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("working_groups.id", ondelete="SET NULL")
    )
    subject_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    object_kind: Mapped[str | None] = mapped_column(String(16))  # poll, meeting, broadcast
    object_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(String(64))


async def record(
    session: AsyncSession,
    actor: Member,
    action: AuditAction,
    *,
    group_id: int | None = None,
    subject: Member | None = None,
    object_kind: str | None = None,
    object_id: int | None = None,
    detail: str | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Add an entry in the caller's transaction: it commits with the action, or not at all."""
    entry = AuditEntry(
        at=at or utcnow(),
        actor_member_id=actor.id,
        action=action.value,
        group_id=group_id,
        subject_member_id=subject.id if subject is not None else None,
        object_kind=object_kind,
        object_id=object_id,
        detail=detail[:64] if detail else None,
    )
    session.add(entry)
    return entry


@dataclass(frozen=True)
class AuditFilter:
    """Which entries a reader asked for, within what they may see (`groups`: None = all)."""

    groups: Collection[int] | None = None
    group_id: int | None = None
    person_id: int | None = None


async def audit_page(
    session: AsyncSession, flt: AuditFilter, *, offset: int, limit: int
) -> tuple[list[AuditEntry], bool]:
    """Entries newest first, and whether older ones follow."""
    query = _filtered(flt).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    rows = list(await session.scalars(query.offset(offset).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


async def audit_entries(session: AsyncSession, flt: AuditFilter, limit: int) -> list[AuditEntry]:
    """Entries oldest first (for the CSV export), at most `limit`."""
    query = _filtered(flt).order_by(AuditEntry.at, AuditEntry.id).limit(limit)
    return list(await session.scalars(query))


def _filtered(flt: AuditFilter) -> Select[AuditEntry]:
    query = select(AuditEntry)
    if flt.groups is not None:
        query = query.where(AuditEntry.group_id.in_(list(flt.groups)))
    if flt.group_id is not None:
        query = query.where(AuditEntry.group_id == flt.group_id)
    if flt.person_id is not None:
        query = query.where(
            or_(
                AuditEntry.actor_member_id == flt.person_id,
                AuditEntry.subject_member_id == flt.person_id,
            )
        )
    return query


async def audit_people(session: AsyncSession, flt: AuditFilter, limit: int) -> list[Member]:
    """Members who acted or were acted on in the entries the reader may see, by name."""
    actors = _filtered(flt).with_only_columns(AuditEntry.actor_member_id)
    subjects = _filtered(flt).with_only_columns(AuditEntry.subject_member_id)
    rows = await session.scalars(
        select(Member)
        .where(
            or_(Member.id.in_(actors.scalar_subquery()), Member.id.in_(subjects.scalar_subquery()))
        )
        .order_by(Member.display_name, Member.id)
        .limit(limit)
    )
    return list(rows)


async def audit_of_member(session: AsyncSession, member_id: int) -> list[AuditEntry]:
    """Entries where the member acted or was acted on (for /mydata)."""
    rows = await session.scalars(
        select(AuditEntry)
        .where(
            or_(AuditEntry.actor_member_id == member_id, AuditEntry.subject_member_id == member_id)
        )
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    return list(rows)


async def prune_audit(session: AsyncSession, before: datetime) -> int:
    """Erase entries older than the retention period; returns how many."""
    result = await session.execute(delete(AuditEntry).where(AuditEntry.at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def record_for_groups(
    session: AsyncSession,
    actor: Member,
    action: AuditAction,
    group_ids: Collection[int],
    **what: object,
) -> None:
    """One entry per group (each group's coordinators see theirs), or one network-wide."""
    targets: list[int | None] = [*group_ids] or [None]
    for group_id in targets:
        await record(session, actor, action, group_id=group_id, **what)  # type: ignore[arg-type]
