"""/polls: a member's open consultations (and, for coordinators, the ones they manage), and
any of them sent again in its current state."""

from __future__ import annotations

from collections.abc import Callable

from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.app import App
from bot.polls.messages import poll_for, polls_overview
from bot.polls.service import VoteResult
from bot.polls.views import ShowCb, refusal
from handlers.polls.access import PollNeed, poll_router
from handlers.ui import pressed
from models.member import Member
from models.poll import Poll, in_audience

router = poll_router(__name__)
Gettext = Callable[..., str]


@router.message(Command("polls"))
async def list_polls(
    message: Message, member: Member | None, session: AsyncSession, _: Gettext
) -> None:
    if member is None or not member.is_active:
        await message.answer(_("Consultations are for approved members. /help"))
        return
    overview = await polls_overview(session, member, _)
    await message.answer(overview.text, reply_markup=overview.markup)


@router.callback_query(ShowCb.filter(), flags={"poll": PollNeed.EXISTS})
async def show_poll(
    call: CallbackQuery,
    poll: Poll,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
    app: App,
) -> None:
    """Send the poll again, in its current state (its voice note first)."""
    message = pressed(call)
    if member is None or not await in_audience(session, poll, member.id):
        await call.answer(refusal(VoteResult.NOT_FOR_YOU, _), show_alert=True)
        return
    await call.answer()
    pm = await poll_for(session, poll, member, _, app.settings.default_locale)
    if pm.voice:
        await message.answer_voice(pm.voice)
    await message.answer(pm.text, reply_markup=pm.markup)
