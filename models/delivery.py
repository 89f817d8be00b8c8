"""The outbox: one Broadcast per message to many people, one Delivery row per recipient."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    Row,
    String,
    UniqueConstraint,
    delete,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow
from models.member import Member


class BroadcastStatus(enum.StrEnum):
    """A broadcast is active until no delivery of it is pending or being sent."""

    ACTIVE = "active"
    DONE = "done"
    CANCELLED = "cancelled"


class DeliveryStatus(enum.StrEnum):
    """Where one recipient's copy stands; `sending` means claimed by a worker."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNREACHABLE = "unreachable"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    DIGEST = "digest"  # waits for the member's daily digest (bot/delivery/attention.py)
    DIGESTED = "digested"  # went out inside a digest message


OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


class Broadcast(Base):
    """What to send (kind + payload, rendered per recipient at send time) and to how many."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    priority: Mapped[int] = mapped_column(Integer, default=5)
    status: Mapped[str] = mapped_column(String(16), default=BroadcastStatus.ACTIVE)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    progress_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Delivery(Base):
    """One recipient of a broadcast: claimed before sending, marked sent with its message id."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "chat_id"),
        Index("ix_deliveries_queue", "status", "priority", "id"),
        Index("ix_deliveries_broadcast_status", "broadcast_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    chat_id: Mapped[int] = mapped_column(BigInteger)
    priority: Mapped[int] = mapped_column(Integer, default=5)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    parts_sent: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    last_message_id: Mapped[int | None] = mapped_column(BigInteger)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(String(300))


async def delivery_counts(session: AsyncSession, broadcast_id: int) -> dict[str, int]:
    """How many deliveries of a broadcast are in each status."""
    rows = await session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.broadcast_id == broadcast_id)
        .group_by(Delivery.status)
    )
    return {str(status): int(count) for status, count in rows.all()}


async def held_count(session: AsyncSession, broadcast_id: int, now: datetime) -> int:
    """Deliveries of a broadcast first due later (held for quiet hours), not retries."""
    return int(
        await session.scalar(
            select(func.count()).where(
                Delivery.broadcast_id == broadcast_id,
                Delivery.status == DeliveryStatus.PENDING,
                Delivery.attempts == 0,
                Delivery.next_attempt_at > now,
            )
        )
        or 0
    )


async def deliveries_of_member(session: AsyncSession, member_id: int) -> list[Delivery]:
    """Every delivery addressed to a member, oldest first (for /mydata)."""
    rows = await session.scalars(
        select(Delivery).where(Delivery.member_id == member_id).order_by(Delivery.id)
    )
    return list(rows)


async def take_digest_items(session: AsyncSession, due: datetime) -> dict[int, list[int]]:
    """Deliveries waiting for digests due by `due`, marked as gone into a digest:
    member id -> the broadcast ids to gather, oldest first."""
    rows = await session.execute(
        select(Delivery.id, Delivery.member_id, Delivery.broadcast_id)
        .where(Delivery.status == DeliveryStatus.DIGEST, Delivery.next_attempt_at <= due)
        .order_by(Delivery.member_id, Delivery.broadcast_id)
    )
    items: dict[int, list[int]] = {}
    ids = []
    for delivery_id, member_id, broadcast_id in rows.all():
        ids.append(delivery_id)
        if member_id is not None:
            items.setdefault(member_id, []).append(broadcast_id)
    for start in range(0, len(ids), 500):
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids[start : start + 500]))
            .values(status=DeliveryStatus.DIGESTED)
            .execution_options(synchronize_session=False)
        )
    return items


async def get_broadcast(session: AsyncSession, broadcast_id: int) -> Broadcast | None:
    """A broadcast by id."""
    return await session.get(Broadcast, broadcast_id)


