"""Coordinators write an announcement for their group: the text, versions in other languages,
an attachment, whether it also goes to the group chat. Sending is in announcement_sending.py.

The draft lives in the coordinator's FSM data between taps; every tap and every typed message
checks the coordinator's role in the group as it stands at that moment.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Callable

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.app import App
from bot.core.config import SUPPORTED_LOCALES
from bot.core.i18n import LANGUAGE_NAMES
from bot.groups.announcements import MAX_TEXT, Draft
from bot.groups.callbacks import AnnounceCb
from bot.groups.service import Groups
from bot.groups.views import draft_panel, missing_languages
from handlers.filters import GroupAccess, Need, group_access
from handlers.ui import AnyMessage, clear_buttons, pressed, show
from models.group import WorkingGroup, count_audience
from models.member import Member

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")
router.callback_query.middleware(GroupAccess())
Gettext = Callable[..., str]
DRAFT = "announcement"
COORDINATOR = {"group": Need.OPEN_COORDINATOR}


class Announce(StatesGroup):
    """What the next message of the coordinator is: the text, a version, an attachment."""

    text = State()
    version = State()
    attachment = State()


# --- the draft in the conversation -------------------------------------------------------------


async def save_draft(state: FSMContext, draft: Draft) -> None:
    await state.update_data({DRAFT: draft.to_data()})


async def drop_draft(state: FSMContext) -> None:
    """The announcement was sent or discarded: nothing more to write."""
    await state.update_data({DRAFT: None})
    await state.set_state(None)


async def draft_or_answer(
    call: CallbackQuery, state: FSMContext, group_id: int, _: Gettext
) -> Draft | None:
    """The open draft for the button's group, or a clear answer (and the buttons go)."""
    draft = Draft.from_data((await state.get_data()).get(DRAFT))
    if draft is not None and draft.group_id == group_id:
        return draft
    await call.answer(
        _("This announcement is no longer open. Start again from /groups."), show_alert=True
    )
    await clear_buttons(call)
    return None


async def current_draft(
    message: Message, member: Member | None, session: AsyncSession, state: FSMContext, _: Gettext
) -> tuple[Draft, WorkingGroup] | None:
    """The draft a typed message belongs to, with its group if the sender still coordinates it."""
    draft = Draft.from_data((await state.get_data()).get(DRAFT))
    if draft is None:
        await state.set_state(None)
        await message.answer(_("This announcement is no longer open. Start again from /groups."))
        return None
    found = await group_access(session, member, draft.group_id, Need.OPEN_COORDINATOR, _)
    if isinstance(found, str):
        await state.set_state(None)
        await message.answer(found)
        return None
    return draft, found


