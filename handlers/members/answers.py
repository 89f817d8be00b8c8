"""Answers to the profile questions, in onboarding and from /profile: name, country, time zone,
organisation, gender. Each stores its answer and moves on (see questions.next_step)."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message

from bot.core import geo
from bot.members.callbacks import CountryCb, GenderCb, KeepNameCb, LetterCb, SkipCb, ZoneCb
from bot.members.profile import MAX_NAME, MAX_ORGANISATION, set_country, set_gender, set_zone
from bot.members.views import countries_keyboard, gender_labels, letters_keyboard
from handlers.members.questions import Onboarding, next_step, step_ctx
from handlers.ui import clean_text, clear_buttons, edit_buttons, pressed, show
from models.member import Member

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")
Gettext = Callable[..., str]


@router.callback_query(KeepNameCb.filter(), StateFilter(Onboarding.name))
async def keep_name(call: CallbackQuery, member: Member | None, **ctx: Any) -> None:
    """Keep the Telegram name as it is."""
    message = pressed(call)
    await call.answer()
    if member is None:
        return
    await clear_buttons(call)
    await next_step(message, member=member, after="name", **step_ctx(ctx))


@router.message(StateFilter(Onboarding.name), F.text)
async def type_name(message: Message, member: Member | None, **ctx: Any) -> None:
    """A typed name, checked for length."""
    _ = ctx["_"]
    name = clean_text(message.text or "", MAX_NAME)
    if member is None:
        return
    if name is None or name.startswith("/"):
        await message.answer(
            _("Please send a name of 1 to {limit} characters.").format(limit=MAX_NAME)
        )
        return
    member.display_name = name
    await message.answer(_("Thank you, {name}.").format(name=html.escape(name)))
    await next_step(message, member=member, after="name", **step_ctx(ctx))


@router.callback_query(LetterCb.filter(), StateFilter(Onboarding.country))
async def pick_letter(
    call: CallbackQuery, callback_data: LetterCb, _: Gettext, locale: str
) -> None:
    """Show the countries starting with a letter, or the letters again."""
    message = pressed(call)
    await call.answer()
    if callback_data.letter == "*":
        markup = letters_keyboard(locale)
    else:
        found = geo.countries_by_letter(callback_data.letter, locale)
        markup = countries_keyboard(found, _, callback_data.letter, callback_data.page)
    if not await edit_buttons(call, markup):
        await message.answer(_("Tap your country:"), reply_markup=markup)


@router.message(StateFilter(Onboarding.country), F.text)
async def search_country(message: Message, _: Gettext, locale: str) -> None:
    """Typed letters: offer the matching countries as buttons."""
    query = (message.text or "")[:40]
    found = geo.search_countries(query, locale)
    if not found:
        await message.answer(
            _("No country matches “{query}”. Try other letters, or tap a letter.").format(
                query=html.escape(query)
            ),
            reply_markup=letters_keyboard(locale),
        )
        return
    await message.answer(_("Tap your country:"), reply_markup=countries_keyboard(found, _))


@router.callback_query(CountryCb.filter(), StateFilter(Onboarding.country))
async def pick_country(
    call: CallbackQuery, callback_data: CountryCb, member: Member | None, **ctx: Any
) -> None:
    """Store the country and derive the region (and the zone where there is only one)."""
    message = pressed(call)
    _ = ctx["_"]
    if member is None or not set_country(member, callback_data.code):
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await show(
        message,
        _("Country: {country}").format(
            country=geo.country_name(callback_data.code, member.locale)
        ),
    )
    await next_step(message, member=member, after="country", **step_ctx(ctx))


@router.callback_query(ZoneCb.filter(), StateFilter(Onboarding.timezone))
async def pick_zone(
    call: CallbackQuery, callback_data: ZoneCb, member: Member | None, **ctx: Any
) -> None:
    """Store the chosen zone, if it belongs to the member's country."""
    message = pressed(call)
    _ = ctx["_"]
    if member is None or not set_zone(member, callback_data.zone):
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await show(
        message,
        _("Time zone: {zone}").format(zone=geo.zone_label(callback_data.zone, member.locale)),
    )
    await next_step(message, member=member, after="timezone", **step_ctx(ctx))


@router.callback_query(
    SkipCb.filter(F.step == "organisation"), StateFilter(Onboarding.organisation)
)
async def skip_organisation(call: CallbackQuery, member: Member | None, **ctx: Any) -> None:
    """No organisation given."""
    message = pressed(call)
    await call.answer()
    await clear_buttons(call)
    if member is not None:
        member.organisation = None
        await next_step(message, member=member, after="organisation", **step_ctx(ctx))


@router.message(StateFilter(Onboarding.organisation), F.text)
async def type_organisation(message: Message, member: Member | None, **ctx: Any) -> None:
    """A typed organisation name, checked for length."""
    _ = ctx["_"]
    name = clean_text(message.text or "", MAX_ORGANISATION)
    if member is None:
        return
    if name is None or name.startswith("/"):
        await message.answer(
            _("Please send a name of 1 to {limit} characters, or tap Skip.").format(
                limit=MAX_ORGANISATION
            )
        )
        return
    member.organisation = name
    await next_step(message, member=member, after="organisation", **step_ctx(ctx))


@router.callback_query(GenderCb.filter(), StateFilter(Onboarding.gender))
async def pick_gender(
    call: CallbackQuery, callback_data: GenderCb, member: Member | None, **ctx: Any
) -> None:
    """Store the gender answer (or 'prefer not to say') and finish."""
    message = pressed(call)
    _ = ctx["_"]
    if member is None or not set_gender(member, callback_data.value):
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await show(message, _("Gender: {gender}").format(gender=gender_labels(_)[callback_data.value]))
    await next_step(message, member=member, after="gender", **step_ctx(ctx))
