"""What the meeting is: its working group, title and agenda, and versions in other languages."""

from __future__ import annotations

from typing import Any

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message

from bot.core.bounded import row_id
from bot.core.config import SUPPORTED_LOCALES
from bot.meetings.callbacks import NewCb
from bot.meetings.drafts import MAX_AGENDA, MAX_TITLE, clean
from handlers.filters import Need, group_access, not_admin
from handlers.meetings.access import meeting_router
from handlers.meetings.create.flow import (
    Flow,
    NewMeeting,
    Tap,
    advance,
    ask,
    current_step,
    goto,
    store_text,
    tapped,
)
from handlers.ui import AnyMessage, clear_buttons

router = meeting_router(__name__)


async def back_to_languages(message: AnyMessage, f: Flow) -> None:
    """After a translation, return to the languages question (Back then skips it)."""
    data = await f.state.get_data()
    steps = list(data["steps"])
    while steps and steps[-1] != "languages":
        steps.pop()
    await f.state.update_data(steps=steps, tr=None)
    await ask(message, f, "languages")


@router.callback_query(Tap("pick", "group"))
async def pick_group(call: CallbackQuery, callback_data: NewCb, **ctx: Any) -> None:
    """The group, checked now: coordinators only for their open groups, admins for all; the
    whole network (no group) for admins only."""
    f = Flow.of(ctx)
    value = callback_data.value
    group_id = row_id(value) or 0
    if group_id:
        found = await group_access(f.session, f.member, group_id, Need.OPEN_COORDINATOR, f._)
        if isinstance(found, str):
            await call.answer(found, show_alert=True)
            return
    elif not f.member.is_admin:
        await call.answer(not_admin(f._), show_alert=True)
        return
    await advance(call, f, "title", group=group_id)


@router.message(StateFilter(NewMeeting.title, NewMeeting.tr_title), F.text)
async def typed_title(message: Message, **ctx: Any) -> None:
    """The title, in the draft's language or in the one being added."""
    f = Flow.of(ctx)
    title = clean(message.text or "", MAX_TITLE)
    if title is None:
        await message.answer(
            f._("Please send a title of 1 to {limit} characters.").format(limit=MAX_TITLE)
        )
        return
    translating = await current_step(f.state) == "tr_title"
    data = await f.state.get_data()
    await store_text(f, data.get("tr") if translating else None, "title", title)
    await goto(message, f, "tr_agenda" if translating else "agenda")


@router.message(StateFilter(NewMeeting.agenda, NewMeeting.tr_agenda), F.text)
async def typed_agenda(message: Message, **ctx: Any) -> None:
    """The agenda; after one in an added language, back to the languages."""
    f = Flow.of(ctx)
    agenda = clean(message.text or "", MAX_AGENDA, lines=True)
    if agenda is None:
        await message.answer(
            f._("Please send an agenda of up to {limit} characters.").format(limit=MAX_AGENDA)
        )
        return
    if await current_step(f.state) == "tr_agenda":
        data = await f.state.get_data()
        await store_text(f, data["tr"], "agenda", agenda)
        await back_to_languages(message, f)
        return
    await store_text(f, None, "agenda", agenda)
    await goto(message, f, "languages")


@router.callback_query(Tap("skip", "agenda"))
async def skip_agenda(call: CallbackQuery, **ctx: Any) -> None:
    """No agenda."""
    f = Flow.of(ctx)
    await store_text(f, None, "agenda", "")
    await advance(call, f, "languages")


@router.callback_query(Tap("add", "languages"))
async def add_language(call: CallbackQuery, callback_data: NewCb, **ctx: Any) -> None:
    """Write the title and agenda in one more language."""
    f = Flow.of(ctx)
    data = await f.state.get_data()
    code = callback_data.value
    if code not in SUPPORTED_LOCALES or code in data["texts"]:
        await call.answer(f._("This button is no longer valid."), show_alert=True)
        return
    await advance(call, f, "tr_title", tr=code)


@router.callback_query(Tap("next", "languages"))
async def languages_done(call: CallbackQuery, **ctx: Any) -> None:
    """No more languages: on to when."""
    await advance(call, Flow.of(ctx), "mode")


@router.callback_query(Tap("skip", "tr_agenda"))
async def skip_translated_agenda(call: CallbackQuery, **ctx: Any) -> None:
    """Show the draft's own agenda in the language being added."""
    f = Flow.of(ctx)
    await call.answer()
    await clear_buttons(call)
    data = await f.state.get_data()
    await store_text(f, data["tr"], "agenda", "")
    await back_to_languages(tapped(call), f)
