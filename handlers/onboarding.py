"""Onboarding by taps: language, consent, name, country, time zone, organisation, gender."""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Callable
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import CommandObject, CommandStart, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot import geo
from bot.clock import Clock
from bot.config import SUPPORTED_LOCALES, Settings
from bot.i18n import LANGUAGE_NAMES, Translator
from bot.membership import finish_onboarding
from handlers.ui import clear_buttons
from models.member import Gender, Member, MemberStatus

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")

Gettext = Callable[..., str]
MAX_NAME = 64
MAX_ORGANISATION = 120
PAGE = 12


class Onboarding(StatesGroup):
    """One state per question; the state lives in the FSM store and survives restarts."""

    language = State()
    consent = State()
    name = State()
    country = State()
    timezone = State()
    organisation = State()
    gender = State()


class LangCb(CallbackData, prefix="lang"):
    code: str


class ConsentCb(CallbackData, prefix="consent"):
    accept: bool


class KeepNameCb(CallbackData, prefix="keepname"):
    pass


class LetterCb(CallbackData, prefix="letter"):
    letter: str
    page: int = 0


class CountryCb(CallbackData, prefix="country"):
    code: str


class ZoneCb(CallbackData, prefix="tz"):
    zone: str


class SkipCb(CallbackData, prefix="skip"):
    step: str


class GenderCb(CallbackData, prefix="gender"):
    value: str


def clean_text(text: str, limit: int) -> str | None:
    """Strip control characters and spaces; None when empty or over `limit` characters."""
    cleaned = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip()
    cleaned = " ".join(cleaned.split())
    if not cleaned or len(cleaned) > limit:
        return None
    return cleaned


def language_keyboard(selected: str) -> InlineKeyboardMarkup:
    """The five languages, each in its own name; the likely one ticked."""
    kb = InlineKeyboardBuilder()
    for code in SUPPORTED_LOCALES:
        mark = "✓ " if code == selected else ""
        kb.button(text=mark + LANGUAGE_NAMES[code], callback_data=LangCb(code=code))
    kb.adjust(2)
    return kb.as_markup()


def letters_keyboard(locale: str) -> InlineKeyboardMarkup:
    """First letters of the country names in this language, to page by tapping."""
    kb = InlineKeyboardBuilder()
    for letter in geo.country_letters(locale):
        kb.button(text=letter, callback_data=LetterCb(letter=letter))
    kb.adjust(6)
    return kb.as_markup()


def countries_keyboard(
    countries: list[tuple[str, str]], _: Gettext, letter: str | None = None, page: int = 0
) -> InlineKeyboardMarkup:
    """A page of country buttons, with paging and a way back to the letters."""
    kb = InlineKeyboardBuilder()
    chunk = countries[page * PAGE : (page + 1) * PAGE]
    for code, name in chunk:
        kb.button(text=name, callback_data=CountryCb(code=code))
    kb.adjust(2)
    nav = InlineKeyboardBuilder()
    if letter is not None and page > 0:
        nav.button(text="◀", callback_data=LetterCb(letter=letter, page=page - 1))
    if letter is not None and (page + 1) * PAGE < len(countries):
        nav.button(text="▶", callback_data=LetterCb(letter=letter, page=page + 1))
    nav.button(text=_("All letters"), callback_data=LetterCb(letter="*"))
    kb.attach(nav)
    return kb.as_markup()


def gender_keyboard(_: Gettext) -> InlineKeyboardMarkup:
    """Gender options, with 'prefer not to say' always available."""
    kb = InlineKeyboardBuilder()
    for value, label in gender_labels(_).items():
        kb.button(text=label, callback_data=GenderCb(value=value))
    kb.adjust(2, 2, 1)
    return kb.as_markup()


def gender_labels(_: Gettext) -> dict[str, str]:
    """Translated names of the gender options."""
    return {
        Gender.WOMAN: _("Woman"),
        Gender.MAN: _("Man"),
        Gender.NONBINARY: _("Non-binary"),
        Gender.OTHER: _("Another identity"),
        Gender.UNDISCLOSED: _("Prefer not to say"),
    }


