"""Onboarding by taps: /start, the language, consent, and the question asked again when the
answer is not a tap. The profile questions themselves are in questions.py and answers.py."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F, Router
from aiogram.filters import CommandObject, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.app import App
from bot.core.clock import Clock
from bot.core.config import SUPPORTED_LOCALES
from bot.core.i18n import LANGUAGE_NAMES, Translator
from bot.members.callbacks import ConsentCb, LangCb
from bot.members.membership import follow_deep_link, register
from bot.members.profile import MAX_NAME
from bot.members.views import help_text
from handlers.members.questions import Onboarding, ask_consent, ask_language, ask_name, resume
from handlers.ui import clean_text, clear_buttons, pressed
from models.member import Member, MemberStatus

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")
Gettext = Callable[..., str]


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
    app: App,
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
    await message.answer(help_text(member, _))
    if payload and member.status in (MemberStatus.ACTIVE, MemberStatus.PENDING):
        await follow_deep_link(message, member, session, app, _, payload)


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
    message = pressed(call)
    await clear_buttons(call)
    if member is not None:
        member.locale = code
        await message.answer(_("Language set to English."))
        return
    await state.update_data(locale=code)
    await ask_consent(message, state, _)


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
    message = pressed(call)
    await call.answer()
    await clear_buttons(call)
    if not callback_data.accept:
        await state.clear()
        await message.answer(
            _(
                "Understood: nothing about you has been stored. "
                "If you change your mind, send /start."
            )
        )
        return
    if member is None:
        user = call.from_user
        name = clean_text(user.full_name, MAX_NAME) or user.first_name[:MAX_NAME]
        member = await register(
            session, telegram_id=user.id, name=name, locale=locale, now=clock.now()
        )
    await ask_name(message, state, member, _)


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
