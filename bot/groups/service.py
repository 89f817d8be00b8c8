"""Working-group decisions: joining, leaving, requests, removals, and the door of each chat."""

from __future__ import annotations

import enum
import html
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.types import (
    ChatJoinRequest,
    ChatMemberAdministrator,
    ChatMemberUpdated,
    InlineKeyboardMarkup,
)
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.config import Settings
from bot.core.i18n import Translator, format_when, match_locale
from bot.core.privacy import keyed_token
from bot.delivery.queue import Outgoing, Priority, RenderContext, enqueue_broadcast
from bot.groups.callbacks import GroupCb
from bot.groups.views import (
    MEMBERS_PAGE,
    CardInfo,
    group_card,
    group_list,
    members_view,
    request_message,
)
from models.group import (
    ChatProblem,
    GroupInvite,
    GroupMembership,
    GroupRemoval,
    MembershipStatus,
    RemovalToken,
    WorkingGroup,
    active_member_ids,
    count_members,
    delete_invites,
    forget_removal,
    get_group,
    get_membership,
    group_coordinators,
    group_for_chat,
    invite_by_link,
    invites_of,
    is_coordinator,
    list_groups,
    member_counts,
    members_page,
    memberships_of,
    open_invites,
    standing_and_counts,
    waiting_memberships,
    was_removed,
)
from models.member import Member, get_member, get_member_by_id, list_admins

if TYPE_CHECKING:
    from aiogram.types import ChatMemberUnion

    from bot.core.app import App

log = logging.getLogger(__name__)
Gettext = Callable[..., str]
INVITE_TTL = timedelta(hours=24)
IN_CHAT = frozenset({"creator", "administrator", "member"})
GROUP_LINK = "wg_"  # deep-link prefix: t.me/<bot>?start=wg_<code>


class JoinOutcome(enum.StrEnum):
    """What pressing Join (or opening a group's deep link) did."""

    JOINED = "joined"
    REQUESTED = "requested"
    WAITING = "waiting"
    ALREADY_MEMBER = "already_member"
    ALREADY_REQUESTED = "already_requested"
    ARCHIVED = "archived"


class Door(enum.StrEnum):
    """What a member gets when they ask for a way into the group's chat."""

    LINK = "link"
    IN_CHAT = "in_chat"
    NO_CHAT = "no_chat"
    UNAVAILABLE = "unavailable"


@dataclass
class ChatAccess:
    """A personal link (or why there is none)."""

    door: Door
    link: str | None = None
    expires_at: datetime | None = None
    renewed: bool = False


@dataclass
class JoinResult:
    """The outcome of a join, with the chat access when the member got in at once."""

    outcome: JoinOutcome
    membership: GroupMembership | None = None
    access: ChatAccess | None = None


def is_in_chat(member: ChatMemberUnion) -> bool:
    """Whether a ChatMember is present in the chat (restricted members may be too)."""
    if member.status in IN_CHAT:
        return True
    return member.status == "restricted" and bool(getattr(member, "is_member", False))


def rights_problem(member: ChatMemberUnion) -> ChatProblem | None:
    """What keeps the bot from guarding a chat, judging by its own ChatMember."""
    if member.status in ("left", "kicked"):
        return ChatProblem.REMOVED
    if (
        isinstance(member, ChatMemberAdministrator)
        and member.can_invite_users
        and member.can_restrict_members
    ):
        return None
    return ChatProblem.NOT_ADMIN


def chat_problem_of(exc: TelegramAPIError) -> ChatProblem | None:
    """Map Telegram's refusal to a chat problem admins can fix; None for other errors."""
    text = exc.message.lower()
    if isinstance(exc, TelegramForbiddenError):
        return ChatProblem.REMOVED
    if "not enough rights" in text or "need administrator rights" in text:
        return ChatProblem.NOT_ADMIN
    if "chat_admin_required" in text:
        return ChatProblem.NOT_ADMIN
    if "chat not found" in text or "not a member" in text:
        return ChatProblem.REMOVED
    return None


