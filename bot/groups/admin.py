"""Network admins shape working groups: texts per language, rules, coordinators, chats."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from datetime import datetime

from aiogram.exceptions import TelegramAPIError
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import SUPPORTED_LOCALES
from bot.core.i18n import LANGUAGE_NAMES
from bot.groups.callbacks import GroupCb, LinkCb, ManageCb
from bot.groups.service import Groups, announce_chat
from models.group import (
    CODE_PATTERN,
    ChatProblem,
    GroupMembership,
    GroupRole,
    MembershipStatus,
    WorkingGroup,
    get_group_by_code,
    group_coordinators,
    members_page,
)
from models.member import Member

Gettext = Callable[..., str]
MAX_NAME = 120
MAX_DESCRIPTION = 600
PICK_PAGE = 8


def valid_code(text: str) -> str | None:
    """A group code as typed, normalised; None when it can't be one."""
    code = text.strip().lower().replace("-", "_").replace(" ", "_")
    return code if re.fullmatch(CODE_PATTERN, code) else None


async def create_group(
    session: AsyncSession,
    *,
    code: str,
    locale: str,
    name: str,
    description: str,
    now: datetime,
) -> WorkingGroup | None:
    """A new open group with its first language; None when the code is taken."""
    if await get_group_by_code(session, code) is not None:
        return None
    group = WorkingGroup(code=code, moderated=False, archived=False, created_at=now)
    group.set_text(locale, name, description)
    session.add(group)
    await session.flush()
    return group


def name_problem(_: Gettext) -> str:
    """The answer to a group name that is empty or too long."""
    return _("Please send a name of 1 to {limit} characters.").format(limit=MAX_NAME)


def description_problem(_: Gettext) -> str:
    """The answer to a group description that is too long."""
    return _("Please send a description of 1 to {limit} characters.").format(limit=MAX_DESCRIPTION)


def valid_description(text: str) -> str | None:
    """A description as typed, on one line; None when it is too long."""
    description = " ".join(text.split())
    return description if len(description) <= MAX_DESCRIPTION else None


async def appoint(
    groups: Groups, group: WorkingGroup, link: GroupMembership, person: Member
) -> None:
    """Make an active member a coordinator, and tell them what they can now do."""
    link.role = GroupRole.COORDINATOR
    await groups.session.flush()
    _ = groups.t(person.locale)
    await groups.send(
        person,
        _(
            "You are now a coordinator of <b>{group}</b>. Open /groups and the group to see its "
            "members, answer requests to join and send announcements."
        ).format(group=html.escape(groups.name(group, person.locale))),
    )


async def dismiss(
    groups: Groups, group: WorkingGroup, link: GroupMembership, person: Member
) -> None:
    """Back to a plain member, and told so."""
    link.role = GroupRole.MEMBER
    await groups.session.flush()
    _ = groups.t(person.locale)
    await groups.send(
        person,
        _("You are no longer a coordinator of <b>{group}</b>.").format(
            group=html.escape(groups.name(group, person.locale))
        ),
    )


async def link_chat(groups: Groups, group: WorkingGroup, chat_id: int) -> str:
    """Make the chat the group's and tell its members; returns the chat's title (or its id)."""
    try:
        title = (await groups.bot.get_chat(chat_id)).title
    except TelegramAPIError:
        title = None
    await groups.link_chat(group, chat_id, title)
    await announce_chat(groups.session, group)
    return title or str(chat_id)


