"""A network admin creates a working group: its code, then its name and description."""

from __future__ import annotations

import html
from collections.abc import Callable

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.app import App
from bot.core.clock import Clock
from bot.core.i18n import LANGUAGE_NAMES
from bot.groups.admin import (
    MAX_DESCRIPTION,
    MAX_NAME,
    create_group,
    description_problem,
    keep_button,
    manage_screen,
    name_problem,
    valid_code,
    valid_description,
)
from bot.groups.callbacks import ManageCb
from bot.groups.service import Groups
from handlers.filters import network_admin, not_admin
from handlers.ui import AnyMessage, clean_text, clear_buttons, pressed
from models.audit import AuditAction, record
from models.group import get_group_by_code
from models.member import Member

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")
Gettext = Callable[..., str]


class GroupNew(StatesGroup):
    """Creating a group: its code, then its name and description in the admin's language."""

    code = State()
    name = State()
    description = State()


async def admin_now(
    message: Message, member: Member | None, state: FSMContext, _: Gettext
) -> Member | None:
    """The admin creating the group, if they still are one; anyone else's draft is dropped."""
    if member is not None and network_admin(member):
        return member
    await state.clear()
    await message.answer(not_admin(_))
    return None


@router.callback_query(ManageCb.filter(F.action == "new"))
async def new_group(
    call: CallbackQuery, member: Member | None, state: FSMContext, _: Gettext
) -> None:
    """Start creating a group: first its code."""
    if not network_admin(member):
        await call.answer(not_admin(_), show_alert=True)
        return
    message = pressed(call)
    await call.answer()
    await state.set_state(GroupNew.code)
    await message.answer(
        _(
            "Send a short code for the new group: 2 to 24 lowercase letters, digits or _. It "
            "appears in links, for example <code>women_escr</code>."
        )
    )


@router.message(StateFilter(GroupNew.code), F.text, ~F.text.startswith("/"))
async def new_code(
    message: Message, member: Member | None, session: AsyncSession, state: FSMContext, _: Gettext
) -> None:
    """The code, unique and usable in links; the name is asked next."""
    admin = await admin_now(message, member, state, _)
    if admin is None:
        return
    code = valid_code(message.text or "")
    if code is None:
        await message.answer(
            _("A code has 2 to 24 lowercase letters, digits or _. Please send another.")
        )
        return
    if await get_group_by_code(session, code) is not None:
        await message.answer(_("The code {code} is taken. Please send another.").format(code=code))
        return
    await state.update_data(new_code=code)
    await state.set_state(GroupNew.name)
    await message.answer(
        _("Now send the group's name in {language} (up to {limit} characters).").format(
            language=LANGUAGE_NAMES[admin.locale], limit=MAX_NAME
        )
    )


@router.message(StateFilter(GroupNew.name), F.text, ~F.text.startswith("/"))
async def new_name(message: Message, member: Member | None, state: FSMContext, _: Gettext) -> None:
    """The name in the admin's language; the description is asked next."""
    if await admin_now(message, member, state, _) is None:
        return
    name = clean_text(message.text or "", MAX_NAME)
    if name is None:
        await message.answer(name_problem(_))
        return
    await state.update_data(new_name=name)
    await state.set_state(GroupNew.description)
    await message.answer(
        _("Now send a short description (up to {limit} characters), or tap Skip.").format(
            limit=MAX_DESCRIPTION
        ),
        reply_markup=keep_button(0, "keepdesc", _("Skip")),
    )


@router.message(StateFilter(GroupNew.description), F.text, ~F.text.startswith("/"))
async def new_description(
    message: Message,
    member: Member | None,
    state: FSMContext,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    clock: Clock,
    app: App,
) -> None:
    """The description; this creates the group."""
    admin = await admin_now(message, member, state, _)
    if admin is None:
        return
    description = valid_description(message.text or "")
    if description is None:
        await message.answer(description_problem(_))
        return
    await create(message, admin, state, session, description, _, locale, clock, app)


@router.callback_query(ManageCb.filter(F.action == "keepdesc"), StateFilter(GroupNew.description))
async def skip_description(
    call: CallbackQuery,
    member: Member | None,
    state: FSMContext,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    clock: Clock,
    app: App,
) -> None:
    """No description for now; this creates the group."""
    if member is None or not network_admin(member):
        await call.answer(not_admin(_), show_alert=True)
        return
    message = pressed(call)
    await call.answer()
    await clear_buttons(call)
    await create(message, member, state, session, "", _, locale, clock, app)


async def create(
    message: AnyMessage,
    member: Member,
    state: FSMContext,
    session: AsyncSession,
    description: str,
    _: Gettext,
    locale: str,
    clock: Clock,
    app: App,
) -> None:
    """Store the new group and show its settings."""
    data = await state.get_data()
    group = await create_group(
        session,
        code=str(data.get("new_code", "")),
        locale=locale,
        name=str(data.get("new_name", "")),
        description=description,
        now=clock.now(),
    )
    await state.set_state(None)
    if group is None:
        await message.answer(_("The code is taken. Please start again."))
        return
    await record(session, member, AuditAction.GROUP_CREATED, group_id=group.id, detail=group.code)
    groups = Groups.of(session, app)
    await message.answer(
        _("✅ The group <b>{group}</b> was created.").format(
            group=html.escape(groups.name(group, locale))
        )
    )
    text, markup = await manage_screen(groups, group, _, locale)
    await message.answer(text, reply_markup=markup)
