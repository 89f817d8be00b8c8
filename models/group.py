"""Working groups and who belongs to them: the audiences of announcements, polls and meetings."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, utcnow


class GroupRole(enum.StrEnum):
    """A member's role inside one working group."""

    MEMBER = "member"
    COORDINATOR = "coordinator"


class MembershipStatus(enum.StrEnum):
    """Moderated groups hold requests until a coordinator decides."""

    PENDING = "pending"
    ACTIVE = "active"


class WorkingGroup(Base):
    """A working group of the network (Women and ESCR, Strategic Litigation, ...)."""

    __tablename__ = "working_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    moderated: Mapped[bool] = mapped_column(Boolean, default=False)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    translations: Mapped[list[GroupTranslation]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    def text(self, locale: str, default_locale: str) -> tuple[str, str, bool]:
        """Name, description and whether it fell back to the default language."""
        by_locale = {t.locale: t for t in self.translations}
        chosen = by_locale.get(locale) or by_locale.get(default_locale)
        if chosen is None and self.translations:
            chosen = self.translations[0]
        if chosen is None:
            return self.code, "", True
        return chosen.name, chosen.description, chosen.locale != locale


class GroupTranslation(Base):
    """A working group's name and description in one language."""

    __tablename__ = "working_group_translations"
    __table_args__ = (UniqueConstraint("group_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("working_groups.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")


class GroupMembership(Base):
    """A member's place in a working group (member or coordinator, pending or active)."""

    __tablename__ = "group_memberships"
    __table_args__ = (UniqueConstraint("group_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("working_groups.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16), default=GroupRole.MEMBER)
    status: Mapped[str] = mapped_column(String(16), default=MembershipStatus.ACTIVE)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


async def memberships_of(session: AsyncSession, member_id: int) -> list[GroupMembership]:
    """Every group link of one member (for /mydata and /groups)."""
    rows = await session.scalars(
        select(GroupMembership).where(GroupMembership.member_id == member_id)
    )
    return list(rows)


async def is_coordinator(session: AsyncSession, member_id: int, group_id: int) -> bool:
    """Whether the member coordinates that group (admins are checked separately)."""
    found = await session.scalar(
        select(GroupMembership.id).where(
            GroupMembership.member_id == member_id,
            GroupMembership.group_id == group_id,
            GroupMembership.role == GroupRole.COORDINATOR,
            GroupMembership.status == MembershipStatus.ACTIVE,
        )
    )
    return found is not None
