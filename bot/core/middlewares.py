"""Per-update context: one database session, the current member, and their language.

Order (see bot.core.app.create_dispatcher): the session is opened first (no connection is
taken until the first statement), then aiogram's FSM middleware takes the user's lock and
reads the state through that session (loading the member in the same statement), then the
handler runs and the session is committed, still under the lock. A handler that replies
to Telegram commits first (CommitBeforeTelling, on the bot's requests): commit, then tell.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.fsm.context import FSMContext
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject, User
from aiogram.utils.i18n.middleware import I18nMiddleware
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core import inbox_marks
from bot.core.clock import Clock
from bot.core.db import has_writes
from bot.core.fsm_storage import UPDATE_SESSION, preloaded_member
from bot.core.i18n import match_locale
from models.member import get_member

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
SEEN_EVERY = timedelta(minutes=5)


class DbSessionMiddleware(BaseMiddleware):
    """Give each update one session (the FSM storage uses it too)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self.sessionmaker() as session:
            data["session"] = session
            inbox_marks.bind(session)  # webhook mode: its inbox row is marked done as it commits
            token = UPDATE_SESSION.set(session)
            try:
                return await handler(event, data)
            finally:
                UPDATE_SESSION.reset(token)


class CommitMiddleware(BaseMiddleware):
    """Commit the update's session when the handler returns (inside the user's FSM lock, so
    their next update sees what this one wrote)."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        result = await handler(event, data)
        await data["session"].commit()
        return result


class CommitBeforeTelling(BaseRequestMiddleware):
    """Commit first, then tell: before a handler sends, edits or answers anything, what its
    update wrote so far is committed. A failure after the reply (Telegram refusing a later
    call, a crash) can then no longer undo what the member was just told had happened; and
    a failure of the commit itself reaches the member as an error, never as a success. In
    webhook mode the update's inbox row is marked done in that commit: an update whose reply
    went out is never handled again."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        session = UPDATE_SESSION.get()
        if (
            session is not None
            and method.__api_method__.startswith(TELLING)
            and (has_writes(session) or inbox_marks.pending(session))
        ):
            await session.commit()
        return await make_request(bot, method)


# Bot API methods that show the member something (reads and invite links are not telling).
TELLING = ("send", "edit", "answer", "copy", "forward", "delete", "pin", "unpin")


class MemberMiddleware(BaseMiddleware):
    """Load the member behind the update (None before consent) and note that they are back."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        member = None
        if user is not None and not user.is_bot:
            session = data["session"]
            known, member = preloaded_member(session, user.id)
            if not known:
                member = await get_member(session, user.id)
            if member is not None:
                now = self.clock.now()
                if now - member.last_seen_at > SEEN_EVERY:
                    member.last_seen_at = now
                if member.unreachable_at is not None:
                    # They wrote to us, so they unblocked the bot: deliveries reach them again.
                    member.unreachable_at = None
        data["member"] = member
        return await handler(event, data)


class LocaleMiddleware(I18nMiddleware):
    """Member's language, else the one picked during onboarding, else Telegram's, else default."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        member = data.get("member")
        if member is not None:
            return str(member.locale)
        state: FSMContext | None = data.get("state")
        if state is not None:
            chosen = (await state.get_data()).get("locale")
            if chosen:
                return str(chosen)
        user: User | None = data.get("event_from_user")
        return match_locale(user.language_code if user else None, self.i18n.default_locale)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        locale = await self.get_locale(event, data)
        data.update(i18n=self.i18n, _=self.i18n.gettext, locale=locale)
        with self.i18n.context(), self.i18n.use_locale(locale):
            return await handler(event, data)
