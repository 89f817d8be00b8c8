"""Steps 6 to 9: when the consultation closes (typed in the coordinator's time zone or tapped),
the reminder, and when members see the results."""

from __future__ import annotations

from datetime import datetime

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message

from bot.core.i18n import zone_name
from bot.polls.closing import parse_closing, quick_closing
from bot.polls.screens import REMINDER_HOURS, time_problem
from bot.polls.views import NewPollCb
from handlers.polls.create.flow import PollCreate, Step, accept, decide, step_router

router = step_router(__name__)


async def set_closing(step: Step, moment: datetime) -> None:
    """Store the closing time, say how it was understood, and move on."""
    draft = await step.draft()
    draft.closes_at = moment.isoformat()
    await step.save(draft)
    await step.message.answer(step._("Closes: {when}").format(when=step.when(moment)))
    await step.go("reminder")


@router.message(StateFilter(PollCreate.closing), F.text, ~F.text.startswith("/"))
async def got_closing(message: Message, step: Step) -> None:
    member = step.member
    parsed = parse_closing(message.text or "", member.tz, step.clock.now())
    if parsed.moment is None:
        assert parsed.problem is not None
        zone = zone_name(member.tz, member.locale)
        await message.answer(time_problem(parsed.problem, zone, step._))
        return
    await set_closing(step, parsed.moment)


@router.callback_query(NewPollCb.filter(F.action == "quick"), StateFilter(PollCreate.closing))
async def got_quick_closing(call: CallbackQuery, callback_data: NewPollCb, step: Step) -> None:
    moment = quick_closing(callback_data.value, step.clock.now())
    if moment is None:
        await call.answer(step._("This button is no longer valid."), show_alert=True)
        return
    await accept(call)
    await set_closing(step, moment)


@router.callback_query(NewPollCb.filter(F.action == "keep"), StateFilter(PollCreate.closing))
async def keep_closing(call: CallbackQuery, step: Step) -> None:
    await accept(call)
    await step.go("reminder")


@router.callback_query(NewPollCb.filter(F.action == "remind"), StateFilter(PollCreate.reminder))
async def got_reminder(call: CallbackQuery, callback_data: NewPollCb, step: Step) -> None:
    if not callback_data.value.isdigit():
        await call.answer()
        return
    await accept(call)
    draft = await step.draft()
    hours = int(callback_data.value)
    draft.remind_hours = hours if hours in REMINDER_HOURS else None
    await step.save(draft)
    await step.go("results")


@router.callback_query(NewPollCb.filter(F.action == "live"), StateFilter(PollCreate.results))
async def got_live_results(call: CallbackQuery, callback_data: NewPollCb, step: Step) -> None:
    await decide(call, step, "results_live", callback_data.value == "1", "share")


@router.callback_query(NewPollCb.filter(F.action == "share"), StateFilter(PollCreate.share))
async def got_share(call: CallbackQuery, callback_data: NewPollCb, step: Step) -> None:
    await decide(call, step, "share_results", callback_data.value == "1", "translations")
