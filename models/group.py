"""Working groups and who belongs to them: the audiences of announcements, polls and meetings."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Exists,
    ForeignKey,
    Select,
    String,
    Text,
    UniqueConstraint,
    and_,
    delete,
    exists,
    false,
    func,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, Mapped, joinedload, mapped_column, relationship

from models.base import Base, UTCDateTime, read_once, utcnow
from models.member import Member, MemberStatus

CODE_PATTERN = r"^[a-z0-9_]{2,24}$"


class GroupRole(enum.StrEnum):
    """A member's role inside one working group."""

    MEMBER = "member"
    COORDINATOR = "coordinator"


class MembershipStatus(enum.StrEnum):
    """Moderated groups hold requests until a coordinator decides.

    WAITING: the person asked (through a deep link) before the network approved them; the
    request is made for real once they are approved.
    """

    WAITING = "waiting"
    PENDING = "pending"
    ACTIVE = "active"


class ChatProblem(enum.StrEnum):
    """Why the bot cannot guard a linked chat's door, until an admin fixes it."""

    REMOVED = "removed"
    NOT_ADMIN = "not_admin"


class WorkingGroup(Base):
    """A working group of the network (Women and ESCR, Strategic Litigation, ...)."""

    __tablename__ = "working_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    moderated: Mapped[bool] = mapped_column(Boolean, default=False)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    chat_title: Mapped[str | None] = mapped_column(String(128))
    chat_problem: Mapped[str | None] = mapped_column(String(16))
    chat_join_link: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    translations: Mapped[list[GroupTranslation]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="GroupTranslation.id"
    )

    def text(self, locale: str, default_locale: str) -> tuple[str, str, bool]:
        """Name, description and whether it fell back to the default language (else English,
        the language every seed file has, else any)."""
        by_locale = {t.locale: t for t in self.translations}
        chosen = by_locale.get(locale) or by_locale.get(default_locale) or by_locale.get("en")
        if chosen is None and self.translations:
            chosen = self.translations[0]
        if chosen is None:
            return self.code, "", True
        return chosen.name, chosen.description, chosen.locale != locale

    def name(self, locale: str, default_locale: str) -> str:
        """The name in `locale`, else in the default language."""
        return self.text(locale, default_locale)[0]

    def translation(self, locale: str) -> GroupTranslation | None:
        """The stored translation for exactly this language, if any."""
        return next((t for t in self.translations if t.locale == locale), None)

    def set_text(self, locale: str, name: str | None, description: str | None = None) -> None:
        """Create or change one language's name and/or description."""
        current = self.translation(locale)
        if current is None:
            current = GroupTranslation(locale=locale, name=name or self.code, description="")
            self.translations.append(current)
        if name is not None:
            current.name = name
        if description is not None:
            current.description = description

    @property
    def chat_usable(self) -> bool:
        """A chat is linked and the bot, as far as it knows, still administers it."""
        return self.chat_id is not None and self.chat_problem is None


