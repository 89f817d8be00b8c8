"""The webhook inbox: answer Telegram at once, lose nothing.

The webhook writes each POSTed update to the `inbox` table (one committed INSERT; a second
POST of the same update id is ignored), answers 200 and hands the update to the dispatcher
in the background. The row is marked done, its body erased, in the transaction that commits
the update's own work: before its first reply (commit, then tell: see
bot.core.middlewares.CommitBeforeTelling), else when the update ends. A process killed in
between leaves the row pending; every process renews the claim on the updates it is handling
and takes over the pending rows whose claim is old (`FOR UPDATE SKIP LOCKED` on PostgreSQL,
so two processes never take the same one). Done rows keep only their update id, for a while
(to recognise Telegram sending the update again), then are deleted.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiogram.methods import TelegramMethod
from sqlalchemy import delete, null, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.core.inbox_marks import ENTRY, Entry, install
from models.base import utcnow
from models.inbox import InboxUpdate

if TYPE_CHECKING:
    from bot.core.app import App

log = logging.getLogger(__name__)
KEEP_DONE = timedelta(minutes=10)  # a done row's update id, to ignore Telegram's re-sends
CLAIM_BATCH = 100
STOP_WAIT = 30.0  # seconds a stopping process gives the updates in hand


class Inbox:
    """One process's side of the inbox: accept, handle, and take over what others left."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.tasks: set[asyncio.Task[None]] = set()
        self.handling: set[int] = set()
        self.sweeper: asyncio.Task[None] | None = None
        install()

    async def accept(self, body: dict[str, Any]) -> bool:
        """Keep the update; False when it was received before (Telegram sending it again)."""
        update_id = int(body["update_id"])
        now = utcnow()
        values = {"update_id": update_id, "body": body, "received_at": now, "taken_at": now}
        engine = self.app.engine
        insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
        statement = insert(InboxUpdate).values(**values).on_conflict_do_nothing()
        async with self.app.sessionmaker() as session:
            result = await session.execute(statement)
            await session.commit()
        return bool(getattr(result, "rowcount", 0))

    def dispatch(self, update_id: int, body: dict[str, Any]) -> None:
        """Handle the update in the background."""
        self.handling.add(update_id)
        task = asyncio.create_task(self._handle(update_id, body))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _handle(self, update_id: int, body: dict[str, Any]) -> None:
        entry = Entry(update_id)
        ENTRY.set(entry)  # this task's own context
        app = self.app
        try:
            result = await app.dp.feed_raw_update(app.bot, body)
            if isinstance(result, TelegramMethod):
                await app.dp.silent_call_request(app.bot, result)
        except Exception:
            log.exception("update %s failed", update_id)
        finally:
            try:
                if not entry.done:  # dropped before its session, read-only or failed
                    async with app.sessionmaker() as session:
                        await session.execute(
                            update(InboxUpdate)
                            .where(InboxUpdate.update_id == update_id)
                            .values(body=null())
                        )
                        await session.commit()
            except Exception:
                log.exception("update %s: inbox row left pending", update_id)
            finally:
                self.handling.discard(update_id)

    async def sweep(self) -> int:
        """Renew this process's claims, forget old done rows, take over abandoned updates.
        Returns how many were taken over."""
        settings = self.app.settings
        now = utcnow()
        stale = now - timedelta(seconds=settings.inbox_stale_seconds)
        async with self.app.sessionmaker() as session:
            if self.handling:
                # Rows locked now are being marked done: skipped, never waited for (their
                # update's transaction may wait for something this one holds).
                mine = (
                    select(InboxUpdate.update_id)
                    .where(InboxUpdate.update_id.in_(list(self.handling)))
                    .with_for_update(skip_locked=True)
                )
                await session.execute(
                    update(InboxUpdate)
                    .where(InboxUpdate.update_id.in_(mine.scalar_subquery()))
                    .values(taken_at=now)
                )
            await session.execute(
                delete(InboxUpdate).where(
                    InboxUpdate.body.is_(None), InboxUpdate.received_at < now - KEEP_DONE
                )
            )
            await session.commit()
            rows = (
                await session.execute(
                    select(InboxUpdate.update_id, InboxUpdate.body)
                    .where(InboxUpdate.body.is_not(None), InboxUpdate.taken_at < stale)
                    .order_by(InboxUpdate.update_id)
                    .limit(CLAIM_BATCH)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            taken = [(uid, body) for uid, body in rows if uid not in self.handling]
            if taken:
                await session.execute(
                    update(InboxUpdate)
                    .where(InboxUpdate.update_id.in_([uid for uid, _ in taken]))
                    .values(taken_at=now)
                )
            await session.commit()
        for update_id, body in taken:
            log.warning("update %s left by a stopped process: handled now", update_id)
            self.dispatch(update_id, body)
        return len(taken)

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("inbox sweep failed")
            await asyncio.sleep(self.app.settings.inbox_sweep_seconds)

    def start(self) -> None:
        self.sweeper = asyncio.create_task(self._sweep_forever())

    async def stop(self) -> None:
        """Stop taking over; let the updates in hand finish (those that do not are left
        pending, for another process)."""
        if self.sweeper is not None:
            self.sweeper.cancel()
            await asyncio.gather(self.sweeper, return_exceptions=True)
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=STOP_WAIT)
