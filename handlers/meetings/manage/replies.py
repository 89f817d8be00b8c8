"""A coordinator's meetings: the list, and one meeting's replies with names (or the date
poll's ranking) with the actions possible now."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.config import Settings
from bot.meetings.callbacks import ManageCb, MeetingCb
from bot.meetings.manage_views import manage_view, managed_list
from bot.meetings.service import Managed
from handlers.meetings.access import meeting_router
from handlers.meetings.redraw import redraw
from handlers.ui import pressed
from models.meeting import Meeting, managed_meetings
from models.member import Member

router = meeting_router(__name__, manages=True)
Gettext = Callable[..., str]


@router.callback_query(MeetingCb.filter(F.action == "managed"))
async def list_managed(
    call: CallbackQuery, member: Member, session: AsyncSession, _: Gettext, clock: Clock
) -> None:
    """The meetings and date polls this coordinator may manage."""
    message = pressed(call)
    await call.answer()
    text, markup = managed_list(await managed_meetings(session, member, clock.now()), member, _)
    await message.answer(text, reply_markup=markup)


@router.callback_query(MeetingCb.filter(F.action == "manage"), flags={"meeting": Managed.ANY})
async def open_managed(
    call: CallbackQuery,
    meeting: Meeting,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    settings: Settings,
    clock: Clock,
) -> None:
    """A coordinator opens one meeting: replies, or the date poll's ranking."""
    message = pressed(call)
    await call.answer()
    text, markup = await manage_view(
        session, meeting, member, _, settings.default_locale, clock.now()
    )
    await message.answer(text, reply_markup=markup)


@router.callback_query(ManageCb.filter(F.action == "refresh"), flags={"meeting": Managed.ANY})
async def refresh(
    call: CallbackQuery,
    meeting: Meeting,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    settings: Settings,
    clock: Clock,
) -> None:
    """The same view, with the replies as they are now."""
    message = pressed(call)
    await call.answer()
    text, markup = await manage_view(
        session, meeting, member, _, settings.default_locale, clock.now()
    )
    await redraw(message, text, markup)
