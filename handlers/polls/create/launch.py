"""The last step: the preview in each language the poll has, then Send, which checks the
coordinator's role as it stands at that moment and hands the poll to the delivery engine."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery

from bot.polls.jobs import launch_poll
from bot.polls.screens import send_problem
from bot.polls.service import check_draft, save_poll
from bot.polls.views import NewPollCb
from handlers.polls.create.flow import PollCreate, Step, accept, step_router
from models.poll import audience_count

router = step_router(__name__)


@router.callback_query(NewPollCb.filter(F.action == "pvlang"), StateFilter(PollCreate.preview))
async def preview_language(call: CallbackQuery, callback_data: NewPollCb, step: Step) -> None:
    draft = await step.draft()
    if callback_data.value not in {draft.locale, *draft.translations}:
        await call.answer(step._("This button is no longer valid."), show_alert=True)
        return
    await accept(call)
    await step.show("preview", callback_data.value)


@router.callback_query(NewPollCb.filter(F.action == "send"), StateFilter(PollCreate.preview))
async def send(call: CallbackQuery, step: Step) -> None:
    """Store the poll and hand it to the delivery engine."""
    draft, member, now = await step.draft(), step.member, step.clock.now()
    problem = await check_draft(step.session, member, draft, now)
    if problem is not None:
        await call.answer(send_problem(problem, step._), show_alert=True)
        return
    await accept(call)
    poll = await save_poll(step.session, draft, member, now)
    count = await audience_count(step.session, poll)
    await launch_poll(step.session, step.app, poll, member)
    await step.state.clear()
    await step.message.answer(
        step._(
            "✅ Sent. Audience: {count}. You will get the results when it closes, {when}. "
            "/polls shows how it is going."
        ).format(count=count, when=step.when(poll.closes_at))
    )