async def ask_language(message: Message, state: FSMContext, _: Gettext, locale: str) -> None:
    """First question: the language, preselected from Telegram's setting."""
    await state.set_state(Onboarding.language)
    await state.update_data(locale=locale)
    await message.answer(
        _("Welcome! Please choose your language."), reply_markup=language_keyboard(locale)
    )


def privacy_text(_: Gettext) -> str:
    """What the bot does and keeps, in plain words (before consent and in /privacy)."""
    return _(
        "<b>What this bot does</b>\n"
        "It lets you join the network's working groups, answer consultations and get meeting "
        "times in your own time zone and language.\n\n"
        "<b>What we keep</b>\n"
        "Your Telegram account number (to write to you), the name you choose, your language, "
        "country, region and time zone, and, only if you give them, your organisation and gender. "
        "We never store your phone number or username.\n\n"
        "<b>Who sees it</b>\n"
        "Network admins, and coordinators of groups you join, see your name, country and "
        "organisation. Other members see nothing. Gender is used only for anonymous "
        "statistics.\n\n"
        "You can see everything with /mydata and erase it with /forget at any time."
    )


async def ask_consent(message: Message, state: FSMContext, _: Gettext) -> None:
    """Explain what is kept, then Accept / Decline."""
    await state.set_state(Onboarding.consent)
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ Accept"), callback_data=ConsentCb(accept=True))
    kb.button(text=_("Decline"), callback_data=ConsentCb(accept=False))
    await message.answer(privacy_text(_), reply_markup=kb.as_markup())


async def ask_name(message: Message, state: FSMContext, member: Member, _: Gettext) -> None:
    """Keep the Telegram name with one tap, or type another."""
    await state.set_state(Onboarding.name)
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Keep “{name}”").format(name=member.display_name), callback_data=KeepNameCb())
    await message.answer(
        _(
            "How should coordinators call you? Tap to keep <b>{name}</b>, "
            "or type another name (up to {limit} characters)."
        ).format(name=html.escape(member.display_name), limit=MAX_NAME),
        reply_markup=kb.as_markup(),
    )


async def ask_country(message: Message, state: FSMContext, _: Gettext, locale: str) -> None:
    """Country: type a few letters, or tap a first letter and then the country."""
    await state.set_state(Onboarding.country)
    await message.answer(
        _("Which country are you in? Type the first letters of its name, or tap a letter."),
        reply_markup=letters_keyboard(locale),
    )


async def ask_timezone(
    message: Message, state: FSMContext, member: Member, _: Gettext, clock: Clock
) -> bool:
    """Ask only where the country spans several zones; returns whether it asked."""
    choices = geo.zone_choices(member.country or "", member.locale, at=clock.now())
    if len(choices) <= 1:
        zones = geo.timezones_for(member.country or "")
        member.timezone = choices[0][0] if choices else (zones[0] if zones else "UTC")
        return False
    await state.set_state(Onboarding.timezone)
    kb = InlineKeyboardBuilder()
    for zone, label in choices:
        kb.button(text=label, callback_data=ZoneCb(zone=zone))
    kb.adjust(1)
    await message.answer(
        _("Your country has several time zones. Which one is yours?"),
        reply_markup=kb.as_markup(),
    )
    return True


async def ask_organisation(message: Message, state: FSMContext, _: Gettext) -> None:
    """Optional organisation: type it or skip."""
    await state.set_state(Onboarding.organisation)
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Skip"), callback_data=SkipCb(step="organisation"))
    await message.answer(
        _(
            "Which organisation or movement are you part of? Type its name, or tap Skip. "
            "(Optional)"
        ),
        reply_markup=kb.as_markup(),
    )


