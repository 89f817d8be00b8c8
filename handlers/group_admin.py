"""Network admins create, edit and archive working groups, appoint coordinators, link chats."""

from __future__ import annotations

import html
from collections.abc import Callable

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from bot.clock import Clock
from bot.config import SUPPORTED_LOCALES
from bot.group_admin import (
    MAX_DESCRIPTION,
    MAX_NAME,
    PICK_PAGE,
    appoint,
    coordinators_view,
    create_group,
    dismiss,
    manage_view,
    pick_view,
    valid_code,
)
from bot.group_callbacks import LinkCb, ManageCb
from bot.groups import Groups, announce_chat
from bot.i18n import LANGUAGE_NAMES
from handlers.onboarding import clean_text
from handlers.ui import clear_buttons, replace_message
from models.group import (
    MembershipStatus,
    WorkingGroup,
    get_group,
    get_group_by_code,
    get_membership,
    group_coordinators,
    members_page,
)
from models.member import Member, get_member_by_id

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")
Gettext = Callable[..., str]


class GroupNew(StatesGroup):
    """Creating a group: its code, then its name and description in the admin's language."""

    code = State()
    name = State()
    description = State()


class GroupEdit(StatesGroup):
    """Writing a group's name and description in one language."""

    name = State()
    description = State()


def is_admin(member: Member | None) -> bool:
    return member is not None and member.is_admin and member.is_active


async def refuse(call: CallbackQuery, _: Gettext) -> None:
    """The answer every admin action gives to everyone else."""
    await call.answer(_("Only network admins can do this."), show_alert=True)


async def admin_group(
    call: CallbackQuery, member: Member | None, session: AsyncSession, group_id: int, _: Gettext
) -> WorkingGroup | None:
    """The group an admin button points at, after checking the presser is an admin."""
    if not is_admin(member):
        await refuse(call, _)
        return None
    group = await get_group(session, group_id)
    if group is None:
        await call.answer(_("This working group does not exist any more."), show_alert=True)
    return group


async def show_manage(
    call: CallbackQuery, groups: Groups, group: WorkingGroup, _: Gettext, locale: str
) -> None:
    coordinators = await group_coordinators(groups.session, group.id)
    text, markup = manage_view(
        group, coordinators, await groups.deep_link(group), _, locale, groups.default_locale
    )
    await replace_message(call, text, markup)


async def send_manage(
    message: Message, groups: Groups, group: WorkingGroup, _: Gettext, locale: str
) -> None:
    coordinators = await group_coordinators(groups.session, group.id)
    text, markup = manage_view(
        group, coordinators, await groups.deep_link(group), _, locale, groups.default_locale
    )
    await message.answer(text, reply_markup=markup)


# --- settings --------------------------------------------------------------------------------


