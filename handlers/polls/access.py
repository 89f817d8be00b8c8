"""One check for every action on a consultation's button, as `GroupAccess` is for groups.

A handler names what it needs in a flag, `@router.callback_query(SomeCb.filter(),
flags={"poll": PollNeed.MANAGE})`, and receives the checked `poll`: it exists, and for
management the member may manage it as their role stands at the moment of the tap
(`bot.polls.service.can_manage`). Buttons of a coordinator's preview carry poll 0.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, F, Router
from aiogram.dispatcher.flags import get_flag
from aiogram.types import CallbackQuery, TelegramObject

from bot.polls.service import can_manage
from models.poll import Poll, get_poll

Gettext = Callable[..., str]
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class PollNeed(enum.StrEnum):
    """What a button needs of its poll and of the member who taps it."""

    EXISTS = "exists"  # the poll must exist; the handler decides the rest
    ANSWER = "answer"  # as EXISTS; a preview's button (poll 0) counts nothing and says so
    MANAGE = "manage"  # and the member manages it now: its author, coordinators, admins


def preview_refusal(_: Gettext) -> str:
    """Buttons of a coordinator's preview answer like the real poll but count nothing."""
    return _("This is a preview: nothing was counted.")


async def checked_poll(call: CallbackQuery, data: dict[str, Any], need: PollNeed) -> Poll | None:
    """The button's poll, or None after telling the member why the button does nothing."""
    _: Gettext = data["_"]
    poll_id: int = data["callback_data"].poll
    if need is PollNeed.ANSWER and poll_id == 0:
        await call.answer(preview_refusal(_), show_alert=True)
        return None
    poll = await get_poll(data["session"], poll_id) if poll_id > 0 else None
    if poll is None:
        await call.answer(_("This consultation no longer exists."), show_alert=True)
        return None
    if need is PollNeed.MANAGE and not await can_manage(data["session"], data["member"], poll):
        await call.answer(
            _("Only the coordinators of this consultation can do this."), show_alert=True
        )
        return None
    return poll


class PollAccess(BaseMiddleware):
    """For callback handlers flagged `poll`: load the button's poll and check the member."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        need = get_flag(data, "poll")
        if need is None or not isinstance(event, CallbackQuery):
            return await handler(event, data)
        poll = await checked_poll(event, data, need)
        if poll is None:
            return None
        data["poll"] = poll
        return await handler(event, data)


def poll_router(name: str) -> Router:
    """A router for consultation buttons in private chats, with the `poll` flag honoured."""
    router = Router(name=name)
    router.message.filter(F.chat.type == "private")
    router.callback_query.filter(F.message.chat.type == "private")
    router.callback_query.middleware(PollAccess())
    return router
