"""The secretariat reviews a submitted case: edit its text, add language versions, attach a
statement, choose the audience, then issue the alert, ask the reporter, or decline."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.config import SUPPORTED_LOCALES, Settings
from bot.core.i18n import LANGUAGE_NAMES
from bot.solidarity.callbacks import CaseCb
from bot.solidarity.jobs import group_names
from bot.solidarity.screens import panel
from bot.solidarity.service import (
    DELETE_HOURS,
    ESCALATE_HOURS,
    ESCALATE_SHARES,
    issue,
    next_option,
    toggle_audience,
)
from bot.solidarity.views import audience_keyboard, language_keyboard
from handlers.solidarity.access import admin_case, solidarity_router, tapped
from handlers.ui import clear_buttons, edit_buttons, replace_message
from models.member import Member
from models.solidarity import CaseStatus

router = solidarity_router(__name__)
Gettext = Callable[..., str]


class CaseInput(StatesGroup):
    """An admin is typing something for a case (what: edit, lang:xx, statement, ...)."""

    text = State()


PROMPTS = frozenset({"edit", "statement", "ask", "decline"})
SETTINGS = {
    "esc_h": ("escalate_hours", ESCALATE_HOURS),
    "esc_s": ("escalate_share", ESCALATE_SHARES),
    "sens": ("delete_after_hours", DELETE_HOURS),
}


def prompt(what: str, _: Gettext) -> str:
    """What the admin is asked to type."""
    texts = {
        "edit": _("Send the alert's new text in the case's language."),
        "lang": _("Send the alert's text in {language}."),
        "uplang": _("Send the update in {language}."),
        "statement": _("Send the statement to sign, as text or as a document."),
        "ask": _("Send your question to the reporter."),
        "decline": _("Send the reason for declining; the reporter will see it."),
        "update": _("Send the update: text, a document or a voice note."),
    }
    return texts[what]


async def wait_for(
    call: CallbackQuery, state: FSMContext, case_id: int, what: str, text: str
) -> None:
    """Put the admin in the typing state for this case."""
    await call.answer()
    await state.set_state(CaseInput.text)
    await state.set_data({"case_id": case_id, "what": what})
    await tapped(call).answer(text)


@router.callback_query(CaseCb.filter(F.action.in_(PROMPTS)))
async def ask_for_text(
    call: CallbackQuery,
    callback_data: CaseCb,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
) -> None:
    """Edit, statement, question or decline: the admin types it next."""
    case = await admin_case(call, member, session, callback_data.case_id, _)
    if case is not None:
        what = callback_data.action
        await wait_for(call, state, case.id, what, prompt(what, _))


@router.callback_query(CaseCb.filter(F.action == "langs"))
async def languages(
    call: CallbackQuery, callback_data: CaseCb, member: Member, session: AsyncSession, _: Gettext
) -> None:
    """Which language to add a version in."""
    case = await admin_case(call, member, session, callback_data.case_id, _)
    if case is not None:
        await call.answer()
        await tapped(call).answer(
            _("Add a version in which language?"), reply_markup=language_keyboard(case, _)
        )


@router.callback_query(CaseCb.filter(F.action == "lang"))
async def language_picked(
    call: CallbackQuery,
    callback_data: CaseCb,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
) -> None:
    """The admin types the version in the chosen language."""
    case = await admin_case(call, member, session, callback_data.case_id, _)
    if case is None:
        return
    code = callback_data.value
    if code not in SUPPORTED_LOCALES:
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await clear_buttons(call)
    text = prompt("lang", _).format(language=LANGUAGE_NAMES[code])
    await wait_for(call, state, case.id, f"lang:{code}", text)


@router.callback_query(CaseCb.filter(F.action.in_({"audience", "aud"})))
async def audience(
    call: CallbackQuery,
    callback_data: CaseCb,
    member: Member,
    session: AsyncSession,
    settings: Settings,
    _: Gettext,
) -> None:
    """Show the audience, or toggle one region, language or group."""
    case = await admin_case(call, member, session, callback_data.case_id, _)
    if case is None:
        return
    await call.answer()
    groups = await group_names(session, member.locale, settings.default_locale)
    if callback_data.action == "aud":
        case.audience = toggle_audience(case.audience, callback_data.value)
    markup = audience_keyboard(case, groups, member.locale, _)
    if callback_data.action == "aud" and await edit_buttons(call, markup):
        return
    text = _("Who receives the alert? Everyone, or any of the regions, languages and groups.")
    await tapped(call).answer(text, reply_markup=markup)


@router.callback_query(CaseCb.filter(F.action == "panel"))
async def show_panel(
    call: CallbackQuery,
    callback_data: CaseCb,
    member: Member,
    session: AsyncSession,
    settings: Settings,
    _: Gettext,
) -> None:
    """Back to the case's panel, as it stands."""
    case = await admin_case(call, member, session, callback_data.case_id, _, *CaseStatus)
    if case is not None:
        await call.answer()
        await clear_buttons(call)
        text, markup = await panel(session, case, member, settings.default_locale, _)
        await tapped(call).answer(text, reply_markup=markup)


@router.callback_query(CaseCb.filter(F.action == "issue"))
async def issue_alert(
    call: CallbackQuery,
    callback_data: CaseCb,
    member: Member,
    session: AsyncSession,
    clock: Clock,
    _: Gettext,
) -> None:
    """Issue the alert to the audience through the delivery engine, at urgent priority."""
    case = await admin_case(call, member, session, callback_data.case_id, _)
    if case is None:
        return
    if not any(case.texts.values()):
        await call.answer(_("Write the alert's text first (✏️ Edit text)."), show_alert=True)
        return
    await call.answer()
    await clear_buttons(call)
    await issue(session, case, member, clock.now())
    await tapped(call).answer(
        _("🚨 Alert #{id} issued. You will see the delivery progress here.").format(id=case.id)
    )


@router.callback_query(CaseCb.filter(F.action.in_(SETTINGS)))
async def setting(
    call: CallbackQuery,
    callback_data: CaseCb,
    member: Member,
    session: AsyncSession,
    settings: Settings,
    _: Gettext,
) -> None:
    """Cycle the escalation time, the share that must have seen it, or the deletion time."""
    case = await admin_case(call, member, session, callback_data.case_id, _)
    if case is None:
        return
    await call.answer()
    field, options = SETTINGS[callback_data.action]
    setattr(case, field, next_option(options, int(getattr(case, field))))
    await session.flush()
    text, markup = await panel(session, case, member, settings.default_locale, _)
    await replace_message(call, text, markup)
