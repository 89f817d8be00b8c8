"""Deep links (`t.me/<bot>?start=<payload>`) that take a member straight to something."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import Bot
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.groups import Groups
from bot.i18n import Translator
from models.group import get_group_by_code
from models.member import Member

Gettext = Callable[..., str]
GROUP_PREFIX = "wg_"


async def handle_payload(
    message: Message,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    settings: Settings,
    bot: Bot,
    i18n: Translator,
    payload: str,
    *,
    clock: Clock,
) -> None:
    """Route a payload by its prefix; an unknown one gets a clear answer."""
    if payload.startswith(GROUP_PREFIX):
        groups = Groups(session, bot=bot, i18n=i18n, settings=settings, clock=clock)
        await join_by_link(message, member, groups, _, payload[len(GROUP_PREFIX) :])
        return
    if not member.is_active:
        await message.answer(_("This link will work once your membership is approved."))
        return
    await message.answer(_("This link is not valid any more."))


async def join_by_link(
    message: Message, member: Member, groups: Groups, _: Gettext, code: str
) -> None:
    """`wg_<code>`: join that group (or ask to), then show its card."""
    group = await get_group_by_code(groups.session, code)
    if group is None:
        await message.answer(
            _("This working group does not exist. Send /groups to see the current ones.")
        )
        return
    result = await groups.join(member, group)
    text, door = groups.join_message(result, group, member)
    await message.answer(text, reply_markup=door)
    if member.is_active:
        card, markup = await groups.card(member, group, _, member.locale)
        await message.answer(card, reply_markup=markup)
