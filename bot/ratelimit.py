"""Telegram's flood limits, kept rather than provoked: token buckets per bot, chat and group."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response

    from bot.config import Settings

log = logging.getLogger(__name__)

# Aim a little under each published limit: requests reach Telegram with a few milliseconds of
# jitter, and a bucket run at exactly 30/s would now and then land 31 inside one second.
MARGIN = 0.985
# Chat limiters forget a chat this long after its last send (its bucket is full again anyway).
FORGET_AFTER = 120.0
# Methods that put something into a chat (and so count against the flood limits).
FLOOD_PREFIXES = ("send", "copy", "forward", "edit")
FLOOD_EXEMPT = frozenset({"sendChatAction"})


class TokenBucket:
    """A bucket of `burst` tokens refilled at `rate` per second (GCRA: no timer, one float)."""

    def __init__(self, rate: float, burst: float = 1.0) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.tolerance = self.interval * max(burst - 1.0, 0.0)
        self.tat = 0.0  # theoretical arrival time of the next conforming request

    def ready_at(self, now: float) -> float:
        """The earliest moment a token is available (now or later)."""
        return max(now, self.tat - self.tolerance)

    def take(self, at: float) -> None:
        """Spend a token at `at` (which must be >= ready_at)."""
        self.tat = max(at, self.tat) + self.interval


class ChatLimits:
    """Per-chat pacing: 1 message a second to any chat, and at most N a minute to a group."""

    def __init__(self, per_chat: float, per_group_minute: float) -> None:
        self.per_chat = per_chat * MARGIN
        self.per_group = per_group_minute / 60.0 * MARGIN
        self._chats: dict[int, TokenBucket] = {}
        self._groups: dict[int, TokenBucket] = {}
        self._last: dict[int, float] = {}
        self._swept = time.monotonic()

    def ready_at(self, chat_id: int, now: float) -> float:
        """When this chat may get its next message."""
        at = now
        bucket = self._chats.get(chat_id)
        if bucket is not None:
            at = bucket.ready_at(at)
        group = self._groups.get(chat_id)
        if group is not None:
            at = group.ready_at(at)
        return at

    def take(self, chat_id: int, at: float) -> None:
        """Note a message to this chat sent at `at`."""
        bucket = self._chats.get(chat_id)
        if bucket is None:
            bucket = self._chats[chat_id] = TokenBucket(self.per_chat)
        bucket.take(at)
        if chat_id < 0:  # groups, supergroups and channels have negative ids
            group = self._groups.get(chat_id)
            if group is None:
                group = self._groups[chat_id] = TokenBucket(self.per_group)
            group.take(at)
        self._last[chat_id] = at
        if at - self._swept > FORGET_AFTER:
            self._sweep(at)

    def _sweep(self, now: float) -> None:
        """Drop chats idle long enough that their buckets are full: memory stays flat."""
        stale = [chat for chat, last in self._last.items() if now - last > FORGET_AFTER]
        for chat in stale:
            self._last.pop(chat, None)
            self._chats.pop(chat, None)
            self._groups.pop(chat, None)
        self._swept = now

    def __len__(self) -> int:
        return len(self._last)


class FloodGate:
    """The whole bot's send budget: the global bucket plus Telegram's 429 pause."""

    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.bucket = TokenBucket(rate * MARGIN) if rate > 0 else None
        self.clock = clock
        self.paused_until = 0.0
        self.pauses = 0

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

    async def wait_unpaused(self) -> None:
        """Wait out a 429 pause without taking a slot (for sends outside the engine)."""
        # The deadline can move later while we sleep (another 429), hence the loop.
        while (wait := self.paused_until - self.clock()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(wait)


def floods(method: TelegramMethod[Any]) -> bool:
    """Whether a Bot API method puts a message into a chat."""
    name = getattr(method, "__api_method__", "")
    return name.startswith(FLOOD_PREFIXES) and name not in FLOOD_EXEMPT


class FloodGateMiddleware(BaseRequestMiddleware):
    """Every request of the bot honours a 429 seen by any other: Telegram pauses the bot."""

    def __init__(self, gate: FloodGate) -> None:
        self.gate = gate

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        sending = floods(method)
        if sending:
            await self.gate.wait_unpaused()
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter as exc:
            self.gate.pause(exc.retry_after)
            raise


def build_gate(settings: Settings) -> FloodGate:
    """The process-wide gate for the configured global rate."""
    return FloodGate(settings.send_rate_global)
