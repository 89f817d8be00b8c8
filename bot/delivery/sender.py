"""The delivery engine: claims queued deliveries, renders them, sends them within the limits.

Flow: a *feeder* claims the most urgent due deliveries (status `sending`, leased to this
worker), renders each for its recipient and puts it into a local priority queue; a
*dispatcher* takes the most urgent item whose chat may be written to, waits for the global
token bucket, and starts the send as a task (up to DELIVERY_WORKERS in flight, so latency is
hidden); outcomes are written back in batches by the OutcomeWriter; a *housekeeper* renews
this worker's leases, takes back leases of dead workers, and updates coordinators' progress.

Unknown outcome after a crash (policy: at-least-once, bounded)
-------------------------------------------------------------
A delivery is claimed (`sending`) before its request goes out and marked `sent` with its
message id after. If the process is killed (kill -9, power loss) a delivery may be left in
`sending` although Telegram already delivered it: either its request was in flight, or it
had been sent and its outcome was not yet written (outcomes are flushed every 0.2 s). Once
its lease lapses (DELIVERY_LEASE_SECONDS without a heartbeat) any worker sends it again. We
prefer a rare duplicate to a missed meeting reminder or alert; the duplicates are bounded by
the requests in flight plus the sends of the last flush window (at the default 30 msg/s:
a handful). A graceful stop (SIGTERM) stops claiming, lets in-flight sends finish, writes
every outcome and gives back unsent claims, so it sends nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import hashlib
import heapq
import itertools
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BufferedInputFile, Message
from sqlalchemy import select, update

from bot.core.privacy import redact
from bot.delivery.outbox import OutcomeWriter
from bot.delivery.queue import WAKE_KEY, Outgoing, Priority, RenderContext, Renderer
from bot.delivery.ratelimit import ENGINE_SEND, ChatLimits, FloodGate
from models.base import utcnow
from models.delivery import (
    Broadcast,
    BroadcastStatus,
    DeliveryStatus,
    claim_deliveries,
    prune_finished,
    reclaim_abandoned,
    release_claims,
    renew_claims,
)
from models.member import Member

if TYPE_CHECKING:
    from sqlalchemy.engine import Row

    from bot.core.app import App

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = 20  # seconds for one Bot API request
DRAIN_TIMEOUT = 15.0  # seconds a graceful stop waits for sends in flight
MAX_BACKOFF = 600.0
CLAIM_MAX = 500
PRUNE_EVERY = 3600.0  # seconds between two passes erasing long-finished broadcasts


@dataclass(slots=True)
class Item:
    """One claimed delivery in this worker's hands."""

    id: int
    broadcast_id: int
    member_id: int | None
    chat_id: int
    priority: int
    attempts: int
    parts_sent: int
    message_id: int | None
    parts: list[Outgoing] = field(default_factory=list)
    last_message_id: int | None = None


class LocalQueue:
    """Claimed, rendered deliveries: most urgent first, each chat at its own pace."""

    def __init__(self, chats: ChatLimits) -> None:
        self.chats = chats
        self._ready: list[tuple[int, int, int, Item]] = []
        self._later: list[tuple[float, int, Item]] = []
        self._seq = itertools.count()
        self._changed = asyncio.Event()

    def __len__(self) -> int:
        return len(self._ready) + len(self._later)

    def push(self, item: Item, at: float | None = None) -> None:
        """Queue an item, optionally not before the monotonic time `at`."""
        if at is None:
            heapq.heappush(self._ready, (item.priority, item.id, next(self._seq), item))
        else:
            heapq.heappush(self._later, (at, next(self._seq), item))
        self._changed.set()

    async def next(self) -> Item:
        """The most urgent item whose chat may be written to now (waits for one)."""
        while True:
            now = time.monotonic()
            while self._later and self._later[0][0] <= now:
                item = heapq.heappop(self._later)[2]
                heapq.heappush(self._ready, (item.priority, item.id, next(self._seq), item))
            while self._ready:
                item = heapq.heappop(self._ready)[3]
                at = self.chats.ready_at(item.chat_id, now)
                if at <= now:
                    return item
                heapq.heappush(self._later, (at, next(self._seq), item))
            timeout = self._later[0][0] - now if self._later else None
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)

    def least_urgent(self) -> int | None:
        """The highest priority number among the items held (None when empty)."""
        priorities = [e[0] for e in self._ready] + [e[2].priority for e in self._later]
        return max(priorities, default=None)

    def drain(self) -> list[Item]:
        """Take every item out (on stop, to give the claims back)."""
        items = [entry[3] for entry in self._ready] + [entry[2] for entry in self._later]
        self._ready.clear()
        self._later.clear()
        return items

    def drop_member(self, member_id: int) -> list[Item]:
        """Take out the items of a member who just turned out unreachable."""
        kept_ready = [e for e in self._ready if e[3].member_id != member_id]
        kept_later = [e for e in self._later if e[2].member_id != member_id]
        dropped = [e[3] for e in self._ready if e[3].member_id == member_id]
        dropped += [e[2] for e in self._later if e[2].member_id == member_id]
        if dropped:
            self._ready, self._later = kept_ready, kept_later
            heapq.heapify(self._ready)
            heapq.heapify(self._later)
        return dropped


