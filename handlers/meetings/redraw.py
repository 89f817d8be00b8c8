"""Redrawing a message in place, where a double tap that changes nothing is not an error and
a message too old to edit gets the screen as a new message."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup

from handlers.ui import AnyMessage, show


async def redraw(message: AnyMessage, text: str, markup: InlineKeyboardMarkup) -> None:
    """Replace the message's text and buttons (or send them anew)."""
    await show(message, text, markup)
