"""Members answer consultations by tapping; coordinators read results and close polls."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App
from bot.clock import Clock
from bot.poll_jobs import finish_poll
from bot.poll_messages import PollMessage, manager_report, member_results, poll_message
from bot.poll_views import (
    CloseCb,
    CommentCb,
    CommentsCb,
    ExportCb,
    NewPollCb,
    PickCb,
    ResultsCb,
    ShowCb,
    SubmitCb,
    VoteCb,
    fit,
    poll_keyboard,
    utf16_len,
)
from bot.polls import (
    MAX_COMMENT,
    Comment,
    Draft,
    VoteResult,
    add_comment,
    block_reasons,
    can_create,
    can_manage,
    check_vote,
    clean_comment,
    comments_on,
    is_block,
    managed_polls,
)
from bot.polls import cast_vote as record_vote
from handlers.ui import clear_buttons
from models.member import Member
from models.poll import (
    Poll,
    answered_poll_ids,
    get_poll,
    has_participated,
    in_audience,
    named_vote,
    open_polls_for,
)

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")
Gettext = Callable[..., str]
LIST_LABEL = 48


class PollAnswer(StatesGroup):
    """Waiting for a block's reason, or for a comment after answering."""

    reason = State()
    comment = State()


ANSWER_STATES = {PollAnswer.reason.state, PollAnswer.comment.state}


class AnswerCancelCb(CallbackData, prefix="pq"):
    """Give up writing a reason or a comment."""

    poll: int


ANSWER_KEYS = ("poll", "choices", "poll_message", "resume")


async def begin_answer(state: FSMContext, waiting: State = PollAnswer.reason, **data: Any) -> None:
    """Wait for a reason or a comment, remembering any conversation it interrupts (a
    coordinator may be half-way through creating a poll)."""
    current = await state.get_state()
    resume = (await state.get_data()).get("resume") if current in ANSWER_STATES else current
    await state.set_state(waiting)
    await state.update_data(resume=resume, **data)


async def end_answer(state: FSMContext) -> None:
    """Back to whatever the member was doing before; the reason's or comment's data goes."""
    data = await state.get_data()
    await state.set_state(data.get("resume"))
    await state.set_data({k: v for k, v in data.items() if k not in ANSWER_KEYS})


def refusal(result: VoteResult, _: Gettext) -> str:
    """What a refused vote tells the member."""
    texts = {
        VoteResult.CLOSED: _("This consultation is closed: answers are no longer accepted."),
        VoteResult.NOT_FOR_YOU: _("This consultation is not meant for you."),
        VoteResult.OUT_OF_RANGE: _("That answer is not one of the options."),
        VoteResult.ALREADY_VOTED: _(
            "You have already answered this secret ballot. It cannot be changed."
        ),
        VoteResult.REASON_NEEDED: _("A block needs a reason."),
    }
    return texts.get(result, _("This button is no longer valid."))


def short(text: str, limit: int = LIST_LABEL) -> str:
    """One line of at most `limit` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


async def send_poll(message: Message, pm: PollMessage) -> None:
    """The voice note (if any), then the poll."""
    if pm.voice:
        await message.answer_voice(pm.voice)
    await message.answer(pm.text, reply_markup=pm.markup)


async def refresh(bot: Bot, chat_id: int, message_id: int, pm: PollMessage) -> None:
    """Show the poll's new state in the message the member tapped."""
    try:
        await bot.edit_message_text(
            text=pm.text, chat_id=chat_id, message_id=message_id, reply_markup=pm.markup
        )
    except TelegramBadRequest as exc:
        if "not modified" not in exc.message and "not found" not in exc.message:
            raise


async def render_for(
    session: AsyncSession, poll: Poll, member: Member, _: Gettext, app: App
) -> PollMessage:
    """The poll in the member's language and zone."""
    return await poll_message(
        session, poll, member, member.locale, member.tz, _, app.settings.default_locale
    )