class Groups:
    """Group decisions for one update (or one background job): one session, one bot."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        bot: Bot,
        i18n: Translator,
        settings: Settings,
        clock: Clock,
        privacy_key: bytes = b"",
    ) -> None:
        self.session = session
        self.bot = bot
        self.i18n = i18n
        self.clock = clock
        self.default_locale = settings.default_locale
        self.privacy_key = privacy_key

    @classmethod
    def of(cls, session: AsyncSession, app: App) -> Groups:
        """The service for a handler or job that has the App at hand."""
        return cls(
            session,
            bot=app.bot,
            i18n=app.i18n,
            settings=app.settings,
            clock=app.clock,
            privacy_key=app.privacy_key,
        )

    # --- helpers ----------------------------------------------------------------------------

    def t(self, locale: str) -> Gettext:
        """gettext bound to someone else's language."""

        def gettext(singular: str, plural: str | None = None, n: int = 1) -> str:
            return self.i18n.gettext(singular, plural, n, locale=locale)

        return gettext

    def name(self, group: WorkingGroup, locale: str) -> str:
        """The group's name in `locale`, else in the default language."""
        return group.name(locale, self.default_locale)

    def now(self) -> datetime:
        return self.clock.now()

    def removal_token(self, group: WorkingGroup, person: Member) -> str | None:
        """The keyed one-way token of this person's removal from this group (outlives /forget)."""
        if not self.privacy_key:
            return None
        return keyed_token(self.privacy_key, "removed", group.id, person.telegram_id)

    async def removed_before(self, group: WorkingGroup, person: Member) -> bool:
        """A coordinator removed them before (also before they erased themselves)."""
        token = self.removal_token(group, person)
        return await was_removed(self.session, group.id, person.id, token)

    async def can_coordinate(self, member: Member | None, group: WorkingGroup) -> bool:
        """Coordinators of the group and network admins (both must be active)."""
        if member is None or not member.is_active:
            return False
        return member.is_admin or await is_coordinator(self.session, member.id, group.id)

    async def deep_link(self, group: WorkingGroup) -> str:
        """`t.me/<bot>?start=wg_<code>`: onboarding, then straight to this group."""
        me = await self.bot.me()
        return f"https://t.me/{me.username}?start={GROUP_LINK}{group.code}"

    async def send(
        self, person: Member, text: str, markup: InlineKeyboardMarkup | None = None
    ) -> bool:
        """One message to one person; False (and a log line) when it cannot be delivered."""
        if person.unreachable_at is not None:
            return False
        try:
            await self.bot.send_message(person.telegram_id, text, reply_markup=markup)
        except TelegramAPIError as exc:
            log.warning("could not write to member %s: %s", person.id, exc)
            return False
        return True

    # --- joining and leaving ----------------------------------------------------------------

    async def join(self, member: Member, group: WorkingGroup) -> JoinResult:
        """Join an open group at once; ask the coordinators of a moderated one."""
        if group.archived:
            return JoinResult(JoinOutcome.ARCHIVED)
        link = await get_membership(self.session, group.id, member.id)
        if link is not None:
            if link.is_active:
                return JoinResult(JoinOutcome.ALREADY_MEMBER, link)
            if link.status == MembershipStatus.PENDING:
                return JoinResult(JoinOutcome.ALREADY_REQUESTED, link)
            if not member.is_active:
                return JoinResult(JoinOutcome.WAITING, link)
        # Every read before the first write: on SQLite the write then holds the database
        # for one statement and the commit, not for the reads too.
        asks = member.is_active and (group.moderated or await self.removed_before(group, member))
        if link is None:
            link = GroupMembership(group_id=group.id, member_id=member.id, joined_at=self.now())
            self.session.add(link)
        if not member.is_active:
            link.status = MembershipStatus.WAITING
            await self.session.flush()
            return JoinResult(JoinOutcome.WAITING, link)
        if asks:
            link.status = MembershipStatus.PENDING
            link.joined_at = self.now()
            await self.session.flush()
            await self.send_request(group, member, link)
            return JoinResult(JoinOutcome.REQUESTED, link)
        link.status = MembershipStatus.ACTIVE
        link.joined_at = self.now()
        await self.session.flush()
        access = await self.open_door(member, group)
        return JoinResult(JoinOutcome.JOINED, link, access)

    async def send_request(
        self, group: WorkingGroup, candidate: Member, link: GroupMembership
    ) -> int:
        """Ask the coordinators (or, if it has none, the network admins); returns how many."""
        deciders = await group_coordinators(self.session, group.id)
        if not deciders:
            deciders = [p for p in await list_admins(self.session) if p.is_active]
        reached = 0
        for person in deciders:
            if person.id == candidate.id:
                continue
            _ = self.t(person.locale)
            text, markup = request_message(
                candidate, link, self.name(group, person.locale), _, person.locale
            )
            reached += await self.send(person, text, markup)
        if not reached:
            log.warning("request %s to group %s reached nobody", link.id, group.id)
        return reached

    async def approve(self, link: GroupMembership, group: WorkingGroup, person: Member) -> None:
        """A coordinator said yes: the member is in, and gets their way into the chat."""
        link.status = MembershipStatus.ACTIVE
        link.joined_at = self.now()
        await forget_removal(self.session, group.id, person.id)
        token = self.removal_token(group, person)
        if token is not None:
            await self.session.execute(
                delete(RemovalToken).where(
                    RemovalToken.group_id == group.id, RemovalToken.token == token
                )
            )
        await self.session.flush()
        access = await self.open_door(person, group)
        _ = self.t(person.locale)
        text = _("Your request to join <b>{group}</b> was approved. Welcome!").format(
            group=html.escape(self.name(group, person.locale))
        )
        markup = None
        if access.door != Door.NO_CHAT:
            door_text, markup = self.door_message(access, group, person)
            text = f"{text}\n\n{door_text}"
        await self.send(person, text, markup)

    async def decline(self, link: GroupMembership, group: WorkingGroup, person: Member) -> None:
        """A coordinator said no: the request is dropped and the member told."""
        await self.session.delete(link)
        await self.session.flush()
        _ = self.t(person.locale)
        await self.send(
            person,
            _("Your request to join <b>{group}</b> was not approved.").format(
                group=html.escape(self.name(group, person.locale))
            ),
        )

    async def leave(self, member: Member, group: WorkingGroup, link: GroupMembership) -> None:
        """The member leaves (or cancels a request); an active member also leaves the chat."""
        was_active = link.is_active
        await self.session.delete(link)
        await self.session.flush()
        if was_active:
            await self.close_door(member, group)

    async def active_member(
        self, group: WorkingGroup, member_id: int | None
    ) -> tuple[Member, GroupMembership] | None:
        """A person who is an active member of the group now, with their link; else None."""
        person = await get_member_by_id(self.session, member_id) if member_id is not None else None
        link = await get_membership(self.session, group.id, person.id) if person else None
        if person is None or link is None or not link.is_active:
            return None
        return person, link

    async def remove(self, group: WorkingGroup, link: GroupMembership, person: Member) -> None:
        """A coordinator removes someone: out of the group and its chat, and told so."""
        await self.session.delete(link)
        if not await was_removed(self.session, group.id, person.id):
            self.session.add(
                GroupRemoval(group_id=group.id, member_id=person.id, removed_at=self.now())
            )
        token = self.removal_token(group, person)
        if token is not None and not await self.session.get(RemovalToken, (group.id, token)):
            self.session.add(RemovalToken(group_id=group.id, token=token))
        await self.session.flush()
        await self.close_door(person, group)
        _ = self.t(person.locale)
        await self.send(
            person,
            _(
                "You were removed from the working group <b>{group}</b> by its coordinators. "
                "If you think this is a mistake, contact the network's secretariat."
            ).format(group=html.escape(self.name(group, person.locale))),
        )

    async def after_network_decision(self, member: Member, approved: bool) -> None:
        """Requests made through a deep link before approval: made for real, or dropped."""
        for link in await waiting_memberships(self.session, member.id):
            group = await get_group(self.session, link.group_id)
            if group is None or not approved or group.archived:
                await self.session.delete(link)
                continue
            result = await self.join(member, group)
            text, markup = self.join_message(result, group, member)
            await self.send(member, text, markup)
        await self.session.flush()

    async def leave_all_chats(self, member: Member) -> None:
        """Before erasing a member: out of every linked chat, unused links revoked."""
        for link in await memberships_of(self.session, member.id):
            group = await get_group(self.session, link.group_id)
            if group is not None and link.is_active:
                await self.close_door(member, group)

    # --- messages about outcomes ------------------------------------------------------------

    def join_message(
        self, result: JoinResult, group: WorkingGroup, member: Member
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        """What the member is told after Join (or a deep link), in their language."""
        _ = self.t(member.locale)
        name = html.escape(self.name(group, member.locale))
        markup = None
        if result.outcome == JoinOutcome.JOINED:
            text = _("You joined <b>{group}</b>.").format(group=name)
            if result.access is not None and result.access.door != Door.NO_CHAT:
                door_text, markup = self.door_message(result.access, group, member)
                text = f"{text}\n\n{door_text}"
        elif result.outcome == JoinOutcome.REQUESTED:
            text = _(
                "Your request to join <b>{group}</b> was sent to its coordinators. You will get "
                "a message here when they decide."
            ).format(group=name)
        elif result.outcome == JoinOutcome.WAITING:
            text = _(
                "Once a network admin approves your membership, your request to join "
                "<b>{group}</b> will follow."
            ).format(group=name)
        elif result.outcome == JoinOutcome.ALREADY_MEMBER:
            text = _("You are already a member of <b>{group}</b>.").format(group=name)
        elif result.outcome == JoinOutcome.ALREADY_REQUESTED:
            text = _(
                "Your request to join <b>{group}</b> is already waiting for its coordinators."
            )
            text = text.format(group=name)
        else:
            text = _("<b>{group}</b> is archived: it takes no new members.").format(group=name)
        return text, markup

    def door_message(
        self, access: ChatAccess, group: WorkingGroup, member: Member
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        """The personal link as a button, or why there is none."""
        _ = self.t(member.locale)
        name = html.escape(self.name(group, member.locale))
        if access.door == Door.LINK and access.link and access.expires_at:
            when = format_when(access.expires_at, member.tz, member.locale)
            text = _(
                "Here is your personal link to the Telegram chat of <b>{group}</b>. It works "
                "once, only for you, until {when}. Please do not share it."
            ).format(group=name, when=when)
            if access.renewed:
                text = _("Your previous link expired or was already used, so here is a new one.")
                text += "\n" + _(
                    "It works once, only for you, until {when}. Please do not share it."
                ).format(when=when)
            kb = InlineKeyboardBuilder()
            kb.button(text=_("💬 Enter the group chat"), url=access.link)
            return text, kb.as_markup()
        if access.door == Door.IN_CHAT:
            return _("You are already in the Telegram chat of <b>{group}</b>.").format(
                group=name
            ), None
        if access.door == Door.NO_CHAT:
            return _("<b>{group}</b> has no Telegram chat yet.").format(group=name), None
        return _(
            "The Telegram chat of <b>{group}</b> cannot let anyone in right now: the bot is "
            "not an administrator there. The network admins have been told; please try again "
            "later."
        ).format(group=name), None

    # --- the chat's door --------------------------------------------------------------------

    async def open_door(self, member: Member, group: WorkingGroup) -> ChatAccess:
        """A single-use link that expires, unless the member is already in (or can't be)."""
        chat_id = group.chat_id
        if chat_id is None:
            return ChatAccess(Door.NO_CHAT)
        if group.chat_problem is not None:
            return ChatAccess(Door.UNAVAILABLE)
        try:
            present = await self.bot.get_chat_member(chat_id, member.telegram_id)
        except TelegramAPIError as exc:
            problem = chat_problem_of(exc)
            if problem is not None:
                await self.chat_failed(group, problem)
                return ChatAccess(Door.UNAVAILABLE)
            present = None  # a user Telegram never saw in that chat
        if present is not None and is_in_chat(present):
            return ChatAccess(Door.IN_CHAT)
        now = self.now()
        earlier = await invites_of(self.session, member.id, group.id)
        current = next((i for i in earlier if i.chat_id == chat_id and i.usable(now)), None)
        if current is not None:
            return ChatAccess(Door.LINK, current.link, current.expires_at)
        renewed = any(i.chat_id == chat_id for i in earlier)
        for old in earlier:  # spent or expired: revoked, then not kept (minimum data)
            if old.used_at is None and old.revoked_at is None:
                await self.revoke(old)
            await self.session.delete(old)
        expires = now + INVITE_TTL
        try:
            created = await self.bot.create_chat_invite_link(
                chat_id, name=group.code[:32], expire_date=expires, member_limit=1
            )
        except TelegramAPIError as exc:
            log.warning("no invite link for group %s: %s", group.id, exc)
            await self.chat_failed(group, chat_problem_of(exc) or ChatProblem.NOT_ADMIN)
            return ChatAccess(Door.UNAVAILABLE)
        self.session.add(
            GroupInvite(
                group_id=group.id,
                member_id=member.id,
                chat_id=chat_id,
                link=created.invite_link,
                created_at=now,
                expires_at=expires,
            )
        )
        await self.session.flush()
        return ChatAccess(Door.LINK, created.invite_link, expires, renewed)

    async def close_door(self, member: Member, group: WorkingGroup) -> bool:
        """Out of the chat (ban, then unban so they may come back later); links revoked and
        forgotten."""
        for invite in await open_invites(self.session, member.id, [group.id]):
            await self.revoke(invite)
        await delete_invites(self.session, member.id, group.id)
        chat_id = group.chat_id
        if chat_id is None:
            return True
        try:
            present = await self.bot.get_chat_member(chat_id, member.telegram_id)
        except TelegramAPIError as exc:
            problem = chat_problem_of(exc)
            if problem is not None:
                await self.chat_failed(group, problem)
            return problem is None  # no problem: Telegram never saw them there
        if not is_in_chat(present):
            return True
        return await self.eject(group, chat_id, member.telegram_id)

    async def eject(self, group: WorkingGroup, chat_id: int, user_id: int) -> bool:
        """Ban, then unban at once: out of the chat, free to come back one day by a new link."""
        try:
            await self.bot.ban_chat_member(chat_id, user_id)
        except TelegramAPIError as exc:
            problem = chat_problem_of(exc)
            if problem is not None:
                await self.chat_failed(group, problem)
            else:  # e.g. they administer the chat: only its owner can remove them
                log.warning("could not remove someone from group %s: %s", group.id, exc)
            return False
        try:
            await self.bot.unban_chat_member(chat_id, user_id, only_if_banned=True)
        except TelegramAPIError as exc:  # basic groups keep no ban list
            log.info("no unban in group %s: %s", group.id, exc)
        return True

    async def revoke(self, invite: GroupInvite) -> None:
        """Revoke a personal link at Telegram (best effort) and note it."""
        try:
            await self.bot.revoke_chat_invite_link(invite.chat_id, invite.link)
        except TelegramAPIError as exc:
            log.info("could not revoke invite %s: %s", invite.id, exc)
        if invite.revoked_at is None:
            invite.revoked_at = self.now()

    async def chat_failed(self, group: WorkingGroup, problem: ChatProblem) -> None:
        """Note that the bot cannot guard the chat and, the first time, tell the admins."""
        if group.chat_problem == problem:
            return
        group.chat_problem = problem
        await self.session.flush()
        await self.tell_admins_about_chat(group, problem)

    async def tell_admins_about_chat(self, group: WorkingGroup, problem: str | None) -> int:
        """Tell every network admin, in their language, what to fix (or that it is fixed)."""
        reached = 0
        for admin in await list_admins(self.session):
            if not admin.is_active:
                continue
            _ = self.t(admin.locale)
            values = {
                "group": html.escape(self.name(group, admin.locale)),
                "chat": html.escape(group.chat_title or str(group.chat_id)),
            }
            if problem == ChatProblem.REMOVED:
                text = _(
                    "⚠️ I was removed from «{chat}», the Telegram chat of the working group "
                    "<b>{group}</b>. I can no longer let members in or remove those who leave. "
                    "To fix it: add me to the chat again as an administrator (with the rights to "
                    "invite users and to ban users) and send /link there."
                )
            elif problem == ChatProblem.NOT_ADMIN:
                text = _(
                    "⚠️ I am not an administrator of «{chat}», the Telegram chat of the working "
                    "group <b>{group}</b>, or I lack rights there. I can no longer let members "
                    "in or remove those who leave. To fix it: make me an administrator with the "
                    "rights to invite users and to ban users."
                )
            else:
                text = _(
                    "✅ I am an administrator of «{chat}», the Telegram chat of the working "
                    "group <b>{group}</b>, again. Everything works."
                )
            reached += await self.send(admin, text.format(**values))
        return reached

    async def bot_problem_in(self, chat_id: int) -> ChatProblem | None:
        """Ask Telegram whether the bot administers the chat with the rights it needs."""
        try:
            me = await self.bot.get_chat_member(chat_id, self.bot.id)
        except TelegramAPIError as exc:
            return chat_problem_of(exc) or ChatProblem.REMOVED
        return rights_problem(me)

    # --- linking a chat ---------------------------------------------------------------------

    async def link_chat(self, group: WorkingGroup, chat_id: int, title: str | None) -> None:
        """Make `chat_id` the group's chat (taking it from any other group)."""
        others = await self.session.scalars(
            select(WorkingGroup).where(
                WorkingGroup.chat_id == chat_id, WorkingGroup.id != group.id
            )
        )
        for other in others:
            await self.unlink_chat(other)
        if group.chat_id is not None and group.chat_id != chat_id:
            await self.unlink_chat(group)
        group.chat_id = chat_id
        group.chat_title = (title or "")[:128] or None
        group.chat_problem = None
        if group.chat_join_link is None:
            try:
                created = await self.bot.create_chat_invite_link(
                    chat_id, name=group.code[:32], creates_join_request=True
                )
                group.chat_join_link = created.invite_link
            except TelegramAPIError as exc:
                log.warning("no join-request link for group %s: %s", group.id, exc)
        await self.session.flush()

    async def unlink_chat(self, group: WorkingGroup) -> None:
        """Forget the group's chat; its links stop working."""
        if group.chat_id is not None:
            rows = await self.session.scalars(
                select(GroupInvite).where(
                    GroupInvite.group_id == group.id,
                    GroupInvite.chat_id == group.chat_id,
                    GroupInvite.used_at.is_(None),
                    GroupInvite.revoked_at.is_(None),
                )
            )
            for invite in rows:
                await self.revoke(invite)
            if group.chat_join_link:
                try:
                    await self.bot.revoke_chat_invite_link(group.chat_id, group.chat_join_link)
                except TelegramAPIError as exc:
                    log.info("could not revoke the join link of group %s: %s", group.id, exc)
        group.chat_id = None
        group.chat_title = None
        group.chat_problem = None
        group.chat_join_link = None
        await self.session.flush()

    # --- updates from the chats -------------------------------------------------------------

    async def on_join_request(self, request: ChatJoinRequest) -> bool | None:
        """Approve accepted members of the chat's group; decline (and tell) everyone else.

        Returns None when the chat belongs to no group (the humans there decide).
        """
        group = await group_for_chat(self.session, request.chat.id)
        if group is None:
            return None
        if request.chat.title:
            group.chat_title = request.chat.title[:128]
        person = await get_member(self.session, request.from_user.id)
        link = await get_membership(self.session, group.id, person.id) if person else None
        accepted = person is not None and person.is_active and link is not None and link.is_active
        try:
            if accepted:
                await request.approve()
                return True
            await self.explain_decline(request, group, person)
            await request.decline()
        except TelegramAPIError as exc:
            problem = chat_problem_of(exc)
            if problem is not None:
                await self.chat_failed(group, problem)
            else:
                log.warning("join request to group %s not handled: %s", group.id, exc)
        return False

    async def explain_decline(
        self, request: ChatJoinRequest, group: WorkingGroup, person: Member | None
    ) -> None:
        """Tell the person why (Telegram lets the bot write to them until it decides)."""
        locale = (
            person.locale
            if person is not None
            else match_locale(request.from_user.language_code, self.default_locale)
        )
        _ = self.t(locale)
        name = html.escape(self.name(group, locale))
        if person is not None and person.is_active:
            text = _(
                "Your request to join the Telegram chat of <b>{group}</b> was declined: the chat "
                "is only for members of the working group. Send /groups to join it; once you "
                "are in, I will give you a personal link."
            ).format(group=name)
        else:
            text = _(
                "Your request to join the Telegram chat of <b>{group}</b> was declined: the chat "
                "is only for members of the working group. To take part, open {link} to join "
                "the network and then the group."
            ).format(group=name, link=await self.deep_link(group))
        try:
            await self.bot.send_message(request.user_chat_id, text)
        except TelegramAPIError as exc:
            log.info("could not explain a declined join request: %s", exc)

    async def on_member_joined(self, update: ChatMemberUpdated) -> None:
        """Someone entered a group's chat: a personal link is spent; a leaked one is undone;
        anyone who came in another way (the chat's own link, added by someone) must be an
        accepted member of the group, or is removed."""
        if is_in_chat(update.old_chat_member) or not is_in_chat(update.new_chat_member):
            return
        group = await group_for_chat(self.session, update.chat.id)
        if group is None:
            return
        used = update.invite_link
        if used is None or used.creator.id != self.bot.id:
            await self.check_entrant(group, update)
            return
        invite = await invite_by_link(self.session, update.chat.id, used.invite_link)
        if invite is None:
            return
        user = update.new_chat_member.user
        person = await get_member(self.session, user.id)
        invite.used_at = self.now()
        await self.revoke(invite)
        if person is not None and person.id == invite.member_id:
            return
        link = await get_membership(self.session, group.id, person.id) if person else None
        owner = await get_member_by_id(self.session, invite.member_id)
        intruder = not (person is not None and person.is_active and link and link.is_active)
        if intruder:
            await self.eject(group, update.chat.id, user.id)
        if owner is not None:
            _ = self.t(owner.locale)
            text = _(
                "Someone else used your personal link to the Telegram chat of <b>{group}</b>, "
                "so it no longer works. Please keep your links to yourself."
            ).format(group=html.escape(self.name(group, owner.locale)))
            if intruder:
                text += "\n" + _("They were not a member of the group and were removed.")
            text += "\n" + _("Tap 💬 Group chat in /groups if you need a new link.")
            await self.send(owner, text)
        await self.session.flush()

    async def check_entrant(self, group: WorkingGroup, update: ChatMemberUpdated) -> None:
        """Not through one of our personal links: only accepted members of the group stay
        (chat administrators and the bot itself are left alone)."""
        user = update.new_chat_member.user
        if user.id == self.bot.id or update.new_chat_member.status in ("administrator", "creator"):
            return
        person = await get_member(self.session, user.id)
        link = await get_membership(self.session, group.id, person.id) if person else None
        if person is not None and person.is_active and link is not None and link.is_active:
            return
        log.info("someone who is not a member entered the chat of group %s: removed", group.id)
        await self.eject(group, update.chat.id, user.id)

    async def on_bot_status(self, update: ChatMemberUpdated) -> WorkingGroup | None:
        """The bot was removed, demoted or promoted in a chat: keep the admins informed."""
        group = await group_for_chat(self.session, update.chat.id)
        if group is None:
            return None
        if update.chat.title:
            group.chat_title = update.chat.title[:128]
        problem = rights_problem(update.new_chat_member)
        if problem is not None:
            await self.chat_failed(group, problem)
        elif group.chat_problem is not None:
            group.chat_problem = None
            await self.session.flush()
            await self.tell_admins_about_chat(group, None)
        return group

    async def on_chat_migrated(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: Telegram gave it a new id."""
        group = await group_for_chat(self.session, old_chat_id)
        if group is not None:
            group.chat_id = new_chat_id
            group.chat_join_link = None
            await self.session.flush()

    # --- screens ----------------------------------------------------------------------------

    async def listing(
        self, member: Member, _: Gettext, locale: str
    ) -> tuple[str, InlineKeyboardMarkup]:
        """/groups for this member (archived groups: only their own, or all for admins)."""
        links = {link.group_id: link for link in await memberships_of(self.session, member.id)}
        groups = [
            group
            for group in await list_groups(self.session, include_archived=True)
            if not group.archived or member.is_admin or group.id in links
        ]
        counts = await member_counts(self.session)
        return group_list(
            groups, links, counts, _, locale, self.default_locale, is_admin=member.is_admin
        )

    async def card(
        self, member: Member, group: WorkingGroup, _: Gettext, locale: str
    ) -> tuple[str, InlineKeyboardMarkup]:
        """One group as this member sees it (one statement besides the group)."""
        link, members, pending = await standing_and_counts(self.session, group.id, member.id)
        info = CardInfo(
            link=link,
            members=members,
            pending=pending,
            # As can_coordinate, from the link already at hand.
            can_coordinate=member.is_active
            and (member.is_admin or (link is not None and link.is_coordinator)),
            is_admin=member.is_admin and member.is_active,
        )
        return group_card(group, info, _, locale, self.default_locale)

    async def member_list(
        self, viewer: Member, group: WorkingGroup, page: int, _: Gettext, locale: str
    ) -> tuple[str, InlineKeyboardMarkup]:
        """One page of the group's members for a coordinator, with whom they may remove."""
        total = await count_members(self.session, group.id, MembershipStatus.ACTIVE)
        page = min(max(page, 0), max((total - 1) // MEMBERS_PAGE, 0))
        rows = await members_page(
            self.session,
            group.id,
            offset=page * MEMBERS_PAGE,
            limit=MEMBERS_PAGE,
            status=MembershipStatus.ACTIVE,
        )

        def may_remove(link: GroupMembership) -> bool:
            return link.member_id != viewer.id and (viewer.is_admin or not link.is_coordinator)

        name = self.name(group, locale)
        return members_view(group, name, rows, total, page, _, locale, may_remove=may_remove)


CHAT_OPENED = "group_chat"


async def announce_chat(session: AsyncSession, group: WorkingGroup) -> None:
    """Tell the group's members (through the delivery engine) that it now has a chat."""
    if group.chat_id is None:
        return
    await enqueue_broadcast(
        session,
        kind=CHAT_OPENED,
        payload={"group_id": group.id, "chat_id": group.chat_id},
        recipients=active_member_ids(group.id),
        priority=Priority.BULK,
        dedupe_key=f"{CHAT_OPENED}:{group.id}:{group.chat_id}",
    )


async def render_chat_opened(ctx: RenderContext) -> list[Outgoing] | None:
    """'X now has a Telegram chat' with a button for the member's personal link."""
    group = await get_group(ctx.session, int(ctx.broadcast.payload["group_id"]))
    if group is None or ctx.member is None or group.chat_id != ctx.broadcast.payload["chat_id"]:
        return None
    link = await get_membership(ctx.session, group.id, ctx.member.id)
    if link is None or not link.is_active:
        return None
    name = html.escape(group.name(ctx.locale, ctx.app.settings.default_locale))
    kb = InlineKeyboardBuilder()
    kb.button(text=ctx._("💬 Group chat"), callback_data=GroupCb(action="chat", group_id=group.id))
    text = ctx._(
        "<b>{group}</b> now has a Telegram chat. Tap the button to get your personal link."
    ).format(group=name)
    return [Outgoing(text=text, reply_markup=kb.as_markup())]