async def ask_gender(message: Message, state: FSMContext, _: Gettext) -> None:
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
    message: Message,
    state: FSMContext,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    clock: Clock,
    settings: Settings,
    bot: Bot,
    i18n: Translator,
    after: str,
) -> None:
    """Move on from `after`; when editing the profile, go back to the profile instead."""
    data = await state.get_data()
    if data.get("editing"):
        if after == "country" and await ask_timezone(message, state, member, _, clock):
            return
        await state.clear()
        from handlers.profile import show_profile

        await show_profile(message, member, _)
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
        await finish_onboarding(
            message, state, member, session, _, settings, bot, i18n, data.get("after"), clock=clock
        )


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


@router.message(CommandStart())
async def start(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    clock: Clock,
    settings: Settings,
    bot: Bot,
    i18n: Translator,
) -> None:
    """Begin, resume, or welcome back, depending on where the person stands."""
    payload = command.args
    if member is None:
        await state.set_data({"after": payload} if payload else {})
        await ask_language(message, state, _, locale)
        return
    if payload:
        await state.update_data(after=payload)
    if member.unreachable_at is not None:
        member.unreachable_at = None
    if member.status == MemberStatus.ONBOARDING:
        await message.answer(_("Welcome back! Let's continue where we stopped."))
        await resume(message, state, member, _, clock)
        return
    await state.set_state(None)
    from handlers.privacy import help_text

    await message.answer(help_text(member, _))
    if payload and member.status in (MemberStatus.ACTIVE, MemberStatus.PENDING):
        from handlers.deeplinks import handle_payload

        await handle_payload(
            message, member, session, _, settings, bot, i18n, payload, clock=clock
        )


@router.callback_query(LangCb.filter())
async def choose_language(
    call: CallbackQuery,
    callback_data: LangCb,
    state: FSMContext,
    member: Member | None,
    i18n: Translator,
) -> None:
    """Switch language; during onboarding this leads to the consent question."""
    code = callback_data.code
    if code not in SUPPORTED_LOCALES:
        await call.answer(i18n.gettext("This button is no longer valid."), show_alert=True)
        return
    i18n.current_locale = code
    _ = i18n.gettext
    await call.answer(LANGUAGE_NAMES[code])
    assert isinstance(call.message, Message)
    await clear_buttons(call)
    if member is not None:
        member.locale = code
        await call.message.answer(_("Language set to English."))
        return
    await state.update_data(locale=code)
    await ask_consent(call.message, state, _)


@router.callback_query(ConsentCb.filter(), StateFilter(Onboarding.consent))
async def consent(
    call: CallbackQuery,
    callback_data: ConsentCb,
    state: FSMContext,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    clock: Clock,
) -> None:
    """Accept creates the member record; Decline stores nothing at all."""
    assert isinstance(call.message, Message)
    await call.answer()
    await clear_buttons(call)
    if not callback_data.accept:
        await state.clear()
        await call.message.answer(
            _(
                "Understood: nothing about you has been stored. "
                "If you change your mind, send /start."
            )
        )
        return
    if member is None:
        name = clean_text(call.from_user.full_name, MAX_NAME) or call.from_user.first_name[:64]
        member = Member(
            telegram_id=call.from_user.id,
            display_name=name,
            locale=locale,
            status=MemberStatus.ONBOARDING,
            consent_at=clock.now(),
            created_at=clock.now(),
            last_seen_at=clock.now(),
        )
        session.add(member)
        await session.flush()
    await ask_name(call.message, state, member, _)


@router.callback_query(KeepNameCb.filter(), StateFilter(Onboarding.name))
async def keep_name(call: CallbackQuery, member: Member | None, **ctx: Any) -> None:
    """Keep the Telegram name as it is."""
    assert isinstance(call.message, Message)
    await call.answer()
    if member is None:
        return
    await clear_buttons(call)
    await next_step(call.message, member=member, after="name", **_step_ctx(ctx))


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
    await next_step(message, member=member, after="name", **_step_ctx(ctx))