async def after_vote(
    result: VoteResult,
    call_or_message: CallbackQuery | Message,
    poll: Poll,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    app: App,
    bot: Bot,
    message_id: int | None,
) -> None:
    """Confirm the vote and show the poll in its answered state."""
    done = {
        VoteResult.RECORDED: _("✅ Thank you! Your answer was counted."),
        VoteResult.CHANGED: _("✅ Your answer was changed."),
    }
    if result not in done:
        if isinstance(call_or_message, CallbackQuery):
            await call_or_message.answer(refusal(result, _), show_alert=True)
        else:
            await call_or_message.answer(refusal(result, _))
        return
    await session.commit()  # say "counted" only once it is
    pm = await render_for(session, poll, member, _, app)
    await call_or_message.answer(done[result])
    if message_id is not None:
        await refresh(bot, member.telegram_id, message_id, pm)


async def preview_tap(call: CallbackQuery, _: Gettext) -> None:
    """Buttons of a coordinator's preview answer like the real poll but count nothing."""
    await call.answer(_("This is a preview: nothing was counted."), show_alert=True)


async def load(
    call: CallbackQuery, poll_id: int, _: Gettext, session: AsyncSession
) -> Poll | None:
    """The poll behind a button, or None after telling the member it is not valid."""
    poll = await get_poll(session, poll_id) if poll_id > 0 else None
    if poll is None:
        await call.answer(_("This consultation no longer exists."), show_alert=True)
    return poll


# --- /polls -------------------------------------------------------------------------------------


@router.message(Command("polls"))
async def list_polls(
    message: Message, member: Member | None, session: AsyncSession, _: Gettext
) -> None:
    """Open polls for the member (answered or not); coordinators also get theirs and 'New'."""
    if member is None or not member.is_active:
        await message.answer(_("Consultations are for approved members. /help"))
        return
    polls = await open_polls_for(session, member)
    answered = await answered_poll_ids(session, member.id)
    kb = InlineKeyboardBuilder()
    if polls:
        lines = [_("<b>Open consultations</b>")]
        for poll in polls:
            mark = "✅" if poll.id in answered else "🗳"
            question = poll.text(member.locale)[0]
            kb.button(text=f"{mark} {short(question)}", callback_data=ShowCb(poll=poll.id))
        lines.append(_("✅ answered · 🗳 waiting for your answer"))
    else:
        lines = [_("There are no open consultations for you right now.")]
    managed = await managed_polls(session, member)
    if managed:
        for poll in managed:
            mark = "📊" if poll.is_open else "🗂"
            question = poll.text(member.locale)[0]
            kb.button(text=f"{mark} {short(question)}", callback_data=ResultsCb(poll=poll.id))
        lines.append(_("📊 results of the consultations you coordinate"))
    if await can_create(session, member):
        kb.button(text=_("➕ New consultation"), callback_data=NewPollCb(action="start"))
    kb.adjust(1)
    await message.answer("\n".join(lines), reply_markup=kb.as_markup())


@router.callback_query(ShowCb.filter())
async def show_poll(
    call: CallbackQuery,
    callback_data: ShowCb,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
    app: App,
) -> None:
    """Send the poll again, in its current state."""
    assert isinstance(call.message, Message)
    poll = await load(call, callback_data.poll, _, session)
    if poll is None:
        return
    if member is None or not await in_audience(session, poll, member.id):
        await call.answer(refusal(VoteResult.NOT_FOR_YOU, _), show_alert=True)
        return
    await call.answer()
    await send_poll(call.message, await render_for(session, poll, member, _, app))


# --- answering ----------------------------------------------------------------------------------


@router.callback_query(VoteCb.filter())
async def vote(
    call: CallbackQuery,
    callback_data: VoteCb,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    clock: Clock,
    app: App,
    bot: Bot,
) -> None:
    """One tap answers; a block first asks for the reason."""
    assert isinstance(call.message, Message)
    if callback_data.poll == 0:
        await preview_tap(call, _)
        return
    poll = await load(call, callback_data.poll, _, session)
    if poll is None:
        return
    if member is None:
        await call.answer(refusal(VoteResult.NOT_FOR_YOU, _), show_alert=True)
        return
    if not 0 <= callback_data.option < 31:
        await call.answer(refusal(VoteResult.OUT_OF_RANGE, _), show_alert=True)
        return
    choices = 1 << callback_data.option
    refused = await check_vote(session, poll, member, choices, clock.now())
    if refused is not None:
        await call.answer(refusal(refused, _), show_alert=True)
        return
    if is_block(poll, choices):
        await call.answer()
        await ask_reason(call.message, state, poll, choices, _)
        return
    result = await record_vote(session, poll, member, choices, clock.now())
    await after_vote(result, call, poll, member, session, _, app, bot, call.message.message_id)


