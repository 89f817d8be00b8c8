"""The details: how long it lasts, where (a link, a place or both) and the reminders."""

from __future__ import annotations

from typing import Any

from aiogram import F
from aiogram.types import CallbackQuery, Message

from bot.meetings.callbacks import NewCb
from bot.meetings.drafts import DURATIONS, MAX_PLACE, REMINDER_CHOICES, clean, valid_link
from bot.meetings.questions import reminders_keyboard
from handlers.meetings.access import meeting_router
from handlers.meetings.create.flow import Flow, NewMeeting, Tap, advance, ask, goto, tapped
from handlers.ui import edit_buttons

router = meeting_router(__name__)


@router.callback_query(Tap("set", "duration"))
async def set_duration(call: CallbackQuery, callback_data: NewCb, **ctx: Any) -> None:
    """One of the offered durations."""
    f = Flow.of(ctx)
    value = callback_data.value
    if not value.isdigit() or int(value) not in DURATIONS:
        await call.answer(f._("This button is no longer valid."), show_alert=True)
        return
    await advance(call, f, "link", duration=int(value))


@router.message(NewMeeting.link, F.text)
async def typed_link(message: Message, **ctx: Any) -> None:
    """An online link, checked before it reaches everyone."""
    f = Flow.of(ctx)
    link = (message.text or "").strip()
    if not valid_link(link):
        await message.answer(
            f._("Please send a web link starting with https:// (or http://), without spaces.")
        )
        return
    await f.state.update_data(link=link)
    await goto(message, f, "place")


@router.callback_query(Tap("skip", "link"))
async def skip_link(call: CallbackQuery, **ctx: Any) -> None:
    """Only in person."""
    await advance(call, Flow.of(ctx), "place", link=None)


@router.message(NewMeeting.place, F.text)
async def typed_place(message: Message, **ctx: Any) -> None:
    """An address or a room."""
    f = Flow.of(ctx)
    place = clean(message.text or "", MAX_PLACE)
    if place is None:
        await message.answer(
            f._("Please send a place of up to {limit} characters.").format(limit=MAX_PLACE)
        )
        return
    await f.state.update_data(place=place)
    await goto(message, f, "reminders")


@router.callback_query(Tap("skip", "place"))
async def skip_place(call: CallbackQuery, **ctx: Any) -> None:
    """Only online: a meeting needs somewhere to be, a link or a place."""
    f = Flow.of(ctx)
    data = await f.state.get_data()
    if not data.get("link"):
        await call.answer(
            f._("Please give a link or a place, so members know where to go."), show_alert=True
        )
        return
    await advance(call, f, "reminders", place=None)


async def redraw_reminders(call: CallbackQuery, f: Flow, **changes: Any) -> None:
    """Keep a toggled choice and redraw the toggles in place, without a new message."""
    await call.answer()
    await f.state.update_data(**changes)
    data = await f.state.get_data()
    markup = reminders_keyboard(data, f.locale, f._)
    if not await edit_buttons(call, markup):
        await ask(tapped(call), f, "reminders")


@router.callback_query(Tap("toggle", "reminders"))
async def toggle_reminder(call: CallbackQuery, callback_data: NewCb, **ctx: Any) -> None:
    """Switch one reminder on or off."""
    f = Flow.of(ctx)
    value = callback_data.value
    if not value.isdigit() or int(value) not in REMINDER_CHOICES:
        await call.answer(f._("This button is no longer valid."), show_alert=True)
        return
    data = await f.state.get_data()
    chosen = set(data.get("reminders", [])) ^ {int(value)}
    await redraw_reminders(call, f, reminders=sorted(chosen, reverse=True))


@router.callback_query(Tap("others", "reminders"))
async def toggle_others(call: CallbackQuery, **ctx: Any) -> None:
    """Remind those who have not answered too, or not."""
    f = Flow.of(ctx)
    data = await f.state.get_data()
    await redraw_reminders(call, f, non_responders=not data.get("non_responders"))


@router.callback_query(Tap("next", "reminders"))
async def reminders_done(call: CallbackQuery, **ctx: Any) -> None:
    """On to the preview."""
    await advance(call, Flow.of(ctx), "preview")
