"""Who may do what: filters on routers, and one check for every action on a working group.

A handler that acts on a group names the role it needs in a flag,
`@router.callback_query(SomeCb.filter(), flags={"group": Need.COORDINATOR})`, and receives the
`group` from `GroupAccess`, checked against the member's role at the moment of the tap (a
coordinator dismissed since the button was sent is refused). Message handlers whose group comes
from the conversation call `group_access` themselves.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession

from models.group import WorkingGroup, get_group, is_coordinator
from models.member import Member

Gettext = Callable[..., str]
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class ActiveMember(Filter):
    """Approved members only; pending members are answered by the fallback router."""

    async def __call__(self, event: TelegramObject, member: Member | None = None) -> bool:
        return member is not None and member.is_active


def network_admin(member: Member | None) -> bool:
    """An active network admin, as they stand now."""
    return member is not None and member.is_admin and member.is_active


class NetworkAdmin(Filter):
    """Network admins only."""

    async def __call__(self, event: TelegramObject, member: Member | None = None) -> bool:
        return network_admin(member)


class Need(enum.StrEnum):
    """What a member must be to act on a group."""

    ANYONE = "anyone"  # the group must exist; the handler decides the rest
    COORDINATOR = "coordinator"  # a coordinator of this group, or a network admin
    OPEN_COORDINATOR = "open_coordinator"  # as COORDINATOR, and the group is not archived
    ADMIN = "admin"  # a network admin


def not_coordinator(_: Gettext) -> str:
    """The refusal every coordinator action gives to everyone else."""
    return _("Only the coordinators of this group can do this.")


def not_admin(_: Gettext) -> str:
    """The refusal every network-admin action gives to everyone else."""
    return _("Only network admins can do this.")


async def may_coordinate(session: AsyncSession, member: Member | None, group_id: int) -> bool:
    """Coordinators of the group and network admins, both active, as they stand now."""
    if member is None or not member.is_active:
        return False
    return member.is_admin or await is_coordinator(session, member.id, group_id)


async def group_access(
    session: AsyncSession, member: Member | None, group_id: int, need: Need, _: Gettext
) -> WorkingGroup | str:
    """The group if this member may act on it as `need` says, else the refusal to show."""
    if need is Need.ADMIN and not network_admin(member):
        return not_admin(_)
    group = await get_group(session, group_id)
    if group is None:
        return _(
            "This working group does not exist any more. Send /groups to see the current ones."
        )
    if need in (Need.COORDINATOR, Need.OPEN_COORDINATOR) and not await may_coordinate(
        session, member, group.id
    ):
        return not_coordinator(_)
    if need is Need.OPEN_COORDINATOR and group.archived:
        return _("This working group is archived.")
    return group


class GroupAccess(BaseMiddleware):
    """For callback handlers flagged `group`: load the button's group and check the member."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        need = get_flag(data, "group")
        if need is None or not isinstance(event, CallbackQuery):
            return await handler(event, data)
        found = await group_access(
            data["session"], data.get("member"), data["callback_data"].group_id, need, data["_"]
        )
        if isinstance(found, str):
            await event.answer(found, show_alert=True)
            return None
        data["group"] = found
        return await handler(event, data)
