"""Small message helpers shared by the handler modules."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message


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
