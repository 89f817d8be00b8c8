"""Steps 4 and 5: secret or named ballot, and who is asked (working groups the coordinator may
consult, checked at each tap; for network admins also the whole network or a region)."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery

from bot.core import geo
from bot.core.bounded import row_id
from bot.polls.screens import audience_keyboard
from bot.polls.service import may_consult_network
from bot.polls.views import NewPollCb, region_label
from handlers.filters import Need, group_access
from handlers.polls.create.flow import PollCreate, Step, accept, decide, step_router
from handlers.ui import edit_buttons

router = step_router(__name__)


@router.callback_query(NewPollCb.filter(F.action == "secret"), StateFilter(PollCreate.secrecy))
async def got_secrecy(call: CallbackQuery, callback_data: NewPollCb, step: Step) -> None:
    await decide(call, step, "anonymous", callback_data.value == "1", "audience")


@router.callback_query(NewPollCb.filter(F.action == "grp"), StateFilter(PollCreate.audience))
async def toggle_group(call: CallbackQuery, callback_data: NewPollCb, step: Step) -> None:
    """Tick or untick a group, if the member may consult it now."""
    group_id = row_id(callback_data.value)
    if group_id is None:
        group_id = -1
    group = await group_access(step.session, step.member, group_id, Need.OPEN_COORDINATOR, step._)
    if isinstance(group, str):
        await call.answer(
            step._("You can only consult the working groups you coordinate."), show_alert=True
        )
        return
    await call.answer()
    draft = await step.draft()
    draft.toggle_group(group.id)
    await step.save(draft)
    if not await edit_buttons(call, await audience_keyboard(await step.drafting(draft))):
        await step.show("audience")


@router.callback_query(NewPollCb.filter(F.action == "audok"), StateFilter(PollCreate.audience))
async def groups_chosen(call: CallbackQuery, step: Step) -> None:
    draft = await step.draft()
    if not draft.has_groups:
        await call.answer(step._("Tick at least one working group."), show_alert=True)
        return
    await accept(call)
    await step.go("closing")


@router.callback_query(
    NewPollCb.filter(F.action.in_({"net", "reg"})), StateFilter(PollCreate.audience)
)
async def network_or_region(call: CallbackQuery, callback_data: NewPollCb, step: Step) -> None:
    """The whole network at once; a region on the next screen."""
    if not may_consult_network(step.member):
        await call.answer(
            step._("Only network admins can consult the whole network or a region."),
            show_alert=True,
        )
        return
    await accept(call)
    if callback_data.action == "reg":
        await step.go("region")
        return
    draft = await step.draft()
    draft.for_network()
    await step.save(draft)
    await step.go("closing")


@router.callback_query(NewPollCb.filter(F.action == "region"), StateFilter(PollCreate.region))
async def got_region(call: CallbackQuery, callback_data: NewPollCb, step: Step) -> None:
    if not may_consult_network(step.member) or callback_data.value not in geo.REGIONS:
        await call.answer(step._("This button is no longer valid."), show_alert=True)
        return
    await accept(call)
    draft = await step.draft()
    draft.for_region(callback_data.value)
    await step.save(draft)
    region = region_label(draft.region, step.member.locale, step._)
    await step.message.answer(step._("Region: {region}").format(region=region))
    await step.go("closing")
