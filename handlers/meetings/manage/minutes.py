"""Minutes or outcomes after a meeting has started: a text, a document or a voice note, sent
to those who said Going or to the whole group."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.meetings.callbacks import ManageCb
from bot.meetings.drafts import MAX_AGENDA, MAX_MINUTES, clean
from bot.meetings.manage_views import minutes_audience_question, stop_keyboard
from bot.meetings.service import Managed, send_minutes
from handlers.meetings.access import meeting_router
from handlers.meetings.manage.conversation import ManageMeeting
from handlers.ui import clear_buttons, pressed
from models.meeting import Meeting, MinutesAudience, attendee_ids, audience_ids, count_ids
from models.member import Member

router = meeting_router(__name__, manages=True)
Gettext = Callable[..., str]
LIVE = {"meeting": Managed.LIVE}


def minutes_draft(message: Message, _: Gettext) -> dict[str, Any] | str:
    """The minutes a message carries, or what to answer when it carries none."""
    caption = clean(message.caption or "", MAX_AGENDA, lines=True) or ""
    if message.document is not None:
        return {
            "kind": "document",
            "file_id": message.document.file_id,
            "file_name": message.document.file_name,
            "text": caption,
        }
    if message.voice is not None:
        return {"kind": "voice", "file_id": message.voice.file_id, "text": caption}
    if message.text and not message.text.startswith("/"):
        text = clean(message.text, MAX_MINUTES, lines=True)
        if text is None:
            return _("Please send up to 3500 characters, or a document.")
        return {"kind": "text", "text": text}
    return _("Please send a text, a document or a voice note.")


@router.callback_query(ManageCb.filter(F.action == "minutes"), flags=LIVE)
async def ask_minutes(
    call: CallbackQuery, meeting: Meeting, state: FSMContext, _: Gettext, clock: Clock
) -> None:
    """Ask for the minutes, once the meeting has started."""
    message = pressed(call)
    if meeting.start_at is None or meeting.start_at > clock.now():
        await call.answer(_("Minutes can be sent once the meeting has started."), show_alert=True)
        return
    await call.answer()
    await state.set_state(ManageMeeting.minutes)
    await state.set_data({"meeting_id": meeting.id})
    await message.answer(
        _("Send the minutes or outcomes: a text, a document or a voice note."),
        reply_markup=stop_keyboard(meeting.id, _),
    )


@router.message(ManageMeeting.minutes, flags=LIVE)
async def typed_minutes(
    message: Message, meeting: Meeting, session: AsyncSession, state: FSMContext, _: Gettext
) -> None:
    """Minutes as text, a document or a voice note; then who should receive them."""
    draft = minutes_draft(message, _)
    if isinstance(draft, str):
        await message.answer(draft)
        return
    await state.update_data(minutes=draft)
    attendees = await count_ids(session, attendee_ids(meeting))
    everyone = await count_ids(session, audience_ids(meeting))
    text, markup = minutes_audience_question(meeting.id, attendees, everyone, _)
    await message.answer(text, reply_markup=markup)


@router.callback_query(ManageCb.filter(F.action == "minutes_to"), flags=LIVE)
async def send(
    call: CallbackQuery,
    callback_data: ManageCb,
    meeting: Meeting,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
) -> None:
    """Send the minutes held in the conversation to the chosen audience."""
    message = pressed(call)
    data, audience = await state.get_data(), callback_data.value
    draft = data.get("minutes")
    if data.get("meeting_id") != meeting.id or not draft or audience not in set(MinutesAudience):
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await clear_buttons(call)
    count = await send_minutes(session, meeting, draft, audience, member)
    await state.clear()
    await message.answer(
        _("✅ The minutes are on their way (recipients: {count}).").format(count=count)
    )
