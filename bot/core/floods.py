"""Floods in and out: one person sending hundreds of updates a second must not slow the bot
for everyone, and a slow store must not leave a tapped button spinning past Telegram's limit.

- `FloodGuard` (first update middleware, before any database work): a token bucket per
  person; over it, they are asked once to slow down, in their language, and the rest dropped.
- (The bot's replies to one chat are paced in bot.delivery.ratelimit.ReplyPacer.)
- `EarlyAnswer` + `LateAnswers`: a callback query still unanswered after a few seconds is
  answered (empty) so the button stops spinning in time; the handler's own answer, when it
  comes, is then shown as a message instead of being refused by Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramAPIError
from aiogram.methods import AnswerCallbackQuery, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject, Update, User

from bot.core.fsm_storage import UPDATE_SESSION
from bot.core.i18n import Translator, match_locale

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger(__name__)
# Set while the guard itself answers: its message is a reply like a handler's (paced per chat).
GUARD_REPLY: ContextVar[bool] = ContextVar("guard_reply", default=False)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
SWEEP_EVERY = 30.0  # seconds between two clean-ups of the per-person and per-chat tables
MAX_WARNED = 10_000  # people told to slow down whose flood may still be going on


class Buckets:
    """Token buckets by key (GCRA: one float each): `burst` at once, then `rate` a second."""

    def __init__(
        self, rate: float, burst: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = 1.0 / rate
        self.tolerance = self.interval * max(burst - 1.0, 0.0)
        self.clock = clock
        self._tat: dict[int, float] = {}
        self._swept = clock()

    def wait(self, key: int) -> float:
        """Seconds until `key` may go (0: now)."""
        return max(0.0, self._tat.get(key, 0.0) - self.tolerance - self.clock())

    def full(self, key: int) -> bool:
        """Whether `key`'s bucket has refilled completely (they have been calm a while)."""
        return self._tat.get(key, 0.0) <= self.clock()

    def take(self, key: int) -> None:
        """Spend one token of `key` now."""
        self.reserve(key)

    def reserve(self, key: int) -> float:
        """Book `key`'s next token and return the seconds until it is due (0: now); callers
        waiting on one key are served in the order they booked."""
        now = self.clock()
        tat = self._tat.get(key, 0.0)
        at = max(now, tat - self.tolerance)
        self._tat[key] = max(at, tat) + self.interval
        if now - self._swept > SWEEP_EVERY:
            self._tat = {k: t for k, t in self._tat.items() if t > now}
            self._swept = now
        return at - now

    def __len__(self) -> int:
        return len(self._tat)


class FloodGuard(BaseMiddleware):
    """Drop a person's updates beyond their bucket; tell them once, in their language."""

    def __init__(
        self,
        i18n: Translator,
        *,
        rate: float,
        burst: int,
        default_locale: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.i18n = i18n
        self.default_locale = default_locale
        self.buckets = Buckets(rate, burst, clock=clock)
        self.warned: set[int] = set()
        self.dropped = 0

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or user.is_bot:
            return await handler(event, data)
        if self.buckets.wait(user.id) <= 0:
            if self.buckets.full(user.id):
                self.warned.discard(user.id)  # calm again: a new flood is told again
            self.buckets.take(user.id)
            return await handler(event, data)
        self.dropped += 1
        if user.id not in self.warned and isinstance(event, Update):
            if len(self.warned) > MAX_WARNED:  # flooders who never came back
                self.warned.clear()
            self.warned.add(user.id)
            await self._slow_down(event, user)
        return None

    async def _slow_down(self, update: Update, user: User) -> None:
        """Ask them, once, to slow down (only in their private chat, never in a group)."""
        locale = match_locale(user.language_code, self.default_locale)
        text = self.i18n.gettext(
            "You are sending messages too fast. Please wait a moment: I skip what comes "
            "in the meantime.",
            locale=locale,
        )
        token = GUARD_REPLY.set(True)
        try:
            if update.callback_query is not None:
                await update.callback_query.answer(text, show_alert=True)
            elif update.message is not None and update.message.chat.type == "private":
                await update.message.answer(text)
        except TelegramAPIError as exc:
            log.info("could not ask user to slow down: %s", exc)
        finally:
            GUARD_REPLY.reset(token)


@dataclass
class _Query:
    user_id: int
    answered: bool = False
    early: AnswerCallbackQuery | None = None  # the empty answer given in the handler's place


class LateAnswers(BaseRequestMiddleware):
    """Callback queries in handling: an answer to one already answered early becomes a
    message to the person (an alert or notice they should still read) or nothing."""

    def __init__(self) -> None:
        self.queries: dict[str, _Query] = {}

    def track(self, query_id: str, user_id: int) -> _Query:
        """Remember a query while its update is handled."""
        query = self.queries[query_id] = _Query(user_id)
        return query

    def forget(self, query_id: str) -> None:
        self.queries.pop(query_id, None)

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        answer = method if isinstance(method, AnswerCallbackQuery) else None
        query = self.queries.get(answer.callback_query_id) if answer is not None else None
        if answer is None or query is None or query.early is None or answer is query.early:
            if query is not None:
                query.answered = True
            return await make_request(bot, method)
        if answer.text:
            await bot.send_message(query.user_id, answer.text)
        return Response[TelegramType](ok=True, result=True)  # type: ignore[arg-type]


class EarlyAnswer(BaseMiddleware):
    """Answer a callback query (empty) when its handler has not within `after` seconds."""

    def __init__(self, late: LateAnswers, after: float) -> None:
        self.late = late
        self.after = after
        self.early_answers = 0

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        call = event.callback_query if isinstance(event, Update) else None
        if call is None:
            return await handler(event, data)
        query = self.late.track(call.id, call.from_user.id)
        timer = asyncio.create_task(self._answer_later(call.id, query, data["bot"]))
        try:
            return await handler(event, data)
        finally:
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timer
            self.late.forget(call.id)

    async def _answer_later(self, query_id: str, query: _Query, bot: Bot) -> None:
        # This task runs beside the handler: it must never commit the update's session (the
        # commit-before-telling middleware would, mid-query), so it sends without one.
        UPDATE_SESSION.set(None)
        await asyncio.sleep(self.after)
        if query.answered:
            return
        query.early = AnswerCallbackQuery(callback_query_id=query_id)
        self.early_answers += 1
        try:
            await bot(query.early)
        except TelegramAPIError as exc:
            log.info("early answer to a callback query failed: %s", exc)
