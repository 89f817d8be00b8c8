"""Coordinators write an announcement for their group, add languages, preview and send it."""

from __future__ import annotations

import functools
import html
import secrets
from collections.abc import Callable

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.announcements import MAX_TEXT, Draft, compose, send_announcement
from bot.app import App
from bot.config import SUPPORTED_LOCALES
from bot.delivery import Outgoing
from bot.group_callbacks import AnnounceCb
from bot.groups import Groups
from bot.i18n import LANGUAGE_NAMES, Translator
from handlers.groups import not_coordinator
from handlers.ui import clear_buttons
from models.group import WorkingGroup, count_audience, get_group
from models.member import Member

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")
Gettext = Callable[..., str]
DRAFT = "announcement"


class Announce(StatesGroup):
    """What the next message of the coordinator is: the text, a version, an attachment."""

    text = State()
    version = State()
    attachment = State()


async def load_draft(state: FSMContext, group_id: int) -> Draft | None:
    """The open draft for this group, if the coordinator has one."""
    draft = Draft.from_data((await state.get_data()).get(DRAFT))
    return draft if draft is not None and draft.group_id == group_id else None


async def save_draft(state: FSMContext, draft: Draft) -> None:
    await state.update_data({DRAFT: draft.to_data()})


async def coordinated_group(
    call: CallbackQuery,
    member: Member | None,
    session: AsyncSession,
    group_id: int,
    _: Gettext,
    app: App,
) -> WorkingGroup | None:
    """The group, after checking that the presser coordinates it and it is not archived."""
    group = await get_group(session, group_id)
    if group is None:
        await call.answer(_("This working group does not exist any more."), show_alert=True)
        return None
    if member is None or not await Groups.of(session, app).can_coordinate(member, group):
        await call.answer(not_coordinator(_), show_alert=True)
        return None
    if group.archived:
        await call.answer(_("This working group is archived."), show_alert=True)
        return None
    return group


async def draft_or_answer(
    call: CallbackQuery, state: FSMContext, group_id: int, _: Gettext
) -> Draft | None:
    draft = await load_draft(state, group_id)
    if draft is None:
        await call.answer(
            _("This announcement is no longer open. Start again from /groups."), show_alert=True
        )
        await clear_buttons(call)
    return draft


def panel(
    draft: Draft, group: WorkingGroup, group_name: str, audience: int, _: Gettext
) -> tuple[str, InlineKeyboardMarkup]:
    """The draft's summary with everything the coordinator can do next."""
    languages = [
        LANGUAGE_NAMES[code] + (_(" (original)") if code == draft.main else "")
        for code in SUPPORTED_LOCALES
        if code in draft.texts
    ]
    lines = [_("📣 <b>Announcement for {group}</b>").format(group=html.escape(group_name))]
    if languages:
        lines.append(_("Languages: {languages}").format(languages=", ".join(languages)))
        if len(draft.texts) < len(SUPPORTED_LOCALES):
            lines.append(
                _("Members reading other languages get a version you wrote, with a note.")
            )
    else:
        lines.append(_("No text yet."))
    if draft.document is not None:
        attachment = "📎 " + html.escape(draft.document.get("name") or _("document"))
    elif draft.voice is not None:
        attachment = _("🎤 voice note")
    else:
        attachment = _("none")
    lines.append(_("Attachment: {attachment}").format(attachment=attachment))
    if group.chat_usable:
        lines.append(
            _("Also posted in the group chat: yes")
            if draft.post_in_chat
            else _("Also posted in the group chat: no")
        )
    lines.append(_("Recipients: {count}").format(count=audience))

    gid = group.id
    kb = InlineKeyboardBuilder()
    kb.button(text=_("👁 Preview"), callback_data=AnnounceCb(action="preview", group_id=gid))
    if len(draft.texts) < len(SUPPORTED_LOCALES):
        kb.button(
            text=_("🌐 Add a language"), callback_data=AnnounceCb(action="langs", group_id=gid)
        )
    if draft.document is None and draft.voice is None:
        kb.button(
            text=_("📎 Attach a document or voice note"),
            callback_data=AnnounceCb(action="attach", group_id=gid),
        )
    else:
        kb.button(
            text=_("✖ Remove the attachment"),
            callback_data=AnnounceCb(action="detach", group_id=gid),
        )
    if group.chat_usable:
        kb.button(
            text=_("💬 Not in the group chat")
            if draft.post_in_chat
            else _("💬 Also in the group chat"),
            callback_data=AnnounceCb(action="chat", group_id=gid),
        )
    kb.button(
        text=_("✏️ Rewrite the text"), callback_data=AnnounceCb(action="rewrite", group_id=gid)
    )
    if draft.ready:
        kb.button(
            text=_("✅ Send to the group"),
            callback_data=AnnounceCb(action="send", group_id=gid),
        )
    kb.button(text=_("✖ Discard"), callback_data=AnnounceCb(action="discard", group_id=gid))
    kb.adjust(1)
    return "\n".join(lines), kb.as_markup()


