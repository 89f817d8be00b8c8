"""When the meeting takes place: a date and time, or times for the group to choose from, each
typed in the coordinator's zone or in another one named."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message

from bot.core import geo
from bot.core.i18n import format_when
from bot.meetings.callbacks import NewCb
from bot.meetings.drafts import MAX_SLOTS
from bot.meetings.questions import nav
from bot.meetings.zones import find_zones, no_zone_text, valid_zone, zone_buttons
from handlers.meetings.access import meeting_router
from handlers.meetings.create.flow import (
    Flow,
    NewMeeting,
    Tap,
    advance,
    ask,
    current_step,
    goto,
    tapped,
)
from handlers.meetings.typed_time import chosen_moment, read_time
from handlers.ui import clear_buttons

router = meeting_router(__name__)


@router.callback_query(Tap("date", "mode"))
async def choose_date(call: CallbackQuery, **ctx: Any) -> None:
    """A known date and time."""
    await advance(call, Flow.of(ctx), "when", mode="date")


@router.callback_query(Tap("poll", "mode"))
async def choose_poll(call: CallbackQuery, **ctx: Any) -> None:
    """Times for the group to choose from."""
    await advance(call, Flow.of(ctx), "slots", mode="poll")


@router.callback_query(Tap("zone", "when", "slots"))
async def ask_zone(call: CallbackQuery, **ctx: Any) -> None:
    """Type the times in another zone: ask which."""
    await advance(call, Flow.of(ctx), "zone")


@router.message(NewMeeting.zone, F.text)
async def typed_zone(message: Message, **ctx: Any) -> None:
    """Zones matching a typed city, country or id, as buttons."""
    f = Flow.of(ctx)
    raw = message.text or ""
    found = find_zones(raw, f.locale, f.clock.now())
    if not found:
        await message.answer(no_zone_text(raw, f._))
        return

    def pick(zone: str) -> NewCb:
        return NewCb(step="zone", action="pick", value=zone)

    kb = zone_buttons(found, f.locale, f.clock.now(), pick)
    nav(kb, "zone", f._)
    await message.answer(f._("Tap the time zone:"), reply_markup=kb.as_markup())


@router.callback_query(Tap("pick", "zone"))
async def pick_zone(call: CallbackQuery, callback_data: NewCb, **ctx: Any) -> None:
    """Use a named zone, then ask again the question that needed it."""
    f = Flow.of(ctx)
    zone = callback_data.value
    if not valid_zone(zone):
        await call.answer(f._("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await clear_buttons(call)
    data = await f.state.get_data()
    steps = list(data["steps"])
    steps.pop()  # leave the zone question for the one that asked it
    await f.state.update_data(zone=zone, steps=steps)
    label = geo.zone_label(zone, f.locale, f.clock.now())
    await tapped(call).answer(f._("Time zone: {zone}").format(zone=html.escape(label)))
    await ask(tapped(call), f, steps[-1])


@router.message(StateFilter(NewMeeting.when, NewMeeting.slots), F.text)
async def typed_when(message: Message, **ctx: Any) -> None:
    """A typed start (or slot): refused with a reason, asked about if ambiguous."""
    f = Flow.of(ctx)
    data = await f.state.get_data()
    step = await current_step(f.state) or "when"

    def which(fold: str) -> NewCb:
        return NewCb(step=step, action="fold", value=fold)

    moment = await read_time(message, f.state, data["zone"], f.clock.now(), f.locale, f._, which)
    if moment is not None:
        await accept_time(message, f, moment)


@router.callback_query(Tap("fold", "when", "slots"))
async def choose_fold(call: CallbackQuery, callback_data: NewCb, **ctx: Any) -> None:
    """One of the two moments of a time that happens twice."""
    f = Flow.of(ctx)
    data = await f.state.get_data()
    pending, which = data.get("pending"), callback_data.value
    if not pending or which not in ("0", "1"):
        await call.answer(f._("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await clear_buttons(call)
    now, message = f.clock.now(), tapped(call)
    moment = await chosen_moment(message, pending, which, data["zone"], now, f.locale, f._)
    if moment is None:
        return
    if moment <= now:
        await message.answer(f._("That time has already passed. Please send another one."))
        return
    await f.state.update_data(pending=None)
    await accept_time(message, f, moment)


async def accept_time(message: Message, f: Flow, moment: datetime) -> None:
    """A start time read: confirm it in words and move on (or add it to the slots)."""
    data = await f.state.get_data()
    shown = format_when(moment, data["zone"], f.locale)
    if await current_step(f.state) == "slots":
        await add_slot(message, f, moment, shown)
        return
    await f.state.update_data(start=moment.isoformat())
    await message.answer(f._("🕒 Start: {when}").format(when=shown))
    await goto(message, f, "duration")


async def add_slot(message: Message, f: Flow, moment: datetime, shown: str) -> None:
    """One more proposed time, unless it is there already or there are enough."""
    slots = list((await f.state.get_data()).get("slots", []))
    if moment.isoformat() in slots:
        await message.answer(f._("This time is already proposed."))
        return
    if len(slots) >= MAX_SLOTS:
        await message.answer(f._("You can propose up to {count} times.").format(count=MAX_SLOTS))
        return
    await f.state.update_data(slots=sorted([*slots, moment.isoformat()]))
    await message.answer(f._("Added: {when}").format(when=shown))
    await ask(message, f, "slots")


@router.callback_query(Tap("undo", "slots"))
async def slots_undo(call: CallbackQuery, **ctx: Any) -> None:
    """Take back the last proposed time."""
    f = Flow.of(ctx)
    await call.answer()
    await clear_buttons(call)
    data = await f.state.get_data()
    await f.state.update_data(slots=list(data.get("slots", []))[:-1])
    await ask(tapped(call), f, "slots")


@router.callback_query(Tap("done", "slots"))
async def slots_done(call: CallbackQuery, **ctx: Any) -> None:
    """Enough times proposed: on to the duration."""
    f = Flow.of(ctx)
    data = await f.state.get_data()
    if len(data.get("slots", [])) < 2:
        await call.answer(f._("Propose at least two times."), show_alert=True)
        return
    await advance(call, f, "duration")
