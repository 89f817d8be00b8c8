"""Members answer consultations by tapping: one tap for most polls, ticks and Submit for
multiple choice, and a reason (text or voice) before a block is counted."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import Bot, F
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.app import App
from bot.core.clock import Clock
from bot.core.config import Settings
from bot.polls.answering import PollAnswer
from bot.polls.ballot_box import settle
from bot.polls.messages import PollMessage, poll_for
from bot.polls.service import Draft, VoteResult, asks_reason, check_vote, is_block
from bot.polls.service import cast_vote as record_vote
from bot.polls.views import BlockCb, PickCb, SubmitCb, VoteCb, poll_keyboard, refusal
from handlers.polls.access import PollNeed, poll_router, preview_refusal
from handlers.polls.reason_versions import offer_keyboard
from handlers.polls.writing import (
    AnswerCancelCb,
    begin_answer,
    cancel_button,
    end_answer,
    written,
)
from handlers.ui import AnyMessage, edit_buttons, edit_or_send, pressed
from models.member import Member
from models.poll import DISAGREE, Poll, named_vote

router = poll_router(__name__)
Gettext = Callable[..., str]
DONE = {VoteResult.RECORDED, VoteResult.CHANGED}


async def refresh(bot: Bot, chat_id: int, message_id: int, pm: PollMessage) -> None:
    """Show the poll's new state in the message the member tapped (or anew, if too old)."""
    await edit_or_send(bot, chat_id, message_id, pm.text, pm.markup)


async def after_vote(
    result: VoteResult,
    event: CallbackQuery | Message,
    poll: Poll,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    app: App,
    bot: Bot,
    message_id: int | None,
) -> None:
    """Confirm the vote and show the poll in its answered state."""
    if result not in DONE:
        if isinstance(event, CallbackQuery):
            await event.answer(refusal(result, _), show_alert=True)
        else:
            await event.answer(refusal(result, _))
        return
    await session.commit()  # say "counted" only once it is
    pm = await poll_for(session, poll, member, _, app.settings.default_locale)
    if result is VoteResult.RECORDED:
        await event.answer(_("✅ Thank you! Your answer was counted."))
    else:
        await event.answer(_("✅ Your answer was changed."))
    if message_id is not None:
        await refresh(bot, member.telegram_id, message_id, pm)
    if poll.anonymous:
        await session.commit()  # end this update's read, so the log can be checkpointed
        await settle(app, poll.id)  # the pool enters the box once a batch is full


@router.callback_query(VoteCb.filter(), flags={"poll": PollNeed.ANSWER})
async def vote(
    call: CallbackQuery,
    callback_data: VoteCb,
    poll: Poll,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    clock: Clock,
    app: App,
    bot: Bot,
) -> None:
    """One tap answers; a block first asks for the reason."""
    message = pressed(call)
    if member is None:
        await call.answer(refusal(VoteResult.NOT_FOR_YOU, _), show_alert=True)
        return
    if not 0 <= callback_data.option < 31:
        await call.answer(refusal(VoteResult.OUT_OF_RANGE, _), show_alert=True)
        return
    choices = 1 << callback_data.option
    refused = await check_vote(session, poll, member, choices, clock.now(), app.privacy_key)
    if refused is not None:
        await call.answer(refusal(refused, _), show_alert=True)
        return
    if asks_reason(poll, choices):
        await call.answer()
        await ask_reason(message, state, poll, choices, _, clock)
        return
    result = await record_vote(session, poll, member, choices, clock.now(), key=app.privacy_key)
    await after_vote(result, call, poll, member, session, _, app, bot, message.message_id)


async def ask_reason(
    message: AnyMessage, state: FSMContext, poll: Poll, choices: int, _: Gettext, clock: Clock
) -> None:
    """Ask why the member blocks (or disagrees, in a consensus round); nothing is counted
    until they say. On a secret poll the state does not hold the choice (it comes back in the
    button confirming the reason)."""
    if poll.anonymous:
        await begin_answer(
            state, PollAnswer.writing, clock.now(), poll=poll.id, poll_message=message.message_id
        )
    else:
        await begin_answer(
            state,
            PollAnswer.reason,
            clock.now(),
            poll=poll.id,
            choices=choices,
            poll_message=message.message_id,
        )
    text = _(
        "⛔ You chose to <b>block</b>. A block stops a consensus decision, so please say "
        "why: send a short text or a voice note. Nothing is counted until you do."
    )
    markup = cancel_button(poll.id, _)
    if not is_block(poll, choices):
        text = _(
            "👎 You <b>disagree</b>. Say why if you wish, so that the proposal can be amended: "
            "send a short text or a voice note, or tap Skip. Nothing is counted until then."
        )
        markup = skip_keyboard(poll, message.message_id, _)
    await message.answer(text, reply_markup=markup)


def skip_keyboard(poll: Poll, message_id: int, _: Gettext) -> InlineKeyboardMarkup:
    """A disagreement's reason is optional: Skip counts it without one."""
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("⏭ Skip: disagree without a reason"),
        callback_data=BlockCb(poll=poll.id, message=message_id, option=DISAGREE),
    )
    kb.button(text=_("✖ Cancel"), callback_data=AnswerCancelCb(poll=poll.id))
    kb.adjust(1)
    return kb.as_markup()


