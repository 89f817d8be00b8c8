"""The last safety net: an unexpected error is logged and the person gets a polite answer."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent

from bot.core.i18n import Translator, match_locale

log = logging.getLogger(__name__)


def error_router(i18n: Translator) -> Router:
    """A router whose error handler answers in the person's language and never re-raises."""
    router = Router(name=__name__)

    @router.errors()
    async def on_error(event: ErrorEvent, locale: str | None = None) -> None:
        log.exception(
            "update %s failed",
            event.update.update_id,
            exc_info=event.exception,
            extra={"update_id": event.update.update_id, "outcome": "error"},
        )
        # The member's language as the locale middleware found it (it leaves it in the
        # update's data); before that middleware ran, Telegram's language for the person.
        if locale is None:
            call, message = event.update.callback_query, event.update.message
            user = call.from_user if call else message.from_user if message else None
            locale = match_locale(user.language_code if user else None, i18n.default_locale)
        text = i18n.gettext(
            "Sorry, something went wrong on our side. Please try again.", locale=locale
        )
        try:
            if event.update.callback_query:
                await event.update.callback_query.answer(text, show_alert=True)
            elif event.update.message and event.update.message.chat.type == "private":
                await event.update.message.answer(text)
        except TelegramAPIError:
            log.warning("could not tell the user about the error")

    return router