async def show_panel(
    message: Message,
    draft: Draft,
    group: WorkingGroup,
    session: AsyncSession,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    name = Groups.of(session, app).name(group, locale)
    text, markup = panel(draft, group, name, await count_audience(session, group.id), _)
    await message.answer(text, reply_markup=markup)


# --- starting and writing --------------------------------------------------------------------


@router.callback_query(AnnounceCb.filter(F.action == "new"))
async def new_announcement(
    call: CallbackQuery,
    callback_data: AnnounceCb,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """Start a draft in the coordinator's language."""
    group = await coordinated_group(call, member, session, callback_data.group_id, _, app)
    if group is None or member is None:
        return
    assert isinstance(call.message, Message)
    await call.answer()
    draft = Draft(group_id=group.id, token=secrets.token_hex(8), main=member.locale)
    await save_draft(state, draft)
    await state.set_state(Announce.text)
    name = Groups.of(session, app).name(group, locale)
    await call.message.answer(
        _(
            "📣 New announcement for <b>{group}</b>. Send its text in {language}. You can also "
            "send a document or a voice note, with the text as its caption."
        ).format(group=html.escape(name), language=LANGUAGE_NAMES[member.locale])
    )


async def current_draft(
    message: Message, state: FSMContext, session: AsyncSession, _: Gettext
) -> tuple[Draft, WorkingGroup] | None:
    """The draft a typed message belongs to (with its group), or a clear answer."""
    draft = Draft.from_data((await state.get_data()).get(DRAFT))
    group = await get_group(session, draft.group_id) if draft is not None else None
    if draft is None or group is None or group.archived:
        await state.set_state(None)
        await message.answer(_("This announcement is no longer open. Start again from /groups."))
        return None
    return draft, group


def too_long(text: str, _: Gettext) -> str | None:
    """Why a text can't be used, if it can't."""
    if len(text) > MAX_TEXT:
        return _("This text is too long: please keep it under {limit} characters.").format(
            limit=MAX_TEXT
        )
    return None


@router.message(Announce.text, F.text, ~F.text.startswith("/"))
@router.message(Announce.text, F.document | F.voice)
async def typed_text(
    message: Message,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """The original text (and perhaps an attachment carrying it as caption)."""
    found = await current_draft(message, state, session, _)
    if found is None or member is None:
        return
    draft, group = found
    text = message.html_text if (message.text or message.caption) else ""
    problem = too_long(text, _)
    if problem:
        await message.answer(problem)
        return
    if text:
        draft.texts[draft.main] = text
    take_attachment(message, draft)
    await save_draft(state, draft)
    await state.set_state(None)
    await show_panel(message, draft, group, session, _, locale, app)


def take_attachment(message: Message, draft: Draft) -> bool:
    """A document or voice note replaces any earlier attachment."""
    if message.document is not None:
        draft.document = {
            "file_id": message.document.file_id,
            "name": message.document.file_name or "",
        }
        draft.voice = None
        return True
    if message.voice is not None:
        draft.voice = message.voice.file_id
        draft.document = None
        return True
    return False


@router.message(Announce.version, F.text, ~F.text.startswith("/"))
async def typed_version(
    message: Message,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """The text in another language."""
    found = await current_draft(message, state, session, _)
    if found is None:
        return
    draft, group = found
    target = str((await state.get_data()).get("announcement_locale", ""))
    if target not in SUPPORTED_LOCALES:
        await state.set_state(None)
        await show_panel(message, draft, group, session, _, locale, app)
        return
    problem = too_long(message.html_text, _)
    if problem:
        await message.answer(problem)
        return
    draft.texts[target] = message.html_text
    await save_draft(state, draft)
    await state.set_state(None)
    await show_panel(message, draft, group, session, _, locale, app)


@router.message(Announce.attachment, F.document | F.voice)
async def sent_attachment(
    message: Message,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    found = await current_draft(message, state, session, _)
    if found is None:
        return
    draft, group = found
    take_attachment(message, draft)
    await save_draft(state, draft)
    await state.set_state(None)
    await show_panel(message, draft, group, session, _, locale, app)


@router.message(Announce.text, ~F.text)
@router.message(Announce.version, ~F.text)
async def expected_text(message: Message, state: FSMContext, _: Gettext) -> None:
    """A sticker or a photo where text is expected."""
    if await state.get_state() == Announce.version.state:
        await message.answer(_("Please send the text of this version as a message."))
    else:
        await message.answer(_("Please send a text, a document or a voice note."))


@router.message(Announce.attachment, ~F.text)
@router.message(Announce.attachment, F.text, ~F.text.startswith("/"))
async def expected_attachment(message: Message, _: Gettext) -> None:
    """Anything but a document or a voice note where one is expected."""
    await message.answer(_("Please send a document or a voice note."))


# --- the panel's buttons ---------------------------------------------------------------------


@router.callback_query(AnnounceCb.filter(F.action.in_({"langs", "lang", "attach", "rewrite"})))
async def ask_more(
    call: CallbackQuery,
    callback_data: AnnounceCb,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    app: App,
) -> None:
    """Add a language version, an attachment, or rewrite the original."""
    group = await coordinated_group(call, member, session, callback_data.group_id, _, app)
    if group is None:
        return
    draft = await draft_or_answer(call, state, group.id, _)
    if draft is None:
        return
    assert isinstance(call.message, Message)
    action = callback_data.action
    if action == "langs":
        kb = InlineKeyboardBuilder()
        for code in SUPPORTED_LOCALES:
            if code not in draft.texts:
                kb.button(
                    text=LANGUAGE_NAMES[code],
                    callback_data=AnnounceCb(action="lang", group_id=group.id, arg=code),
                )
        kb.adjust(2)
        await call.answer()
        await call.message.answer(_("Which language?"), reply_markup=kb.as_markup())
        return
    if action == "lang":
        if callback_data.arg not in SUPPORTED_LOCALES:
            await call.answer(_("This button is no longer valid."), show_alert=True)
            return
        await state.update_data(announcement_locale=callback_data.arg)
        await state.set_state(Announce.version)
        await call.answer()
        await clear_buttons(call)
        await call.message.answer(
            _("Send the announcement's text in {language}.").format(
                language=LANGUAGE_NAMES[callback_data.arg]
            )
        )
        return
    await call.answer()
    if action == "attach":
        await state.set_state(Announce.attachment)
        await call.message.answer(_("Send the document or the voice note."))
    else:
        await state.set_state(Announce.text)
        await call.message.answer(
            _("Send the new text in {language}.").format(language=LANGUAGE_NAMES[draft.main])
        )


@router.callback_query(AnnounceCb.filter(F.action.in_({"detach", "chat"})))
async def toggle(
    call: CallbackQuery,
    callback_data: AnnounceCb,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    locale: str,
    app: App,
) -> None:
    """Drop the attachment, or switch posting in the group chat."""
    group = await coordinated_group(call, member, session, callback_data.group_id, _, app)
    if group is None:
        return
    draft = await draft_or_answer(call, state, group.id, _)
    if draft is None:
        return
    assert isinstance(call.message, Message)
    if callback_data.action == "detach":
        draft.document = None
        draft.voice = None
    else:
        draft.post_in_chat = not draft.post_in_chat and group.chat_usable
    await save_draft(state, draft)
    await call.answer()
    name = Groups.of(session, app).name(group, locale)
    text, markup = panel(draft, group, name, await count_audience(session, group.id), _)
    await call.message.edit_text(text, reply_markup=markup)


@router.callback_query(AnnounceCb.filter(F.action == "preview"))
async def preview(
    call: CallbackQuery,
    callback_data: AnnounceCb,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    locale: str,
    bot: Bot,
    i18n: Translator,
    app: App,
) -> None:
    """Show exactly what readers get: each version, and a language without one."""
    group = await coordinated_group(call, member, session, callback_data.group_id, _, app)
    if group is None or member is None:
        return
    draft = await draft_or_answer(call, state, group.id, _)
    if draft is None:
        return
    assert isinstance(call.message, Message)
    await call.answer()
    readers = [code for code in SUPPORTED_LOCALES if code in draft.texts]
    missing = [code for code in SUPPORTED_LOCALES if code not in draft.texts]
    if missing:
        readers.append(missing[0])
    default_locale = app.settings.default_locale
    for reader in readers or [locale]:
        await call.message.answer(
            _("Preview: what readers of {language} get").format(language=LANGUAGE_NAMES[reader])
        )

        parts = compose(
            draft.payload(),
            group.name(reader, default_locale),
            reader,
            default_locale,
            functools.partial(i18n.gettext, locale=reader),
        )
        for part in parts:
            await send_part(bot, member.telegram_id, part)
    await show_panel(call.message, draft, group, session, _, locale, app)


async def send_part(bot: Bot, chat_id: int, part: Outgoing) -> None:
    """One rendered part to one chat (previews only: everything else goes through delivery)."""
    try:
        if isinstance(part.document, str):
            await bot.send_document(chat_id, part.document, caption=part.caption)
        elif part.voice is not None:
            await bot.send_voice(chat_id, part.voice, caption=part.caption)
        else:
            await bot.send_message(chat_id, part.text or "")
    except TelegramAPIError as exc:
        await bot.send_message(chat_id, html.escape(exc.message))


@router.callback_query(AnnounceCb.filter(F.action == "send"))
async def send(
    call: CallbackQuery,
    callback_data: AnnounceCb,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    app: App,
) -> None:
    """Queue it for every member of the group (and the chat, if asked), once."""
    group = await coordinated_group(call, member, session, callback_data.group_id, _, app)
    if group is None or member is None:
        return
    draft = await draft_or_answer(call, state, group.id, _)
    if draft is None:
        return
    assert isinstance(call.message, Message)
    if not draft.ready:
        await call.answer(_("Write the text first."), show_alert=True)
        return
    audience = await count_audience(session, group.id)
    if audience == 0 and not (draft.post_in_chat and group.chat_usable):
        await call.answer(_("Nobody is in this group yet."), show_alert=True)
        return
    broadcast, new = await send_announcement(
        session, draft, group, author_id=member.id, author_chat_id=member.telegram_id
    )
    await state.update_data({DRAFT: None})
    await state.set_state(None)
    await call.answer()
    await clear_buttons(call)
    if new:
        await call.message.answer(
            _("✅ Sending now (recipients: {count}). I will show the progress here.").format(
                count=broadcast.total
            )
        )


@router.callback_query(AnnounceCb.filter(F.action == "discard"))
async def discard(
    call: CallbackQuery,
    callback_data: AnnounceCb,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    app: App,
) -> None:
    group = await coordinated_group(call, member, session, callback_data.group_id, _, app)
    if group is None:
        return
    assert isinstance(call.message, Message)
    await state.update_data({DRAFT: None})
    await state.set_state(None)
    await call.answer()
    await clear_buttons(call)
    await call.message.answer(_("The announcement was discarded."))
