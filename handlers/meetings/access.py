"""Who may use the meetings' handlers: approved members in private chats, and one check for
every action on a meeting a coordinator manages.

A management handler names what the meeting must still be in a flag,
`@router.callback_query(ManageCb.filter(F.action == "cancel"), flags={"meeting": Managed.LIVE})`,
and receives the `meeting` from `MeetingAccess`, checked against the member's role at the moment
of the tap (a coordinator dismissed since the button was sent is refused). Typed answers while
changing a meeting are checked the same way, for the meeting the conversation is about.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, F, Router
from aiogram.dispatcher.flags import get_flag
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.meetings.service import Managed, Refusal, manageable
from handlers.filters import ActiveMember

Gettext = Callable[..., str]
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def meeting_router(name: str, *, manages: bool = False) -> Router:
    """A router for approved members in private chats; `manages` adds the management check."""
    router = Router(name=name)
    router.message.filter(F.chat.type == "private", ActiveMember())
    router.callback_query.filter(F.message.chat.type == "private", ActiveMember())
    if manages:
        router.message.middleware(MeetingAccess())
        router.callback_query.middleware(MeetingAccess())
    return router


def tap_refusal(refusal: Refusal, _: Gettext) -> str:
    """What a refused management button answers."""
    texts = {
        Refusal.GONE: _("This meeting is no longer available."),
        Refusal.NOT_MANAGER: _(
            "Only the group's coordinators and network admins can manage this meeting."
        ),
        Refusal.CANCELLED: _("This meeting was cancelled."),
        Refusal.STARTED: _("This meeting has already started."),
    }
    return texts[refusal]


def typed_refusal(refusal: Refusal, _: Gettext) -> str:
    """What a refused typed answer gets (the change it belonged to is dropped)."""
    if refusal is Refusal.STARTED:
        return _("This meeting has already started.")
    return _("This meeting is no longer available.")


class MeetingAccess(BaseMiddleware):
    """For handlers flagged `meeting`: load the meeting (the button's, or the one being
    changed) and check the member may still manage it; refuse with a clear answer if not."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        need: Managed | None = get_flag(data, "meeting")
        if need is None:
            return await handler(event, data)
        if isinstance(event, CallbackQuery):
            meeting_id = data["callback_data"].meeting_id
        else:
            meeting_id = int((await data["state"].get_data()).get("meeting_id") or 0)
        found = await manageable(
            data["session"], data["member"], meeting_id, need, data["clock"].now()
        )
        if isinstance(found, Refusal):
            await self.refuse(event, data, found)
            return None
        data["meeting"] = found
        return await handler(event, data)

    @staticmethod
    async def refuse(event: TelegramObject, data: dict[str, Any], refusal: Refusal) -> None:
        _ = data["_"]
        if isinstance(event, CallbackQuery):
            await event.answer(tap_refusal(refusal, _), show_alert=True)
        elif isinstance(event, Message):
            await data["state"].clear()
            await event.answer(typed_refusal(refusal, _))
