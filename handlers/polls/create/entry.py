"""Into and out of the creation conversation: /newpoll or ➕ starts a draft for those who may
create consultations; Cancel drops it; buttons of a finished conversation say so."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.polls.service import Draft, can_create
from bot.polls.views import NewPollCb
from handlers.polls.create.flow import PollCreate, Step
from handlers.ui import AnyMessage, clear_buttons, pressed
from models.member import Member

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")
Gettext = Callable[..., str]


async def begin(message: AnyMessage, state: FSMContext, member: Member | None, **ctx: Any) -> None:
    """Start a new draft, if this member may create consultations."""
    session: AsyncSession = ctx["session"]
    _: Gettext = ctx["_"]
    if member is None or not await can_create(session, member):
        await message.answer(
            _("Only working group coordinators and network admins can create consultations.")
        )
        return
    await state.set_state(None)
    await state.set_data({"draft": Draft(locale=member.locale).to_json(), "trail": []})
    await Step(message, state, member, session, _, ctx["clock"], ctx["app"]).go("question")


@router.message(Command("newpoll"))
async def new_poll_command(
    message: Message, state: FSMContext, member: Member | None, **ctx: Any
) -> None:
    await begin(message, state, member, **ctx)


@router.callback_query(NewPollCb.filter(F.action == "start"))
async def new_poll_button(
    call: CallbackQuery, state: FSMContext, member: Member | None, **ctx: Any
) -> None:
    message = pressed(call)
    await call.answer()
    await begin(message, state, member, **ctx)


@router.callback_query(NewPollCb.filter(F.action == "cancel"), StateFilter(PollCreate))
async def cancel(call: CallbackQuery, state: FSMContext, _: Gettext) -> None:
    message = pressed(call)
    await call.answer()
    await clear_buttons(call)
    await state.clear()
    await message.answer(_("Cancelled: the consultation was not sent."))


@router.callback_query(NewPollCb.filter(), ~StateFilter(PollCreate))
async def stale(call: CallbackQuery, _: Gettext) -> None:
    """A button of a conversation that is over."""
    await call.answer(
        _("This conversation is over. Send /newpoll to start again."), show_alert=True
    )