async def ask_reason(
    message: Message, state: FSMContext, poll: Poll, choices: int, _: Gettext
) -> None:
    """Ask why the member blocks; nothing is counted until they say."""
    await begin_answer(state, poll=poll.id, choices=choices, poll_message=message.message_id)
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✖ Cancel"), callback_data=AnswerCancelCb(poll=poll.id))
    await message.answer(
        _(
            "⛔ You chose to <b>block</b>. A block stops a consensus decision, so please say "
            "why: send a short text or a voice note. Nothing is counted until you do."
        ),
        reply_markup=kb.as_markup(),
    )


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
    data = await state.get_data()
    poll = await get_poll(session, int(data.get("poll", 0)))
    if poll is None or member is None:
        await end_answer(state)
        await message.answer(_("This consultation no longer exists."))
        return
    reason = await read_comment(message, _)
    if reason is None:
        return
    result = await record_vote(
        session, poll, member, int(data.get("choices", 0)), clock.now(), reason=reason
    )
    await end_answer(state)
    await after_vote(result, message, poll, member, session, _, app, bot, data.get("poll_message"))


async def read_comment(message: Message, _: Gettext) -> Comment | None:
    """A text or voice comment within the limits, or None after saying what is wrong."""
    if message.voice is not None:
        return Comment(None, None, message.voice.file_id)
    text = clean_comment(message.text or "")
    if text is None:
        await message.answer(
            _("Please send a text of up to {limit} characters, or a voice note.").format(
                limit=MAX_COMMENT
            )
        )
        return None
    return Comment(None, text, None)


@router.callback_query(AnswerCancelCb.filter())
async def cancel_answer(call: CallbackQuery, state: FSMContext, _: Gettext) -> None:
    """Nothing is counted or stored."""
    assert isinstance(call.message, Message)
    await end_answer(state)
    await call.answer()
    await clear_buttons(call)
    await call.message.answer(_("Cancelled: nothing was counted or stored."))


@router.callback_query(PickCb.filter())
async def pick(
    call: CallbackQuery,
    callback_data: PickCb,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    clock: Clock,
) -> None:
    """Tick or untick an option of a multiple-choice poll (nothing is stored until Submit)."""
    assert isinstance(call.message, Message)
    if member is None:
        await call.answer(refusal(VoteResult.NOT_FOR_YOU, _), show_alert=True)
        return
    if callback_data.poll == 0:
        poll, locale = await preview_poll(state, clock)
        if poll is None:
            await preview_tap(call, _)
            return
    else:
        poll = await load(call, callback_data.poll, _, session)
        if poll is None:
            return
        locale = member.locale
    option, mask = callback_data.option, callback_data.mask
    count = poll.option_count
    if not 0 <= option < count or not 0 <= mask < 1 << count:
        await call.answer(refusal(VoteResult.OUT_OF_RANGE, _), show_alert=True)
        return
    vote = None
    if poll.id:
        refused = await check_vote(session, poll, member, 1 << option, clock.now())
        if refused is not None:
            await call.answer(refusal(refused, _), show_alert=True)
            return
        vote = None if poll.anonymous else await named_vote(session, poll.id, member.id)
    markup = poll_keyboard(
        poll,
        locale,
        _,
        mask=mask ^ (1 << option),
        chosen=vote.choices if vote else None,
        comment=vote is not None,
        live=vote is not None and poll.results_live,
    )
    await call.answer()
    await call.message.edit_reply_markup(reply_markup=markup)


