"""Back, and anything unexpected while creating: the question is asked again. Its router comes
after every step's, so that only what no step took lands here."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message

from bot.polls.views import NewPollCb
from handlers.polls.create.flow import PollCreate, Step, accept, step_router

router = step_router(__name__)
TYPED_STEPS = {
    PollCreate.question.state,
    PollCreate.options.state,
    PollCreate.closing.state,
    PollCreate.tr_question.state,
    PollCreate.tr_options.state,
}


@router.callback_query(NewPollCb.filter(F.action == "back"), StateFilter(PollCreate))
async def back(call: CallbackQuery, step: Step) -> None:
    await accept(call)
    await step.back()


@router.message(StateFilter(PollCreate), ~F.text.startswith("/"))
async def unexpected(message: Message, step: Step) -> None:
    """Free text where a tap is expected (or a sticker anywhere): say so and ask again."""
    current = await step.state.get_state()
    if current == PollCreate.voice.state:
        await message.answer(step._("Please record a voice note, or tap Skip."))
    elif current in TYPED_STEPS:
        await message.answer(step._("Please send text."))
    else:
        await message.answer(step._("Please answer with the buttons below."))
    await step.again()
