"""Network admins open a group's settings: open or moderated, archived or not, chat unlinked."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.app import App
from bot.groups.admin import manage_screen
from bot.groups.callbacks import ManageCb
from bot.groups.service import Groups
from handlers.filters import GroupAccess, Need
from handlers.ui import replace_message
from models.audit import AuditAction, record
from models.group import WorkingGroup
from models.member import Member

router = Router(name=__name__)
router.callback_query.filter(F.message.chat.type == "private")
router.callback_query.middleware(GroupAccess())
Gettext = Callable[..., str]


async def show_manage(
    call: CallbackQuery, groups: Groups, group: WorkingGroup, _: Gettext, locale: str
) -> None:
    """The settings screen in place of the pressed message."""
    await replace_message(call, *await manage_screen(groups, group, _, locale))


@router.callback_query(ManageCb.filter(F.action == "show"), flags={"group": Need.ADMIN})
async def manage(
    call: CallbackQuery,
    group: WorkingGroup,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """The group's settings (leaving any half-written name or description behind)."""
    await state.set_state(None)
    await call.answer()
    await show_manage(call, Groups.of(session, app), group, _, locale)


@router.callback_query(ManageCb.filter(F.action == "moderated"), flags={"group": Need.ADMIN})
async def set_moderated(
    call: CallbackQuery,
    callback_data: ManageCb,
    group: WorkingGroup,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """Open or moderated; requests already waiting stay with the coordinators."""
    group.moderated = callback_data.arg == "1"
    await call.answer()
    await show_manage(call, Groups.of(session, app), group, _, locale)


@router.callback_query(ManageCb.filter(F.action == "archive"), flags={"group": Need.ADMIN})
async def set_archived(
    call: CallbackQuery,
    callback_data: ManageCb,
    group: WorkingGroup,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """Archive (no new members, hidden from the list) or restore."""
    group.archived = callback_data.arg == "1"
    action = AuditAction.GROUP_ARCHIVED if group.archived else AuditAction.GROUP_RESTORED
    await record(session, member, action, group_id=group.id, detail=group.code)
    await call.answer(
        _("The group is archived.") if group.archived else _("The group is active again.")
    )
    await show_manage(call, Groups.of(session, app), group, _, locale)


@router.callback_query(ManageCb.filter(F.action == "unlink"), flags={"group": Need.ADMIN})
async def unlink(
    call: CallbackQuery,
    group: WorkingGroup,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """Disconnect the group's chat (the chat itself is left as it is)."""
    groups = Groups.of(session, app)
    await groups.unlink_chat(group)
    await record(session, member, AuditAction.CHAT_UNLINKED, group_id=group.id, detail=group.code)
    await call.answer(_("The chat is no longer linked to this group."))
    await show_manage(call, groups, group, _, locale)
