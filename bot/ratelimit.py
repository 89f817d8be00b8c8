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
# How often the chat limiter drops chats whose bucket is full again.
SWEEP_EVERY = 1.0
# Methods that put something into a chat (and so count against the flood limits).
FLOOD_PREFIXES = ("send", "copy", "forward", "edit")
FLOOD_EXEMPT = frozenset({"sendChatAction"})


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

    def _sweep(self, now: float) -> None:
        """Forget chats whose next slot has come: their buckets are full again."""
        self._chats = {chat: tat for chat, tat in self._chats.items() if tat > now}
        self._groups = {chat: tat for chat, tat in self._groups.items() if tat > now}
        self._swept = now

    def __len__(self) -> int:
        return len(self._chats)


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
