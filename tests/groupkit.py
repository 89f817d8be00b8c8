"""Test helpers for working groups: store groups and memberships, wait for group-side calls."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.sandbox.telegram import ApiCall, FakeTelegram
from models.group import (
    GroupInvite,
    GroupMembership,
    GroupRole,
    MembershipStatus,
    WorkingGroup,
)
from tests.harness import RunningBot

WOMEN = {"en": "Women and ESCR", "es": "Mujeres y DESC", "fr": "Femmes et DESC"}


async def make_group(
    bot: RunningBot,
    code: str = "women_escr",
    names: dict[str, str] | None = None,
    *,
    moderated: bool = False,
    archived: bool = False,
    chat_id: int | None = None,
    chat_title: str | None = None,
) -> int:
    """Store a working group directly (names per language) and return its id."""

    async def create(session: Any) -> int:
        group = WorkingGroup(
            code=code,
            moderated=moderated,
            archived=archived,
            chat_id=chat_id,
            chat_title=chat_title,
        )
        for locale, name in (names or WOMEN).items():
            group.set_text(locale, name, f"About {name}" if locale == "en" else f"Sobre {name}")
        session.add(group)
        await session.commit()
        return int(group.id)

    return int(await bot.db(create))


async def add_to_group(
    bot: RunningBot,
    group_id: int,
    member: Any,
    *,
    coordinator: bool = False,
    status: str = MembershipStatus.ACTIVE,
) -> int:
    """Store a membership directly and return its id."""

    async def create(session: Any) -> int:
        link = GroupMembership(
            group_id=group_id,
            member_id=member.id,
            role=GroupRole.COORDINATOR if coordinator else GroupRole.MEMBER,
            status=status,
        )
        session.add(link)
        await session.commit()
        return int(link.id)

    return int(await bot.db(create))


async def group_row(bot: RunningBot, group_id: int) -> WorkingGroup:
    return await bot.db(lambda s: s.get(WorkingGroup, group_id))


async def membership_row(bot: RunningBot, group_id: int, member_id: int) -> Any:
    return await bot.db(
        lambda s: s.scalar(
            select(GroupMembership).where(
                GroupMembership.group_id == group_id, GroupMembership.member_id == member_id
            )
        )
    )


async def invites(bot: RunningBot, member_id: int) -> list[GroupInvite]:
    async def load(session: Any) -> list[GroupInvite]:
        rows = await session.scalars(
            select(GroupInvite).where(GroupInvite.member_id == member_id).order_by(GroupInvite.id)
        )
        return list(rows)

    return list(await bot.db(load))


async def expect_call(fake: FakeTelegram, method: str, chat_id: int | None = None) -> ApiCall:
    """Wait for the bot to make `method` (for `chat_id`) after the last pushed update, then
    for the bot to go quiet."""
    call = await fake.wait_for_call(
        lambda c: c.method == method and (chat_id is None or c.chat_id == chat_id), timeout=10
    )
    await fake.settle(quiet=0.2)
    return call


def url_buttons(message: dict[str, Any]) -> list[str]:
    """URLs of a message's inline buttons."""
    markup = message.get("reply_markup") or {}
    return [b["url"] for row in markup.get("inline_keyboard", []) for b in row if "url" in b]


def last_link(user: Any) -> str:
    """The newest invite link the bot gave this user as a button."""
    for message in reversed(user.messages()):
        urls = url_buttons(message)
        if urls:
            return urls[0]
    raise AssertionError(f"no link button for user {user.user_id}: {user.texts()[-3:]}")
