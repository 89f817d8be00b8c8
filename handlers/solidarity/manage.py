"""The secretariat on an issued alert: live counts, the sign-on list, updates, and closing
the case with its outcome. Every action is recorded on the case."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.config import SUPPORTED_LOCALES, Settings
from bot.core.i18n import LANGUAGE_NAMES
from bot.solidarity.callbacks import CaseCb
from bot.solidarity.jobs import group_names
from bot.solidarity.service import OUTCOMES, close, post_update
from bot.solidarity.views import (
    button,
    counts_text,
    group_counts_text,
    keyboard,
    outcome_label,
    signon_block,
    signon_csv,
)
from handlers.solidarity.access import admin_case, solidarity_router, tapped
from handlers.solidarity.review import CaseInput, prompt
from handlers.ui import clear_buttons
from models.member import Member
from models.solidarity import (
    CaseStatus,
    count_alerted,
    counts_by_group,
    counts_by_region,
    record_event,
    signatures_of,
)

router = solidarity_router(__name__)
Gettext = Callable[..., str]
LIVE = (CaseStatus.ISSUED,)
DONE = (CaseStatus.ISSUED, CaseStatus.CLOSED)


@router.callback_query(CaseCb.filter(F.action == "counts"))
async def counts(
    call: CallbackQuery,
    callback_data: CaseCb,
    member: Member,
    session: AsyncSession,
    settings: Settings,
    _: Gettext,
) -> None:
    """Seen, acting per action, signed, by region."""
    case = await admin_case(call, member, session, callback_data.case_id, _, *DONE)
    if case is None:
        return
    await call.answer()
    alerted, _seen = await count_alerted(session, case)
    by_region = await counts_by_region(session, case.id)
    groups = await group_names(session, member.locale, settings.default_locale)
    by_group = group_counts_text(await counts_by_group(session, case.id), groups, _)
    text = counts_text(case, alerted, by_region, member.locale, _)
    await tapped(call).answer(text + ("\n\n" + by_group if by_group else ""))


@router.callback_query(CaseCb.filter(F.action == "list"))
async def signon_list(
    call: CallbackQuery, callback_data: CaseCb, member: Member, session: AsyncSession, _: Gettext
) -> None:
    """The sign-on list as CSV and as a text block to paste under the statement."""
    case = await admin_case(call, member, session, callback_data.case_id, _, *DONE)
    if case is None:
        return
    await call.answer()
    signatures = await signatures_of(session, case.id)
    await record_event(session, case, member, "downloaded", str(len(signatures)))
    csv_file = BufferedInputFile(signon_csv(signatures), filename=f"signatures-{case.id}.csv")
    await tapped(call).answer_document(csv_file)
    await tapped(call).answer(signon_block(signatures, member.locale, _))


@router.callback_query(CaseCb.filter(F.action == "update"))
async def update(
    call: CallbackQuery,
    callback_data: CaseCb,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
) -> None:
    """The admin sends the update next."""
    case = await admin_case(call, member, session, callback_data.case_id, _, *LIVE)
    if case is None:
        return
    await call.answer()
    await state.set_state(CaseInput.text)
    await state.set_data({"case_id": case.id, "what": "update"})
    await tapped(call).answer(prompt("update", _))


@router.callback_query(CaseCb.filter(F.action == "uplang"))
async def update_language(
    call: CallbackQuery,
    callback_data: CaseCb,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
) -> None:
    """The admin types the update in one more language."""
    case = await admin_case(call, member, session, callback_data.case_id, _, *LIVE)
    if case is None:
        return
    data = await state.get_data()
    code = callback_data.value
    if code not in SUPPORTED_LOCALES or not data.get("update") or data.get("case_id") != case.id:
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await clear_buttons(call)
    await state.update_data(what=f"uplang:{code}")
    await tapped(call).answer(prompt("uplang", _).format(language=LANGUAGE_NAMES[code]))


@router.callback_query(CaseCb.filter(F.action == "send"))
async def send_update(
    call: CallbackQuery,
    callback_data: CaseCb,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
) -> None:
    """Send the update held in the conversation to responders or the whole audience."""
    case = await admin_case(call, member, session, callback_data.case_id, _, *LIVE)
    if case is None:
        return
    data = await state.get_data()
    held = data.get("update")
    if not held or int(data.get("case_id") or 0) != case.id:
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await clear_buttons(call)
    await state.clear()
    update = {**held, "locale": member.locale}
    total = await post_update(session, case, member, update, callback_data.value == "all")
    await tapped(call).answer(_("Update queued for {count} members.").format(count=total))


@router.callback_query(CaseCb.filter(F.action == "close"))
async def close_case(
    call: CallbackQuery, callback_data: CaseCb, member: Member, session: AsyncSession, _: Gettext
) -> None:
    """Choose the outcome."""
    case = await admin_case(call, member, session, callback_data.case_id, _, *LIVE)
    if case is None:
        return
    await call.answer()
    rows = [
        [button(outcome_label(o, _), CaseCb(action="outcome", case_id=case.id, value=o).pack())]
        for o in OUTCOMES
    ]
    await tapped(call).answer(
        _("How did case #{id} end?").format(id=case.id), reply_markup=keyboard(*rows)
    )


@router.callback_query(CaseCb.filter(F.action == "outcome"))
async def outcome(
    call: CallbackQuery,
    callback_data: CaseCb,
    member: Member,
    session: AsyncSession,
    clock: Clock,
    _: Gettext,
) -> None:
    """Close the case; those who responded are told."""
    case = await admin_case(call, member, session, callback_data.case_id, _, *LIVE)
    if case is None:
        return
    if callback_data.value not in OUTCOMES:
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await clear_buttons(call)
    await close(session, case, member, callback_data.value, clock.now())
    await tapped(call).answer(
        _("Case #{id} closed: {outcome}.").format(
            id=case.id, outcome=outcome_label(callback_data.value, _)
        )
    )
