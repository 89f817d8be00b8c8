"""Small message helpers shared by the handler modules."""

from __future__ import annotations

import unicodedata

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message


async def clear_buttons(call: CallbackQuery) -> None:
    """Remove the pressed message's buttons so they cannot be pressed twice.

    A message that has no buttons any more (a second press, forged data) is left alone:
    Telegram refuses an edit that changes nothing.
    """
    message = call.message
    if not isinstance(message, Message) or message.reply_markup is None:
        return
    try:
        await message.edit_reply_markup(reply_markup=None)
    except TelegramBadRequest as exc:
        if "not modified" not in exc.message and "not found" not in exc.message:
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
    message = call.message
    if not isinstance(message, Message):
        return
    try:
        await message.edit_text(text, reply_markup=reply_markup)
    except TelegramBadRequest as exc:
        if "not modified" in exc.message:
            return
        await message.answer(text, reply_markup=reply_markup)


def clean_text(text: str, limit: int) -> str | None:
    """Strip control characters and spaces; None when empty or over `limit` characters."""
    cleaned = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip()
    cleaned = " ".join(cleaned.split())
    if not cleaned or len(cleaned) > limit:
        return None
    return cleaned
