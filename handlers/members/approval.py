"""Network admins decide on membership requests."""

from __future__ import annotations

import html
from collections.abc import Callable

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.app import App
from bot.core.i18n import Translator
from bot.groups.service import Groups
from bot.members.callbacks import ReviewCb
from bot.members.membership import tell_member
from handlers.filters import network_admin, not_admin
from handlers.ui import add_outcome, clear_buttons
from models.audit import AuditAction, record
from models.member import Member, MemberStatus, get_member_by_id

router = Router(name=__name__)
router.callback_query.filter(F.message.chat.type == "private")
Gettext = Callable[..., str]


@router.callback_query(ReviewCb.filter())
async def review(
    call: CallbackQuery,
    callback_data: ReviewCb,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
    bot: Bot,
    i18n: Translator,
    app: App,
) -> None:
    """Approve or decline a pending member and tell them in their language."""
    if not network_admin(member):
        await call.answer(not_admin(_), show_alert=True)
        return
    candidate = await get_member_by_id(session, callback_data.member_id)
    if candidate is None:
        await call.answer(_("This person is no longer registered."), show_alert=True)
        await clear_buttons(call)
        return
    if candidate.status != MemberStatus.PENDING:
        await call.answer(_("This request was already decided."), show_alert=True)
        await clear_buttons(call)
        return
    assert member is not None
    candidate.status = MemberStatus.ACTIVE if callback_data.approve else MemberStatus.DECLINED
    action = AuditAction.MEMBER_APPROVED if callback_data.approve else AuditAction.MEMBER_DECLINED
    await record(session, member, action, subject=candidate)
    await session.commit()
    name = html.escape(candidate.display_name)
    outcome = (
        _("✅ {name} was approved.") if callback_data.approve else _("{name} was declined.")
    ).format(name=name)
    await call.answer()
    await add_outcome(call, outcome)
    await tell_member(bot, i18n, candidate, callback_data.approve)
    # Working groups they asked for through a deep link while waiting.
    await Groups.of(session, app).after_network_decision(candidate, callback_data.approve)
