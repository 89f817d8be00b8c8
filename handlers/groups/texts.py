"""Network admins write a group's name and description in each language, one language at a time."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.app import App
from bot.core.config import SUPPORTED_LOCALES
from bot.groups.admin import (
    MAX_NAME,
    description_problem,
    description_prompt,
    manage_screen,
    name_problem,
    name_prompt,
    valid_description,
)
from bot.groups.callbacks import ManageCb
from bot.groups.service import Groups
from handlers.filters import GroupAccess, Need, group_access
from handlers.groups.creation import GroupNew
from handlers.ui import AnyMessage, clean_text, clear_buttons, pressed
from models.group import WorkingGroup
from models.member import Member

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")
router.callback_query.middleware(GroupAccess())
Gettext = Callable[..., str]


class GroupEdit(StatesGroup):
    """Writing a group's name and description in one language."""

    name = State()
    description = State()


async def edit_locale(state: FSMContext) -> str | None:
    """The language being written, as chosen with its button (None if no longer offered)."""
    locale = str((await state.get_data()).get("edit_locale", ""))
    return locale if locale in SUPPORTED_LOCALES else None


async def editing(
    message: Message, member: Member | None, session: AsyncSession, state: FSMContext, _: Gettext
) -> tuple[WorkingGroup, str] | None:
    """The group and language being written, if this member may still edit it; else say why."""
    group_id = int((await state.get_data()).get("edit_group", 0))
    found = await group_access(session, member, group_id, Need.ADMIN, _)
    if isinstance(found, str):
        await state.clear()
        await message.answer(found)
        return None
    locale = await edit_locale(state)
    if locale is None:
        await state.set_state(None)
        await message.answer(_("This button is no longer valid."))
        return None
    return found, locale


@router.callback_query(ManageCb.filter(F.action == "lang"), flags={"group": Need.ADMIN})
async def edit_language(
    call: CallbackQuery,
    callback_data: ManageCb,
    group: WorkingGroup,
    state: FSMContext,
    _: Gettext,
) -> None:
    """Write the group's name (then description) in one language."""
    if callback_data.arg not in SUPPORTED_LOCALES:
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    message = pressed(call)
    await call.answer()
    await state.set_state(GroupEdit.name)
    await state.update_data(edit_group=group.id, edit_locale=callback_data.arg)
    text, markup = name_prompt(group, callback_data.arg, _)
    await message.answer(text, reply_markup=markup)


@router.message(StateFilter(GroupEdit.name), F.text, ~F.text.startswith("/"))
async def typed_name(
    message: Message, member: Member | None, session: AsyncSession, state: FSMContext, _: Gettext
) -> None:
    """The name in this language; the description is asked next."""
    found = await editing(message, member, session, state, _)
    if found is None:
        return
    group, language = found
    name = clean_text(message.text or "", MAX_NAME)
    if name is None:
        await message.answer(name_problem(_))
        return
    group.set_text(language, name)
    await ask_description(message, state, group, language, _)


@router.callback_query(
    ManageCb.filter(F.action == "keepname"),
    StateFilter(GroupEdit.name),
    flags={"group": Need.ADMIN},
)
async def keep_name(
    call: CallbackQuery, group: WorkingGroup, state: FSMContext, _: Gettext
) -> None:
    """The name stays as it is; the description is asked next."""
    message = pressed(call)
    await call.answer()
    await clear_buttons(call)
    locale = await edit_locale(state)
    if locale is None:
        await state.set_state(None)
        return
    await ask_description(message, state, group, locale, _)


async def ask_description(
    message: AnyMessage, state: FSMContext, group: WorkingGroup, locale: str, _: Gettext
) -> None:
    """Second step of editing one language: the description."""
    await state.set_state(GroupEdit.description)
    text, markup = description_prompt(group, locale, _)
    await message.answer(text, reply_markup=markup)


@router.message(StateFilter(GroupEdit.description), F.text, ~F.text.startswith("/"))
async def typed_description(
    message: Message,
    member: Member | None,
    state: FSMContext,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """The description in this language; this finishes the language."""
    found = await editing(message, member, session, state, _)
    if found is None:
        return
    group, language = found
    description = valid_description(message.text or "")
    if description is None:
        await message.answer(description_problem(_))
        return
    group.set_text(language, None, description)
    await saved(message, state, session, group, _, locale, app)


@router.callback_query(
    ManageCb.filter(F.action == "keepdesc"),
    StateFilter(GroupEdit.description),
    flags={"group": Need.ADMIN},
)
async def keep_description(
    call: CallbackQuery,
    group: WorkingGroup,
    state: FSMContext,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """The description stays as it is (or stays empty); this finishes the language."""
    message = pressed(call)
    await call.answer()
    await clear_buttons(call)
    await saved(message, state, session, group, _, locale, app)


async def saved(
    message: AnyMessage,
    state: FSMContext,
    session: AsyncSession,
    group: WorkingGroup,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """Say so and show the group's settings again."""
    await state.set_state(None)
    await message.answer(_("Saved."))
    await session.flush()
    text, markup = await manage_screen(Groups.of(session, app), group, _, locale)
    await message.answer(text, reply_markup=markup)


@router.message(StateFilter(GroupNew, GroupEdit), ~F.text)
async def expected_text(message: Message, _: Gettext) -> None:
    """Stickers, photos and the like where a name or a description is expected."""
    await message.answer(_("Please send it as a text message."))