@router.callback_query(ManageCb.filter(F.action == "show"))
async def manage(
    call: CallbackQuery,
    callback_data: ManageCb,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    group = await admin_group(call, member, session, callback_data.group_id, _)
    if group is None:
        return
    await state.set_state(None)
    await call.answer()
    await show_manage(call, Groups.of(session, app), group, _, locale)


@router.callback_query(ManageCb.filter(F.action == "moderated"))
async def set_moderated(
    call: CallbackQuery,
    callback_data: ManageCb,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """Open or moderated; requests already waiting stay with the coordinators."""
    group = await admin_group(call, member, session, callback_data.group_id, _)
    if group is None:
        return
    group.moderated = callback_data.arg == "1"
    await call.answer()
    await show_manage(call, Groups.of(session, app), group, _, locale)


@router.callback_query(ManageCb.filter(F.action == "archive"))
async def set_archived(
    call: CallbackQuery,
    callback_data: ManageCb,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """Archive (no new members, hidden from the list) or restore."""
    group = await admin_group(call, member, session, callback_data.group_id, _)
    if group is None:
        return
    group.archived = callback_data.arg == "1"
    await call.answer(
        _("The group is archived.") if group.archived else _("The group is active again.")
    )
    await show_manage(call, Groups.of(session, app), group, _, locale)


@router.callback_query(ManageCb.filter(F.action == "unlink"))
async def unlink(
    call: CallbackQuery,
    callback_data: ManageCb,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """Disconnect the group's chat (the chat itself is left as it is)."""
    group = await admin_group(call, member, session, callback_data.group_id, _)
    if group is None:
        return
    groups = Groups.of(session, app)
    await groups.unlink_chat(group)
    await call.answer(_("The chat is no longer linked to this group."))
    await show_manage(call, groups, group, _, locale)


# --- coordinators ----------------------------------------------------------------------------


async def show_coordinators(
    call: CallbackQuery, groups: Groups, group: WorkingGroup, _: Gettext, locale: str
) -> None:
    coordinators = await group_coordinators(groups.session, group.id)
    text, markup = coordinators_view(group.id, groups.name(group, locale), coordinators, _)
    await replace_message(call, text, markup)


@router.callback_query(ManageCb.filter(F.action == "coords"))
async def coordinators(
    call: CallbackQuery,
    callback_data: ManageCb,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    group = await admin_group(call, member, session, callback_data.group_id, _)
    if group is None:
        return
    await call.answer()
    await show_coordinators(call, Groups.of(session, app), group, _, locale)


@router.callback_query(ManageCb.filter(F.action == "pick"))
async def pick_coordinator(
    call: CallbackQuery,
    callback_data: ManageCb,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """The group's members, to choose a coordinator from."""
    group = await admin_group(call, member, session, callback_data.group_id, _)
    if group is None:
        return
    page = int(callback_data.arg) if callback_data.arg.isdigit() else 0
    rows = await members_page(
        session,
        group.id,
        offset=page * PICK_PAGE,
        limit=PICK_PAGE + 1,
        status=MembershipStatus.ACTIVE,
    )
    groups = Groups.of(session, app)
    await call.answer()
    text, markup = pick_view(
        group.id,
        groups.name(group, locale),
        rows[:PICK_PAGE],
        page,
        len(rows) > PICK_PAGE,
        await groups.deep_link(group),
        _,
    )
    await replace_message(call, text, markup)


@router.callback_query(ManageCb.filter(F.action.in_({"appoint", "dismiss"})))
async def change_coordinator(
    call: CallbackQuery,
    callback_data: ManageCb,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """Appoint a member as coordinator, or dismiss one; they are told either way."""
    group = await admin_group(call, member, session, callback_data.group_id, _)
    if group is None:
        return
    person = (
        await get_member_by_id(session, int(callback_data.arg))
        if callback_data.arg.isdigit()
        else None
    )
    link = await get_membership(session, group.id, person.id) if person else None
    if person is None or link is None or not link.is_active:
        await call.answer(_("This person is no longer a member of the group."), show_alert=True)
        return
    groups = Groups.of(session, app)
    if callback_data.action == "appoint":
        if link.is_coordinator:
            await call.answer(
                _("{name} already coordinates this group.").format(name=person.display_name)
            )
        else:
            await appoint(groups, group, link, person)
            await call.answer(_("{name} is now a coordinator.").format(name=person.display_name))
    elif link.is_coordinator:
        await dismiss(groups, group, link, person)
        await call.answer(_("{name} is no longer a coordinator.").format(name=person.display_name))
    else:
        await call.answer()
    await show_coordinators(call, groups, group, _, locale)


# --- names and descriptions ------------------------------------------------------------------


def keep_button(group_id: int, action: str, label: str) -> InlineKeyboardMarkup:
    """One button that keeps the current text (or skips an optional one)."""
    kb = InlineKeyboardBuilder()
    kb.button(text=label, callback_data=ManageCb(action=action, group_id=group_id))
    return kb.as_markup()


@router.callback_query(ManageCb.filter(F.action == "new"))
async def new_group(
    call: CallbackQuery, member: Member | None, state: FSMContext, _: Gettext
) -> None:
    """Start creating a group: first its code."""
    if not is_admin(member):
        await refuse(call, _)
        return
    assert isinstance(call.message, Message)
    await call.answer()
    await state.set_state(GroupNew.code)
    await call.message.answer(
        _(
            "Send a short code for the new group: 2 to 24 lowercase letters, digits or _. It "
            "appears in links, for example <code>women_escr</code>."
        )
    )


@router.message(StateFilter(GroupNew.code), F.text, ~F.text.startswith("/"))
async def new_code(
    message: Message, member: Member | None, session: AsyncSession, state: FSMContext, _: Gettext
) -> None:
    if not is_admin(member):
        await state.clear()
        return
    code = valid_code(message.text or "")
    if code is None:
        await message.answer(
            _("A code has 2 to 24 lowercase letters, digits or _. Please send another.")
        )
        return
    if await get_group_by_code(session, code) is not None:
        await message.answer(_("The code {code} is taken. Please send another.").format(code=code))
        return
    await state.update_data(new_code=code)
    await state.set_state(GroupNew.name)
    await message.answer(
        _("Now send the group's name in {language} (up to {limit} characters).").format(
            language=LANGUAGE_NAMES[member.locale if member else "en"], limit=MAX_NAME
        )
    )


@router.message(StateFilter(GroupNew.name, GroupEdit.name), F.text, ~F.text.startswith("/"))
async def typed_name(
    message: Message, member: Member | None, state: FSMContext, session: AsyncSession, _: Gettext
) -> None:
    """A name (for a new group or in one language); the description is asked next."""
    if not is_admin(member):
        await state.clear()
        return
    name = clean_text(message.text or "", MAX_NAME)
    if name is None:
        await message.answer(
            _("Please send a name of 1 to {limit} characters.").format(limit=MAX_NAME)
        )
        return
    data = await state.get_data()
    if await state.get_state() == GroupNew.name.state:
        await state.update_data(new_name=name)
        await state.set_state(GroupNew.description)
        await message.answer(
            _("Now send a short description (up to {limit} characters), or tap Skip.").format(
                limit=MAX_DESCRIPTION
            ),
            reply_markup=keep_button(0, "keepdesc", _("Skip")),
        )
        return
    group = await get_group(session, int(data.get("edit_group", 0)))
    locale = str(data.get("edit_locale", ""))
    if group is None or locale not in SUPPORTED_LOCALES:
        await state.clear()
        await message.answer(_("This working group does not exist any more."))
        return
    group.set_text(locale, name)
    await ask_description(message, state, group, locale, _)


async def ask_description(
    message: Message, state: FSMContext, group: WorkingGroup, locale: str, _: Gettext
) -> None:
    """Second step of editing one language: the description."""
    await state.set_state(GroupEdit.description)
    current = group.translation(locale)
    text = _("Now send the description in {language} (up to {limit} characters).").format(
        language=LANGUAGE_NAMES[locale], limit=MAX_DESCRIPTION
    )
    label = _("Skip")
    if current is not None and current.description:
        text += "\n" + _("Now: {value}").format(value=html.escape(current.description))
        label = _("Keep it")
    await message.answer(text, reply_markup=keep_button(group.id, "keepdesc", label))


@router.message(
    StateFilter(GroupNew.description, GroupEdit.description), F.text, ~F.text.startswith("/")
)
async def typed_description(
    message: Message,
    member: Member | None,
    state: FSMContext,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    clock: Clock,
    app: App,
) -> None:
    """The description; this finishes creating or editing."""
    if not is_admin(member):
        await state.clear()
        return
    description = " ".join((message.text or "").split())
    if len(description) > MAX_DESCRIPTION:
        await message.answer(
            _("Please send a description of 1 to {limit} characters.").format(
                limit=MAX_DESCRIPTION
            )
        )
        return
    await save_description(message, state, session, description, _, locale, clock, app)


async def save_description(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    description: str | None,
    _: Gettext,
    locale: str,
    clock: Clock,
    app: App,
) -> None:
    """Store the description (None keeps it) and show the group's settings."""
    data = await state.get_data()
    groups = Groups.of(session, app)
    if await state.get_state() == GroupNew.description.state:
        group = await create_group(
            session,
            code=str(data.get("new_code", "")),
            locale=locale,
            name=str(data.get("new_name", "")),
            description=description or "",
            now=clock.now(),
        )
        await state.set_state(None)
        if group is None:
            await message.answer(_("The code is taken. Please start again."))
            return
        await message.answer(
            _("✅ The group <b>{group}</b> was created.").format(
                group=html.escape(groups.name(group, locale))
            )
        )
    else:
        group = await get_group(session, int(data.get("edit_group", 0)))
        edit_locale = str(data.get("edit_locale", ""))
        await state.set_state(None)
        if group is None or edit_locale not in SUPPORTED_LOCALES:
            await message.answer(_("This working group does not exist any more."))
            return
        if description is not None:
            group.set_text(edit_locale, None, description)
        await message.answer(_("Saved."))
    await session.flush()
    await send_manage(message, groups, group, _, locale)


@router.callback_query(ManageCb.filter(F.action == "lang"))
async def edit_language(
    call: CallbackQuery,
    callback_data: ManageCb,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
) -> None:
    """Write the group's name (then description) in one language."""
    group = await admin_group(call, member, session, callback_data.group_id, _)
    if group is None:
        return
    if callback_data.arg not in SUPPORTED_LOCALES:
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    assert isinstance(call.message, Message)
    await call.answer()
    await state.set_state(GroupEdit.name)
    await state.update_data(edit_group=group.id, edit_locale=callback_data.arg)
    current = group.translation(callback_data.arg)
    text = _("Send the group's name in {language} (up to {limit} characters).").format(
        language=LANGUAGE_NAMES[callback_data.arg], limit=MAX_NAME
    )
    markup = None
    if current is not None:
        text += "\n" + _("Now: {value}").format(value=html.escape(current.name))
        markup = keep_button(group.id, "keepname", _("Keep it"))
    await call.message.answer(text, reply_markup=markup)


@router.callback_query(ManageCb.filter(F.action == "keepname"), StateFilter(GroupEdit.name))
async def keep_name(
    call: CallbackQuery,
    callback_data: ManageCb,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
) -> None:
    group = await admin_group(call, member, session, callback_data.group_id, _)
    if group is None:
        return
    assert isinstance(call.message, Message)
    await call.answer()
    await clear_buttons(call)
    locale = str((await state.get_data()).get("edit_locale", ""))
    if locale not in SUPPORTED_LOCALES:
        await state.set_state(None)
        return
    await ask_description(call.message, state, group, locale, _)


@router.callback_query(
    ManageCb.filter(F.action == "keepdesc"),
    StateFilter(GroupNew.description, GroupEdit.description),
)
async def keep_description(
    call: CallbackQuery,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    locale: str,
    clock: Clock,
    app: App,
) -> None:
    if not is_admin(member):
        await refuse(call, _)
        return
    assert isinstance(call.message, Message)
    await call.answer()
    await clear_buttons(call)
    await save_description(call.message, state, session, None, _, locale, clock, app)


@router.message(StateFilter(GroupNew, GroupEdit), ~F.text)
async def expected_text(message: Message, _: Gettext) -> None:
    """Stickers, photos and the like where a name or a description is expected."""
    await message.answer(_("Please send it as a text message."))


# --- linking a chat --------------------------------------------------------------------------


@router.callback_query(LinkCb.filter())
async def confirm_link(
    call: CallbackQuery,
    callback_data: LinkCb,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    bot: Bot,
    app: App,
) -> None:
    """The admin picked the group: check the bot's rights again, link, and say so in the chat."""
    group = await admin_group(call, member, session, callback_data.group_id, _)
    if group is None:
        return
    assert isinstance(call.message, Message)
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
    try:
        chat = await bot.get_chat(callback_data.chat_id)
        title = chat.title
    except TelegramAPIError:
        title = None
    await groups.link_chat(group, callback_data.chat_id, title)
    await announce_chat(session, group)
    await call.answer()
    name = html.escape(groups.name(group, locale))
    await call.message.edit_text(
        _(
            "✅ «{chat}» is now the chat of <b>{group}</b>. Its members get a personal link "
            "from /groups; I decline join requests from anyone else."
        ).format(chat=html.escape(title or str(callback_data.chat_id)), group=name)
    )
    try:
        await bot.send_message(
            callback_data.chat_id,
            _(
                "This chat now belongs to the working group <b>{group}</b>. Members of the group "
                "get in with a personal link from me; I decline requests from anyone else."
            ).format(group=name),
        )
    except TelegramAPIError:
        return
