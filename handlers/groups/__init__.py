"""Working groups: browsing and joining, admins' and coordinators' tools, chats, announcements."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.app import App, Registry
from bot.groups.announcements import digest_announcement, render_announcement
from bot.groups.service import GROUP_LINK, Groups, render_chat_opened
from handlers.groups import (
    announcement_drafting,
    announcement_sending,
    browse,
    chat,
    coordinators,
    creation,
    linking,
    mute,
    settings,
    texts,
)
from models.group import group_records
from models.member import Member


def setup(registry: Registry) -> None:
    """Add the groups' routers, broadcast kinds, /mydata section, /forget step and deep link."""
    registry.include_routers(
        browse.router,
        mute.router,
        settings.router,
        coordinators.router,
        creation.router,
        texts.router,
        linking.router,
        chat.router,
        announcement_drafting.router,
        announcement_sending.router,
    )
    registry.add_renderer("announcement", render_announcement)
    registry.add_renderer("group_chat", render_chat_opened)
    registry.add_digest_item("announcement", digest_announcement)
    registry.add_data_section(group_records)
    registry.add_forget_step(leave_chats)
    registry.add_deep_link(GROUP_LINK, browse.follow_group_link)


async def leave_chats(session: AsyncSession, app: App, member: Member) -> None:
    """Out of the groups' chats first: without a record the bot could not tell them from a
    stranger any more."""
    await Groups.of(session, app).leave_all_chats(member)