async def claim_deliveries(
    session: AsyncSession,
    *,
    worker: str,
    now: datetime,
    lease_at: datetime,
    limit: int,
    more_urgent_than: int | None = None,
) -> list[Row[Any]]:
    """Mark the most urgent due deliveries `sending` for this worker and return them.

    On PostgreSQL the candidate rows are locked with FOR UPDATE SKIP LOCKED, so concurrent
    workers each claim different rows; SQLite has one writer at a time and needs no lock.
    `more_urgent_than` limits the claim to priorities below that one (to let urgent work
    overtake what the worker already holds).
    """
    due = select(Delivery.id).where(
        Delivery.status == DeliveryStatus.PENDING,
        or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
    )
    if more_urgent_than is not None:
        due = due.where(Delivery.priority < more_urgent_than)
    due = (
        due.order_by(Delivery.priority, Delivery.id).limit(limit).with_for_update(skip_locked=True)
    )
    result = await session.execute(
        update(Delivery)
        .where(Delivery.id.in_(due.scalar_subquery()))
        .values(
            status=DeliveryStatus.SENDING,
            claimed_by=worker,
            claimed_at=lease_at,
            attempts=Delivery.attempts + 1,
        )
        .returning(
            Delivery.id,
            Delivery.broadcast_id,
            Delivery.member_id,
            Delivery.chat_id,
            Delivery.priority,
            Delivery.attempts,
            Delivery.parts_sent,
            Delivery.message_id,
        )
        .execution_options(synchronize_session=False)
    )
    rows: list[Any] = list(result.all())
    return sorted(rows, key=lambda row: (row.priority, row.id))


