"""A text or voice note on a secret poll: a comment from someone who answered, else the
reason for a block, confirmed by a button that carries the Block (nothing stores it)."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import Bot, F
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.app import App
from bot.core.clock import Clock
from bot.polls.answering import ANSWER_STATES, PollAnswer
from bot.polls.service import Comment, VoteResult, add_comment, cast_vote, clean_comment
from bot.polls.views import BlockCb, comment_outcome, refusal
from handlers.polls.access import PollNeed, poll_router
from handlers.polls.answer import after_vote
from handlers.polls.reason_versions import confirm_block, quoted_version
from handlers.polls.writing import end_answer, written
from handlers.ui import clear_buttons
from models.member import Member
from models.poll import BLOCK, DISAGREE, Poll, has_participated

router = poll_router(__name__)
Gettext = Callable[..., str]
MAX_MESSAGE_ID = 2**31 - 1


@router.message(StateFilter(PollAnswer.writing), F.voice)
@router.message(StateFilter(PollAnswer.writing), F.text, ~F.text.startswith("/"))
async def secret_text(
    message: Message,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    clock: Clock,
    app: App,
) -> None:
    """A comment is stored without its author; a reason is answered with the Block button."""
    found = await written(message, state, session, member, _)
    if found is None:
        return
    poll, author, note = found
    poll_message = int((await state.get_data()).get("poll_message") or 0)
    await end_answer(state)
    if await has_participated(session, poll.id, author.id):
        outcome = await add_comment(
            session,
            poll,
            author,
            clock.now(),
            text=note.text,
            voice_file_id=note.voice_file_id,
            key=app.privacy_key,
        )
        await message.answer(comment_outcome(outcome, _))
        return
    text = _("Count your <b>block</b> with this reason? Tap to confirm.")
    if poll.reason_on_disagree:
        text = _("Count your answer with this reason? Tap <b>Block</b> or <b>Disagree</b>.")
    typed = message.message_id if note.text and message.message_id <= MAX_MESSAGE_ID else 0
    markup = confirm_block(poll, poll_message, _, reason_message=typed)
    await message.reply(text, reply_markup=markup)


@router.callback_query(BlockCb.filter(), flags={"poll": PollNeed.ANSWER})
async def block_confirmed(
    call: CallbackQuery,
    callback_data: BlockCb,
    poll: Poll,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
    clock: Clock,
    app: App,
    bot: Bot,
    state: FSMContext,
) -> None:
    """The block counts with the reason this button's message replies to (an old message
    comes without it: the vote then asks for the reason again), and with the version quoted
    in this button's message when it names a language. A disagreement may come without a
    reason (Skip)."""
    data = await state.get_data()
    if await state.get_state() in ANSWER_STATES and int(data.get("poll") or 0) == poll.id:
        await end_answer(state)  # Skip, tapped while the bot waited for the reason
    if member is None:
        await call.answer(refusal(VoteResult.NOT_FOR_YOU, _), show_alert=True)
        return
    allowed = {BLOCK, DISAGREE} if poll.reason_on_disagree else {BLOCK}
    if callback_data.option not in allowed:
        await call.answer(refusal(VoteResult.OUT_OF_RANGE, _), show_alert=True)
        return
    replied = call.message.reply_to_message if isinstance(call.message, Message) else None
    reason = None
    if replied is not None and replied.from_user and replied.from_user.id == member.telegram_id:
        voice = replied.voice.file_id if replied.voice else None
        reason = Comment(None, clean_comment(replied.text or "") if not voice else None, voice)
        if reason.text and callback_data.lang:
            version = quoted_version(call.message, callback_data.lang, member.locale)
            if version is None:
                await call.answer(refusal(VoteResult.OUT_OF_RANGE, _), show_alert=True)
                return
            reason.versions = {callback_data.lang: version}
    result = await cast_vote(
        session,
        poll,
        member,
        1 << callback_data.option,
        clock.now(),
        reason=reason,
        key=app.privacy_key,
    )
    await clear_buttons(call)
    message_id = callback_data.message if 0 < callback_data.message <= MAX_MESSAGE_ID else None
    await after_vote(result, call, poll, member, session, _, app, bot, message_id)
