"""Members answer a questionnaire one question at a time: taps for choices and scales, a
message for text questions, Back to change an answer, Continue later (the place and the
answers are kept in the store, so they survive a restart), and Send at the end."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.consensus.questionnaire import (
    AnswerResult,
    answer,
    back,
    check,
    progress_of,
    send_answers,
)
from bot.consensus.questionnaire_views import (
    QuestionCb,
    intro_keyboard,
    question_keyboard,
    question_text,
    refusal,
    summary_keyboard,
    summary_text,
)
from bot.core.clock import Clock
from handlers.ui import replace_message
from models.consensus import (
    QuestionKind,
    Questionnaire,
    QuestionnaireProgress,
    get_questionnaire,
)
from models.member import Member

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")
Gettext = Callable[..., str]


class Answering(StatesGroup):
    """Waiting for the text answer to the current question."""

    text = State()


async def screen(
    original: Questionnaire,
    progress: QuestionnaireProgress,
    state: FSMContext,
    locale: str,
    _: Gettext,
) -> tuple[str, InlineKeyboardMarkup]:
    """The current question (or the summary at the end) in the reader's language where a
    version exists; a text question waits for a message."""
    questionnaire = original.in_language(locale)
    position = progress.position
    if position >= len(questionnaire.questions):
        await leave_text_state(state)
        return summary_text(questionnaire, progress.answers, _), summary_keyboard(
            questionnaire, position, _
        )
    if questionnaire.questions[position]["kind"] == QuestionKind.TEXT:
        await state.set_state(Answering.text)
        await state.update_data(questionnaire=questionnaire.id, position=position)
    else:
        await leave_text_state(state)
    text = question_text(questionnaire, position, progress.answers, _, locale=locale)
    return text, question_keyboard(
        questionnaire, position, _, mask=multiple_mask(questionnaire, progress)
    )


def multiple_mask(questionnaire: Questionnaire, progress: QuestionnaireProgress) -> int:
    """A multiple choice shown again starts from the ticks given before."""
    given = progress.answers.get(str(progress.position))
    return given if isinstance(given, int) else 0


async def leave_text_state(state: FSMContext) -> None:
    if await state.get_state() == Answering.text.state:
        await state.set_state(None)


async def step(
    action: str,
    data: QuestionCb,
    questionnaire: Questionnaire,
    progress: QuestionnaireProgress,
    member: Member,
    session: AsyncSession,
) -> AnswerResult:
    """Apply one tap to the member's progress."""
    if progress.sent:
        return AnswerResult.SENT
    if action in ("pick", "next"):
        return answer(questionnaire, progress, data.pos, choices=data.value)
    if action == "back":
        return back(progress, data.pos)
    if action == "send":
        if data.pos != progress.position:
            return AnswerResult.NOT_CURRENT
        return await send_answers(session, questionnaire, progress, member)
    if action == "tick" and data.pos != progress.position:
        return AnswerResult.NOT_CURRENT
    return AnswerResult.SAVED


@router.callback_query(QuestionCb.filter())
async def tap(
    call: CallbackQuery,
    callback_data: QuestionCb,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
    _: Gettext,
) -> None:
    """Every button of a questionnaire: checked, applied, then the next screen."""
    questionnaire = await get_questionnaire(session, callback_data.q) if callback_data.q else None
    refused = await check(session, questionnaire, member, clock.now())
    if refused is not None or questionnaire is None or member is None:
        await call.answer(refusal(refused or AnswerResult.NOT_FOR_YOU, _), show_alert=True)
        return
    progress = await progress_of(session, questionnaire, member)
    action = callback_data.action
    result = await step(action, callback_data, questionnaire, progress, member, session)
    if result is not AnswerResult.SAVED:
        await call.answer(refusal(result, _), show_alert=True)
        return
    await call.answer()
    if action == "send":
        await leave_text_state(state)
        await replace_message(call, _("✅ Thank you! Your answers were sent."), None)
    elif action == "later":
        await leave_text_state(state)
        note = _("⏸ Your answers so far are kept. Tap to continue whenever you like.")
        await replace_message(call, note, intro_keyboard(questionnaire, _))
    elif action == "tick":
        shown = questionnaire.in_language(member.locale)
        text = question_text(shown, progress.position, progress.answers, _, locale=member.locale)
        await replace_message(
            call,
            text,
            question_keyboard(shown, progress.position, _, mask=callback_data.value),
        )
    else:
        await replace_message(
            call, *await screen(questionnaire, progress, state, member.locale, _)
        )


@router.message(StateFilter(Answering.text), F.text, ~F.text.startswith("/"))
async def typed(
    message: Message,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
    _: Gettext,
) -> None:
    """The text answer to the current question; then the next question."""
    data = await state.get_data()
    questionnaire = await get_questionnaire(session, int(data.get("questionnaire") or 0))
    refused = await check(session, questionnaire, member, clock.now())
    if refused is not None or questionnaire is None or member is None:
        await state.set_state(None)
        await message.answer(refusal(refused or AnswerResult.NOT_FOR_YOU, _))
        return
    progress = await progress_of(session, questionnaire, member)
    result = answer(questionnaire, progress, int(data.get("position", -1)), text=message.text)
    if result is not AnswerResult.SAVED:
        await message.answer(refusal(result, _))
        return
    text, markup = await screen(questionnaire, progress, state, member.locale, _)
    await message.answer(text, reply_markup=markup)


@router.message(StateFilter(Answering.text))
async def not_text(message: Message, _: Gettext) -> None:
    """A sticker, photo or voice where a written answer is expected."""
    await message.answer(refusal(AnswerResult.WRONG_KIND, _))
