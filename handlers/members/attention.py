"""Quiet hours and the daily digest, from /profile: each tap changes one thing and redraws."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F, Router
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.delivery.attention import digest_changed
from bot.members.attention import apply, attention_screen
from bot.members.callbacks import AttentionCb
from handlers.ui import pressed, replace_message
from models.member import Member, MemberStatus

router = Router(name=__name__)
router.callback_query.filter(F.message.chat.type == "private")
Gettext = Callable[..., str]


@router.callback_query(AttentionCb.filter())
async def change_attention(
    call: CallbackQuery,
    callback_data: AttentionCb,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
    clock: Clock,
) -> None:
    """Show the screen, or apply the change and show it again."""
    if member is None or member.status == MemberStatus.ONBOARDING:
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    action, hour = callback_data.action, callback_data.hour
    had_digest = member.digest_hour
    if action != "show" and not apply(member, action, hour):
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    if member.digest_hour != had_digest:
        await session.flush()
        await digest_changed(session, member, clock.now())
    await call.answer(_("Saved.") if action != "show" else None)
    text, markup = attention_screen(member, _)
    if action == "show":
        await pressed(call).answer(text, reply_markup=markup)
    else:
        await replace_message(call, text, markup)
