"""The coordinator's buttons under a closed round: adopt, amend for another round, record as
not adopted, or withdraw; every tap checked against the proposal and their role as they are."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot.consensus.service import amendment, check_amendment, decide
from bot.consensus.views import DecideCb, outcome_text, refusal
from bot.core.app import App
from bot.core.clock import Clock
from handlers.consensus.conversation import ask_text, save
from handlers.ui import clear_buttons, pressed
from models.consensus import Outcome, get_proposal
from models.member import Member

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")
Gettext = Callable[..., str]
OUTCOMES = {
    "adopt": Outcome.ADOPTED,
    "reject": Outcome.NOT_ADOPTED,
    "withdraw": Outcome.WITHDRAWN,
}


@router.callback_query(DecideCb.filter(F.action == "amend"))
async def amend(
    call: CallbackQuery,
    callback_data: DecideCb,
    state: FSMContext,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
) -> None:
    """Write the next round's text (the same audience, quorum and secrecy)."""
    proposal = await get_proposal(session, callback_data.proposal)
    refused = await check_amendment(session, member, proposal, callback_data.round)
    if refused is not None:
        await call.answer(refusal(refused, _), show_alert=True)
        return
    assert proposal is not None
    await call.answer()
    draft = amendment(proposal)
    await state.clear()
    await save(state, draft)
    await ask_text(pressed(call), state, draft, _)


@router.callback_query(DecideCb.filter(F.action.in_(OUTCOMES)))
async def conclude(
    call: CallbackQuery,
    callback_data: DecideCb,
    member: Member | None,
    session: AsyncSession,
    app: App,
    clock: Clock,
    _: Gettext,
) -> None:
    """Adopt, not adopted, or withdrawn: the record then goes to every participant."""
    proposal = await get_proposal(session, callback_data.proposal)
    outcome = OUTCOMES[callback_data.action]
    refused = await decide(
        session, app, member, proposal, callback_data.round, outcome, clock.now()
    )
    if refused is not None:
        await call.answer(refusal(refused, _), show_alert=True)
        return
    assert proposal is not None
    await call.answer()
    await clear_buttons(call)
    await pressed(call).answer(
        _("Recorded: {outcome}. The decision record goes to every participant.").format(
            outcome=outcome_text(proposal, _)
        )
    )


@router.callback_query(DecideCb.filter())
async def unknown(call: CallbackQuery, _: Gettext) -> None:
    await call.answer(_("This button is no longer valid."), show_alert=True)
