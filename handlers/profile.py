"""/profile: see each stored field and change it with the same questions as onboarding."""

from __future__ import annotations

import html
from collections.abc import Callable

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot import geo
from bot.clock import Clock
from bot.i18n import LANGUAGE_NAMES
from handlers import onboarding as steps
from models.member import Member, MemberStatus

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")
Gettext = Callable[..., str]


class EditCb(CallbackData, prefix="edit"):
    field: str


async def show_profile(message: Message, member: Member, _: Gettext) -> None:
    """The member's profile, one edit button per field."""
    none = "—"
    country = geo.country_name(member.country, member.locale) if member.country else none
    zone = geo.zone_label(member.timezone, member.locale) if member.timezone else none
    gender = steps.gender_labels(_).get(member.gender or "", none)
    text = "\n".join(
        [
            _("<b>Your profile</b>"),
            _("Name: {value}").format(value=html.escape(member.display_name)),
            _("Language: {value}").format(value=LANGUAGE_NAMES.get(member.locale, member.locale)),
            _("Country: {value}").format(value=html.escape(country)),
            _("Time zone: {value}").format(value=zone),
            _("Organisation: {value}").format(value=html.escape(member.organisation or none)),
            _("Gender: {value}").format(value=gender),
        ]
    )
    kb = InlineKeyboardBuilder()
    for field, label in (
        ("name", _("Name")),
        ("language", _("Language")),
        ("country", _("Country")),
        ("timezone", _("Time zone")),
        ("organisation", _("Organisation")),
        ("gender", _("Gender")),
    ):
        kb.button(text="✏️ " + label, callback_data=EditCb(field=field))
    kb.adjust(2)
    await message.answer(text, reply_markup=kb.as_markup())


@router.message(Command("profile"))
async def profile(message: Message, member: Member | None, state: FSMContext, _: Gettext) -> None:
    if member is None or member.status == MemberStatus.ONBOARDING:
        await message.answer(_("Send /start to join first."))
        return
    await state.set_state(None)
    await show_profile(message, member, _)


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
    assert isinstance(call.message, Message)
    if member is None or member.status == MemberStatus.ONBOARDING:
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await state.update_data(editing=True)
    field = callback_data.field
    if field == "name":
        await steps.ask_name(call.message, state, member, _)
    elif field == "language":
        await call.message.answer(
            _("Choose your language."), reply_markup=steps.language_keyboard(member.locale)
        )
    elif field == "country":
        await steps.ask_country(call.message, state, _, member.locale)
    elif field == "timezone":
        if not await steps.ask_timezone(call.message, state, member, _, clock):
            await call.message.answer(_("Your country has a single time zone."))
            await state.clear()
    elif field == "organisation":
        await steps.ask_organisation(call.message, state, _)
    elif field == "gender":
        await steps.ask_gender(call.message, state, _)
    else:
        await call.message.answer(_("This button is no longer valid."))
