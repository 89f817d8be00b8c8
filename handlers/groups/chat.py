"""The groups' own Telegram chats: /link, join requests, arrivals and the bot's own rights."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.types import ChatJoinRequest, ChatMemberUpdated, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.app import App
from bot.groups.admin import link_choice
from bot.groups.service import Groups, is_in_chat
from handlers.filters import network_admin
from models.group import list_groups
from models.member import Member

GROUP_CHATS = {"group", "supergroup"}
router = Router(name=__name__)
router.message.filter(F.chat.type.in_(GROUP_CHATS))
router.chat_join_request.filter(F.chat.type.in_(GROUP_CHATS))
router.chat_member.filter(F.chat.type.in_(GROUP_CHATS))
router.my_chat_member.filter(F.chat.type.in_(GROUP_CHATS))
Gettext = Callable[..., str]


def needs_admin_rights(_: Gettext) -> str:
    """What the bot needs in a chat before it can guard its door."""
    return _(
        "I need to be an administrator of this chat, with the rights to invite users and to "
        "ban users. Promote me, then send /link again."
    )


@router.message(Command("link"))
async def link_here(
    message: Message,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    bot: Bot,
    app: App,
) -> None:
    """A network admin links this chat to a working group; the choice is made in private."""
    if member is None or not network_admin(member):
        await message.reply(_("Only a network admin can link this chat to a working group."))
        return
    groups = Groups.of(session, app)
    if await groups.bot_problem_in(message.chat.id) is not None:
        await message.reply(needs_admin_rights(_))
        return
    choices = await list_groups(session)
    if not choices:
        await message.reply(_("There are no working groups yet. Create one with /groups first."))
        return
    text, markup = link_choice(
        choices, message.chat.id, message.chat.title or "", _, locale, groups.default_locale
    )
    try:
        await bot.send_message(member.telegram_id, text, reply_markup=markup)
    except TelegramAPIError:
        await message.reply(
            _(
                "I could not write to you in private. Open a private chat with me, send /start, "
                "then send /link here again."
            )
        )
        return
    await message.reply(_("I sent you the choice of working group in our private chat."))


@router.message(F.migrate_to_chat_id)
async def chat_migrated(message: Message, session: AsyncSession, app: App) -> None:
    """A group became a supergroup and got a new id: follow it."""
    assert message.migrate_to_chat_id is not None
    await Groups.of(session, app).on_chat_migrated(message.chat.id, message.migrate_to_chat_id)


@router.chat_join_request()
async def join_request(request: ChatJoinRequest, session: AsyncSession, app: App) -> None:
    """Only accepted members of the chat's working group get in."""
    await Groups.of(session, app).on_join_request(request)


@router.chat_member()
async def member_changed(update: ChatMemberUpdated, session: AsyncSession, app: App) -> None:
    """Someone entered the chat: a personal link was spent (or misused)."""
    await Groups.of(session, app).on_member_joined(update)


@router.my_chat_member()
async def bot_changed(
    update: ChatMemberUpdated, session: AsyncSession, _: Gettext, bot: Bot, app: App
) -> None:
    """The bot was added, promoted, demoted or removed: admins hear what to fix."""
    group = await Groups.of(session, app).on_bot_status(update)
    if group is not None:
        return
    joined = not is_in_chat(update.old_chat_member) and is_in_chat(update.new_chat_member)
    if joined:
        try:
            await bot.send_message(
                update.chat.id,
                _(
                    "Hello! A network admin can send /link here to make this the chat of a "
                    "working group. I need to be an administrator, with the rights to invite "
                    "users and to ban users."
                ),
            )
        except TelegramAPIError:
            return