class DeliveryService:
    """The engine as an App service: started and stopped with the dispatcher or the worker."""

    def __init__(self, app: App, gate: FloodGate) -> None:
        from bot.delivery.progress import ProgressReporter

        self.app = app
        settings = app.settings
        self.settings = settings
        self.renderers: dict[str, Renderer] = dict(app.registry.renderers)
        self.worker_id = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.gate = gate
        self.chats = ChatLimits(settings.send_rate_per_chat, settings.send_rate_per_group_minute)
        self.queue = LocalQueue(self.chats)
        # Members found unreachable whose mark is not written yet (then the row says so).
        self._unreachable: set[int] = set()
        self.writer = OutcomeWriter(app.sessionmaker, self._unreachable.difference_update)
        self.progress = ProgressReporter(app, self.gate, self.chats)
        self.concurrency = max(1, settings.delivery_workers)
        rate = settings.send_rate_global if settings.send_rate_global > 0 else 10_000.0
        # Keep about two seconds of sending in hand: enough to never starve the dispatcher,
        # little enough that an urgent delivery queued now overtakes the rest within seconds.
        self.high_water = int(min(max(2 * self.concurrency, 2 * rate), 4 * CLAIM_MAX))
        self.low_water = self.high_water // 2
        self.lease = timedelta(seconds=settings.delivery_lease_seconds)
        self._slots = asyncio.Semaphore(self.concurrency)
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._halt = asyncio.Event()  # set on stop: the housekeeper ends its round and returns
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._sends: set[asyncio.Task[None]] = set()
        self._broadcasts: dict[int, Broadcast] = {}
        self._caches: dict[int, dict[str, Any]] = {}
        self._uploads: dict[tuple[int, str], str] = {}
        self.sent = 0

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Hook the wake-up into new sessions and start the loops."""
        self._stopping = False
        self._halt.clear()
        info = dict(self.app.sessionmaker.kw.get("info") or {})
        info[WAKE_KEY] = self._on_commit
        self.app.sessionmaker.configure(info=info)
        # Everything loaded so far (aiogram's types, SQLAlchemy, the catalogues) lives as long
        # as the process: freezing it keeps full garbage collections short, so a collection
        # does not hold back a send that already has its slot and bunch it up with the next.
        gc.freeze()
        self.writer.start()
        self.app.metrics.expect("delivery")
        self._tasks = [
            asyncio.create_task(self._feed(), name="delivery-feeder"),
            asyncio.create_task(self._dispatch(), name="delivery-dispatcher"),
            asyncio.create_task(self._housekeep(), name="delivery-housekeeper"),
        ]
        log.debug(  # the process says in one line what started (bot/__main__.py)
            "delivery engine %s started: %g msg/s, %d in flight",
            self.worker_id,
            self.settings.send_rate_global,
            self.concurrency,
        )

    async def stop(self) -> None:
        """Graceful stop: no new claims, sends in flight finish, every outcome is written,
        unsent claims go back; the housekeeper (leases, progress) ends after its round."""
        self._stopping = True
        self._wake.set()
        self._room.set()
        feeder, dispatcher, housekeeper = self._tasks or (None, None, None)
        if feeder is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(feeder, DRAIN_TIMEOUT)
        if dispatcher is not None:  # it waits for a slot, an item or a turn: no writes
            dispatcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await dispatcher
        if self._sends:
            _done, pending = await asyncio.wait(set(self._sends), timeout=DRAIN_TIMEOUT)
            for task in pending:
                task.cancel()  # outcome unknown: left `sending`, retried after the lease
            if pending:
                log.warning("%d sends still in flight at stop; left for retry", len(pending))
        unsent = [item.id for item in self.queue.drain()]
        if unsent:
            try:
                async with self.app.sessionmaker() as session, session.begin():
                    await release_claims(session, worker=self.worker_id, ids=unsent)
            except Exception:
                log.exception("could not give back %d claims (back after the lease)", len(unsent))
        await self.writer.stop()
        self._halt.set()
        if housekeeper is not None:
            # Never cancelled inside a transaction or a summary send: it ends its round.
            try:
                await asyncio.wait_for(asyncio.shield(housekeeper), DRAIN_TIMEOUT)
            except TimeoutError:
                log.warning("housekeeping did not end in time; stopping it")
                housekeeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await housekeeper
        self._tasks = []
        self.app.metrics.forget("delivery")
        info = dict(self.app.sessionmaker.kw.get("info") or {})
        info.pop(WAKE_KEY, None)
        self.app.sessionmaker.configure(info=info)
        log.info("delivery engine %s stopped after %d sends", self.worker_id, self.sent)

    def _on_commit(self, _session: Any) -> None:
        """A broadcast was queued and committed in this process: claim it now."""
        self._wake.set()

    def wake(self) -> None:
        """Look for new deliveries now instead of at the next poll."""
        self._wake.set()

    # --- feeder -------------------------------------------------------------------------

    async def _feed(self) -> None:
        poll = self.settings.delivery_poll_seconds
        failures = 0
        while not self._stopping:
            held = len(self.queue)
            more_urgent_than: int | None = None
            limit = min(self.high_water - held, CLAIM_MAX)
            if held > self.low_water:
                # Enough in hand. Wait for room, but on a new commit (or each poll) look for
                # work more urgent than the least urgent held, so it overtakes at once.
                if not await self._room_or_wake(poll):
                    continue
                worst = self.queue.least_urgent()
                limit = min(2 * self.high_water - held, CLAIM_MAX)
                if worst is None or worst <= Priority.URGENT or limit <= 0:
                    continue
                more_urgent_than = worst
            try:
                rows = await self._claim(limit, more_urgent_than)
                failures = 0
            except Exception:
                failures += 1
                log.exception("claiming deliveries failed")
                await asyncio.sleep(min(0.5 * 2**failures, 10.0))
                continue
            if not rows:
                if more_urgent_than is None:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), poll)
                continue
            await self._render(rows)

    async def _room_or_wake(self, poll: float) -> bool:
        """Wait until the queue has room (False) or new work may be waiting (True)."""
        self._room.clear()
        self._wake.clear()
        room = asyncio.ensure_future(self._room.wait())
        wake = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({room, wake}, timeout=poll, return_when=asyncio.FIRST_COMPLETED)
        finally:
            room.cancel()
            wake.cancel()
        return not self._room.is_set() and not self._stopping

    async def _claim(self, limit: int, more_urgent_than: int | None = None) -> list[Row[Any]]:
        async with self.app.sessionmaker() as session, session.begin():
            rows = await claim_deliveries(
                session,
                worker=self.worker_id,
                now=self.app.clock.now(),
                lease_at=utcnow(),
                limit=limit,
                more_urgent_than=more_urgent_than,
            )
            fresh = {row.broadcast_id for row in rows} - self._broadcasts.keys()
            if fresh:
                await session.execute(
                    update(Broadcast)
                    .where(Broadcast.id.in_(fresh), Broadcast.started_at.is_(None))
                    .values(started_at=utcnow())
                    .execution_options(synchronize_session=False)
                )
            return rows

    async def _render(self, rows: list[Row[Any]]) -> None:
        """Build each claimed delivery's messages, in its recipient's language, now.

        A database error midway sends the rows not yet handled back to the queue (retry);
        the ones already queued or finished stay as they are.
        """
        done = 0
        try:
            async with self.app.sessionmaker() as session:
                member_ids = {row.member_id for row in rows if row.member_id is not None}
                members: dict[int, Member] = {}
                if member_ids:
                    found = await session.scalars(select(Member).where(Member.id.in_(member_ids)))
                    members = {m.id: m for m in found}
                for row in rows:
                    await self._render_one(session, row, members)
                    done += 1
        except Exception:
            log.exception("rendering %d deliveries failed", len(rows) - done)
            for row in rows[done:]:
                self._retry(_item(row), "render: internal error")

    async def _render_one(self, session: Any, row: Row[Any], members: dict[int, Member]) -> None:
        """Queue one delivery with its rendered parts, or record why it is not sent."""
        item = _item(row)
        broadcast = await self._broadcast(session, row.broadcast_id)
        if broadcast is None or broadcast.status == BroadcastStatus.CANCELLED:
            self._finish(item, DeliveryStatus.CANCELLED)
            return
        member = members.get(row.member_id) if row.member_id is not None else None
        if row.member_id is not None:
            if member is None:
                self._finish(item, DeliveryStatus.SKIPPED, "member left")
                return
            if member.unreachable_at is not None or member.id in self._unreachable:
                self._finish(item, DeliveryStatus.UNREACHABLE, "member unreachable")
                return
        renderer = self.renderers.get(broadcast.kind)
        if renderer is None:
            self._finish(item, DeliveryStatus.FAILED, f"no renderer for {broadcast.kind!r}")
            return
        i18n = self.app.i18n
        locale = (
            member.locale
            if member
            else broadcast.payload.get("locale") or self.settings.default_locale
        )
        context = RenderContext(
            session=session,
            app=self.app,
            broadcast=broadcast,
            member=member,
            chat_id=row.chat_id,
            locale=locale,
            _=functools.partial(i18n.gettext, locale=locale),
            cache=self._caches.setdefault(broadcast.id, {}),
        )
        try:
            with i18n.context(), i18n.use_locale(locale):
                parts = await renderer(context)
        except Exception as exc:
            log.exception("renderer %r failed for delivery %d", broadcast.kind, item.id)
            self._finish(item, DeliveryStatus.FAILED, f"render: {exc!r}")
            return
        if not parts or item.parts_sent >= len(parts):
            status = DeliveryStatus.SENT if item.parts_sent else DeliveryStatus.SKIPPED
            self._finish(item, status)
            return
        item.parts = parts
        self.queue.push(item)

    async def _broadcast(self, session: Any, broadcast_id: int) -> Broadcast | None:
        cached = self._broadcasts.get(broadcast_id)
        if cached is None:
            cached = await session.get(Broadcast, broadcast_id)
            if cached is not None:
                session.expunge(cached)
                self._broadcasts[broadcast_id] = cached
        return cached

    def forget_broadcast(self, broadcast_id: int) -> None:
        """A broadcast is over: drop what this worker cached for it."""
        self._broadcasts.pop(broadcast_id, None)
        self._caches.pop(broadcast_id, None)
        for key in [k for k in self._uploads if k[0] == broadcast_id]:
            del self._uploads[key]

    # --- dispatcher ---------------------------------------------------------------------

    async def _dispatch(self) -> None:
        while True:
            await self._slots.acquire()
            held: Item | None = None
            try:
                held = await self.queue.next()
                if len(self.queue) <= self.low_water:
                    self._room.set()
                at = await self.gate.turn()
                ready = self.chats.ready_at(held.chat_id, at)
                if ready > at:  # the progress reporter wrote to this chat meanwhile
                    self.queue.push(held, ready)
                    held = None
                    self._slots.release()
                    continue
                self.chats.take(held.chat_id, at)
                task = asyncio.create_task(self._send(held))
                held = None
                self._sends.add(task)
                task.add_done_callback(self._sends.discard)
            except asyncio.CancelledError:
                if held is not None:
                    self.queue.push(held)
                self._slots.release()
                raise

    # --- sending ------------------------------------------------------------------------

    async def _send(self, item: Item) -> None:
        try:
            part = item.parts[item.parts_sent]
            message = await self._deliver(item, part)
        except TelegramRetryAfter:
            self.queue.push(item)  # the gate is paused; it goes out again after retry_after
        except TelegramMigrateToChat as exc:
            log.info("chat %s became %s; following it", item.chat_id, exc.migrate_to_chat_id)
            item.chat_id = exc.migrate_to_chat_id
            self.queue.push(item)
        except TelegramForbiddenError as exc:
            self._blocked(item, exc.message)
        except (TelegramBadRequest, TelegramEntityTooLarge) as exc:
            self._finish(item, DeliveryStatus.FAILED, exc.message)
        except (TelegramServerError, TelegramNetworkError, TimeoutError) as exc:
            self._retry(item, _describe(exc))
        except TelegramAPIError as exc:
            self._finish(item, DeliveryStatus.FAILED, exc.message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("sending delivery %d failed", item.id)
            self._finish(item, DeliveryStatus.FAILED, f"internal: {exc!r}")
        else:
            self.sent += 1
            item.parts_sent += 1
            if item.message_id is None:
                item.message_id = message.message_id
            item.last_message_id = message.message_id
            if item.parts_sent < len(item.parts):
                self.writer.progressed(
                    item.id,
                    parts_sent=item.parts_sent,
                    message_id=item.message_id,
                    last_message_id=message.message_id,
                )
                self.queue.push(item)
            else:
                self._finish(item, DeliveryStatus.SENT, sent=True)
        finally:
            self._slots.release()

    async def _deliver(self, item: Item, part: Outgoing) -> Message:
        """One Bot API call for one part, marked as the engine's (see ENGINE_SEND)."""
        token = ENGINE_SEND.set(True)
        try:
            return await self._call(item, part)
        finally:
            ENGINE_SEND.reset(token)

    async def _call(self, item: Item, part: Outgoing) -> Message:
        """The Bot API call for one part: a document, a voice note or a text."""
        bot = self.app.bot
        if part.document is not None:
            document: Any = part.document
            upload_key: tuple[int, str] | None = None
            if isinstance(document, tuple):
                name, data = document
                upload_key = (item.broadcast_id, name + ":" + hashlib.sha256(data).hexdigest())
                known = self._uploads.get(upload_key)
                document = known if known else BufferedInputFile(data, filename=name)
            message = await bot.send_document(
                item.chat_id,
                document,
                caption=part.caption,
                reply_markup=part.reply_markup,
                protect_content=part.protect_content or None,
                request_timeout=REQUEST_TIMEOUT,
            )
            if upload_key is not None and message.document is not None:
                self._uploads[upload_key] = message.document.file_id
            return message
        if part.voice is not None:
            return await bot.send_voice(
                item.chat_id,
                part.voice,
                caption=part.caption,
                reply_markup=part.reply_markup,
                protect_content=part.protect_content or None,
                request_timeout=REQUEST_TIMEOUT,
            )
        return await bot.send_message(
            item.chat_id,
            part.text or "",
            reply_markup=part.reply_markup,
            protect_content=part.protect_content or None,
            request_timeout=REQUEST_TIMEOUT,
        )

    # --- outcomes -----------------------------------------------------------------------

    def _finish(
        self, item: Item, status: DeliveryStatus, error: str | None = None, *, sent: bool = False
    ) -> None:
        self.app.metrics.deliveries.labels(priority_name(item.priority), status.value).inc()
        self.writer.finished(
            item.id,
            status,
            error=redact(error, self.settings.bot_token.get_secret_value()) if error else None,
            parts_sent=item.parts_sent,
            message_id=item.message_id,
            last_message_id=item.last_message_id,
            sent_at=utcnow() if sent else None,
        )

    def _retry(self, item: Item, error: str) -> None:
        """A transient failure: try again later with exponential backoff, up to a limit."""
        if item.attempts >= self.settings.delivery_max_attempts:
            self._finish(item, DeliveryStatus.FAILED, error)
            return
        delay = min(self.settings.delivery_retry_seconds * 2 ** (item.attempts - 1), MAX_BACKOFF)
        self.writer.retry(
            item.id,
            at=self.app.clock.now() + timedelta(seconds=delay),
            error=redact(error, self.settings.bot_token.get_secret_value()),
            parts_sent=item.parts_sent,
            message_id=item.message_id,
            last_message_id=item.last_message_id,
        )

    def _blocked(self, item: Item, error: str) -> None:
        """403: the member blocked the bot (or the bot left the group); stop writing to them."""
        self._finish(item, DeliveryStatus.UNREACHABLE, error)
        if item.member_id is None:
            return
        self._unreachable.add(item.member_id)
        self.writer.unreachable(item.member_id)
        for other in self.queue.drop_member(item.member_id):
            self._finish(other, DeliveryStatus.UNREACHABLE, "member unreachable")

    # --- housekeeping -------------------------------------------------------------------

    async def _housekeep(self) -> None:
        """Leases (renew ours, take back the dead's) and coordinators' progress messages."""
        lease = self.lease.total_seconds()
        renew_every = max(lease / 3, 0.2)
        tick = min(1.0, renew_every)
        last_renew = last_reclaim = last_prune = -1e9
        while not self._halt.is_set():
            now = time.monotonic()
            try:
                if now - last_renew >= renew_every:
                    async with self.app.sessionmaker() as session, session.begin():
                        await renew_claims(session, worker=self.worker_id, lease_at=utcnow())
                    last_renew = now
                if now - last_reclaim >= renew_every:
                    async with self.app.sessionmaker() as session, session.begin():
                        taken = await reclaim_abandoned(
                            session, worker=self.worker_id, before=utcnow() - self.lease
                        )
                    last_reclaim = now
                    if taken:
                        log.warning(
                            "%d deliveries were left in flight by a stopped worker; their "
                            "outcome is unknown and they will be sent again",
                            taken,
                        )
                        self._wake.set()
                active = await self.progress.tick()
                for broadcast_id in set(self._broadcasts) - active:
                    self.forget_broadcast(broadcast_id)
                if now - last_prune >= PRUNE_EVERY:
                    await self._prune()
                    last_prune = now
                self.app.metrics.beat("delivery")
            except Exception:
                log.exception("delivery housekeeping failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._halt.wait(), tick)

    async def _prune(self) -> None:
        """Erase long-finished broadcasts and their delivery records (data minimisation)."""
        before = utcnow() - timedelta(days=self.settings.delivery_retention_days)
        erased = 0
        while True:
            async with self.app.sessionmaker() as session, session.begin():
                count = await prune_finished(session, before)
            erased += count
            if not count:
                break
        if erased:
            log.info("erased %d broadcasts finished before %s", erased, before.date())


def _item(row: Row[Any]) -> Item:
    return Item(
        id=row.id,
        broadcast_id=row.broadcast_id,
        member_id=row.member_id,
        chat_id=row.chat_id,
        priority=row.priority,
        attempts=row.attempts,
        parts_sent=row.parts_sent,
        message_id=row.message_id,
    )


def priority_name(priority: int) -> str:
    """A priority as a metrics label: its name, or the number for one outside the scale."""
    try:
        return Priority(priority).name.lower()
    except ValueError:
        return str(priority)


def _describe(exc: BaseException) -> str:
    """A short error text for the delivery row."""
    if isinstance(exc, TelegramAPIError):
        return exc.message
    return type(exc).__name__


def engine_of(app: App) -> DeliveryService | None:
    """The delivery engine running in this process, if any (tests register renderers on it)."""
    return next((s for s in app.services if isinstance(s, DeliveryService)), None)
