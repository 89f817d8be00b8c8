"""The first step /propose, /priorities and /evaluation share: who may open one, and for which
working group (admins may also ask the whole network)."""

from __future__ import annotations

from collections.abc import Callable

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.consensus.service import may_propose, proposable_groups
from bot.consensus.views import ProposeCb, groups_keyboard
from bot.core.bounded import row_id
from handlers.ui import clear_buttons
from models.member import Member

Gettext = Callable[..., str]


async def offer_groups(
    message: Message,
    state: FSMContext,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
    prompt: str,
    action: str,
) -> None:
    """Show the groups this member may open a consultation for, or say they may not."""
    groups = await proposable_groups(session, member) if member and member.is_active else []
    if member is None or not member.is_active or not (groups or member.is_admin):
        await message.answer(_("Only working group coordinators and network admins can propose."))
        return
    await state.clear()
    names = [(g.id, g.text(member.locale, member.locale)[0]) for g in groups]
    markup = groups_keyboard(names, member.is_admin, _, action=action)
    await message.answer(prompt, reply_markup=markup)


async def picked_group(
    call: CallbackQuery,
    data: ProposeCb,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
) -> int | None:
    """The group tapped (0: the whole network), checked against the member's role now; None
    (with the refusal answered) for a forged or no longer allowed one."""
    group_id = row_id(data.value)
    if member is None or group_id is None or not await may_propose(session, member, group_id):
        await call.answer(_("Only the coordinators of this group can do this."), show_alert=True)
        return None
    await call.answer()
    await clear_buttons(call)
    return group_id
