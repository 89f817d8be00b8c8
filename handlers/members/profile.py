"""/profile: see each stored field and change it with the same questions as onboarding."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

import handlers.members.questions as steps
from bot.core.clock import Clock
from bot.members.callbacks import EditCb
from bot.members.views import language_keyboard, profile_screen
from handlers.ui import pressed
from models.member import Member, MemberStatus

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")
Gettext = Callable[..., str]


@router.message(Command("profile"))
async def profile(message: Message, member: Member | None, state: FSMContext, _: Gettext) -> None:
    if member is None or member.status == MemberStatus.ONBOARDING:
        await message.answer(_("Send /start to join first."))
        return
    await state.set_state(None)
    text, markup = profile_screen(member, _)
    await message.answer(text, reply_markup=markup)


@router.callback_query(EditCb.filter())
async def edit_field(
    call: CallbackQuery,
    callback_data: EditCb,
    member: Member | None,
    state: FSMContext,
    _: Gettext,
    clock: Clock,
) -> None:
    """Ask the onboarding question for one field, then come back to the profile."""
    message = pressed(call)
    if member is None or member.status == MemberStatus.ONBOARDING:
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await state.update_data(editing=True)
    field = callback_data.field
    if field == "name":
        await steps.ask_name(message, state, member, _)
    elif field == "language":
        await message.answer(
            _("Choose your language."), reply_markup=language_keyboard(member.locale)
        )
    elif field == "country":
        await steps.ask_country(message, state, _, member.locale)
    elif field == "timezone":
        if not await steps.ask_timezone(message, state, member, _, clock):
            await message.answer(_("Your country has a single time zone."))
            await state.clear()
    elif field == "organisation":
        await steps.ask_organisation(message, state, _)
    elif field == "gender":
        await steps.ask_gender(message, state, _)
    else:
        await message.answer(_("This button is no longer valid."))
