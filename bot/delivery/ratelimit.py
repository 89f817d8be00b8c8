"""Telegram's flood limits, kept rather than provoked: token buckets per bot, chat and group."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType

from bot.core.floods import GUARD_REPLY
from bot.core.fsm_storage import UPDATE_SESSION

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response

    from bot.core.config import Settings

log = logging.getLogger(__name__)

# Set while the delivery engine sends: its message to a chat waits after a reply sent there
# since it chose the moment, and after its own previous one came back (ReplyPacer.after_latest).
# Other messages sent outside an update (an error alert, the flood guard's answer) go as before.
ENGINE_SEND: ContextVar[bool] = ContextVar("engine_send", default=False)

# Aim a little under each published limit: requests reach Telegram with a few milliseconds of
# jitter, and a bucket run at exactly 30/s would now and then land 31 inside one second.
MARGIN = 0.98
# The last check before a request leaves: no more than `rate` requests within this window.
# Telegram counts a second; the extra is room for jitter on the way (the network, its side).
WINDOW = 1.02
# How often the chat limiter drops chats whose bucket is full again.
SWEEP_EVERY = 1.0
# Methods that put a new message into a chat: they count against the 30 a second. Edits do
# not add messages (Telegram's fake in the tests counts them the same way); they still wait
# out a 429 pause, and the engine paces its progress edits per chat.
FLOOD_PREFIXES = ("send", "copy", "forward")
FLOOD_EXEMPT = frozenset({"sendChatAction"})
PAUSED_PREFIXES = (*FLOOD_PREFIXES, "edit")
# How long the engine's request steps back each time while a handler's reply waits.
YIELD_STEP = 0.005
# Telegram counts the requests it receives within a second. A request reached Telegram at the
# latest when its answer came back: one more than `rate` waits this long after that answer,
# so a request held up on its way (a busy CPU between the check and the write, a slow
# network) can never land inside the same second as the ones after it.
ARRIVAL_WINDOW = 1.0
# ...less the shortest round trip seen lately: the answer's way back and the next request's
# way out, still ahead of it, take together about that much at least (each way varies by a
# few milliseconds, which WINDOW's margin covers; a stall only makes either longer), so the
# next cannot arrive within a second of the answered one. Without it every place of the
# window was held a round trip too long: 91 % of the limit at 100 ms round trips. Trusted
# once RTT_TRUSTED answers are known, over the last RTT_SAMPLES (a slower route is learnt).
RTT_SAMPLES = 256
RTT_TRUSTED = 30
# While people are being answered (a reply within the last REPLY_ACTIVE seconds), the engine
# leaves free half as many places of the window as replies took within the last second, and
# this share of the places more: the next reply finds a place at once instead of waiting for
# the broadcast's oldest send to age out. (A reply finds no place when replies outpace the
# places freeing by more than the room left: the room must grow with the replies' pace.)
REPLY_HEADROOM = 0.1
REPLY_ACTIVE = 3.0
# Whatever the replies' pace, the engine may hold this many of the window's places (when
# they are free): a broadcast or a meeting's reminder goes on, at about one message a second,
# while people tap. (Three places, a tenth, made every kind of update's p99 in scenario 4 of
# bench/handlers.py 134-141 ms in two runs, against 45-54 ms with one.)
ENGINE_FLOOR = 1
# The engine's request looks again this often while it waits behind places kept for replies
# (the reserve shrinks as people stop tapping).
RESERVE_RECHECK = 0.05
# How often an engine message checks whether the one before it to the same chat came back.
FLIGHT_STEP = 0.01
# The pacer forgets chats whose interval ran out once it remembers more than this many.
PRUNE_AT = 1000


class Sent:
    """One request let through by the last check: when it left and when its answer came."""

    __slots__ = ("at", "done", "reply", "tracked")

    def __init__(self, at: float, *, tracked: bool, reply: bool = False) -> None:
        self.at = at
        self.done: float | None = None
        self.tracked = tracked
        self.reply = reply


class TokenBucket:
    """A bucket of `burst` tokens refilled at `rate` per second (GCRA: no timer, one float).

    A sender that wakes up a little late (timers overshoot by a millisecond or so) keeps its
    schedule instead of losing that time on every send: up to `slack` seconds of lateness
    are made up. Sends then stay on an ideal grid of `1/rate`, never more than `slack` late.
    """

    def __init__(self, rate: float, burst: float = 1.0, slack: float = 0.005) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.tolerance = self.interval * max(burst - 1.0, 0.0)
        self.slack = min(slack, self.interval / 4)
        self.tat = 0.0  # theoretical arrival time of the next conforming request

    def ready_at(self, now: float) -> float:
        """The earliest moment a token is available (now or later)."""
        return max(now, self.tat - self.tolerance)

    def take(self, at: float) -> None:
        """Spend a token at `at` (which must be >= ready_at)."""
        self.tat = max(at - self.slack, self.tat) + self.interval


class ChatLimits:
    """Per-chat pacing: 1 message a second to any chat, and at most N a minute to a group.

    Each chat's bucket holds one token, so a chat whose next slot has passed is simply
    forgotten: memory follows the chats written to in the last few seconds, not the audience.
    """

    def __init__(self, per_chat: float, per_group_minute: float) -> None:
        self.chat_interval = 1.0 / (per_chat * MARGIN) if per_chat > 0 else 0.0
        self.group_interval = 60.0 / (per_group_minute * MARGIN) if per_group_minute > 0 else 0.0
        self._chats: dict[int, float] = {}  # chat id -> earliest time of its next message
        self._groups: dict[int, float] = {}
        self._swept = 0.0

    def ready_at(self, chat_id: int, now: float) -> float:
        """When this chat may get its next message."""
        return max(now, self._chats.get(chat_id, 0.0), self._groups.get(chat_id, 0.0))

    def take(self, chat_id: int, at: float) -> None:
        """Note a message to this chat sent at `at`."""
        self._chats[chat_id] = max(at, self._chats.get(chat_id, 0.0)) + self.chat_interval
        if chat_id < 0:  # groups, supergroups and channels have negative ids
            self._groups[chat_id] = max(at, self._groups.get(chat_id, 0.0)) + self.group_interval
        if at - self._swept > SWEEP_EVERY:
            self._sweep(at)

    def note(self, chat_id: int, at: float) -> None:
        """A reply was sent to this chat at `at`: the next message waits an interval after
        it (replies pace themselves, so they do not push each other's slots further out)."""
        self._chats[chat_id] = max(self._chats.get(chat_id, 0.0), at + self.chat_interval)
        if chat_id < 0:
            self._groups[chat_id] = max(at, self._groups.get(chat_id, 0.0)) + self.group_interval

    def _sweep(self, now: float) -> None:
        """Forget chats whose next slot has come: their buckets are full again."""
        self._chats = {chat: tat for chat, tat in self._chats.items() if tat > now}
        self._groups = {chat: tat for chat, tat in self._groups.items() if tat > now}
        self._swept = now

    def __len__(self) -> int:
        return len(self._chats)


class FloodGate:
    """The whole bot's send budget: the global bucket, a last check as each request leaves,
    and Telegram's 429 pause.

    The bucket paces the engine's sends. The check (`admit`) runs as late as possible, right
    before a request is written, and holds it if the last `rate` requests left within
    WINDOW: a process that stalled (a busy CPU, a slow commit) after giving out slots
    would otherwise release them in a bunch that Telegram sees as a burst over the limit.

    Replies to people (handlers' messages) come first within the budget: a waiting reply
    takes the next free place in the window before any engine request, and each reply
    spends a slot of the bucket, so the engine slows down by as much as people are answered.
    While people are being answered the engine also leaves places free (`reserve`), so a
    reply seldom waits at all: waiting for the next place to free cost `/help` a p50 of
    50-100 ms beside a fan-out.
    """

    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.bucket = TokenBucket(rate * MARGIN) if rate > 0 else None
        self.clock = clock
        self.paused_until = 0.0
        self.pauses = 0
        self.recent: deque[Sent] = deque(maxlen=max(1, int(rate))) if rate > 0 else deque()
        self.held = 0  # requests the last check had to hold back (a sign of stalls)
        self.replies_waiting = 0
        self.reply_times: deque[float] = deque()  # replies let through in the last REPLY_ACTIVE
        self.headroom = max(1, math.ceil(rate * REPLY_HEADROOM)) if rate >= 2 else 0
        self.floor = ENGINE_FLOOR if rate > 0 else 0
        # Engine requests wait for the window one at a time: the rest queue behind the first
        # instead of all waking each time a place frees and all but one going back to sleep.
        self._engine_line = asyncio.Lock()
        self._round_trips: deque[float] = deque(maxlen=RTT_SAMPLES)
        self.min_round_trip = 0.0

    def pause(self, seconds: float) -> None:
        """Telegram said retry_after: nobody in this process sends until then."""
        until = self.clock() + seconds
        if until > self.paused_until:
            self.paused_until = until
            self.pauses += 1
            log.warning("Telegram asked to wait %.1f s (429); all sending paused", seconds)

    def delay(self) -> float:
        """Seconds until a send may go out (0 when one may go now)."""
        now = self.clock()
        at = max(now, self.paused_until)
        if self.bucket is not None:
            at = self.bucket.ready_at(at)
        return at - now

    async def turn(self) -> float:
        """Wait for this process's next send slot and take it; returns the monotonic time."""
        while True:
            wait = self.delay()
            if wait <= 0:
                now = self.clock()
                if self.bucket is not None:
                    self.bucket.take(now)
                return now
            await asyncio.sleep(wait)

    async def admit(self, *, reply: bool = False, tracked: bool = False) -> Sent | None:
        """Let one request leave now, or as soon as the last `rate` left over WINDOW ago and
        were answered over ARRIVAL_WINDOW ago (an engine request also after every reply
        that is waiting, and beside the places kept for replies while people are being
        answered). `tracked`: the caller marks the returned Sent done on answer."""
        if self.recent.maxlen is None:
            return None
        if reply:
            held = await self._reply_place()
        else:
            async with self._engine_line:
                held = await self._engine_place()
        self.held += held
        now = self.clock()
        sent = Sent(now, tracked=tracked, reply=reply)
        self.recent.append(sent)
        if reply:
            self.reply_times.append(now)
            if self.bucket is not None:
                self.bucket.take(max(now, self.bucket.tat))  # the engine's next slot moves back
        return sent

    async def _reply_place(self) -> bool:
        """Wait for a place in the window; True if the reply had to wait."""
        held = False
        self.replies_waiting += 1
        try:
            while (wait := self._window_wait()) > 0:
                held = True
                await asyncio.sleep(wait)
        finally:
            self.replies_waiting -= 1
        return held

    async def _engine_place(self) -> bool:
        """Wait for a place no reply is waiting for or is expected to need; True if held."""
        held = False
        while True:
            wait = max(self._window_wait(), self._reserve_wait())
            if wait <= 0 and not self.replies_waiting:
                return held
            held = True
            await asyncio.sleep(wait if wait > 0 else YIELD_STEP)

    def _due(self, sent: Sent, now: float) -> float:
        """When a request's place in the window frees."""
        due = sent.at + WINDOW
        if sent.tracked:
            # Still on its way, it may reach Telegram any moment (up to a second late: past
            # that it is an upload or a stall, and holding every other send would cost more).
            if sent.done is None:
                reached = min(now, sent.at + 1.0)
            else:
                reached = max(sent.at, sent.done - self.min_round_trip)
            due = max(due, reached + ARRIVAL_WINDOW)
        return due

    def answered(self, sent: Sent) -> None:
        """A tracked request's answer came back now (sent, refused or failed)."""
        now = self.clock()
        sent.done = now
        self._round_trips.append(now - sent.at)
        if len(self._round_trips) >= RTT_TRUSTED:
            self.min_round_trip = min(self._round_trips)

    def _window_wait(self) -> float:
        """Seconds until the window has room for one more request."""
        if len(self.recent) < (self.recent.maxlen or 0):
            return 0.0
        now = self.clock()
        return self._due(self.recent[0], now) - now

    def reserve(self) -> int:
        """Places the engine leaves free for replies now: half as many as replies took within
        the last second and the headroom, while people are being answered (else none)."""
        now = self.clock()
        times = self.reply_times
        while times and times[0] <= now - REPLY_ACTIVE:
            times.popleft()
        if not times:
            return 0
        lately = sum(1 for at in times if at > now - ARRIVAL_WINDOW)
        return min(math.ceil(lately / 2) + self.headroom, self.recent.maxlen or 0)

    def _reserve_wait(self) -> float:
        """Seconds until the engine's share of the window has room: beside the places kept
        for replies, or within its floor (rechecked often: the reserve shrinks as replies
        age, and the engine's own places free)."""
        reserve = self.reserve()
        if not reserve:
            return 0.0
        now = self.clock()
        live = [(due, sent.reply) for sent in self.recent if (due := self._due(sent, now)) > now]
        if sum(1 for _, reply in live if not reply) < self.floor:
            return 0.0
        places = (self.recent.maxlen or 0) - reserve
        if len(live) < places:
            return 0.0
        if places <= 0:
            return RESERVE_RECHECK
        dues = sorted(due for due, _ in live)
        return min(dues[len(dues) - places] - now, RESERVE_RECHECK)

    async def wait_unpaused(self) -> None:
        """Wait out a 429 pause without taking a slot (for sends outside the engine)."""
        # The deadline can move later while we sleep (another 429), hence the loop.
        while (wait := self.paused_until - self.clock()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(wait)


def floods(method: TelegramMethod[Any]) -> bool:
    """Whether a Bot API method puts a message into a chat."""
    name = getattr(method, "__api_method__", "")
    return name.startswith(FLOOD_PREFIXES) and name not in FLOOD_EXEMPT


def paused(method: TelegramMethod[Any]) -> bool:
    """Whether a Bot API method waits out a 429 pause (messages and edits)."""
    name = getattr(method, "__api_method__", "")
    return name.startswith(PAUSED_PREFIXES) and name not in FLOOD_EXEMPT


class ReplyPacer:
    """Handlers' messages keep to each chat's pace (SEND_RATE_PER_CHAT, after `burst` at
    once), and the engine's next message to that chat waits its turn after them: a person
    who keeps the bot talking never earns a 429, which would pause every send. (A reply is
    not held for a broadcast just sent to the chat: people are answered first.)"""

    def __init__(
        self,
        chats: ChatLimits,
        per_chat: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        shared: Any = None,
    ) -> None:
        self.chats = chats
        self.clock = clock
        self.interval = 1.0 / (per_chat * MARGIN) if per_chat > 0 else 0.0
        self.tolerance = self.interval * max(burst - 1, 0)
        self._tat: dict[int, float] = {}
        # chat id -> when its latest message reached Telegram at the latest (a reply's booked
        # slot until it comes back, then the moment it came back)
        self._last: dict[int, float] = {}
        self._flying: dict[int, int] = {}  # chat id -> engine messages on their way to it
        self._prune_at = PRUNE_AT
        # Redis, when several processes answer the same people (webhooks behind a proxy):
        # one person's consecutive updates may be handled by two processes, whose replies
        # must keep the chat's pace between them too.
        self.shared: Any = shared if self.interval and not self.tolerance else None

    def _book(self, chat_id: int) -> float:
        """Reserve the chat's next slot; the moment it is due."""
        now = self.clock()
        tat = self._tat.get(chat_id, 0.0)
        at = max(now, tat - self.tolerance)
        self._tat[chat_id] = max(at, tat) + self.interval
        self._last[chat_id] = max(at, self._last.get(chat_id, 0.0))
        self.chats.note(chat_id, at)
        if len(self._tat) > PRUNE_AT:
            self._tat = {chat: due for chat, due in self._tat.items() if due > now}
        return at

    async def after_latest(self, chat_id: int) -> bool:
        """An engine message to this chat waits a full interval after the chat's latest
        message reached Telegram: a reply booked while the engine waited for the shared
        budget (replies go first), or the engine's own previous message, slowed on its way by
        a busy CPU after its slot was taken. Two messages within a second to one chat earn a
        429, which pauses every send of the bot. True if it had to wait."""
        waited = False
        while True:
            if self._flying.get(chat_id):
                wait = FLIGHT_STEP  # it may reach Telegram any moment; its answer says when
            elif (last := self._last.get(chat_id)) is not None:
                wait = last + self.interval - self.clock()
                if wait <= 0:
                    break
            else:
                break
            await asyncio.sleep(wait)
            waited = True
        return waited

    def leaving(self, chat_id: int) -> None:
        """An engine message to this chat is written now (see `after_latest`)."""
        self._flying[chat_id] = self._flying.get(chat_id, 0) + 1

    def landed(self, chat_id: int) -> None:
        """The engine message written by `leaving` came back (sent or refused)."""
        left = self._flying.pop(chat_id, 1) - 1
        if left > 0:
            self._flying[chat_id] = left
        self.replied(chat_id)

    def replied(self, chat_id: int) -> None:
        """A message to this chat came back from Telegram: it arrived there by now, so the
        engine's next message counts its interval from here (a reply's booking was earlier)."""
        now = self.clock()
        self._last[chat_id] = max(now, self._last.get(chat_id, 0.0))
        if len(self._last) > self._prune_at:  # chats whose interval has run out
            self._last = {c: at for c, at in self._last.items() if at + self.interval > now}
            self._prune_at = max(PRUNE_AT, 2 * len(self._last))

    async def turn(self, chat_id: int) -> None:
        """Book this chat's next slot and wait for it (callers are served in order)."""
        at = self._book(chat_id)
        now = self.clock()
        if at > now:
            await asyncio.sleep(at - now)
        if self.shared is not None:
            await self._shared_turn(chat_id)

    async def _shared_turn(self, chat_id: int) -> None:
        """Take the chat's slot in Redis (a key that lives one interval), waiting out the
        slot another process holds."""
        redis, key = self.shared, f"pace:{chat_id}"
        lifetime = max(int(self.interval * 1000), 1)
        while not await redis.set(key, 1, px=lifetime, nx=True):
            left = await redis.pttl(key)
            await asyncio.sleep(max(int(left), 1) / 1000)

    def hold(self, chat_id: int, seconds: float) -> None:
        """Telegram asked to wait before writing to this chat again."""
        until = self.clock() + seconds
        self._tat[chat_id] = max(self._tat.get(chat_id, 0.0), until + self.tolerance)


class FloodGateMiddleware(BaseRequestMiddleware):
    """Every request of the bot honours a 429 seen by any other: Telegram pauses the bot.

    Requests made while an update is handled are replies and go first (see FloodGate); they
    also keep to about one message a second in each chat after a short burst (ReplyPacer), so
    a person who keeps the bot talking never earns a 429 that pauses everyone's messages."""

    def __init__(
        self,
        gate: FloodGate,
        pacer: ReplyPacer | None = None,
        on_429: Callable[[], None] | None = None,
    ) -> None:
        self.gate = gate
        self.pacer = pacer
        self.on_429 = on_429

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if paused(method):
            await self.gate.wait_unpaused()
        if not floods(method):
            return await self._send(make_request, bot, method, reply=False)
        reply = UPDATE_SESSION.get() is not None or GUARD_REPLY.get()
        chat_id = getattr(method, "chat_id", None)
        if self.pacer is None or not isinstance(chat_id, int):
            return await self._send(make_request, bot, method, reply=reply)
        if not reply:
            if not ENGINE_SEND.get():
                return await self._send(make_request, bot, method, reply=False)
            await self.pacer.after_latest(chat_id)
            return await self._send(make_request, bot, method, reply=False, engine_chat=chat_id)
        await self.pacer.turn(chat_id)
        try:
            return await self._send(make_request, bot, method, reply=True, own_chat=True)
        except TelegramRetryAfter as exc:
            # A reply refused for its chat's pace: that chat waits, not every send, and the
            # reply goes once more after the wait (a 429 means nothing was sent).
            self.pacer.hold(chat_id, exc.retry_after)
            await self.pacer.turn(chat_id)
            return await self._send(make_request, bot, method, reply=True)
        finally:
            self.pacer.replied(chat_id)

    async def _send(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
        *,
        reply: bool,
        own_chat: bool = False,
        engine_chat: int | None = None,
    ) -> Response[TelegramType]:
        """One request through the gate; a 429 pauses everything (unless `own_chat`: the
        caller handles it for its chat)."""
        sent = await self.gate.admit(reply=reply, tracked=True) if floods(method) else None
        # The engine waited for the budget while replies went first: one may have gone to
        # this very chat, or its own previous message there may still be on its way. Its
        # message then waits out the chat's second, and leaves at the time the gate now
        # records; while it is in flight, the next one to the chat waits for it.
        pacer = self.pacer if engine_chat is not None else None
        if pacer is not None and engine_chat is not None:  # (both: for the type checker)
            if await pacer.after_latest(engine_chat) and sent is not None:
                sent.at = self.gate.clock()
            pacer.leaving(engine_chat)
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter as exc:
            if not own_chat:
                self.gate.pause(exc.retry_after)
            if self.on_429 is not None:
                self.on_429()
            raise
        finally:
            if sent is not None:
                self.gate.answered(sent)
            if pacer is not None and engine_chat is not None:
                pacer.landed(engine_chat)


def build_gate(settings: Settings) -> FloodGate:
    """The process-wide gate for the configured global rate."""
    return FloodGate(settings.send_rate_global)
