"""Help, language, privacy, data export and erasure: open to every member, pending or not."""

from __future__ import annotations

import json
from collections.abc import Callable

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.app import App
from bot.members.callbacks import ForgetCb
from bot.members.records import erase_member, export_member
from bot.members.views import (
    forget_keyboard,
    help_text,
    language_keyboard,
    privacy_details,
    privacy_text,
    summary,
)
from handlers.ui import clear_buttons, pressed
from models.member import Member

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")
Gettext = Callable[..., str]


@router.message(Command("help"))
async def show_help(
    message: Message, member: Member | None, session: AsyncSession, _: Gettext, app: App
) -> None:
    """What this person can do, with the commands of their roles (admin, coordinator)."""
    extra: list[str] = []
    if member is not None and member.is_active:
        for section in app.registry.help_sections:
            extra += await section(session, member, _)
    await message.answer(help_text(member, _, extra))


@router.message(Command("privacy"))
async def show_privacy(message: Message, _: Gettext) -> None:
    await message.answer(privacy_text(_) + "\n\n" + privacy_details(_))


@router.message(Command("language"))
async def change_language(message: Message, _: Gettext, locale: str) -> None:
    """Language buttons; pressing one is handled by the onboarding router's LangCb handler."""
    await message.answer(_("Choose your language."), reply_markup=language_keyboard(locale))


@router.message(Command("mydata"))
async def my_data(
    message: Message,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    app: App,
) -> None:
    """Everything stored, as a message and as a JSON document (a half-written draft too)."""
    if member is None:
        await message.answer(_("We store nothing about you."))
        return
    data = await export_member(session, app, member)
    data["conversation"] = {"step": await state.get_state(), "data": await state.get_data()}
    await message.answer(summary(data, member, _))
    document = json.dumps(data, ensure_ascii=False, indent=2).encode()
    await message.answer_document(BufferedInputFile(document, filename="my-data.json"))


@router.message(Command("forget"))
async def forget(message: Message, member: Member | None, _: Gettext) -> None:
    """Ask for confirmation before erasing."""
    if member is None:
        await message.answer(_("We store nothing about you."))
        return
    await message.answer(
        _(
            "This erases your profile, your group memberships, your answers linked to you and "
            "your meeting replies. Secret ballots cannot be linked to you and stay counted. "
            "Are you sure?"
        ),
        reply_markup=forget_keyboard(_),
    )


@router.callback_query(ForgetCb.filter())
async def forget_confirmed(
    call: CallbackQuery,
    callback_data: ForgetCb,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    app: App,
) -> None:
    """Erase the member and every record linked to them."""
    message = pressed(call)
    await call.answer()
    await clear_buttons(call)
    if not callback_data.confirm:
        await message.answer(_("Nothing was erased."))
        return
    if member is not None:
        await erase_member(session, app, member)
        await session.commit()
    await state.clear()
    await message.answer(
        _("Everything we stored about you has been erased. Send /start if you want to come back.")
    )
