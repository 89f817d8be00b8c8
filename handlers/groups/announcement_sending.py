"""Coordinators preview an announcement as each reader will get it, send it, or discard it."""

from __future__ import annotations

import functools
import html
from collections.abc import Callable

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.app import App
from bot.core.i18n import LANGUAGE_NAMES, Translator
from bot.delivery.queue import Outgoing
from bot.groups.announcements import compose, preview_languages, send_announcement
from bot.groups.callbacks import AnnounceCb
from handlers.filters import GroupAccess
from handlers.groups.announcement_drafting import (
    COORDINATOR,
    draft_or_answer,
    drop_draft,
    show_panel,
)
from handlers.ui import clear_buttons, pressed, stop_spinner
from models.audit import AuditAction, record
from models.group import WorkingGroup, count_audience
from models.member import Member

router = Router(name=__name__)
router.callback_query.filter(F.message.chat.type == "private")
router.callback_query.middleware(GroupAccess())
Gettext = Callable[..., str]


@router.callback_query(AnnounceCb.filter(F.action == "preview"), flags=COORDINATOR)
async def preview(
    call: CallbackQuery,
    group: WorkingGroup,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    locale: str,
    bot: Bot,
    i18n: Translator,
    app: App,
) -> None:
    """Show exactly what readers get: each version, and a language without one."""
    draft = await draft_or_answer(call, state, group.id, _)
    if draft is None:
        return
    message = pressed(call)
    await call.answer()
    default_locale = app.settings.default_locale
    for reader in preview_languages(draft):
        await message.answer(
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
    await show_panel(message, draft, group, session, _, locale, app)


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


@router.callback_query(AnnounceCb.filter(F.action == "send"), flags=COORDINATOR)
async def send(
    call: CallbackQuery,
    group: WorkingGroup,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
) -> None:
    """Queue it for every member of the group (and the chat, if asked), once."""
    draft = await draft_or_answer(call, state, group.id, _)
    if draft is None:
        return
    message = pressed(call)
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
    if new:  # recorded in the sending's own transaction
        await record(
            session,
            member,
            AuditAction.ANNOUNCEMENT_SENT,
            group_id=group.id,
            object_kind="broadcast",
            object_id=broadcast.id,
        )
    await session.commit()  # commit first (the broadcast with its recipients), then tell
    await drop_draft(state)
    await stop_spinner(call)
    await clear_buttons(call)
    if new:
        text = _("✅ Sending now (recipients: {count}). I will show the progress here.")
    else:
        text = _("This announcement was already sent (recipients: {count}).")
    await message.answer(text.format(count=broadcast.total))


@router.callback_query(AnnounceCb.filter(F.action == "discard"), flags=COORDINATOR)
async def discard(call: CallbackQuery, state: FSMContext, _: Gettext) -> None:
    """Drop the draft; nothing is sent."""
    message = pressed(call)
    await drop_draft(state)
    await call.answer()
    await clear_buttons(call)
    await message.answer(_("The announcement was discarded."))
