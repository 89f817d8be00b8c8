"""Batched write-back of send outcomes: one transaction for many deliveries, not one each."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.base import utcnow
from models.delivery import Delivery, DeliveryStatus, mark_members_unreachable

log = logging.getLogger(__name__)

FLUSH_EVERY = 0.2  # seconds; also bounds how many finished sends a kill -9 can forget
FLUSH_AT = 400  # rows: flush early when this many are waiting
MAX_ERROR = 300


class OutcomeWriter:
    """Collects outcomes in memory and writes them in one transaction per flush.

    The latest outcome per delivery wins, so a multi-part delivery that progresses and then
    finishes inside one flush window is written once.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self._rows: dict[int, dict[str, Any]] = {}
        self._unreachable: set[int] = set()
        self._kick = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.written = 0

    # --- what the sender reports --------------------------------------------------------

    def finished(
        self,
        delivery_id: int,
        status: DeliveryStatus,
        *,
        error: str | None = None,
        parts_sent: int = 0,
        message_id: int | None = None,
        last_message_id: int | None = None,
        sent_at: datetime | None = None,
    ) -> None:
        """A final outcome: sent, failed, unreachable, skipped or cancelled."""
        self._put(
            delivery_id,
            {
                "status": status.value,
                "error": _clip(error),
                "parts_sent": parts_sent,
                "message_id": message_id,
                "last_message_id": last_message_id,
                "sent_at": sent_at,
                "claimed_by": None,
            },
        )

    def retry(
        self,
        delivery_id: int,
        *,
        at: datetime,
        error: str,
        parts_sent: int,
        message_id: int | None,
        last_message_id: int | None,
    ) -> None:
        """Back to the queue, due again at `at` (a transient error)."""
        self._put(
            delivery_id,
            {
                "status": DeliveryStatus.PENDING.value,
                "error": _clip(error),
                "parts_sent": parts_sent,
                "message_id": message_id,
                "last_message_id": last_message_id,
                "next_attempt_at": at,
                "claimed_by": None,
                "claimed_at": None,
            },
        )

    def progressed(
        self, delivery_id: int, *, parts_sent: int, message_id: int | None, last_message_id: int
    ) -> None:
        """Some parts of a multi-part delivery are out; a restart resumes after them."""
        self._put(
            delivery_id,
            {
                "parts_sent": parts_sent,
                "message_id": message_id,
                "last_message_id": last_message_id,
            },
        )

    def unreachable(self, member_id: int) -> None:
        """A member blocked the bot: mark them and their queued deliveries."""
        self._unreachable.add(member_id)
        self._kick.set()

    def _put(self, delivery_id: int, values: dict[str, Any]) -> None:
        previous = self._rows.get(delivery_id)
        if previous is not None and "status" in previous and "status" not in values:
            previous.update(values)
        else:
            self._rows[delivery_id] = {"id": delivery_id, **values}
        if len(self._rows) >= FLUSH_AT:
            self._kick.set()

    @property
    def backlog(self) -> int:
        """Outcomes not yet written."""
        return len(self._rows) + len(self._unreachable)

    # --- writing ------------------------------------------------------------------------

    def start(self) -> None:
        """Flush periodically in the background."""
        self._task = asyncio.create_task(self._run(), name="delivery-outcomes")

    async def stop(self) -> None:
        """Stop the loop and write what is left."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for _ in range(5):
            if await self.flush():
                return
            await asyncio.sleep(0.5)
        log.error("could not record %d delivery outcomes before stopping", self.backlog)

    async def _run(self) -> None:
        failures = 0
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), FLUSH_EVERY)
            self._kick.clear()
            if await self.flush():
                failures = 0
            else:
                failures += 1
                await asyncio.sleep(min(0.5 * 2**failures, 10.0))

    async def flush(self) -> bool:
        """Write every waiting outcome in one transaction; on failure keep them for next time."""
        if not self._rows and not self._unreachable:
            return True
        rows, self._rows = self._rows, {}
        members, self._unreachable = self._unreachable, set()
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows.values():
            groups.setdefault(tuple(sorted(row)), []).append(row)
        try:
            async with self.sessionmaker() as session, session.begin():
                for batch in groups.values():
                    await session.execute(
                        update(Delivery).execution_options(synchronize_session=False), batch
                    )
                await mark_members_unreachable(session, sorted(members), utcnow())
        except Exception:
            log.exception("writing %d delivery outcomes failed; will retry", len(rows))
            for key, row in rows.items():
                self._rows.setdefault(key, row)
            self._unreachable |= members
            return False
        self.written += len(rows)
        return True


def _clip(text: str | None) -> str | None:
    """Errors fit their column."""
    if text is None:
        return None
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 1] + "…"