async def renew_claims(session: AsyncSession, *, worker: str, lease_at: datetime) -> int:
    """Extend this worker's lease on what it holds, so no one takes it for abandoned."""
    result = await session.execute(
        update(Delivery)
        .where(Delivery.status == DeliveryStatus.SENDING, Delivery.claimed_by == worker)
        .values(claimed_at=lease_at)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def reclaim_abandoned(session: AsyncSession, *, worker: str, before: datetime) -> int:
    """Put back to `pending` what a dead worker held (lease older than `before`).

    Their outcome is unknown (the send may or may not have reached Telegram); sending them
    again is the engine's at-least-once policy for that case (see bot/delivery/sender.py).
    """
    result = await session.execute(
        update(Delivery)
        .where(
            Delivery.status == DeliveryStatus.SENDING,
            or_(Delivery.claimed_by.is_(None), Delivery.claimed_by != worker),
            Delivery.claimed_at < before,
        )
        .values(status=DeliveryStatus.PENDING, claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def release_claims(session: AsyncSession, *, worker: str, ids: list[int]) -> int:
    """Give back claimed deliveries that were never sent (graceful stop): no attempt spent."""
    total = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        result = await session.execute(
            update(Delivery)
            .where(
                Delivery.id.in_(chunk),
                Delivery.status == DeliveryStatus.SENDING,
                Delivery.claimed_by == worker,
            )
            .values(
                status=DeliveryStatus.PENDING,
                claimed_by=None,
                claimed_at=None,
                attempts=Delivery.attempts - 1,
            )
            .execution_options(synchronize_session=False)
        )
        total += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return total


async def mark_members_unreachable(
    session: AsyncSession, member_ids: list[int], now: datetime
) -> None:
    """Members who blocked the bot: note it, and stop their queued deliveries."""
    if not member_ids:
        return
    await session.execute(
        update(Member)
        .where(Member.id.in_(member_ids), Member.unreachable_at.is_(None))
        .values(unreachable_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Delivery)
        .where(Delivery.member_id.in_(member_ids), Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.UNREACHABLE, error="member unreachable")
        .execution_options(synchronize_session=False)
    )


async def has_open_deliveries(session: AsyncSession, broadcast_id: int) -> bool:
    """Whether anything of the broadcast is still pending or being sent."""
    query = select(
        exists().where(Delivery.broadcast_id == broadcast_id, Delivery.status.in_(OPEN_STATUSES))
    )
    return bool(await session.scalar(query))


async def active_broadcasts(session: AsyncSession) -> list[Broadcast]:
    """Broadcasts still being delivered, oldest first."""
    rows = await session.scalars(
        select(Broadcast).where(Broadcast.status == BroadcastStatus.ACTIVE).order_by(Broadcast.id)
    )
    return list(rows)


async def finish_broadcast(session: AsyncSession, broadcast_id: int, now: datetime) -> bool:
    """Mark a broadcast done; True only for the one caller that made the change. Its summary
    is owed while `progress_chat_id` is set (see `unsent_summaries`)."""
    result = await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.status == BroadcastStatus.ACTIVE)
        .values(status=BroadcastStatus.DONE, finished_at=now, progress_at=None)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def unsent_summaries(session: AsyncSession) -> list[Broadcast]:
    """Finished broadcasts whose coordinator has not been sent the summary yet."""
    rows = await session.scalars(
        select(Broadcast)
        .where(Broadcast.status == BroadcastStatus.DONE, Broadcast.progress_chat_id.is_not(None))
        .order_by(Broadcast.id)
    )
    return list(rows)


async def take_summary_turn(
    session: AsyncSession, broadcast_id: int, now: datetime, not_since: datetime
) -> bool:
    """Claim the right to send a finished broadcast's summary (one worker; a failed attempt
    is tried again after `not_since`)."""
    result = await session.execute(
        update(Broadcast)
        .where(
            Broadcast.id == broadcast_id,
            Broadcast.status == BroadcastStatus.DONE,
            Broadcast.progress_chat_id.is_not(None),
            or_(Broadcast.progress_at.is_(None), Broadcast.progress_at <= not_since),
        )
        .values(progress_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def take_progress_turn(
    session: AsyncSession, broadcast_id: int, now: datetime, not_since: datetime
) -> bool:
    """Claim the right to update a broadcast's progress message (one worker per interval)."""
    result = await session.execute(
        update(Broadcast)
        .where(
            Broadcast.id == broadcast_id,
            Broadcast.status == BroadcastStatus.ACTIVE,
            or_(Broadcast.progress_at.is_(None), Broadcast.progress_at <= not_since),
        )
        .values(progress_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def cancel_broadcast(session: AsyncSession, broadcast_id: int) -> int:
    """Stop a broadcast: its pending deliveries are cancelled (sends under way finish)."""
    result = await session.execute(
        update(Delivery)
        .where(Delivery.broadcast_id == broadcast_id, Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def forget_progress_chat(session: AsyncSession, chat_id: int) -> None:
    """A coordinator erased their data: their chat is no longer kept on broadcasts."""
    await session.execute(
        update(Broadcast)
        .where(Broadcast.progress_chat_id == chat_id)
        .values(progress_chat_id=None, progress_message_id=None)
        .execution_options(synchronize_session=False)
    )


async def prune_finished(session: AsyncSession, before: datetime, limit: int = 20) -> int:
    """Erase broadcasts finished before `before`, with their per-member delivery records.

    Who received what is personal data; once a broadcast is long over it is not kept.
    Returns how many broadcasts were erased (at most `limit`, to keep transactions short).
    """
    old = list(
        await session.scalars(
            select(Broadcast.id)
            .where(
                Broadcast.status.in_((BroadcastStatus.DONE, BroadcastStatus.CANCELLED)),
                Broadcast.finished_at < before,
            )
            .order_by(Broadcast.id)
            .limit(limit)
        )
    )
    if old:
        await session.execute(delete(Delivery).where(Delivery.broadcast_id.in_(old)))
        await session.execute(delete(Broadcast).where(Broadcast.id.in_(old)))
    return len(old)


async def open_deliveries_by_priority(session: AsyncSession) -> dict[int, int]:
    """Deliveries queued or in flight, by priority (for the operator's metrics)."""
    rows = await session.execute(
        select(Delivery.priority, func.count())
        .where(Delivery.status.in_(OPEN_STATUSES))
        .group_by(Delivery.priority)
    )
    return {int(priority): int(count) for priority, count in rows.all()}


async def sent_since(session: AsyncSession, since: datetime) -> int:
    """Deliveries sent after `since` (the engine's recent rate, all processes)."""
    count = await session.scalar(
        select(func.count()).where(
            Delivery.status == DeliveryStatus.SENT, Delivery.sent_at >= since
        )
    )
    return int(count or 0)


async def recent_failures(session: AsyncSession, limit: int) -> list[tuple[str | None, str]]:
    """The latest failed deliveries: (the broadcast's kind, Telegram's error text)."""
    rows = await session.execute(
        select(Delivery.error, Broadcast.kind)
        .join(Broadcast, Broadcast.id == Delivery.broadcast_id)
        .where(Delivery.status == DeliveryStatus.FAILED)
        .order_by(Delivery.id.desc())
        .limit(limit)
    )
    return [(kind, error or "") for error, kind in rows.all()]
