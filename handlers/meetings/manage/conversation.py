"""What every change to a meeting shares: its states, Cancel, and the taps and messages no
action took."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.meetings.callbacks import ManageCb
from bot.meetings.service import Managed
from handlers.meetings.access import meeting_router
from handlers.ui import clear_buttons, pressed

router = meeting_router(__name__, manages=True)
fallback = meeting_router(f"{__name__}.fallback", manages=True)
Gettext = Callable[..., str]


class ManageMeeting(StatesGroup):
    """Typed answers while changing a meeting."""

    when = State()
    zone = State()
    link = State()
    place = State()
    minutes = State()


@router.callback_query(ManageCb.filter(F.action == "stop"), flags={"meeting": Managed.ANY})
async def stop(call: CallbackQuery, state: FSMContext, _: Gettext) -> None:
    """Leave the meeting as it is."""
    message = pressed(call)
    await call.answer()
    await clear_buttons(call)
    await state.clear()
    await message.answer(_("Nothing was changed."))


@fallback.callback_query(ManageCb.filter(), flags={"meeting": Managed.UPCOMING})
async def unknown_action(call: CallbackQuery, _: Gettext) -> None:
    """A management button no handler knows (forged, or from an older version)."""
    message = pressed(call)
    await call.answer()
    await message.answer(_("This button is no longer valid."))


@fallback.message(StateFilter(ManageMeeting))
async def other_input(message: Message, _: Gettext) -> None:
    """Anything else while changing a meeting."""
    await message.answer(_("Please send it as a text message, or tap Cancel."))
