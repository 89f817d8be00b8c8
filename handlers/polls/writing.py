"""A member writing something after a tap: the reason for a block, or a comment. The bot waits
for a text or a voice note, remembering the conversation it interrupts; Cancel stores nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.bounded import RowId
from bot.polls.answering import ANSWER_STATES, after_answer
from bot.polls.service import MAX_COMMENT, Comment, clean_comment
from handlers.ui import clear_buttons, pressed
from models.member import Member
from models.poll import Poll, get_poll

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")
Gettext = Callable[..., str]


class AnswerCancelCb(CallbackData, prefix="pq"):
    """Give up writing a reason or a comment."""

    poll: RowId


async def begin_answer(state: FSMContext, waiting: State, now: datetime, **data: Any) -> None:
    """Wait for a reason or a comment, remembering any conversation it interrupts (a
    coordinator may be half-way through creating a poll); abandoned, it expires."""
    current = await state.get_state()
    resume = (await state.get_data()).get("resume") if current in ANSWER_STATES else current
    await state.set_state(waiting)
    await state.update_data(resume=resume, since=now.isoformat(), **data)


async def end_answer(state: FSMContext) -> None:
    """Back to whatever the member was doing before; the reason's or comment's data goes."""
    resume, rest = after_answer(await state.get_data())
    await state.set_state(resume)
    await state.set_data(rest)


def cancel_button(poll_id: int, _: Gettext) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✖ Cancel"), callback_data=AnswerCancelCb(poll=poll_id))
    return kb.as_markup()


class Written(NamedTuple):
    """A reason or comment that arrived, with the poll and the member it belongs to."""

    poll: Poll
    member: Member
    note: Comment


async def written(
    message: Message, state: FSMContext, session: AsyncSession, member: Member | None, _: Gettext
) -> Written | None:
    """What the member wrote and for which poll; None after saying what is wrong (the wait
    ends when the poll or the member is gone, and goes on after an unusable text)."""
    data = await state.get_data()
    poll = await get_poll(session, int(data.get("poll", 0)))
    if poll is None or member is None:
        await end_answer(state)
        await message.answer(_("This consultation no longer exists."))
        return None
    if message.voice is not None:
        return Written(poll, member, Comment(None, None, message.voice.file_id))
    text = clean_comment(message.text or "")
    if text is None:
        await message.answer(
            _("Please send a text of up to {limit} characters, or a voice note.").format(
                limit=MAX_COMMENT
            )
        )
        return None
    return Written(poll, member, Comment(None, text, None))


@router.callback_query(AnswerCancelCb.filter())
async def cancel_answer(call: CallbackQuery, state: FSMContext, _: Gettext) -> None:
    """Nothing is counted or stored."""
    message = pressed(call)
    await end_answer(state)
    await call.answer()
    await clear_buttons(call)
    await message.answer(_("Cancelled: nothing was counted or stored."))


@router.message(StateFilter(*ANSWER_STATES), ~F.text, ~F.voice)
async def comment_expected(message: Message, _: Gettext) -> None:
    """A sticker, photo or file where a text or a voice note is expected."""
    await message.answer(_("Please send a text or a voice note, or tap Cancel."))
