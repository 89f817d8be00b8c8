"""Mute a group's announcements without leaving it (and get them again), from its card."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F, Router
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.app import App
from bot.groups.callbacks import GroupCb
from bot.groups.service import Groups
from handlers.filters import ActiveMember, GroupAccess, Need
from handlers.ui import replace_message
from models.group import WorkingGroup, get_membership, set_muted
from models.member import Member

router = Router(name=__name__)
router.callback_query.filter(F.message.chat.type == "private")
router.callback_query.middleware(GroupAccess())
Gettext = Callable[..., str]


@router.callback_query(
    GroupCb.filter(F.action == "mute"), ActiveMember(), flags={"group": Need.ANYONE}
)
async def toggle_mute(
    call: CallbackQuery,
    group: WorkingGroup,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """Turn the group's announcements off or on for this member; the card shows which."""
    link = await get_membership(session, group.id, member.id)
    if link is None or not link.is_active:
        await call.answer(_("You are not a member of this group."), show_alert=True)
        return
    await set_muted(session, link, not link.muted)
    if link.muted:
        await call.answer(_("Muted: you will not get this group's announcements."))
    else:
        await call.answer(_("You will get this group's announcements again."))
    text, markup = await Groups.of(session, app).card(member, group, _, locale)
    await replace_message(call, text, markup)
