"""Small message helpers shared by the handler modules.

A button can be pressed days after its message came. Telegram then sends the callback query
with an InaccessibleMessage (only the chat and the message id) and refuses to edit a message
older than 48 hours, so every change to the pressed message goes through these helpers: they
edit when Telegram allows it and otherwise answer with a new message (or nothing).
"""

from __future__ import annotations

import logging
import unicodedata

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Chat, InaccessibleMessage, InlineKeyboardMarkup, Message

log = logging.getLogger(__name__)

# The pressed message: complete, or only its chat and id when it is old or deleted.
AnyMessage = Message | InaccessibleMessage

# Telegram's refusals of an edit that the bot can live with (the message stays as it is).
EDIT_REFUSALS = (
    "not modified",
    "can't be edited",
    "not found",
    "there is no text",
    "there is no caption",
    "MESSAGE_ID_INVALID",
)


def refused_edit(exc: TelegramBadRequest) -> bool:
    """Whether Telegram refused an edit for a reason that only means "leave it as it is"."""
    return any(reason in exc.message for reason in EDIT_REFUSALS)


def pressed(call: CallbackQuery) -> AnyMessage:
    """The message whose button was pressed, to answer below it (never None)."""
    if call.message is not None:
        return call.message
    # Buttons of inline-mode messages come without a message; the bot sends none, but a
    # forged query must still be answered in the person's own chat.
    chat = Chat(id=call.from_user.id, type="private")
    return InaccessibleMessage(chat=chat, message_id=0, date=0).as_(call.bot)


async def clear_buttons(call: CallbackQuery) -> None:
    """Remove the pressed message's buttons so they cannot be pressed twice.

    A message that has no buttons any more (a second press, forged data) is left alone:
    Telegram refuses an edit that changes nothing. An old message's keyboard is removed
    where Telegram still allows it, and left otherwise.
    """
    message = call.message
    if message is None or call.bot is None:
        return
    if isinstance(message, Message) and message.reply_markup is None:
        return
    await drop_buttons(call.bot, message.chat.id, message.message_id)


async def edit_buttons(call: CallbackQuery, markup: InlineKeyboardMarkup | None) -> bool:
    """Show new buttons on the pressed message; False when Telegram can't edit it (old or
    deleted), so the caller sends the screen anew."""
    message = pressed(call)
    if not isinstance(message, Message):
        return False
    try:
        await message.edit_reply_markup(reply_markup=markup)
    except TelegramBadRequest as exc:
        if not refused_edit(exc):
            raise
        return "not modified" in exc.message
    return True


async def edit_or_send(
    bot: Bot,
    chat_id: int,
    message_id: int,
    text: str,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Edit a message the bot sent earlier; when Telegram can't (too old, deleted), drop its
    buttons where allowed and send the new state as a new message."""
    try:
        await bot.edit_message_text(
            text=text, chat_id=chat_id, message_id=message_id, reply_markup=reply_markup
        )
        return
    except TelegramBadRequest as exc:
        if not refused_edit(exc):
            raise
        if "not modified" in exc.message:
            return
    await drop_buttons(bot, chat_id, message_id)
    await bot.send_message(chat_id, text, reply_markup=reply_markup)


async def drop_buttons(bot: Bot, chat_id: int, message_id: int) -> None:
    """Remove a message's keyboard if Telegram still allows it; otherwise leave it."""
    try:
        await bot.edit_message_reply_markup(
            chat_id=chat_id, message_id=message_id, reply_markup=None
        )
    except TelegramBadRequest as exc:
        if not refused_edit(exc):
            raise


async def stop_spinner(call: CallbackQuery) -> None:
    """Answer a tap after its work is committed; a query that went stale meanwhile ("query is
    too old") must not turn a done deed into an error: the next message says what happened."""
    try:
        await call.answer()
    except TelegramBadRequest as exc:
        if "query is too old" not in exc.message and "query ID is invalid" not in exc.message:
            raise


async def replace_message(
    call: CallbackQuery, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    """Show a screen in place of the pressed message (or below it, if it can't be edited)."""
    await show(pressed(call), text, reply_markup)


async def show(
    message: AnyMessage, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    """Edit `message` into this screen, or send it as a new message when Telegram can't."""
    if isinstance(message, Message):
        try:
            await message.edit_text(text, reply_markup=reply_markup)
            return
        except TelegramBadRequest as exc:
            if not refused_edit(exc):
                raise
            if "not modified" in exc.message:
                return
            log.debug("message %s can't be edited (%s): sending anew", message.message_id, exc)
    await message.answer(text, reply_markup=reply_markup)


async def add_outcome(call: CallbackQuery, outcome: str) -> None:
    """Append a decision to the pressed message (dropping its buttons), or say it anew."""
    message = pressed(call)
    if isinstance(message, Message) and (message.text or message.caption):
        try:
            await message.edit_text(f"{message.html_text}\n\n{outcome}")
            return
        except TelegramBadRequest as exc:
            if not refused_edit(exc):
                raise
    await clear_buttons(call)
    await message.answer(outcome)


def clean_text(text: str, limit: int) -> str | None:
    """Strip control characters and spaces; None when empty or over `limit` characters."""
    cleaned = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip()
    cleaned = " ".join(cleaned.split())
    if not cleaned or len(cleaned) > limit:
        return None
    return cleaned
