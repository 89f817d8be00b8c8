"""Respect for members' attention, decided once when a broadcast is queued.

Quiet hours: a normal or bulk message to a member whose local time is within their quiet
hours (default 22:00-07:00 in their own zone) gets `next_attempt_at` = the end of those
hours; the engine claims only due deliveries, so it goes out then. Urgent and high priority
messages (a meeting starting within the hour, a changed meeting, an alert) are not held.

Digest: a member who chose a daily digest gets the digestible kinds (announcements and new
polls, registered with `Registry.add_digest_item`) gathered in one message at the hour they
picked (bot/delivery/digest.py); their deliveries wait in the `digest` status until then. A
message whose `deadline` (a poll's closing) comes before the member's next digest is not
held for the digest, and not for quiet hours ending after its deadline either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.scheduler import schedule
from models.delivery import Broadcast, Delivery, DeliveryStatus
from models.member import Member

# Session.info key of the process's `Attention` (set by bot.delivery.setup).
ATTENTION_KEY = "attention"
DIGEST_JOB = "digest"


@dataclass(frozen=True)
class Attention:
    """What enqueueing needs to know: the clock, whether quiet hours apply, digestible kinds."""

    now: Callable[[], datetime]  # the app's clock (tests move it)
    quiet_hours: bool = True
    digest_kinds: frozenset[str] = field(default_factory=frozenset)


def _zone(name: str | None) -> ZoneInfo:
    """The member's zone; UTC for none or an unknown name."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def in_quiet_hours(local: datetime, start: int, end: int) -> bool:
    """Whether a local time falls in quiet hours [start, end) that may wrap past midnight."""
    if start == end:
        return False
    hour = local.hour
    return start <= hour < end if start < end else hour >= start or hour < end


def quiet_until(zone: str | None, start: int, end: int, now: datetime) -> datetime | None:
    """When the quiet hours the member is in end (UTC), or None if they are not in them."""
    tz = _zone(zone)
    local = now.astimezone(tz)
    if not in_quiet_hours(local, start, end):
        return None
    day = local.date() if local.hour < end else local.date() + timedelta(days=1)
    # Through UTC and back: an end in a DST gap moves to the first real minute after it.
    wall = datetime.combine(day, time(end), tzinfo=tz)
    return wall.astimezone(UTC)


def next_digest(zone: str | None, hour: int, now: datetime) -> datetime:
    """The next time (UTC, after `now`) it is `hour`:00 in the member's zone."""
    tz = _zone(zone)
    local = now.astimezone(tz)
    day = local.date() if local.hour < hour else local.date() + timedelta(days=1)
    return datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)


def attention_of(session: AsyncSession) -> Attention | None:
    """The process's settings for attention, if the delivery engine was installed."""
    found = session.info.get(ATTENTION_KEY)
    return found if isinstance(found, Attention) else None


async def respect_attention(
    session: AsyncSession, broadcast: Broadcast, deadline: datetime | None
) -> None:
    """Hold the new broadcast's member deliveries for digests and quiet hours (see above)."""
    attention = attention_of(session)
    if attention is None:
        return
    now: datetime = attention.now()
    if broadcast.kind in attention.digest_kinds:
        await _hold_for_digests(session, broadcast, now, deadline)
    if attention.quiet_hours:
        await _hold_for_quiet_hours(session, broadcast, now, deadline)


def _recipients(broadcast: Broadcast) -> Any:
    """Members with a pending delivery of this broadcast."""
    return select(Delivery.member_id).where(
        Delivery.broadcast_id == broadcast.id, Delivery.status == DeliveryStatus.PENDING
    )


async def _hold_for_quiet_hours(
    session: AsyncSession, broadcast: Broadcast, now: datetime, deadline: datetime | None
) -> None:
    """One UPDATE per (zone, start, end) combination that is in quiet hours now."""
    combos = await session.execute(
        select(Member.timezone, Member.quiet_start, Member.quiet_end)
        .where(Member.id.in_(_recipients(broadcast)), Member.quiet_hours.is_(True))
        .distinct()
    )
    for zone, start, end in combos.all():
        until = quiet_until(zone, start, end, now)
        if until is None or (deadline is not None and deadline <= until):
            continue
        same_zone = Member.timezone.is_(None) if zone is None else Member.timezone == zone
        members = select(Member.id).where(
            same_zone,
            Member.quiet_hours.is_(True),
            Member.quiet_start == start,
            Member.quiet_end == end,
        )
        await session.execute(
            update(Delivery)
            .where(
                Delivery.broadcast_id == broadcast.id,
                Delivery.status == DeliveryStatus.PENDING,
                Delivery.member_id.in_(members),
            )
            .values(next_attempt_at=until)
            .execution_options(synchronize_session=False)
        )


async def _hold_for_digests(
    session: AsyncSession, broadcast: Broadcast, now: datetime, deadline: datetime | None
) -> None:
    """Park deliveries to digest readers until their digest hour; schedule those digests."""
    combos = await session.execute(
        select(Member.timezone, Member.digest_hour)
        .where(Member.id.in_(_recipients(broadcast)), Member.digest_hour.is_not(None))
        .distinct()
    )
    for zone, hour in combos.all():
        at = next_digest(zone, int(hour or 0), now)
        if deadline is not None and deadline <= at:
            continue
        same_zone = Member.timezone.is_(None) if zone is None else Member.timezone == zone
        members = select(Member.id).where(and_(same_zone, Member.digest_hour == hour))
        await session.execute(
            update(Delivery)
            .where(
                Delivery.broadcast_id == broadcast.id,
                Delivery.status == DeliveryStatus.PENDING,
                Delivery.member_id.in_(members),
            )
            .values(status=DeliveryStatus.DIGEST, next_attempt_at=at)
            .execution_options(synchronize_session=False)
        )
        await schedule(
            session,
            kind=DIGEST_JOB,
            due_at=at,
            payload={"at": at.isoformat()},
            key=f"{DIGEST_JOB}:{at.isoformat()}",
        )


async def digest_changed(session: AsyncSession, member: Member, now: datetime) -> None:
    """The member changed their digest: what waits for it moves to the new hour, or, with the
    digest turned off, goes out now like any message."""
    waiting = (
        Delivery.member_id == member.id,
        Delivery.status == DeliveryStatus.DIGEST,
    )
    if member.digest_hour is None:
        values: dict[str, Any] = {"status": DeliveryStatus.PENDING, "next_attempt_at": None}
    else:
        at = next_digest(member.timezone, member.digest_hour, now)
        values = {"next_attempt_at": at}
        if await session.scalar(select(Delivery.id).where(*waiting).limit(1)) is not None:
            await schedule(
                session,
                kind=DIGEST_JOB,
                due_at=at,
                payload={"at": at.isoformat()},
                key=f"{DIGEST_JOB}:{at.isoformat()}",
            )
    await session.execute(
        update(Delivery)
        .where(*waiting)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
