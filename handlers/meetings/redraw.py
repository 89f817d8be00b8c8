"""Redrawing a message in place, where a double tap that changes nothing is not an error."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardMarkup, Message


async def redraw(message: Message, text: str, markup: InlineKeyboardMarkup) -> None:
    """Replace the message's text and buttons."""
    try:
        await message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as exc:
        if "not modified" not in exc.message:
            raise


async def redraw_buttons(message: Message, markup: InlineKeyboardMarkup) -> None:
    """Replace only the message's buttons."""
    try:
        await message.edit_reply_markup(reply_markup=markup)
    except TelegramBadRequest as exc:
        if "not modified" not in exc.message:
            raise
