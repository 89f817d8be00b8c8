"""After answering, a member may add a short comment, as a text or a voice note; on a secret
ballot it is stored without its author and cannot be linked to the ballot."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.polls.answering import PollAnswer
from bot.polls.service import VoteResult, add_comment
from bot.polls.views import CommentCb, comment_outcome, refusal
from handlers.polls.access import PollNeed, poll_router
from handlers.polls.writing import (
    begin_answer,
    cancel_button,
    end_answer,
    written,
)
from handlers.ui import pressed
from models.member import Member
from models.poll import Poll, has_participated

router = poll_router(__name__)
Gettext = Callable[..., str]


@router.callback_query(CommentCb.filter(), flags={"poll": PollNeed.ANSWER})
async def ask_comment(
    call: CallbackQuery,
    poll: Poll,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    clock: Clock,
) -> None:
    """Ask for the comment (on a secret poll, in the same state as a reason)."""
    message = pressed(call)
    if member is None or not await has_participated(session, poll.id, member.id):
        await call.answer(_("Answer the consultation first."), show_alert=True)
        return
    if not poll.is_open:
        await call.answer(refusal(VoteResult.CLOSED, _), show_alert=True)
        return
    await call.answer()
    waiting = PollAnswer.writing if poll.anonymous else PollAnswer.comment
    await begin_answer(state, waiting, clock.now(), poll=poll.id)
    if poll.anonymous:
        text = _(
            "Send your comment: a short text or a voice note. It is stored without your name "
            "and cannot be linked to your ballot."
        )
    else:
        text = _("Send your comment: a short text or a voice note. Coordinators see your name.")
    await message.answer(text, reply_markup=cancel_button(poll.id, _))


@router.message(StateFilter(PollAnswer.comment), F.voice)
@router.message(StateFilter(PollAnswer.comment), F.text, ~F.text.startswith("/"))
async def comment_given(
    message: Message,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    clock: Clock,
) -> None:
    """Store the comment (without its author on a secret ballot)."""
    found = await written(message, state, session, member, _)
    if found is None:
        return
    poll, author, comment = found
    outcome = await add_comment(
        session, poll, author, clock.now(), text=comment.text, voice_file_id=comment.voice_file_id
    )
    await end_answer(state)
    await message.answer(comment_outcome(outcome, _))
