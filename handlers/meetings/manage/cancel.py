"""Cancelling a meeting (or a date poll), after a confirmation; everyone invited is told."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.meetings.callbacks import ManageCb
from bot.meetings.jobs import cancel_meeting
from bot.meetings.manage_views import cancel_question
from bot.meetings.service import Managed
from handlers.meetings.access import meeting_router
from handlers.ui import clear_buttons, pressed
from models.meeting import Meeting
from models.member import Member

router = meeting_router(__name__, manages=True)
Gettext = Callable[..., str]


@router.callback_query(ManageCb.filter(F.action == "cancel"), flags={"meeting": Managed.LIVE})
async def ask_cancel(call: CallbackQuery, meeting: Meeting, member: Member, _: Gettext) -> None:
    """Ask first: cancelling tells everyone invited."""
    message = pressed(call)
    await call.answer()
    text, markup = cancel_question(meeting, member.locale, _)
    await message.answer(text, reply_markup=markup)


@router.callback_query(ManageCb.filter(F.action == "cancel_ok"), flags={"meeting": Managed.LIVE})
async def cancel(
    call: CallbackQuery,
    meeting: Meeting,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    clock: Clock,
) -> None:
    """Cancel it: notices to everyone invited, and no reminder goes."""
    message = pressed(call)
    await call.answer()
    await clear_buttons(call)
    await cancel_meeting(session, meeting, member, clock.now())
    await state.clear()
    await message.answer(
        _("🚫 The meeting is cancelled. Everyone invited is being told; no reminder will go.")
    )
