"""Deep links (`t.me/<bot>?start=<payload>`) that take a member straight to something."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import Bot
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.i18n import Translator
from models.member import Member

Gettext = Callable[..., str]


async def handle_payload(
    message: Message,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    settings: Settings,
    bot: Bot,
    i18n: Translator,
    payload: str,
) -> None:
    """Route a payload by its prefix; an unknown one gets a clear answer."""
    await message.answer(_("This link is not valid any more."))
