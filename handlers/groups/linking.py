"""A network admin confirms in private which working group a Telegram chat belongs to.

The chat side (`/link` sent in the chat) is in handlers/groups/chat.py.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.app import App
from bot.groups.admin import link_chat
from bot.groups.callbacks import LinkCb
from bot.groups.service import Groups
from handlers.filters import GroupAccess, Need
from handlers.ui import clear_buttons, pressed, show
from models.audit import AuditAction, record
from models.group import WorkingGroup
from models.member import Member

router = Router(name=__name__)
router.callback_query.filter(F.message.chat.type == "private")
router.callback_query.middleware(GroupAccess())
Gettext = Callable[..., str]


@router.callback_query(LinkCb.filter(), flags={"group": Need.ADMIN})
async def confirm_link(
    call: CallbackQuery,
    callback_data: LinkCb,
    group: WorkingGroup,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    bot: Bot,
    app: App,
) -> None:
    """The admin picked the group: check the bot's rights again, link, and say so in the chat."""
    message = pressed(call)
    groups = Groups.of(session, app)
    if group.archived:
        await call.answer(_("This working group is archived."), show_alert=True)
        return
    if await groups.bot_problem_in(callback_data.chat_id) is not None:
        await call.answer(
            _(
                "I am not an administrator of that chat (with the rights to invite users and to "
                "ban users). Fix it and send /link there again."
            ),
            show_alert=True,
        )
        await clear_buttons(call)
        return
    title = await link_chat(groups, group, callback_data.chat_id)
    await record(session, member, AuditAction.CHAT_LINKED, group_id=group.id, detail=group.code)
    await call.answer()
    name = html.escape(groups.name(group, locale))
    await show(
        message,
        _(
            "✅ «{chat}» is now the chat of <b>{group}</b>. Its members get a personal link "
            "from /groups; I decline join requests from anyone else."
        ).format(chat=html.escape(title), group=name),
    )
    await greet_chat(bot, callback_data.chat_id, name, _)


async def greet_chat(bot: Bot, chat_id: int, group_name: str, _: Gettext) -> None:
    """Tell the chat which group it now belongs to (if the bot may still write there)."""
    try:
        await bot.send_message(
            chat_id,
            _(
                "This chat now belongs to the working group <b>{group}</b>. Members of the group "
                "get in with a personal link from me; I decline requests from anyone else."
            ).format(group=group_name),
        )
    except TelegramAPIError:
        return