class GroupTranslation(Base):
    """A working group's name and description in one language."""

    __tablename__ = "working_group_translations"
    __table_args__ = (UniqueConstraint("group_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("working_groups.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")


class GroupMembership(Base):
    """A member's place in a working group (member or coordinator, pending or active)."""

    __tablename__ = "group_memberships"
    __table_args__ = (UniqueConstraint("group_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("working_groups.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16), default=GroupRole.MEMBER)
    status: Mapped[str] = mapped_column(String(16), default=MembershipStatus.ACTIVE)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The member stays in the group but gets none of its announcements.
    muted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    @property
    def is_active(self) -> bool:
        return self.status == MembershipStatus.ACTIVE

    @property
    def is_coordinator(self) -> bool:
        return self.role == GroupRole.COORDINATOR and self.is_active


class GroupInvite(Base):
    """A personal, single-use, expiring link into a group's chat, issued to one member."""

    __tablename__ = "group_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("working_groups.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    chat_id: Mapped[int] = mapped_column(BigInteger)
    link: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def usable(self, now: datetime) -> bool:
        """Neither used, revoked nor expired."""
        return self.used_at is None and self.revoked_at is None and self.expires_at > now


class GroupRemoval(Base):
    """A coordinator removed this member: joining the group again needs a coordinator's yes."""

    __tablename__ = "group_removals"
    __table_args__ = (UniqueConstraint("group_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("working_groups.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    removed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RemovalToken(Base):
    """A keyed one-way token (HMAC of the group and the Telegram id) of a removal: survives
    /forget, so a removed member cannot erase themselves and walk straight back in."""

    __tablename__ = "group_removal_tokens"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("working_groups.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(String(64), primary_key=True)


# --- groups ----------------------------------------------------------------------------------


async def get_group(session: AsyncSession, group_id: int) -> WorkingGroup | None:
    """A group by primary key (callback data carries it), with its names (one statement)."""
    return await session.get(
        WorkingGroup, group_id, options=[joinedload(WorkingGroup.translations)]
    )


async def get_group_by_code(session: AsyncSession, code: str) -> WorkingGroup | None:
    """A group by its short code (deep links and the seed file use it)."""
    return await session.scalar(select(WorkingGroup).where(WorkingGroup.code == code))


async def list_groups(
    session: AsyncSession, *, include_archived: bool = False
) -> list[WorkingGroup]:
    """Groups in a stable order (creation), archived ones only when asked, with their names
    (one statement)."""
    query = (
        select(WorkingGroup)
        .options(joinedload(WorkingGroup.translations))
        .order_by(WorkingGroup.id)
    )
    if not include_archived:
        query = query.where(WorkingGroup.archived.is_(False))
    return list((await session.scalars(query)).unique())


async def group_for_chat(session: AsyncSession, chat_id: int) -> WorkingGroup | None:
    """The group whose Telegram chat this is, if any."""
    return await session.scalar(
        select(WorkingGroup).where(WorkingGroup.chat_id == chat_id).order_by(WorkingGroup.id)
    )


# --- memberships -----------------------------------------------------------------------------


async def memberships_of(session: AsyncSession, member_id: int) -> list[GroupMembership]:
    """Every group link of one member (for /mydata and /groups)."""
    rows = await session.scalars(
        select(GroupMembership).where(GroupMembership.member_id == member_id)
    )
    return list(rows)


def coordinates_clause(member_id: ColumnElement[int] | InstrumentedAttribute[int] | int) -> Exists:
    """EXISTS: the member is an active coordinator of at least one group."""
    return exists().where(
        GroupMembership.member_id == member_id,
        GroupMembership.role == GroupRole.COORDINATOR,
        GroupMembership.status == MembershipStatus.ACTIVE,
    )


def coordinates_key(member_id: int) -> tuple[str, int]:
    """`read_once`'s key for `coordinates_any` (the member's first read fills it too)."""
    return ("coordinates", member_id)


async def coordinates_any(session: AsyncSession, member_id: int) -> bool:
    """Whether the member is an active coordinator of at least one group (asked once per
    transaction, usually answered by the statement that loaded the member: /help's sections
    all want it)."""

    async def ask() -> bool:
        return bool(await session.scalar(select(coordinates_clause(member_id))))

    return await read_once(session, coordinates_key(member_id), ask)


async def get_membership(
    session: AsyncSession, group_id: int, member_id: int
) -> GroupMembership | None:
    """One member's link to one group."""
    return await session.scalar(
        select(GroupMembership).where(
            GroupMembership.group_id == group_id, GroupMembership.member_id == member_id
        )
    )


async def standing_and_counts(
    session: AsyncSession, group_id: int, member_id: int
) -> tuple[GroupMembership | None, int, int]:
    """One member's link to a group and the group's active and pending counts, in one
    statement (what a group's card shows)."""

    def counted(status: str) -> Any:
        return (
            select(func.count(GroupMembership.id))
            .where(GroupMembership.group_id == group_id, GroupMembership.status == status)
            .scalar_subquery()
        )

    anchor = select(literal(1).label("one")).subquery()
    row = (
        await session.execute(
            select(
                GroupMembership,
                counted(MembershipStatus.ACTIVE),
                counted(MembershipStatus.PENDING),
            )
            .select_from(anchor)
            .outerjoin(
                GroupMembership,
                and_(GroupMembership.group_id == group_id, GroupMembership.member_id == member_id),
            )
        )
    ).one()
    return row[0], int(row[1] or 0), int(row[2] or 0)


async def is_coordinator(session: AsyncSession, member_id: int, group_id: int) -> bool:
    """Whether the member coordinates that group (admins are checked separately)."""
    found = await session.scalar(
        select(GroupMembership.id).where(
            GroupMembership.member_id == member_id,
            GroupMembership.group_id == group_id,
            GroupMembership.role == GroupRole.COORDINATOR,
            GroupMembership.status == MembershipStatus.ACTIVE,
        )
    )
    return found is not None


def active_member_ids(group_id: int) -> Select[Any]:
    """SELECT of the ids of active network members who are active in the group (audiences)."""
    return (
        select(Member.id)
        .join(GroupMembership, GroupMembership.member_id == Member.id)
        .where(
            GroupMembership.group_id == group_id,
            GroupMembership.status == MembershipStatus.ACTIVE,
            Member.status == MemberStatus.ACTIVE,
        )
    )


def announcement_audience(group_id: int) -> Select[Any]:
    """SELECT of the active members who get the group's announcements (not those who muted
    them)."""
    return active_member_ids(group_id).where(GroupMembership.muted.is_(False))


async def set_muted(session: AsyncSession, link: GroupMembership, muted: bool) -> None:
    """Mute or unmute the group's announcements for one member; they stay in the group."""
    link.muted = muted
    await session.flush()


async def count_audience(session: AsyncSession, group_id: int) -> int:
    """How many people an announcement to the group reaches."""
    found = await session.scalar(
        select(func.count()).select_from(announcement_audience(group_id).subquery())
    )
    return int(found or 0)


async def count_members(session: AsyncSession, group_id: int, status: str) -> int:
    """How many members of the group are in `status`."""
    found = await session.scalar(
        select(func.count(GroupMembership.id)).where(
            GroupMembership.group_id == group_id, GroupMembership.status == status
        )
    )
    return int(found or 0)


async def member_counts(session: AsyncSession) -> dict[int, int]:
    """group_id -> number of active members, for the list."""
    rows = await session.execute(
        select(GroupMembership.group_id, func.count(GroupMembership.id))
        .where(GroupMembership.status == MembershipStatus.ACTIVE)
        .group_by(GroupMembership.group_id)
    )
    return {int(group_id): int(count) for group_id, count in rows.all()}


async def members_page(
    session: AsyncSession, group_id: int, *, offset: int, limit: int, status: str
) -> list[tuple[GroupMembership, Member]]:
    """A page of the group's members in `status`, coordinators first, then by name."""
    rows = await session.execute(
        select(GroupMembership, Member)
        .join(Member, Member.id == GroupMembership.member_id)
        .where(GroupMembership.group_id == group_id, GroupMembership.status == status)
        .order_by(
            (GroupMembership.role == GroupRole.COORDINATOR).desc(),
            func.lower(Member.display_name),
            Member.id,
        )
        .offset(offset)
        .limit(limit)
    )
    return [(link, person) for link, person in rows.all()]


async def group_coordinators(session: AsyncSession, group_id: int) -> list[Member]:
    """Active coordinators of the group, who decide on requests."""
    rows = await session.scalars(
        select(Member)
        .join(GroupMembership, GroupMembership.member_id == Member.id)
        .where(
            GroupMembership.group_id == group_id,
            GroupMembership.role == GroupRole.COORDINATOR,
            GroupMembership.status == MembershipStatus.ACTIVE,
            Member.status == MemberStatus.ACTIVE,
        )
        .order_by(Member.id)
    )
    return list(rows)


async def coordinated_group_ids(session: AsyncSession, member_id: int) -> set[int]:
    """Ids of the groups this member coordinates."""
    rows = await session.scalars(
        select(GroupMembership.group_id).where(
            GroupMembership.member_id == member_id,
            GroupMembership.role == GroupRole.COORDINATOR,
            GroupMembership.status == MembershipStatus.ACTIVE,
        )
    )
    return set(rows)


async def waiting_memberships(session: AsyncSession, member_id: int) -> list[GroupMembership]:
    """Requests made before the network approved the member."""
    rows = await session.scalars(
        select(GroupMembership).where(
            GroupMembership.member_id == member_id,
            GroupMembership.status == MembershipStatus.WAITING,
        )
    )
    return list(rows)


# --- invites and removals --------------------------------------------------------------------


async def invites_of(
    session: AsyncSession, member_id: int, group_id: int | None = None
) -> list[GroupInvite]:
    """Invite links issued to a member (in one group, or all), newest first."""
    query = select(GroupInvite).where(GroupInvite.member_id == member_id)
    if group_id is not None:
        query = query.where(GroupInvite.group_id == group_id)
    return list(await session.scalars(query.order_by(GroupInvite.id.desc())))


async def invite_by_link(session: AsyncSession, chat_id: int, link: str) -> GroupInvite | None:
    """The personal invite behind a link used to join a chat."""
    return await session.scalar(
        select(GroupInvite).where(GroupInvite.chat_id == chat_id, GroupInvite.link == link)
    )


async def open_invites(
    session: AsyncSession, member_id: int, group_ids: Sequence[int] | None = None
) -> list[GroupInvite]:
    """Invites neither used nor revoked (expired ones included: revoking them is harmless)."""
    query = select(GroupInvite).where(
        GroupInvite.member_id == member_id,
        GroupInvite.used_at.is_(None),
        GroupInvite.revoked_at.is_(None),
    )
    if group_ids is not None:
        query = query.where(GroupInvite.group_id.in_(group_ids))
    return list(await session.scalars(query))


async def delete_invites(session: AsyncSession, member_id: int, group_id: int) -> None:
    """Forget a member's links into a group's chat (they left it, or were removed)."""
    await session.execute(
        delete(GroupInvite).where(
            GroupInvite.member_id == member_id, GroupInvite.group_id == group_id
        )
    )


async def was_removed(
    session: AsyncSession, group_id: int, member_id: int, token: str | None = None
) -> bool:
    """Whether a coordinator removed this member from the group before (or, given the keyed
    token of an erased member's removal, removed whoever holds it): one statement."""
    removed: ColumnElement[bool] = exists().where(
        GroupRemoval.group_id == group_id, GroupRemoval.member_id == member_id
    )
    if token is not None:
        removed = removed | exists().where(
            RemovalToken.group_id == group_id, RemovalToken.token == token
        )
    return bool(await session.scalar(select(removed)))


async def forget_removal(session: AsyncSession, group_id: int, member_id: int) -> None:
    """A coordinator let them back in: the removal no longer matters."""
    await session.execute(
        delete(GroupRemoval).where(
            GroupRemoval.group_id == group_id, GroupRemoval.member_id == member_id
        )
    )


async def removals_of(session: AsyncSession, member_id: int) -> list[GroupRemoval]:
    """Removal records of one member (for /mydata)."""
    rows = await session.scalars(select(GroupRemoval).where(GroupRemoval.member_id == member_id))
    return list(rows)


async def group_records(session: AsyncSession, member: Member) -> dict[str, Any]:
    """The member's memberships, chat links and removals, for /mydata."""
    codes: dict[int, str] = {}

    async def code(group_id: int) -> str:
        if group_id not in codes:
            group = await session.get(WorkingGroup, group_id)
            codes[group_id] = group.code if group else str(group_id)
        return codes[group_id]

    memberships = [
        {
            "group": await code(link.group_id),
            "role": link.role,
            "status": link.status,
            "joined_at": link.joined_at.isoformat(),
            "announcements_muted": link.muted,
        }
        for link in await memberships_of(session, member.id)
    ]
    invites = [
        {
            "group": await code(invite.group_id),
            "link": invite.link,
            "created_at": invite.created_at.isoformat(),
            "expires_at": invite.expires_at.isoformat(),
            "used_at": invite.used_at.isoformat() if invite.used_at else None,
            "revoked_at": invite.revoked_at.isoformat() if invite.revoked_at else None,
        }
        for invite in await invites_of(session, member.id)
    ]
    removals = [
        {"group": await code(removal.group_id), "removed_at": removal.removed_at.isoformat()}
        for removal in await removals_of(session, member.id)
    ]
    from models.delivery import Broadcast

    sent = await session.scalars(
        select(Broadcast)
        .where(Broadcast.created_by_id == member.id, Broadcast.kind == "announcement")
        .order_by(Broadcast.id)
    )
    announcements = [
        {
            "group": await code(int(broadcast.payload.get("group_id", 0))),
            "texts": broadcast.payload.get("texts", {}),
            "sent_at": broadcast.created_at.isoformat(),
        }
        for broadcast in sent
    ]
    return {
        "working_groups": memberships,
        "group_chat_links": invites,
        "group_removals": removals,
        "announcements_sent": announcements,
    }