@router.message(StateFilter(PollAnswer.reason), F.voice)
@router.message(StateFilter(PollAnswer.reason), F.text, ~F.text.startswith("/"))
async def reason_given(
    message: Message,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    clock: Clock,
    app: App,
    bot: Bot,
) -> None:
    """The reason arrived: now the block is counted."""
    found = await written(message, state, session, member, _)
    if found is None:
        return
    poll, voter, reason = found
    data = await state.get_data()
    choices = int(data.get("choices", 0))
    result = await record_vote(
        session, poll, voter, choices, clock.now(), reason=reason, key=app.privacy_key
    )
    await end_answer(state)
    await after_vote(result, message, poll, voter, session, _, app, bot, data.get("poll_message"))
    if result in DONE and poll.reason_on_disagree and reason.text:
        await message.answer(
            _("You may add your reason in another language: it is shown beside it."),
            reply_markup=offer_keyboard(poll, int(data.get("poll_message") or 0), _),
        )


@router.callback_query(PickCb.filter(F.poll == 0))
async def pick_in_preview(
    call: CallbackQuery,
    callback_data: PickCb,
    member: Member | None,
    state: FSMContext,
    _: Gettext,
    clock: Clock,
) -> None:
    """Ticks in a coordinator's preview move like in the real poll (nothing is stored)."""
    if member is None:
        await call.answer(refusal(VoteResult.NOT_FOR_YOU, _), show_alert=True)
        return
    poll, locale = await preview_poll(state, clock)
    if poll is None:
        await call.answer(preview_refusal(_), show_alert=True)
        return
    if not in_range(poll, callback_data):
        await call.answer(refusal(VoteResult.OUT_OF_RANGE, _), show_alert=True)
        return
    await call.answer()
    await edit_buttons(call, ticked(callback_data, poll, locale, _))


async def preview_poll(state: FSMContext, clock: Clock) -> tuple[Poll | None, str]:
    """The poll a coordinator is previewing, in the preview's language."""
    data = await state.get_data()
    if not data.get("draft"):
        return None, ""
    draft = Draft.from_json(data["draft"])
    if draft.closing is None:
        return None, ""
    return draft.build(None, clock.now()), str(data.get("preview_locale") or draft.locale)


@router.callback_query(PickCb.filter(), flags={"poll": PollNeed.EXISTS})
async def pick(
    call: CallbackQuery,
    callback_data: PickCb,
    poll: Poll,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
    clock: Clock,
    settings: Settings,
) -> None:
    """Tick or untick an option of a multiple-choice poll (nothing is stored until Submit)."""
    if member is None:
        await call.answer(refusal(VoteResult.NOT_FOR_YOU, _), show_alert=True)
        return
    if not in_range(poll, callback_data):
        await call.answer(refusal(VoteResult.OUT_OF_RANGE, _), show_alert=True)
        return
    refused = await check_vote(session, poll, member, 1 << callback_data.option, clock.now())
    if refused is not None:
        await call.answer(refusal(refused, _), show_alert=True)
        return
    vote = None if poll.anonymous else await named_vote(session, poll.id, member.id)
    chosen = vote.choices if vote else None
    markup = ticked(callback_data, poll, member.locale, _, chosen)
    await call.answer()
    if not await edit_buttons(call, markup):
        pm = await poll_for(session, poll, member, _, settings.default_locale)
        await pressed(call).answer(pm.text, reply_markup=markup)


def in_range(poll: Poll, data: PickCb) -> bool:
    """The option exists and the ticks carried by the button are the poll's."""
    count = poll.option_count
    return 0 <= data.option < count and 0 <= data.mask < 1 << count


def ticked(
    data: PickCb, poll: Poll, locale: str, _: Gettext, chosen: int | None = None
) -> InlineKeyboardMarkup | None:
    """The ticks with this option flipped (✓ marks a named poll's current answer)."""
    answered = chosen is not None
    return poll_keyboard(
        poll,
        locale,
        _,
        mask=data.mask ^ (1 << data.option),
        chosen=chosen,
        comment=answered,
        live=answered and poll.results_live,
    )


@router.callback_query(SubmitCb.filter(), flags={"poll": PollNeed.ANSWER})
async def submit(
    call: CallbackQuery,
    callback_data: SubmitCb,
    poll: Poll,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
    clock: Clock,
    app: App,
    bot: Bot,
) -> None:
    """Send the ticked answers of a multiple-choice poll."""
    message = pressed(call)
    if member is None:
        await call.answer(refusal(VoteResult.NOT_FOR_YOU, _), show_alert=True)
        return
    if callback_data.mask == 0:
        await call.answer(_("Tick at least one answer first."), show_alert=True)
        return
    result = await record_vote(
        session, poll, member, callback_data.mask, clock.now(), key=app.privacy_key
    )
    await after_vote(result, call, poll, member, session, _, app, bot, message.message_id)