async def manage_screen(
    groups: Groups, group: WorkingGroup, _: Gettext, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    """The group's settings screen, with its coordinators and invitation link as they are now."""
    coordinators = await group_coordinators(groups.session, group.id)
    deep_link = await groups.deep_link(group)
    return manage_view(group, coordinators, deep_link, _, locale, groups.default_locale)


async def coordinators_screen(
    groups: Groups, group: WorkingGroup, _: Gettext, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    """Who coordinates the group now."""
    coordinators = await group_coordinators(groups.session, group.id)
    return coordinators_view(group.id, groups.name(group, locale), coordinators, _)


async def pick_screen(
    groups: Groups, group: WorkingGroup, page: int, _: Gettext, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    """One page of the group's members, to appoint a coordinator from."""
    rows = await members_page(
        groups.session,
        group.id,
        offset=page * PICK_PAGE,
        limit=PICK_PAGE + 1,
        status=MembershipStatus.ACTIVE,
    )
    name = groups.name(group, locale)
    more = len(rows) > PICK_PAGE
    return pick_view(
        group.id, name, rows[:PICK_PAGE], page, more, await groups.deep_link(group), _
    )


def manage_view(
    group: WorkingGroup,
    coordinators: Sequence[Member],
    deep_link: str,
    _: Gettext,
    locale: str,
    default_locale: str,
) -> tuple[str, InlineKeyboardMarkup]:
    """A group's settings as an admin sees them, with a button for each change."""
    name = html.escape(group.name(locale, default_locale))
    lines = [_("⚙️ <b>{group}</b> (code: {code})").format(group=name, code=group.code), ""]
    lines.append(_("<b>Name and description in each language</b>"))
    for code in SUPPORTED_LOCALES:
        found = group.translation(code)
        text = html.escape(found.name) if found else _("missing")
        mark = "✓" if found else "✗"
        lines.append(f"{mark} {LANGUAGE_NAMES[code]}: {text}")
    lines.append("")
    lines.append(
        _("🔒 Moderated: coordinators approve each request.")
        if group.moderated
        else _("Open: any member of the network can join.")
    )
    if group.archived:
        lines.append(_("🗄 Archived: hidden from members, takes no new members."))
    names = ", ".join(html.escape(p.display_name) for p in coordinators) or _("none yet")
    lines.append(_("Coordinators: {names}").format(names=names))
    if group.chat_id is None:
        lines.append(
            _(
                "Chat: none. Add me to a Telegram group as an administrator and send /link "
                "there to connect it."
            )
        )
    else:
        chat = html.escape(group.chat_title or str(group.chat_id))
        if group.chat_problem == ChatProblem.REMOVED:
            state = _("⚠️ I was removed from it")
        elif group.chat_problem == ChatProblem.NOT_ADMIN:
            state = _("⚠️ I am not an administrator there")
        else:
            state = _("working")
        lines.append(_("Chat: «{chat}» ({state})").format(chat=chat, state=state))
        if group.chat_join_link:
            lines.append(
                _("Link for join requests (only members of the group are let in): {link}").format(
                    link=group.chat_join_link
                )
            )
    lines.append(_("Link to invite people to the group: {link}").format(link=deep_link))

    kb = InlineKeyboardBuilder()
    for code in SUPPORTED_LOCALES:
        kb.button(
            text="✏️ " + LANGUAGE_NAMES[code],
            callback_data=ManageCb(action="lang", group_id=group.id, arg=code),
        )
    actions = InlineKeyboardBuilder()
    actions.button(
        text=_("🔓 Make it open") if group.moderated else _("🔒 Make it moderated"),
        callback_data=ManageCb(
            action="moderated", group_id=group.id, arg="0" if group.moderated else "1"
        ),
    )
    actions.button(
        text=_("👤 Coordinators"), callback_data=ManageCb(action="coords", group_id=group.id)
    )
    actions.button(
        text=_("♻️ Restore") if group.archived else _("🗄 Archive"),
        callback_data=ManageCb(
            action="archive", group_id=group.id, arg="0" if group.archived else "1"
        ),
    )
    if group.chat_id is not None:
        actions.button(
            text=_("✂️ Unlink the chat"), callback_data=ManageCb(action="unlink", group_id=group.id)
        )
    actions.button(
        text=_("◀ Back to the group"), callback_data=GroupCb(action="show", group_id=group.id)
    )
    kb.adjust(3)
    actions.adjust(2)
    kb.attach(actions)
    return "\n".join(lines), kb.as_markup()


def coordinators_view(
    group_id: int, group_name: str, coordinators: Sequence[Member], _: Gettext
) -> tuple[str, InlineKeyboardMarkup]:
    """Who coordinates the group; a button to remove each, and one to appoint someone."""
    lines = [_("<b>Coordinators of {group}</b>").format(group=html.escape(group_name))]
    if not coordinators:
        lines.append(_("None yet."))
    kb = InlineKeyboardBuilder()
    for person in coordinators:
        lines.append("⭐ " + html.escape(person.display_name))
        kb.button(
            text=_("✖ {name}").format(name=person.display_name),
            callback_data=ManageCb(action="dismiss", group_id=group_id, arg=str(person.id)),
        )
    kb.button(
        text=_("➕ Appoint a coordinator"),
        callback_data=ManageCb(action="pick", group_id=group_id, arg="0"),
    )
    kb.button(text=_("◀ Back"), callback_data=ManageCb(action="show", group_id=group_id))
    kb.adjust(1)
    return "\n".join(lines), kb.as_markup()


def pick_view(
    group_id: int,
    group_name: str,
    rows: Sequence[tuple[GroupMembership, Member]],
    page: int,
    more: bool,
    deep_link: str,
    _: Gettext,
) -> tuple[str, InlineKeyboardMarkup]:
    """Members of the group who could be appointed (coordinators must be members first)."""
    kb = InlineKeyboardBuilder()
    candidates = [(link, person) for link, person in rows if not link.is_coordinator]
    if not rows and page == 0:
        text = _(
            "Nobody has joined <b>{group}</b> yet; coordinators are chosen among its members. "
            "Share this link so people can join: {link}"
        ).format(group=html.escape(group_name), link=deep_link)
    else:
        text = _("Who should coordinate <b>{group}</b>? Tap a member.").format(
            group=html.escape(group_name)
        )
    for _link, person in candidates:
        kb.button(
            text=person.display_name,
            callback_data=ManageCb(action="appoint", group_id=group_id, arg=str(person.id)),
        )
    kb.adjust(2)
    nav = InlineKeyboardBuilder()
    if page > 0:
        nav.button(
            text="◀", callback_data=ManageCb(action="pick", group_id=group_id, arg=str(page - 1))
        )
    if more:
        nav.button(
            text="▶", callback_data=ManageCb(action="pick", group_id=group_id, arg=str(page + 1))
        )
    nav.button(text=_("◀ Back"), callback_data=ManageCb(action="coords", group_id=group_id))
    kb.attach(nav)
    return text, kb.as_markup()


def keep_button(group_id: int, action: str, label: str) -> InlineKeyboardMarkup:
    """One button that keeps the current text (or skips an optional one)."""
    kb = InlineKeyboardBuilder()
    kb.button(text=label, callback_data=ManageCb(action=action, group_id=group_id))
    return kb.as_markup()


def name_prompt(
    group: WorkingGroup, locale: str, _: Gettext
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Ask for the group's name in one language, offering to keep the current one."""
    text = _("Send the group's name in {language} (up to {limit} characters).").format(
        language=LANGUAGE_NAMES[locale], limit=MAX_NAME
    )
    current = group.translation(locale)
    if current is None:
        return text, None
    text += "\n" + _("Now: {value}").format(value=html.escape(current.name))
    return text, keep_button(group.id, "keepname", _("Keep it"))


def description_prompt(
    group: WorkingGroup, locale: str, _: Gettext
) -> tuple[str, InlineKeyboardMarkup]:
    """Ask for the group's description in one language; keep the current one, or skip."""
    text = _("Now send the description in {language} (up to {limit} characters).").format(
        language=LANGUAGE_NAMES[locale], limit=MAX_DESCRIPTION
    )
    label = _("Skip")
    current = group.translation(locale)
    if current is not None and current.description:
        text += "\n" + _("Now: {value}").format(value=html.escape(current.description))
        label = _("Keep it")
    return text, keep_button(group.id, "keepdesc", label)


def link_choice(
    groups: Sequence[WorkingGroup],
    chat_id: int,
    chat_title: str,
    _: Gettext,
    locale: str,
    default_locale: str,
) -> tuple[str, InlineKeyboardMarkup]:
    """Which working group a Telegram chat belongs to (asked in private)."""
    text = _("Which working group is the Telegram chat «{chat}» for?").format(
        chat=html.escape(chat_title or str(chat_id))
    )
    kb = InlineKeyboardBuilder()
    for group in groups:
        mark = "💬 " if group.chat_id is not None else ""
        kb.button(
            text=mark + group.name(locale, default_locale),
            callback_data=LinkCb(chat_id=chat_id, group_id=group.id),
        )
    kb.adjust(1)
    return text, kb.as_markup()
