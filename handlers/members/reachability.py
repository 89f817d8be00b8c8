"""Whether the bot can write to a member: blocking it marks them unreachable, unblocking not."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import ChatMemberUpdated

from bot.core.clock import Clock
from models.member import Member

router = Router(name=__name__)
router.my_chat_member.filter(F.chat.type == "private")


@router.my_chat_member()
async def bot_status_changed(
    event: ChatMemberUpdated, member: Member | None, clock: Clock
) -> None:
    """Telegram tells us when a member blocks (kicked) or unblocks the bot in their chat."""
    if member is None:
        return
    if event.new_chat_member.status == "kicked":
        member.unreachable_at = clock.now()
    else:
        member.unreachable_at = None
