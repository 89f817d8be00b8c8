"""Steps 1 and 2: the question as members will read it, and the kind of answer asked for."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message

from bot.polls.service import MAX_QUESTION, Problem, clean_question
from bot.polls.views import NewPollCb
from handlers.polls.create.flow import PollCreate, Step, accept, step_router
from models.poll import PollKind

router = step_router(__name__)


@router.message(StateFilter(PollCreate.question), F.text, ~F.text.startswith("/"))
async def got_question(message: Message, step: Step) -> None:
    question = clean_question(message.text or "")
    if question is Problem.TOO_LONG:
        await message.answer(
            step._("That is too long: at most {limit} characters.").format(limit=MAX_QUESTION)
        )
        return
    if not isinstance(question, str):
        await message.answer(step._("Please send the question as text."))
        return
    draft = await step.draft()
    draft.question = question
    await step.save(draft)
    await step.go("kind")


@router.callback_query(NewPollCb.filter(F.action == "keep"), StateFilter(PollCreate.question))
async def keep_question(call: CallbackQuery, step: Step) -> None:
    await accept(call)
    await step.go("kind")


@router.callback_query(NewPollCb.filter(F.action == "kind"), StateFilter(PollCreate.kind))
async def got_kind(call: CallbackQuery, callback_data: NewPollCb, step: Step) -> None:
    if callback_data.value not in set(PollKind):
        await call.answer(step._("This button is no longer valid."), show_alert=True)
        return
    await accept(call)
    draft = await step.draft()
    draft.choose_kind(callback_data.value)
    await step.save(draft)
    await step.go("options" if draft.has_own_options else "secrecy")
