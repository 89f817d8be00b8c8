"""/decisions: a working group's decisions, newest first, for the members of that group."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.consensus.jobs import group_name
from bot.consensus.service import NETWORK, may_read
from bot.consensus.views import DecisionsCb, RecordCb, decisions_text, record_texts
from bot.core.app import App
from handlers.ui import pressed
from models.consensus import decisions_of, get_proposal
from models.group import MembershipStatus, get_group, memberships_of
from models.member import Member

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")
Gettext = Callable[..., str]


@router.message(Command("decisions"))
async def decisions(
    message: Message, member: Member | None, session: AsyncSession, app: App, _: Gettext
) -> None:
    """Choose whose decisions to read: one's groups, or the whole network."""
    if member is None or not member.is_active:
        await message.answer(_("Decisions are for members of the network."))
        return
    kb = InlineKeyboardBuilder()
    for link in await memberships_of(session, member.id):
        group = await get_group(session, link.group_id)
        if link.status == MembershipStatus.ACTIVE and group is not None:
            name = group.text(member.locale, app.settings.default_locale)[0]
            kb.button(text=name, callback_data=DecisionsCb(group=group.id))
    kb.button(text=_("Whole network"), callback_data=DecisionsCb(group=NETWORK))
    kb.adjust(1)
    await message.answer(_("📜 Whose decisions do you want to read?"), reply_markup=kb.as_markup())


@router.callback_query(DecisionsCb.filter())
async def group_decisions(
    call: CallbackQuery,
    callback_data: DecisionsCb,
    member: Member | None,
    session: AsyncSession,
    app: App,
    _: Gettext,
) -> None:
    """The list, newest first; only for the group's members."""
    group_id = callback_data.group
    group = await get_group(session, group_id) if group_id != NETWORK else None
    if (group_id != NETWORK and group is None) or not await may_read(session, member, group_id):
        await call.answer(_("Only members of this group can read its decisions."), show_alert=True)
        return
    assert member is not None
    name = (
        group.text(member.locale, app.settings.default_locale)[0] if group else _("Whole network")
    )
    found = await decisions_of(session, group_id or None)
    text, markup = decisions_text(found, name, member.locale, member.tz, _)
    await call.answer()
    await pressed(call).answer(text, reply_markup=markup)


@router.callback_query(RecordCb.filter())
async def record(
    call: CallbackQuery,
    callback_data: RecordCb,
    member: Member | None,
    session: AsyncSession,
    app: App,
    _: Gettext,
) -> None:
    """One decision's full record."""
    proposal = (
        await get_proposal(session, callback_data.proposal) if callback_data.proposal else None
    )
    if proposal is None or proposal.is_open or not proposal.rounds:
        await call.answer(_("This proposal no longer exists."), show_alert=True)
        return
    if not await may_read(session, member, proposal.group_id or NETWORK):
        await call.answer(_("Only members of this group can read its decisions."), show_alert=True)
        return
    assert member is not None
    await call.answer()
    name = await group_name(session, proposal, member.locale, app.settings.default_locale)
    for text in record_texts(proposal, name, member.locale, member.tz, _):
        await pressed(call).answer(text)
