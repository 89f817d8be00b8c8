"""Network admins appoint a group's coordinators among its members, and dismiss them."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F, Router
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.app import App
from bot.core.bounded import row_id
from bot.groups.admin import appoint, coordinators_screen, dismiss, pick_screen
from bot.groups.callbacks import ManageCb
from bot.groups.service import Groups
from handlers.filters import GroupAccess, Need
from handlers.ui import replace_message
from models.audit import AuditAction, record
from models.group import GroupMembership, WorkingGroup
from models.member import Member

router = Router(name=__name__)
router.callback_query.filter(F.message.chat.type == "private")
router.callback_query.middleware(GroupAccess())
Gettext = Callable[..., str]


def number(arg: str) -> int | None:
    """A page or a member id carried in a button, if it is one."""
    return row_id(arg)


async def member_or_answer(
    call: CallbackQuery, groups: Groups, group: WorkingGroup, arg: str, _: Gettext
) -> tuple[Member, GroupMembership] | None:
    """The member a button names, if they are still in the group; else say so."""
    found = await groups.active_member(group, number(arg))
    if found is None:
        await call.answer(_("This person is no longer a member of the group."), show_alert=True)
    return found


@router.callback_query(ManageCb.filter(F.action == "coords"), flags={"group": Need.ADMIN})
async def coordinators(
    call: CallbackQuery,
    group: WorkingGroup,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """Who coordinates the group, with a button to dismiss each and one to appoint."""
    await call.answer()
    await replace_message(
        call, *await coordinators_screen(Groups.of(session, app), group, _, locale)
    )


@router.callback_query(ManageCb.filter(F.action == "pick"), flags={"group": Need.ADMIN})
async def pick_coordinator(
    call: CallbackQuery,
    callback_data: ManageCb,
    group: WorkingGroup,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """The group's members, to choose a coordinator from."""
    page = number(callback_data.arg) or 0
    await call.answer()
    await replace_message(
        call, *await pick_screen(Groups.of(session, app), group, page, _, locale)
    )


@router.callback_query(ManageCb.filter(F.action == "appoint"), flags={"group": Need.ADMIN})
async def appoint_coordinator(
    call: CallbackQuery,
    callback_data: ManageCb,
    group: WorkingGroup,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """Make a member a coordinator; they are told."""
    groups = Groups.of(session, app)
    found = await member_or_answer(call, groups, group, callback_data.arg, _)
    if found is None:
        return
    person, link = found
    if link.is_coordinator:
        await call.answer(
            _("{name} already coordinates this group.").format(name=person.display_name)
        )
    else:
        await appoint(groups, group, link, person)
        await record(
            session, member, AuditAction.COORDINATOR_APPOINTED, group_id=group.id, subject=person
        )
        await call.answer(_("{name} is now a coordinator.").format(name=person.display_name))
    await replace_message(call, *await coordinators_screen(groups, group, _, locale))


@router.callback_query(ManageCb.filter(F.action == "dismiss"), flags={"group": Need.ADMIN})
async def dismiss_coordinator(
    call: CallbackQuery,
    callback_data: ManageCb,
    group: WorkingGroup,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """Make a coordinator a plain member again; they are told."""
    groups = Groups.of(session, app)
    found = await member_or_answer(call, groups, group, callback_data.arg, _)
    if found is None:
        return
    person, link = found
    if link.is_coordinator:
        await dismiss(groups, group, link, person)
        await record(
            session, member, AuditAction.COORDINATOR_DISMISSED, group_id=group.id, subject=person
        )
        await call.answer(_("{name} is no longer a coordinator.").format(name=person.display_name))
    else:
        await call.answer()
    await replace_message(call, *await coordinators_screen(groups, group, _, locale))
