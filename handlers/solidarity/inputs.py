"""What an admin types for a case after choosing an action: a new text, a version in another
language, a statement (text or document), a question for the reporter, a reason to decline, an
update (text, document or voice). Checked again when it arrives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import SUPPORTED_LOCALES, Settings
from bot.core.i18n import LANGUAGE_NAMES
from bot.solidarity.callbacks import CaseCb
from bot.solidarity.screens import panel
from bot.solidarity.service import MAX_TEXT, decline, tell_reporter
from bot.solidarity.views import button, keyboard
from handlers.solidarity.access import refusal, solidarity_router
from handlers.solidarity.review import CaseInput
from models.member import Member
from models.solidarity import CaseStatus, SolidarityCase, get_case, record_event

router = solidarity_router(__name__)
Gettext = Callable[..., str]


async def pending_case(
    message: Message, member: Member, session: AsyncSession, state: FSMContext, _: Gettext
) -> tuple[SolidarityCase, str] | None:
    """The case being typed for and what is typed, if the admin may still act on it."""
    data = await state.get_data()
    what = str(data.get("what", ""))
    live = what == "update" or what.startswith("uplang:")
    statuses = (CaseStatus.ISSUED,) if live else (CaseStatus.SUBMITTED,)
    case = await get_case(session, int(data.get("case_id") or 0))
    why = refusal(member, case, statuses, _)
    if why is not None or case is None:
        await state.clear()
        await message.answer(why or "")
        return None
    return case, what


async def apply_text(
    session: AsyncSession, case: SolidarityCase, member: Member, what: str, text: str
) -> str:
    """Store what was typed on the case; returns the action recorded."""
    if what == "edit":
        case.texts = {**case.texts, case.locale: text}
        return "edited"
    if what.startswith("lang:"):
        case.texts = {**case.texts, what[5:]: text}
        return "version"
    if what == "statement":
        case.statement = text
        return "statement"
    if what == "ask":
        await tell_reporter(session, case, member, "solidarity_question", {"question": text})
        return "asked"
    if what == "decline":
        await decline(session, case, member, text)  # recorded with its reason
    return ""


@router.message(StateFilter(CaseInput.text), F.text, ~F.text.startswith("/"))
async def typed(
    message: Message,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    settings: Settings,
    _: Gettext,
) -> None:
    """A typed text for the case; then the panel again."""
    found = await pending_case(message, member, session, state, _)
    if found is None:
        return
    case, what = found
    text = (message.text or "").strip()
    if not text or len(text) > MAX_TEXT:
        await message.answer(_("Please send 1 to {limit} characters.").format(limit=MAX_TEXT))
        return
    if what == "update":
        await keep_update(message, state, {"texts": {member.locale: text}}, _)
        return
    if what.startswith("uplang:"):
        held = dict((await state.get_data()).get("update") or {})
        held["texts"] = {**held.get("texts", {}), what[7:]: text}
        await keep_update(message, state, held, _)
        return
    await state.clear()
    action = await apply_text(session, case, member, what, text)
    if action:
        detail = what[5:] if action == "version" else text[:200]
        await record_event(session, case, member, action, detail)
    await show(message, session, case, member, settings, _)


@router.message(StateFilter(CaseInput.text), F.document | F.voice)
async def attachment(
    message: Message,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    settings: Settings,
    _: Gettext,
) -> None:
    """A document as the statement, or a document or voice note as an update."""
    found = await pending_case(message, member, session, state, _)
    if found is None:
        return
    case, what = found
    if what == "update":
        file = {"document": message.document.file_id} if message.document else {}
        if message.voice:
            file = {"voice": message.voice.file_id}
        caption = (message.caption or "").strip()[:900]
        await keep_update(message, state, {**file, "texts": {member.locale: caption}}, _)
        return
    if what != "statement" or message.document is None:
        await message.answer(_("Please send it as a text message."))
        return
    await state.clear()
    case.statement_file_id = message.document.file_id
    case.statement_file_name = (message.document.file_name or "statement")[:200]
    await record_event(session, case, member, "statement", case.statement_file_name)
    await show(message, session, case, member, settings, _)


async def keep_update(
    message: Message, state: FSMContext, update: dict[str, Any], _: Gettext
) -> None:
    """Hold the update until the admin chooses who receives it."""
    data = await state.get_data()
    await state.update_data(update=update, what="update")
    case_id = int(data["case_id"])
    languages = [
        button(LANGUAGE_NAMES[code], CaseCb(action="uplang", case_id=case_id, value=code).pack())
        for code in SUPPORTED_LOCALES
        if code not in update.get("texts", {})
    ]
    rows = [
        languages,
        [
            button(
                _("🙋 Those who responded"),
                CaseCb(action="send", case_id=case_id, value="resp").pack(),
            )
        ],
        [
            button(
                _("👥 The whole audience"),
                CaseCb(action="send", case_id=case_id, value="all").pack(),
            )
        ],
    ]
    text = _("Add a version in another language, or choose who receives this update.")
    await message.answer(text, reply_markup=keyboard(*rows))


async def show(
    message: Message,
    session: AsyncSession,
    case: SolidarityCase,
    member: Member,
    settings: Settings,
    _: Gettext,
) -> None:
    """The case's panel after a change."""
    await session.flush()
    text, markup = await panel(session, case, member, settings.default_locale, _)
    await message.answer(text, reply_markup=markup)