async def preview_poll(state: FSMContext, clock: Clock) -> tuple[Poll | None, str]:
    """The poll a coordinator is previewing (ticks move there like in the real one)."""
    data = await state.get_data()
    if not data.get("draft"):
        return None, ""
    draft = Draft.from_json(data["draft"])
    if draft.closing is None:
        return None, ""
    return draft.build(None, clock.now()), str(data.get("preview_locale") or draft.locale)


@router.callback_query(SubmitCb.filter())
async def submit(
    call: CallbackQuery,
    callback_data: SubmitCb,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
    clock: Clock,
    app: App,
    bot: Bot,
) -> None:
    """Send the ticked answers of a multiple-choice poll."""
    assert isinstance(call.message, Message)
    if callback_data.poll == 0:
        await preview_tap(call, _)
        return
    poll = await load(call, callback_data.poll, _, session)
    if poll is None:
        return
    if member is None:
        await call.answer(refusal(VoteResult.NOT_FOR_YOU, _), show_alert=True)
        return
    if callback_data.mask == 0:
        await call.answer(_("Tick at least one answer first."), show_alert=True)
        return
    result = await record_vote(session, poll, member, callback_data.mask, clock.now())
    await after_vote(result, call, poll, member, session, _, app, bot, call.message.message_id)


# --- comments -----------------------------------------------------------------------------------


@router.callback_query(CommentCb.filter())
async def ask_comment(
    call: CallbackQuery,
    callback_data: CommentCb,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
) -> None:
    """After answering, a member may add a short comment (text or voice)."""
    assert isinstance(call.message, Message)
    if callback_data.poll == 0:
        await preview_tap(call, _)
        return
    poll = await load(call, callback_data.poll, _, session)
    if poll is None:
        return
    if member is None or not await has_participated(session, poll.id, member.id):
        await call.answer(_("Answer the consultation first."), show_alert=True)
        return
    if not poll.is_open:
        await call.answer(refusal(VoteResult.CLOSED, _), show_alert=True)
        return
    await call.answer()
    await begin_answer(state, PollAnswer.comment, poll=poll.id)
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✖ Cancel"), callback_data=AnswerCancelCb(poll=poll.id))
    if poll.anonymous:
        text = _(
            "Send your comment: a short text or a voice note. It is stored without your name "
            "and cannot be linked to your ballot."
        )
    else:
        text = _("Send your comment: a short text or a voice note. Coordinators see your name.")
    await call.message.answer(text, reply_markup=kb.as_markup())


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
    data = await state.get_data()
    poll = await get_poll(session, int(data.get("poll", 0)))
    if poll is None or member is None:
        await end_answer(state)
        await message.answer(_("This consultation no longer exists."))
        return
    comment = await read_comment(message, _)
    if comment is None:
        return
    stored = await add_comment(
        session, poll, member, clock.now(), text=comment.text, voice_file_id=comment.voice_file_id
    )
    await end_answer(state)
    if stored:
        await message.answer(_("💬 Thank you, your comment was saved."))
    else:
        await message.answer(refusal(VoteResult.CLOSED, _))


@router.message(StateFilter(PollAnswer.reason, PollAnswer.comment), ~F.text, ~F.voice)
async def comment_expected(message: Message, _: Gettext) -> None:
    """A sticker, photo or file where a text or a voice note is expected."""
    await message.answer(_("Please send a text or a voice note, or tap Cancel."))


# --- results and closing ------------------------------------------------------------------------


@router.callback_query(ResultsCb.filter())
async def results(
    call: CallbackQuery,
    callback_data: ResultsCb,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
) -> None:
    """Coordinators get the full report; participants the counts when they may see them."""
    assert isinstance(call.message, Message)
    if callback_data.poll == 0:
        await preview_tap(call, _)
        return
    poll = await load(call, callback_data.poll, _, session)
    if poll is None:
        return
    if member is None:
        await call.answer(refusal(VoteResult.NOT_FOR_YOU, _), show_alert=True)
        return
    if await can_manage(session, member, poll):
        await call.answer()
        report = await manager_report(session, poll, member.locale, member.tz, _, files=False)
        await call.message.answer(report.text, reply_markup=report.markup)
        return
    participated = await has_participated(session, poll.id, member.id)
    visible = poll.results_live if poll.is_open else poll.share_results
    if not (participated and visible):
        await call.answer(_("Results are shared when the consultation closes."), show_alert=True)
        return
    await call.answer()
    await call.message.answer(await member_results(session, poll, member.locale, member.tz, _))


