"""The one path for messages to many people: queue a broadcast here, the engine sends it.

Callers describe *what* (a kind and a JSON payload) and *to whom* (a SELECT of member ids
and/or extra chat ids). The engine (bot/delivery/sender.py) renders each copy at send time,
in the recipient's language and time zone, through the renderer that the area owning the kind
registered with `Registry.add_renderer` (bot/core/app.py).
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import Select, event, func, insert, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.attention import respect_attention
from models.delivery import Broadcast, BroadcastStatus, Delivery, DeliveryStatus
from models.member import Member

if TYPE_CHECKING:
    from bot.core.app import App

# Session.info key under which the running engine leaves a callable that wakes it on commit.
WAKE_KEY = "delivery_wake"
CHUNK = 500


class Priority(enum.IntEnum):
    """Lower goes first: an alert or a meeting starting soon overtakes a bulk announcement."""

    URGENT = 0
    HIGH = 3
    NORMAL = 5
    BULK = 9


@dataclass
class Outgoing:
    """One message to send; a renderer may return several (sent in order, paced per chat)."""

    text: str | None = None
    reply_markup: InlineKeyboardMarkup | None = None
    document: tuple[str, bytes] | str | None = None  # (filename, bytes) or a Telegram file_id
    voice: str | None = None  # file_id
    caption: str | None = None
    protect_content: bool = False  # Telegram's: the copy cannot be forwarded or saved


@dataclass
class RenderContext:
    """What a renderer gets for one recipient: the store, the app and the recipient's language."""

    session: AsyncSession
    app: App
    broadcast: Broadcast
    member: Member | None
    chat_id: int
    locale: str
    _: Callable[..., str]
    # Shared by every recipient of this broadcast in this process: memoise per-broadcast data.
    cache: dict[str, Any] = field(default_factory=dict)


Renderer = Callable[[RenderContext], Awaitable[list[Outgoing] | None]]


async def enqueue_broadcast(
    session: AsyncSession,
    *,
    kind: str,
    payload: dict[str, Any],
    recipients: Select[Any] | Sequence[int],
    chat_ids: Sequence[int] = (),
    priority: Priority = Priority.NORMAL,
    created_by_id: int | None = None,
    progress_chat_id: int | None = None,
    dedupe_key: str | None = None,
    deadline: datetime | None = None,
) -> Broadcast:
    """Queue a broadcast in the caller's transaction; the engine sends it after the commit.

    `recipients` is a SELECT of Member.id (copied into delivery rows by INSERT ... SELECT,
    never loaded into memory) or a list of member ids. Members marked unreachable are left
    out. The same `dedupe_key` twice returns the broadcast queued the first time.
    Normal and bulk messages wait for members' quiet hours or digests (bot/delivery/attention.py)
    unless they would be too late for their `deadline` (a poll's closing).
    """
    broadcast: Broadcast | None = None
    if dedupe_key is not None:
        existing = await _by_dedupe_key(session, dedupe_key)
        if existing is not None and await _has_deliveries(session, existing):
            return existing
        # Queued once without any recipient written (a store from before transactions were
        # whole on SQLite, or an audience that was empty): the key must not block a retry.
        broadcast = existing
    if broadcast is not None:
        broadcast.status = BroadcastStatus.ACTIVE
        broadcast.finished_at = None
        broadcast.payload = payload
        await _fill(session, broadcast, recipients, chat_ids, deadline)
        return broadcast
    broadcast = Broadcast(
        kind=kind,
        payload=payload,
        priority=int(priority),
        created_by_id=created_by_id,
        progress_chat_id=progress_chat_id,
        dedupe_key=dedupe_key,
    )
    try:
        async with session.begin_nested():
            session.add(broadcast)
            await session.flush()
    except IntegrityError:
        if dedupe_key is None:
            raise
        existing = await _by_dedupe_key(session, dedupe_key)
        if existing is None:
            raise
        return existing
    await _fill(session, broadcast, recipients, chat_ids, deadline)
    return broadcast


async def _fill(
    session: AsyncSession,
    broadcast: Broadcast,
    recipients: Select[Any] | Sequence[int],
    chat_ids: Sequence[int],
    deadline: datetime | None,
) -> None:
    """Write one delivery per recipient, count them, hold them for quiet hours where due, and
    wake the engine at the commit."""
    if isinstance(recipients, Select):
        await _insert_members(session, broadcast, recipients)
    else:
        ids = list(dict.fromkeys(int(i) for i in recipients))
        for start in range(0, len(ids), CHUNK):
            chunk = select(Member.id).where(Member.id.in_(ids[start : start + CHUNK]))
            await _insert_members(session, broadcast, chunk)
    for chat_id in dict.fromkeys(int(c) for c in chat_ids):
        await _insert_chat(session, broadcast, chat_id)
    broadcast.total = int(
        await session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.broadcast_id == broadcast.id)
        )
        or 0
    )
    await session.flush()
    if broadcast.priority >= Priority.NORMAL:
        await respect_attention(session, broadcast, deadline)
    _wake_engine_on_commit(session)


async def _has_deliveries(session: AsyncSession, broadcast: Broadcast) -> bool:
    """Whether any recipient of the broadcast was ever written."""
    found = await session.scalar(
        select(Delivery.id).where(Delivery.broadcast_id == broadcast.id).limit(1)
    )
    return found is not None


async def _by_dedupe_key(session: AsyncSession, key: str) -> Broadcast | None:
    """The broadcast queued earlier under this key, if any."""
    return await session.scalar(select(Broadcast).where(Broadcast.dedupe_key == key))


async def _insert_members(session: AsyncSession, broadcast: Broadcast, ids: Select[Any]) -> None:
    """One delivery per reachable member in `ids`, copied inside the database."""
    source = select(
        literal(broadcast.id),
        Member.id,
        Member.telegram_id,
        literal(broadcast.priority),
        literal(DeliveryStatus.PENDING.value),
        literal(0),
        literal(0),
    ).where(Member.id.in_(ids), Member.unreachable_at.is_(None))
    await session.execute(
        insert(Delivery).from_select(
            [
                Delivery.broadcast_id,
                Delivery.member_id,
                Delivery.chat_id,
                Delivery.priority,
                Delivery.status,
                Delivery.attempts,
                Delivery.parts_sent,
            ],
            source,
        )
    )


async def _insert_chat(session: AsyncSession, broadcast: Broadcast, chat_id: int) -> None:
    """A delivery to a chat that is not a member (a working group's chat), once per chat."""
    taken = await session.scalar(
        select(Delivery.id).where(
            Delivery.broadcast_id == broadcast.id, Delivery.chat_id == chat_id
        )
    )
    if taken is None:
        session.add(
            Delivery(
                broadcast_id=broadcast.id,
                chat_id=chat_id,
                priority=broadcast.priority,
                status=DeliveryStatus.PENDING,
                attempts=0,
                parts_sent=0,
            )
        )
        await session.flush()


def _wake_engine_on_commit(session: AsyncSession) -> None:
    """Let an engine running in this process start at once instead of at its next poll."""
    wake = session.info.get(WAKE_KEY)
    if wake is None:
        return
    event.listen(session.sync_session, "after_commit", wake, once=True)
