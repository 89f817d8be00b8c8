"""/solidarity: open alerts and what the member did; admins open the cases to review."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.solidarity.callbacks import SolidarityCb
from bot.solidarity.screens import home, panel
from handlers.solidarity.access import refusal, solidarity_router, tapped
from models.member import Member
from models.solidarity import CaseStatus, get_case

router = solidarity_router(__name__)
Gettext = Callable[..., str]


@router.message(Command("solidarity"))
async def solidarity(message: Message, member: Member, session: AsyncSession, _: Gettext) -> None:
    """The member's open alerts, and ➕ to raise a case."""
    text, markup = await home(session, member, _)
    await message.answer(text, reply_markup=markup)


@router.callback_query(SolidarityCb.filter(F.action == "open"))
async def open_case(
    call: CallbackQuery,
    callback_data: SolidarityCb,
    member: Member,
    session: AsyncSession,
    settings: Settings,
    _: Gettext,
) -> None:
    """An admin opens a case's panel."""
    case = await get_case(session, callback_data.case_id)
    statuses = tuple(CaseStatus)
    why = refusal(member, case, statuses, _)
    if why is not None or case is None:
        await call.answer(why, show_alert=True)
        return
    await call.answer()
    text, markup = await panel(session, case, member, settings.default_locale, _)
    await tapped(call).answer(text, reply_markup=markup)