async def step_done(
    message: Message,
    state: FSMContext,
    draft: Draft,
    group: WorkingGroup,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """Keep what the message added, end the step and show the panel again."""
    await save_draft(state, draft)
    await state.set_state(None)
    await show_panel(message, draft, group, session, _, locale, app)


async def show_panel(
    message: AnyMessage,
    draft: Draft,
    group: WorkingGroup,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """The draft's panel as a new message."""
    text, markup = await panel(draft, group, session, _, locale, app)
    await message.answer(text, reply_markup=markup)


async def panel(
    draft: Draft, group: WorkingGroup, session: AsyncSession, _: Gettext, locale: str, app: App
) -> tuple[str, InlineKeyboardMarkup]:
    """The draft's panel with the group's name in the coordinator's language and its audience."""
    name = Groups.of(session, app).name(group, locale)
    return draft_panel(draft, group, name, await count_audience(session, group.id), _)


def too_long(text: str, _: Gettext) -> str | None:
    """Why a text can't be used, if it can't."""
    if len(text) > MAX_TEXT:
        return _("This text is too long: please keep it under {limit} characters.").format(
            limit=MAX_TEXT
        )
    return None


def take_attachment(message: Message, draft: Draft) -> None:
    """A document or voice note replaces any earlier attachment."""
    if message.document is not None:
        draft.document = {
            "file_id": message.document.file_id,
            "name": message.document.file_name or "",
        }
        draft.voice = None
    elif message.voice is not None:
        draft.voice = message.voice.file_id
        draft.document = None


# --- starting and writing ----------------------------------------------------------------------


@router.callback_query(AnnounceCb.filter(F.action == "new"), flags=COORDINATOR)
async def new_announcement(
    call: CallbackQuery,
    group: WorkingGroup,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """Start a draft in the coordinator's language."""
    message = pressed(call)
    await call.answer()
    draft = Draft(group_id=group.id, token=secrets.token_hex(8), main=member.locale)
    await save_draft(state, draft)
    await state.set_state(Announce.text)
    name = Groups.of(session, app).name(group, locale)
    await message.answer(
        _(
            "📣 New announcement for <b>{group}</b>. Send its text in {language}. You can also "
            "send a document or a voice note, with the text as its caption."
        ).format(group=html.escape(name), language=LANGUAGE_NAMES[member.locale])
    )


@router.message(Announce.text, F.text, ~F.text.startswith("/"))
@router.message(Announce.text, F.document | F.voice)
async def typed_text(
    message: Message,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """The original text (and perhaps an attachment carrying it as caption)."""
    found = await current_draft(message, member, session, state, _)
    if found is None:
        return
    draft, group = found
    text = message.html_text if (message.text or message.caption) else ""
    problem = too_long(text, _)
    if problem:
        await message.answer(problem)
        return
    if text:
        draft.texts[draft.main] = text
    take_attachment(message, draft)
    await step_done(message, state, draft, group, session, _, locale, app)


@router.message(Announce.version, F.text, ~F.text.startswith("/"))
async def typed_version(
    message: Message,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """The text in another language."""
    found = await current_draft(message, member, session, state, _)
    if found is None:
        return
    draft, group = found
    target = str((await state.get_data()).get("announcement_locale", ""))
    if target not in SUPPORTED_LOCALES:
        await state.set_state(None)
        await show_panel(message, draft, group, session, _, locale, app)
        return
    problem = too_long(message.html_text, _)
    if problem:
        await message.answer(problem)
        return
    draft.texts[target] = message.html_text
    await step_done(message, state, draft, group, session, _, locale, app)


@router.message(Announce.attachment, F.document | F.voice)
async def sent_attachment(
    message: Message,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """The document or voice note asked for."""
    found = await current_draft(message, member, session, state, _)
    if found is None:
        return
    draft, group = found
    take_attachment(message, draft)
    await step_done(message, state, draft, group, session, _, locale, app)


@router.message(Announce.text, ~F.text)
@router.message(Announce.version, ~F.text)
async def expected_text(message: Message, state: FSMContext, _: Gettext) -> None:
    """A sticker or a photo where text is expected."""
    if await state.get_state() == Announce.version.state:
        await message.answer(_("Please send the text of this version as a message."))
    else:
        await message.answer(_("Please send a text, a document or a voice note."))


@router.message(Announce.attachment, ~F.text)
@router.message(Announce.attachment, F.text, ~F.text.startswith("/"))
async def expected_attachment(message: Message, _: Gettext) -> None:
    """Anything but a document or a voice note where one is expected."""
    await message.answer(_("Please send a document or a voice note."))


# --- the panel's buttons for writing -----------------------------------------------------------


@router.callback_query(AnnounceCb.filter(F.action == "langs"), flags=COORDINATOR)
async def add_language(
    call: CallbackQuery, group: WorkingGroup, state: FSMContext, _: Gettext
) -> None:
    """Which language to add a version in."""
    draft = await draft_or_answer(call, state, group.id, _)
    if draft is None:
        return
    message = pressed(call)
    await call.answer()
    await message.answer(_("Which language?"), reply_markup=missing_languages(draft, group.id))


@router.callback_query(AnnounceCb.filter(F.action == "lang"), flags=COORDINATOR)
async def ask_version(
    call: CallbackQuery,
    callback_data: AnnounceCb,
    group: WorkingGroup,
    state: FSMContext,
    _: Gettext,
) -> None:
    """Ask for the text in the chosen language."""
    if await draft_or_answer(call, state, group.id, _) is None:
        return
    message = pressed(call)
    if callback_data.arg not in SUPPORTED_LOCALES:
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await state.update_data(announcement_locale=callback_data.arg)
    await state.set_state(Announce.version)
    await call.answer()
    await clear_buttons(call)
    await message.answer(
        _("Send the announcement's text in {language}.").format(
            language=LANGUAGE_NAMES[callback_data.arg]
        )
    )


@router.callback_query(AnnounceCb.filter(F.action == "attach"), flags=COORDINATOR)
async def ask_attachment(
    call: CallbackQuery, group: WorkingGroup, state: FSMContext, _: Gettext
) -> None:
    """Ask for a document or a voice note."""
    if await draft_or_answer(call, state, group.id, _) is None:
        return
    message = pressed(call)
    await call.answer()
    await state.set_state(Announce.attachment)
    await message.answer(_("Send the document or the voice note."))


@router.callback_query(AnnounceCb.filter(F.action == "rewrite"), flags=COORDINATOR)
async def rewrite(call: CallbackQuery, group: WorkingGroup, state: FSMContext, _: Gettext) -> None:
    """Ask for the original text again."""
    draft = await draft_or_answer(call, state, group.id, _)
    if draft is None:
        return
    message = pressed(call)
    await call.answer()
    await state.set_state(Announce.text)
    await message.answer(
        _("Send the new text in {language}.").format(language=LANGUAGE_NAMES[draft.main])
    )


@router.callback_query(AnnounceCb.filter(F.action.in_({"detach", "chat"})), flags=COORDINATOR)
async def toggle(
    call: CallbackQuery,
    callback_data: AnnounceCb,
    group: WorkingGroup,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """Drop the attachment, or switch posting in the group chat; the panel shows the change."""
    draft = await draft_or_answer(call, state, group.id, _)
    if draft is None:
        return
    message = pressed(call)
    if callback_data.action == "detach":
        draft.document = None
        draft.voice = None
    else:
        draft.post_in_chat = not draft.post_in_chat and group.chat_usable
    await save_draft(state, draft)
    await call.answer()
    text, markup = await panel(draft, group, session, _, locale, app)
    await show(message, text, markup)
