"""A time typed during a conversation (a new meeting's start or slot, or a new time): read in
the conversation's zone, refused with a reason, or asked about when it happens twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.meetings.dates import (
    Ambiguous,
    WhenError,
    ambiguous_buttons,
    ambiguous_text,
    parse_when,
    resolve_local,
    when_problem_text,
)
from handlers.ui import AnyMessage

Gettext = Callable[..., str]
READ_AT_MOST = 100


async def read_time(
    message: Message,
    state: FSMContext,
    zone: str,
    now: datetime,
    locale: str,
    _: Gettext,
    which: Callable[[str], CallbackData],
) -> datetime | None:
    """The moment typed, or None once the member was told why not or asked which of two
    moments they mean (`which` makes those buttons' data from "0" or "1")."""
    try:
        result = parse_when((message.text or "")[:READ_AT_MOST], zone, now)
    except WhenError as error:
        await message.answer(when_problem_text(error, zone, now, locale, _))
        return None
    if isinstance(result, Ambiguous):
        await state.update_data(pending=result.local.isoformat())
        buttons = ambiguous_buttons(result, locale, _, which)
        await message.answer(ambiguous_text(result, locale, _), reply_markup=buttons.as_markup())
        return None
    return result


async def chosen_moment(
    message: AnyMessage,
    pending: str,
    which: str,
    zone: str,
    now: datetime,
    locale: str,
    _: Gettext,
) -> datetime | None:
    """The moment a First / Second tap picks, or None once told it cannot be used any more."""
    try:
        choice = resolve_local(datetime.fromisoformat(pending), zone, now)
    except WhenError as error:
        await message.answer(when_problem_text(error, zone, now, locale, _))
        return None
    assert isinstance(choice, Ambiguous)
    return choice.later if which == "1" else choice.earlier