@router.callback_query(LetterCb.filter(), StateFilter(Onboarding.country))
async def pick_letter(
    call: CallbackQuery, callback_data: LetterCb, _: Gettext, locale: str
) -> None:
    """Show the countries starting with a letter, or the letters again."""
    assert isinstance(call.message, Message)
    await call.answer()
    if callback_data.letter == "*":
        await call.message.edit_reply_markup(reply_markup=letters_keyboard(locale))
        return
    found = geo.countries_by_letter(callback_data.letter, locale)
    await call.message.edit_reply_markup(
        reply_markup=countries_keyboard(found, _, callback_data.letter, callback_data.page)
    )


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
    assert isinstance(call.message, Message)
    _ = ctx["_"]
    code = callback_data.code
    if member is None or code not in geo.country_codes():
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    member.country = code
    member.region = geo.region_of(code)
    member.timezone = None
    await call.message.edit_text(
        _("Country: {country}").format(country=geo.country_name(code, member.locale))
    )
    await next_step(call.message, member=member, after="country", **_step_ctx(ctx))


@router.callback_query(ZoneCb.filter(), StateFilter(Onboarding.timezone))
async def pick_zone(
    call: CallbackQuery, callback_data: ZoneCb, member: Member | None, **ctx: Any
) -> None:
    """Store the chosen zone, if it belongs to the member's country."""
    assert isinstance(call.message, Message)
    _ = ctx["_"]
    if member is None or callback_data.zone not in geo.timezones_for(member.country or ""):
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    member.timezone = callback_data.zone
    await call.message.edit_text(
        _("Time zone: {zone}").format(zone=geo.zone_label(callback_data.zone, member.locale))
    )
    await next_step(call.message, member=member, after="timezone", **_step_ctx(ctx))


@router.callback_query(
    SkipCb.filter(F.step == "organisation"), StateFilter(Onboarding.organisation)
)
async def skip_organisation(call: CallbackQuery, member: Member | None, **ctx: Any) -> None:
    """No organisation given."""
    assert isinstance(call.message, Message)
    await call.answer()
    await clear_buttons(call)
    if member is not None:
        member.organisation = None
        await next_step(call.message, member=member, after="organisation", **_step_ctx(ctx))


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
    await next_step(message, member=member, after="organisation", **_step_ctx(ctx))


@router.callback_query(GenderCb.filter(), StateFilter(Onboarding.gender))
async def pick_gender(
    call: CallbackQuery, callback_data: GenderCb, member: Member | None, **ctx: Any
) -> None:
    """Store the gender answer (or 'prefer not to say') and finish."""
    assert isinstance(call.message, Message)
    _ = ctx["_"]
    if member is None or callback_data.value not in set(Gender):
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    member.gender = callback_data.value
    await call.message.edit_text(
        _("Gender: {gender}").format(gender=gender_labels(_)[callback_data.value])
    )
    await next_step(call.message, member=member, after="gender", **_step_ctx(ctx))


@router.message(
    StateFilter(Onboarding.language, Onboarding.consent, Onboarding.timezone, Onboarding.gender)
)
@router.message(StateFilter(Onboarding.name, Onboarding.country, Onboarding.organisation), ~F.text)
async def expected_button(
    message: Message,
    state: FSMContext,
    member: Member | None,
    _: Gettext,
    locale: str,
    clock: Clock,
) -> None:
    """Anything but a tap where a tap is expected: say so and ask the question again."""
    await message.answer(_("Please answer with the buttons below."))
    current = await state.get_state()
    if current == Onboarding.language.state:
        await ask_language(message, state, _, locale)
    elif current == Onboarding.consent.state or member is None:
        await ask_consent(message, state, _)
    else:
        await resume(message, state, member, _, clock)


def _step_ctx(ctx: dict[str, Any]) -> dict[str, Any]:
    """The injected objects `next_step` needs, picked from a handler's context."""
    keys = ("state", "session", "_", "clock", "settings", "bot", "i18n")
    return {key: ctx[key] for key in keys}
