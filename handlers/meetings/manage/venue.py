"""A new link or place for a meeting (or removing one, while the other remains), told to
everyone invited at once."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.meetings.callbacks import ManageCb
from bot.meetings.drafts import MAX_PLACE, clean, valid_link
from bot.meetings.jobs import change_link, change_place
from bot.meetings.manage_views import venue_question
from bot.meetings.service import Managed
from handlers.meetings.access import meeting_router
from handlers.meetings.manage.conversation import ManageMeeting
from handlers.ui import AnyMessage, clear_buttons, pressed
from models.meeting import Meeting
from models.member import Member

router = meeting_router(__name__, manages=True)
Gettext = Callable[..., str]
UPCOMING = {"meeting": Managed.UPCOMING}


async def changed(message: AnyMessage, state: FSMContext, _: Gettext) -> None:
    """End the change and say everyone is being told."""
    await state.clear()
    await message.answer(_("✅ Changed. Everyone invited is being told."))


@router.callback_query(ManageCb.filter(F.action.in_({"link", "place"})), flags=UPCOMING)
async def ask_venue(
    call: CallbackQuery,
    callback_data: ManageCb,
    meeting: Meeting,
    state: FSMContext,
    _: Gettext,
) -> None:
    """Ask for the new link or place."""
    message = pressed(call)
    await call.answer()
    field = callback_data.action
    await state.set_state(ManageMeeting.link if field == "link" else ManageMeeting.place)
    await state.set_data({"meeting_id": meeting.id})
    text, markup = venue_question(meeting.id, field, _)
    await message.answer(text, reply_markup=markup)


@router.callback_query(ManageCb.filter(F.action.in_({"link_rm", "place_rm"})), flags=UPCOMING)
async def remove_venue(
    call: CallbackQuery,
    callback_data: ManageCb,
    meeting: Meeting,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    clock: Clock,
) -> None:
    """Remove the link or the place, if the other remains so members know where to go."""
    message = pressed(call)
    await call.answer()
    link = callback_data.action == "link_rm"
    if not (meeting.place if link else meeting.link):
        await message.answer(_("Please give a link or a place, so members know where to go."))
        return
    await clear_buttons(call)
    change = change_link if link else change_place
    await change(session, meeting, None, member, clock.now())
    await changed(message, state, _)


@router.message(ManageMeeting.link, F.text, flags=UPCOMING)
async def typed_link(
    message: Message,
    meeting: Meeting,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    clock: Clock,
) -> None:
    """A new link, checked before it reaches everyone."""
    link = (message.text or "").strip()
    if not valid_link(link):
        await message.answer(
            _("Please send a web link starting with https:// (or http://), without spaces.")
        )
        return
    await change_link(session, meeting, link, member, clock.now())
    await changed(message, state, _)


@router.message(ManageMeeting.place, F.text, flags=UPCOMING)
async def typed_place(
    message: Message,
    meeting: Meeting,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    clock: Clock,
) -> None:
    """A new place."""
    place = clean((message.text or "").strip(), MAX_PLACE)
    if place is None:
        await message.answer(
            _("Please send a place of up to {limit} characters.").format(limit=MAX_PLACE)
        )
        return
    await change_place(session, meeting, place, member, clock.now())
    await changed(message, state, _)