async def load_managed(
    call: CallbackQuery, poll_id: int, member: Member | None, session: AsyncSession, _: Gettext
) -> Poll | None:
    """The poll, if this member coordinates it; otherwise say so and return None."""
    poll = await load(call, poll_id, _, session)
    if poll is None:
        return None
    if not await can_manage(session, member, poll):
        await call.answer(
            _("Only the coordinators of this consultation can do this."), show_alert=True
        )
        return None
    return poll


@router.callback_query(ExportCb.filter())
async def export(
    call: CallbackQuery,
    callback_data: ExportCb,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
) -> None:
    """The chart and the CSV of a poll's results."""
    assert isinstance(call.message, Message)
    poll = await load_managed(call, callback_data.poll, member, session, _)
    if poll is None or member is None:
        return
    await call.answer()
    report = await manager_report(session, poll, member.locale, member.tz, _)
    assert report.chart is not None and report.table is not None
    for name, data in (report.chart, report.table):
        await call.message.answer_document(BufferedInputFile(data, filename=name))


@router.callback_query(CommentsCb.filter())
async def read_comments(
    call: CallbackQuery,
    callback_data: CommentsCb,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
) -> None:
    """Reasons and comments: texts together, voice notes one by one."""
    assert isinstance(call.message, Message)
    poll = await load_managed(call, callback_data.poll, member, session, _)
    if poll is None:
        return
    await call.answer()
    items = [(_("Reason for blocking"), c) for c in await block_reasons(session, poll)]
    items += [(_("Comment"), c) for c in await comments_on(session, poll)]
    lines = [_("<b>Comments</b>")]
    voices: list[tuple[str, str]] = []
    for label, item in items:
        who = f" · {html.escape(item.author)}" if item.author else ""
        if item.text:
            lines.append(f"<b>{label}</b>{who}: {html.escape(item.text)}")
        if item.voice_file_id:
            voices.append((f"{label}{who}", item.voice_file_id))
    if len(lines) == 1 and not voices:
        lines.append(_("No comments yet."))
    chunk: list[str] = []
    for line in lines:
        if chunk and utf16_len("\n".join([*chunk, line])) > 4000:
            await call.message.answer("\n".join(chunk))
            chunk = []
        chunk.append(line)
    if chunk:
        await call.message.answer(fit(chunk, "…"))
    for caption, file_id in voices:
        await call.message.answer_voice(file_id, caption=caption)


@router.callback_query(CloseCb.filter())
async def close(
    call: CallbackQuery,
    callback_data: CloseCb,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
    clock: Clock,
    app: App,
) -> None:
    """Close a poll early, after a confirmation."""
    assert isinstance(call.message, Message)
    poll = await load_managed(call, callback_data.poll, member, session, _)
    if poll is None or member is None:
        return
    if not poll.is_open:
        await call.answer(_("This consultation is already closed."), show_alert=True)
        await clear_buttons(call)
        return
    if callback_data.step == 2:
        await call.answer(_("The consultation stays open."))
        await clear_buttons(call)
        return
    if callback_data.step != 1:
        await call.answer()
        kb = InlineKeyboardBuilder()
        kb.button(text=_("Yes, close it now"), callback_data=CloseCb(poll=poll.id, step=1))
        kb.button(text=_("No, keep it open"), callback_data=CloseCb(poll=poll.id, step=2))
        kb.adjust(1)
        await call.message.answer(
            _("Close “{question}” now? No more answers will be accepted.").format(
                question=html.escape(short(poll.text(member.locale)[0], 80))
            ),
            reply_markup=kb.as_markup(),
        )
        return
    await call.answer()
    await clear_buttons(call)
    await finish_poll(session, app, poll, clock.now())
    await call.message.answer(
        _("🔒 The consultation is closed. The results are on their way to you.")
    )
