"""The profile questions, asked in onboarding and again from /profile, and what comes next.

One state per question; the state lives in the FSM store and survives restarts. The answers
are taken by handlers/members/answers.py.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.app import App
from bot.core.clock import Clock
from bot.members.membership import finish_onboarding
from bot.members.profile import MAX_NAME, zone_choices
from bot.members.views import (
    consent_keyboard,
    gender_keyboard,
    keep_name_keyboard,
    language_keyboard,
    letters_keyboard,
    privacy_text,
    profile_screen,
    skip_keyboard,
    zones_keyboard,
)
from handlers.ui import AnyMessage
from models.member import Member

Gettext = Callable[..., str]


class Onboarding(StatesGroup):
    """One state per question."""

    language = State()
    consent = State()
    name = State()
    country = State()
    timezone = State()
    organisation = State()
    gender = State()


async def ask_language(message: Message, state: FSMContext, _: Gettext, locale: str) -> None:
    """First question: the language, preselected from Telegram's setting."""
    await state.set_state(Onboarding.language)
    await state.update_data(locale=locale)
    await message.answer(
        _("Welcome! Please choose your language."), reply_markup=language_keyboard(locale)
    )


async def ask_consent(message: AnyMessage, state: FSMContext, _: Gettext) -> None:
    """Explain what is kept, then Accept / Decline."""
    await state.set_state(Onboarding.consent)
    await message.answer(privacy_text(_), reply_markup=consent_keyboard(_))


async def ask_name(message: AnyMessage, state: FSMContext, member: Member, _: Gettext) -> None:
    """Keep the Telegram name with one tap, or type another."""
    await state.set_state(Onboarding.name)
    await message.answer(
        _(
            "How should coordinators call you? Tap to keep <b>{name}</b>, "
            "or type another name (up to {limit} characters)."
        ).format(name=html.escape(member.display_name), limit=MAX_NAME),
        reply_markup=keep_name_keyboard(member.display_name, _),
    )


async def ask_country(message: AnyMessage, state: FSMContext, _: Gettext, locale: str) -> None:
    """Country: type a few letters, or tap a first letter and then the country."""
    await state.set_state(Onboarding.country)
    await message.answer(
        _("Which country are you in? Type the first letters of its name, or tap a letter."),
        reply_markup=letters_keyboard(locale),
    )


async def ask_timezone(
    message: AnyMessage, state: FSMContext, member: Member, _: Gettext, clock: Clock
) -> bool:
    """Ask only where the country spans several zones; returns whether it asked."""
    choices = zone_choices(member, clock.now())
    if not choices:
        return False
    await state.set_state(Onboarding.timezone)
    await message.answer(
        _("Your country has several time zones. Which one is yours?"),
        reply_markup=zones_keyboard(choices),
    )
    return True


async def ask_organisation(message: AnyMessage, state: FSMContext, _: Gettext) -> None:
    """Optional organisation: type it or skip."""
    await state.set_state(Onboarding.organisation)
    await message.answer(
        _(
            "Which organisation or movement are you part of? Type its name, or tap Skip. "
            "(Optional)"
        ),
        reply_markup=skip_keyboard("organisation", _),
    )


async def ask_gender(message: AnyMessage, state: FSMContext, _: Gettext) -> None:
    """Optional gender, only for anonymous gender-balance statistics."""
    await state.set_state(Onboarding.gender)
    await message.answer(
        _(
            "How do you describe your gender? It is used only for anonymous statistics on "
            "gender balance. (Optional)"
        ),
        reply_markup=gender_keyboard(_),
    )


async def next_step(
    message: AnyMessage,
    state: FSMContext,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    clock: Clock,
    app: App,
    after: str,
) -> None:
    """Move on from `after`; when editing the profile, go back to the profile instead."""
    data = await state.get_data()
    if data.get("editing"):
        if after == "country" and await ask_timezone(message, state, member, _, clock):
            return
        await state.clear()
        text, markup = profile_screen(member, _)
        await message.answer(text, reply_markup=markup)
        return
    if after == "name":
        await ask_country(message, state, _, member.locale)
    elif after == "country":
        if not await ask_timezone(message, state, member, _, clock):
            await ask_organisation(message, state, _)
    elif after == "timezone":
        await ask_organisation(message, state, _)
    elif after == "organisation":
        await ask_gender(message, state, _)
    else:
        await state.set_state(None)
        await finish_onboarding(message, state, member, session, _, app, data.get("after"))


async def resume(
    message: Message, state: FSMContext, member: Member, _: Gettext, clock: Clock
) -> None:
    """Ask again the question the member stopped at (after /start or a restart)."""
    current = await state.get_state()
    if current == Onboarding.country.state or (current is None and member.country is None):
        await ask_country(message, state, _, member.locale)
    elif current == Onboarding.timezone.state:
        await ask_timezone(message, state, member, _, clock)
    elif current == Onboarding.organisation.state:
        await ask_organisation(message, state, _)
    elif current == Onboarding.gender.state:
        await ask_gender(message, state, _)
    else:
        await ask_name(message, state, member, _)


def step_ctx(ctx: dict[str, Any]) -> dict[str, Any]:
    """The injected objects `next_step` needs, picked from a handler's context."""
    keys = ("state", "session", "_", "clock", "app")
    return {key: ctx[key] for key in keys}
