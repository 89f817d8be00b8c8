"""Steps 10 and 11: the question (and answers) in other languages, and an optional voice note
for members who prefer listening."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message

from bot.polls.screens import tr_options_problem
from bot.polls.service import MAX_QUESTION, Problem, clean_question, parse_translated_options
from bot.polls.views import NewPollCb
from handlers.polls.create.flow import PollCreate, Step, accept, step_router

router = step_router(__name__)


@router.callback_query(
    NewPollCb.filter(F.action == "trnext"), StateFilter(PollCreate.translations)
)
async def translations_done(call: CallbackQuery, step: Step) -> None:
    await accept(call)
    await step.go("voice")


@router.callback_query(NewPollCb.filter(F.action == "lang"), StateFilter(PollCreate.translations))
async def choose_language(call: CallbackQuery, callback_data: NewPollCb, step: Step) -> None:
    draft = await step.draft()
    if callback_data.value not in draft.other_locales():
        await call.answer(step._("This button is no longer valid."), show_alert=True)
        return
    await accept(call)
    await step.state.update_data(tr_locale=callback_data.value)
    await step.go("tr_question")


@router.message(StateFilter(PollCreate.tr_question), F.text, ~F.text.startswith("/"))
async def got_tr_question(message: Message, step: Step) -> None:
    question = clean_question(message.text or "")
    if not isinstance(question, str):
        await message.answer(
            step._("Please send the question as text, up to {limit} characters.").format(
                limit=MAX_QUESTION
            )
        )
        return
    draft = await step.draft()
    if draft.has_own_options:
        await step.state.update_data(tr_question=question)
        await step.go("tr_options")
        return
    draft.add_version(await tr_locale(step), question, [])
    await step.save(draft)
    await step.back_to("translations")


@router.message(StateFilter(PollCreate.tr_options), F.text, ~F.text.startswith("/"))
async def got_tr_options(message: Message, step: Step) -> None:
    draft = await step.draft()
    options = parse_translated_options(message.text or "", len(draft.options))
    if isinstance(options, Problem):
        await message.answer(tr_options_problem(options, len(draft.options), step._))
        return
    data = await step.state.get_data()
    draft.add_version(await tr_locale(step), str(data.get("tr_question", "")), options)
    await step.save(draft)
    await step.back_to("translations")


async def tr_locale(step: Step) -> str:
    """The language of the version being written."""
    data = await step.state.get_data()
    return str(data.get("tr_locale"))


@router.message(StateFilter(PollCreate.voice), F.voice)
async def got_voice(message: Message, step: Step) -> None:
    if message.voice is None:
        return
    draft = await step.draft()
    draft.voice_file_id = message.voice.file_id
    await step.save(draft)
    await step.go("preview")


@router.callback_query(NewPollCb.filter(F.action == "keepvoice"), StateFilter(PollCreate.voice))
async def keep_voice(call: CallbackQuery, step: Step) -> None:
    await accept(call)
    await step.go("preview")


@router.callback_query(NewPollCb.filter(F.action == "novoice"), StateFilter(PollCreate.voice))
async def no_voice(call: CallbackQuery, step: Step) -> None:
    await accept(call)
    draft = await step.draft()
    draft.voice_file_id = None
    await step.save(draft)
    await step.go("preview")
