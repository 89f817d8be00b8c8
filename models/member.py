"""Members of the network: the minimum needed to reach them in their language and time zone."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, SmallInteger, String, delete, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class MemberStatus(enum.StrEnum):
    """Where a member stands with the network."""

    ONBOARDING = "onboarding"
    PENDING = "pending"
    ACTIVE = "active"
    DECLINED = "declined"


class Role(enum.StrEnum):
    """Network-wide role; coordinators are appointed per working group."""

    MEMBER = "member"
    ADMIN = "admin"


class Gender(enum.StrEnum):
    """Self-described gender, used only for aggregate breakdowns."""

    WOMAN = "woman"
    MAN = "man"
    NONBINARY = "nonbinary"
    OTHER = "other"
    UNDISCLOSED = "undisclosed"


DEFAULT_QUIET_START = 22  # quiet hours start at 22:00 in the member's zone...
DEFAULT_QUIET_END = 7  # ...and end at 07:00


class Member(Base):
    """A person who accepted the privacy terms; created only on consent."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8))
    country: Mapped[str | None] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(3))
    timezone: Mapped[str | None] = mapped_column(String(64))
    organisation: Mapped[str | None] = mapped_column(String(120))
    gender: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=MemberStatus.ONBOARDING)
    role: Mapped[str] = mapped_column(String(16), default=Role.MEMBER)
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    unreachable_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Attention (bot/delivery/quiet.py): hours in the member's own zone.
    quiet_hours: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    quiet_start: Mapped[int] = mapped_column(
        SmallInteger, default=DEFAULT_QUIET_START, server_default=str(DEFAULT_QUIET_START)
    )
    quiet_end: Mapped[int] = mapped_column(
        SmallInteger, default=DEFAULT_QUIET_END, server_default=str(DEFAULT_QUIET_END)
    )
    digest_hour: Mapped[int | None] = mapped_column(SmallInteger)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_active(self) -> bool:
        return self.status == MemberStatus.ACTIVE

    @property
    def tz(self) -> str:
        """The member's zone, or UTC until they chose one."""
        return self.timezone or "UTC"


async def get_member(session: AsyncSession, telegram_id: int) -> Member | None:
    """The member for a Telegram user, if they ever consented."""
    return await session.scalar(select(Member).where(Member.telegram_id == telegram_id))


async def get_member_by_id(session: AsyncSession, member_id: int) -> Member | None:
    """A member by primary key (callback data carries this, never the Telegram id)."""
    return await session.get(Member, member_id)


async def list_admins(session: AsyncSession) -> list[Member]:
    """Network admins, who receive membership requests."""
    rows = await session.scalars(select(Member).where(Member.role == Role.ADMIN))
    return list(rows)


async def delete_member(session: AsyncSession, member: Member) -> None:
    """Erase a member row; dependent rows go with it through ON DELETE CASCADE and ORM cascades."""
    await session.execute(delete(Member).where(Member.id == member.id))


async def member_record(session: AsyncSession, member: Member) -> dict[str, Any]:
    """The member's own row, for /mydata."""
    return {
        "member": {
            "telegram_id": member.telegram_id,
            "display_name": member.display_name,
            "locale": member.locale,
            "country": member.country,
            "region": member.region,
            "timezone": member.timezone,
            "organisation": member.organisation,
            "gender": member.gender,
            "status": member.status,
            "role": member.role,
            "consent_at": member.consent_at.isoformat(),
            "created_at": member.created_at.isoformat(),
            "last_seen_at": member.last_seen_at.isoformat(),
            "unreachable_since": (
                member.unreachable_at.isoformat() if member.unreachable_at else None
            ),
            "quiet_hours": (
                {"from": f"{member.quiet_start:02d}:00", "until": f"{member.quiet_end:02d}:00"}
                if member.quiet_hours
                else None
            ),
            "daily_digest_at": (
                f"{member.digest_hour:02d}:00" if member.digest_hour is not None else None
            ),
        }
    }
