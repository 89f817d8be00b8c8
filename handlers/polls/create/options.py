"""Step 3, for polls with their own answers: the answers members choose from, typed one per
line over one or several messages."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message

from bot.polls.screens import options_problem
from bot.polls.service import MAX_OPTIONS, MIN_OPTIONS, Problem, check_options, parse_options
from bot.polls.views import NewPollCb
from handlers.polls.create.flow import PollCreate, Step, accept, step_router

router = step_router(__name__)


@router.message(StateFilter(PollCreate.options), F.text, ~F.text.startswith("/"))
async def got_options(message: Message, step: Step) -> None:
    draft = await step.draft()
    options = parse_options(message.text or "", draft.options)
    if isinstance(options, Problem):
        await message.answer(options_problem(options, step._))
        return
    draft.set_options(options)
    await step.save(draft)
    await step.show("options")


@router.callback_query(NewPollCb.filter(F.action == "optundo"), StateFilter(PollCreate.options))
async def remove_last(call: CallbackQuery, step: Step) -> None:
    await accept(call)
    draft = await step.draft()
    draft.set_options(draft.options[:-1])
    await step.save(draft)
    await step.show("options")


@router.callback_query(NewPollCb.filter(F.action == "optdone"), StateFilter(PollCreate.options))
async def options_done(call: CallbackQuery, step: Step) -> None:
    draft = await step.draft()
    if check_options(draft.options) is not None:
        await call.answer(
            step._("Please give {low} to {high} answers.").format(
                low=MIN_OPTIONS, high=MAX_OPTIONS
            ),
            show_alert=True,
        )
        return
    await accept(call)
    await step.go("secrecy")
