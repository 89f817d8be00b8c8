"""/status: how the service is doing, for network admins."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.operations.status import status_text
from handlers.filters import network_admin, not_admin
from models.member import Member

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
Gettext = Callable[..., str]


@router.message(Command("status"))
async def show_status(
    message: Message, member: Member | None, session: AsyncSession, clock: Clock, _: Gettext
) -> None:
    """Members, queue, pace, scheduler lag, last errors and version."""
    if member is None or not network_admin(member):
        await message.answer(not_admin(_))
        return
    await message.answer(await status_text(session, clock.now(), member.locale, _))
