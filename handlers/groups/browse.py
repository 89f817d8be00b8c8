"""/groups: browse, join and leave working groups; coordinators see members and requests."""

from __future__ import annotations

import html
from collections.abc import Callable

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.app import App
from bot.groups.callbacks import GroupCb, RemoveCb, RequestCb
from bot.groups.service import Groups
from bot.groups.views import leave_question, remove_question, request_message
from handlers.filters import ActiveMember, GroupAccess, Need, may_coordinate, not_coordinator
from handlers.ui import AnyMessage, add_outcome, clear_buttons, pressed, replace_message
from models.audit import AuditAction, record
from models.group import (
    GroupMembership,
    MembershipStatus,
    WorkingGroup,
    get_group,
    get_group_by_code,
    get_membership,
    members_page,
)
from models.member import Member, get_member_by_id

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")
router.callback_query.middleware(GroupAccess())
Gettext = Callable[..., str]
REQUESTS_SHOWN = 10


@router.message(Command("groups"), ActiveMember())
async def show_groups(
    message: Message,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """Every group, in the member's language, with their standing in each."""
    await state.set_state(None)
    text, markup = await Groups.of(session, app).listing(member, _, locale)
    await message.answer(text, reply_markup=markup)


@router.callback_query(GroupCb.filter(F.action == "list"), ActiveMember())
async def back_to_list(
    call: CallbackQuery, member: Member, session: AsyncSession, _: Gettext, locale: str, app: App
) -> None:
    await call.answer()
    text, markup = await Groups.of(session, app).listing(member, _, locale)
    await replace_message(call, text, markup)


@router.callback_query(
    GroupCb.filter(F.action == "show"), ActiveMember(), flags={"group": Need.ANYONE}
)
async def show_group(
    call: CallbackQuery,
    group: WorkingGroup,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """A group's card."""
    groups = Groups.of(session, app)
    if (
        group.archived
        and not member.is_admin
        and not await get_membership(session, group.id, member.id)
    ):
        await call.answer(_("This working group is archived."), show_alert=True)
        return
    await call.answer()
    text, markup = await groups.card(member, group, _, locale)
    await replace_message(call, text, markup)


@router.callback_query(
    GroupCb.filter(F.action == "join"), ActiveMember(), flags={"group": Need.ANYONE}
)
async def join_group(
    call: CallbackQuery,
    group: WorkingGroup,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """Join at once, or ask the coordinators; the card shows the new standing."""
    message = pressed(call)
    groups = Groups.of(session, app)
    result = await groups.join(member, group)
    await call.answer()
    text, markup = await groups.card(member, group, _, locale)
    await replace_message(call, text, markup)
    reply, door = groups.join_message(result, group, member)
    await message.answer(reply, reply_markup=door)


@router.callback_query(
    GroupCb.filter(F.action == "leave"), ActiveMember(), flags={"group": Need.ANYONE}
)
async def ask_leave(
    call: CallbackQuery,
    group: WorkingGroup,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """Ask before leaving or cancelling a request."""
    link = await get_membership(session, group.id, member.id)
    if link is None:
        await call.answer(_("You are not a member of this group."), show_alert=True)
        return
    await call.answer()
    name = Groups.of(session, app).name(group, locale)
    text, markup = leave_question(group, link, _, name)
    await replace_message(call, text, markup)


@router.callback_query(
    GroupCb.filter(F.action == "leave_yes"), ActiveMember(), flags={"group": Need.ANYONE}
)
async def leave_group(
    call: CallbackQuery,
    group: WorkingGroup,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """Leave the group and its chat (or withdraw the request)."""
    message = pressed(call)
    link = await get_membership(session, group.id, member.id)
    if link is None:
        await call.answer(_("You are not a member of this group."), show_alert=True)
        return
    groups = Groups.of(session, app)
    was_active = link.is_active
    await groups.leave(member, group, link)
    await call.answer()
    name = html.escape(groups.name(group, locale))
    text, markup = await groups.card(member, group, _, locale)
    await replace_message(call, text, markup)
    if was_active:
        await message.answer(_("You left <b>{group}</b>.").format(group=name))
    else:
        await message.answer(
            _("Your request to join <b>{group}</b> was withdrawn.").format(group=name)
        )


@router.callback_query(
    GroupCb.filter(F.action == "chat"), ActiveMember(), flags={"group": Need.ANYONE}
)
async def chat_link(
    call: CallbackQuery,
    group: WorkingGroup,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    app: App,
) -> None:
    """A personal way into the group's chat (a fresh link if the last one is spent)."""
    message = pressed(call)
    link = await get_membership(session, group.id, member.id)
    if link is None or not link.is_active:
        await call.answer(_("Only members of this group can enter its chat."), show_alert=True)
        return
    groups = Groups.of(session, app)
    access = await groups.open_door(member, group)
    await call.answer()
    text, markup = groups.door_message(access, group, member)
    await message.answer(text, reply_markup=markup)


# --- coordinators ----------------------------------------------------------------------------


@router.callback_query(GroupCb.filter(F.action == "members"), flags={"group": Need.COORDINATOR})
async def members(
    call: CallbackQuery,
    callback_data: GroupCb,
    group: WorkingGroup,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """The member list: names, countries and organisations, for coordinators only."""
    await call.answer()
    screen = await Groups.of(session, app).member_list(
        member, group, callback_data.page, _, locale
    )
    await replace_message(call, *screen)


@router.callback_query(GroupCb.filter(F.action == "requests"), flags={"group": Need.COORDINATOR})
async def requests(
    call: CallbackQuery,
    group: WorkingGroup,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """Pending requests again, each with Approve / Decline (for a coordinator who missed them)."""
    message = pressed(call)
    groups = Groups.of(session, app)
    rows = await members_page(
        session, group.id, offset=0, limit=REQUESTS_SHOWN, status=MembershipStatus.PENDING
    )
    await call.answer()
    if not rows:
        await message.answer(_("No requests are waiting."))
        return
    for link, person in rows:
        text, markup = request_message(person, link, groups.name(group, locale), _, locale)
        await message.answer(text, reply_markup=markup)


@router.callback_query(RequestCb.filter())
async def decide_request(
    call: CallbackQuery,
    callback_data: RequestCb,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
    app: App,
) -> None:
    """A coordinator approves or declines a request to join."""
    link = await session.get(GroupMembership, callback_data.membership_id)
    group = await get_group(session, link.group_id) if link is not None else None
    if link is None or group is None:
        await call.answer(_("This request was already decided."), show_alert=True)
        await clear_buttons(call)
        return
    if not await may_coordinate(session, member, group.id):
        await call.answer(not_coordinator(_), show_alert=True)
        return
    groups = Groups.of(session, app)
    person = await get_member_by_id(session, link.member_id)
    if person is None or link.status != MembershipStatus.PENDING:
        await call.answer(_("This request was already decided."), show_alert=True)
        await clear_buttons(call)
        return
    name = html.escape(person.display_name)
    assert member is not None  # may_coordinate refuses anyone else
    action = AuditAction.JOIN_APPROVED if callback_data.approve else AuditAction.JOIN_DECLINED
    await record(session, member, action, group_id=group.id, subject=person)
    if callback_data.approve:
        await groups.approve(link, group, person)
        outcome = _("✅ {name} was approved.").format(name=name)
    else:
        await groups.decline(link, group, person)
        outcome = _("{name} was declined.").format(name=name)
    await call.answer()
    await add_outcome(call, outcome)


@router.callback_query(RemoveCb.filter(), flags={"group": Need.COORDINATOR})
async def remove_member(
    call: CallbackQuery,
    callback_data: RemoveCb,
    group: WorkingGroup,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """A coordinator removes a member from the group and its chat, after confirming."""
    groups = Groups.of(session, app)
    found = await groups.active_member(group, callback_data.member_id)
    if found is None:
        await call.answer(_("This person is no longer a member of the group."), show_alert=True)
        return
    person, link = found
    if person.id == member.id:
        await call.answer(_("To leave the group yourself, use Leave."), show_alert=True)
        return
    if link.is_coordinator and not member.is_admin:
        await call.answer(_("Only network admins can remove a coordinator."), show_alert=True)
        return
    name = groups.name(group, locale)
    if not callback_data.confirm:
        await call.answer()
        text, markup = remove_question(group.id, person, name, group.chat_id is not None, _)
        await replace_message(call, text, markup)
        return
    await groups.remove(group, link, person)
    await record(session, member, AuditAction.MEMBER_REMOVED, group_id=group.id, subject=person)
    await call.answer(
        _("{name} was removed from {group}.").format(name=person.display_name, group=name)
    )
    await replace_message(call, *await groups.member_list(member, group, 0, _, locale))


async def follow_group_link(
    message: AnyMessage, member: Member, session: AsyncSession, app: App, _: Gettext, code: str
) -> None:
    """`t.me/<bot>?start=wg_<code>`: join that group (or ask to), then show its card."""
    group = await get_group_by_code(session, code)
    if group is None:
        await message.answer(
            _("This working group does not exist. Send /groups to see the current ones.")
        )
        return
    groups = Groups.of(session, app)
    result = await groups.join(member, group)
    text, door = groups.join_message(result, group, member)
    await message.answer(text, reply_markup=door)
    if member.is_active:
        card, markup = await groups.card(member, group, _, member.locale)
        await message.answer(card, reply_markup=markup)
