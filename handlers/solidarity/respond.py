"""Members answer an alert: ✅ Seen, 🙋 I can act (which of the asked actions), ✍️ Sign on for
their organisation (confirmed before it counts, withdrawn later); the reporter answers the
secretariat's question."""

from __future__ import annotations

import html
from collections.abc import Callable

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import geo
from bot.core.clock import Clock
from bot.delivery.queue import Priority, enqueue_broadcast
from bot.solidarity.callbacks import AlertCb
from bot.solidarity.service import MAX_ORGANISATION, MAX_TEXT, organisation_key
from bot.solidarity.views import actions_keyboard, button, keyboard
from handlers.solidarity.access import solidarity_router, tapped
from handlers.ui import AnyMessage, clean_text, clear_buttons, edit_buttons
from models.member import Member, list_admins
from models.solidarity import (
    SolidarityCase,
    add_signature,
    get_case,
    record_event,
    response_of,
    was_alerted,
    withdraw_signatures,
)

router = solidarity_router(__name__)
Gettext = Callable[..., str]


class Respond(StatesGroup):
    """A member typing an organisation to sign for, or a reporter typing an answer."""

    organisation = State()
    country = State()
    answer = State()


async def open_case(
    call: CallbackQuery, member: Member, session: AsyncSession, case_id: int, _: Gettext
) -> SolidarityCase | None:
    """The open case whose alert reached this member; else the tap is refused."""
    case = await get_case(session, case_id)
    if case is None or not case.is_open or not await was_alerted(session, case, member.id):
        await call.answer(_("This alert is no longer open."), show_alert=True)
        return None
    return case


@router.callback_query(AlertCb.filter(F.action == "seen"))
async def seen(
    call: CallbackQuery,
    callback_data: AlertCb,
    member: Member,
    session: AsyncSession,
    clock: Clock,
    _: Gettext,
) -> None:
    """The member has seen the alert."""
    case = await open_case(call, member, session, callback_data.case_id, _)
    if case is None:
        return
    response = await response_of(session, case.id, member.id, clock.now())
    response.seen_at = response.seen_at or clock.now()
    response.updated_at = clock.now()
    await call.answer(_("Thank you: marked as seen."))


@router.callback_query(AlertCb.filter(F.action.in_({"act", "do"})))
async def act(
    call: CallbackQuery,
    callback_data: AlertCb,
    member: Member,
    session: AsyncSession,
    clock: Clock,
    _: Gettext,
) -> None:
    """Show the asked actions, or toggle one the member can take."""
    case = await open_case(call, member, session, callback_data.case_id, _)
    if case is None:
        return
    response = await response_of(session, case.id, member.id, clock.now())
    if callback_data.action == "act":
        await call.answer()
        text = _("Which of these can you do? Tap each one you will take on.")
        await tapped(call).answer(text, reply_markup=actions_keyboard(case, response.actions, _))
        return
    value = callback_data.value
    if value not in case.asks:
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    chosen = list(response.actions or [])
    response.actions = [a for a in chosen if a != value] if value in chosen else [*chosen, value]
    response.seen_at = response.seen_at or clock.now()
    response.updated_at = clock.now()
    await call.answer(_("Thank you: noted."))
    markup = actions_keyboard(case, response.actions, _)
    if not await edit_buttons(call, markup):
        text = _("Which of these can you do? Tap each one you will take on.")
        await tapped(call).answer(text, reply_markup=markup)


@router.callback_query(AlertCb.filter(F.action == "sign"))
async def sign(
    call: CallbackQuery,
    callback_data: AlertCb,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
) -> None:
    """Sign on for the organisation in the profile, or type one."""
    case = await open_case(call, member, session, callback_data.case_id, _)
    if case is None:
        return
    if not (case.statement or case.statement_file_id):
        await call.answer(_("There is no statement to sign for this alert."), show_alert=True)
        return
    await call.answer()
    if member.organisation:
        await ask_confirm(tapped(call), state, member, case.id, member.organisation, _)
        return
    await state.set_state(Respond.organisation)
    await state.set_data({"case_id": case.id})
    await tapped(call).answer(_("On behalf of which organisation do you sign? Type its name."))


async def ask_confirm(
    message: AnyMessage,
    state: FSMContext,
    member: Member,
    case_id: int,
    organisation: str,
    _: Gettext,
    code: str | None = None,
) -> None:
    """Show what will count, and ask to confirm (or to change the organisation or country)."""
    code = code or member.country
    await state.set_state(None)
    await state.set_data({"case_id": case_id, "organisation": organisation, "country": code})
    rows = [
        [button(_("✅ Confirm"), AlertCb(action="confirm", case_id=case_id).pack())],
        [button(_("✏️ Another organisation"), AlertCb(action="other", case_id=case_id).pack())],
        [button(_("🌍 Another country"), AlertCb(action="country", case_id=case_id).pack())],
    ]
    country = geo.country_name(code, member.locale) if code else "—"
    text = _("Sign the statement on behalf of <b>{org}</b> ({country})?").format(
        org=html.escape(organisation), country=country
    )
    await message.answer(text, reply_markup=keyboard(*rows))


@router.callback_query(AlertCb.filter(F.action == "other"))
async def other_organisation(
    call: CallbackQuery, callback_data: AlertCb, state: FSMContext, _: Gettext
) -> None:
    """Type another organisation's name."""
    await call.answer()
    await clear_buttons(call)
    await state.set_state(Respond.organisation)
    await state.set_data({"case_id": callback_data.case_id})
    await tapped(call).answer(_("On behalf of which organisation do you sign? Type its name."))


@router.callback_query(AlertCb.filter(F.action == "country"))
async def other_country(call: CallbackQuery, state: FSMContext, _: Gettext) -> None:
    """Type the organisation's country."""
    await call.answer()
    await clear_buttons(call)
    await state.set_state(Respond.country)
    await tapped(call).answer(_("In which country is the organisation? Type its name."))


@router.message(StateFilter(Respond.country), F.text, ~F.text.startswith("/"))
async def typed_country(message: Message, state: FSMContext, member: Member, _: Gettext) -> None:
    """Countries matching what was typed, as buttons."""
    case_id = int((await state.get_data()).get("case_id") or 0)
    matches = geo.search_countries(message.text or "", member.locale, limit=6)
    if not matches:
        await message.answer(_("No country matches that. Please try another spelling."))
        return
    rows = [
        [button(name, AlertCb(action="ctry", case_id=case_id, value=code).pack())]
        for code, name in matches
    ]
    await message.answer(_("Which one?"), reply_markup=keyboard(*rows))


@router.callback_query(AlertCb.filter(F.action == "ctry"))
async def country_picked(
    call: CallbackQuery, callback_data: AlertCb, state: FSMContext, member: Member, _: Gettext
) -> None:
    """The organisation's country (checked against the list), then confirm again."""
    data = await state.get_data()
    organisation = str(data.get("organisation") or "")
    if callback_data.value not in geo.country_codes() or not organisation:
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await clear_buttons(call)
    case_id = callback_data.case_id
    await ask_confirm(tapped(call), state, member, case_id, organisation, _, callback_data.value)


@router.message(StateFilter(Respond.organisation), F.text, ~F.text.startswith("/"))
async def typed_organisation(
    message: Message, state: FSMContext, member: Member, _: Gettext
) -> None:
    """The organisation's name, then confirm."""
    name = clean_text(message.text or "", MAX_ORGANISATION)
    if name is None:
        limit = MAX_ORGANISATION
        await message.answer(_("Please send 1 to {limit} characters.").format(limit=limit))
        return
    case_id = int((await state.get_data()).get("case_id") or 0)
    await ask_confirm(message, state, member, case_id, name, _)


@router.callback_query(AlertCb.filter(F.action == "confirm"))
async def confirm(
    call: CallbackQuery,
    callback_data: AlertCb,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
    _: Gettext,
) -> None:
    """The sign-on counts (once per organisation and member); signing is seeing."""
    case = await open_case(call, member, session, callback_data.case_id, _)
    data = await state.get_data()
    if case is None:
        return
    organisation = str(data.get("organisation") or "")
    if not organisation or int(data.get("case_id") or 0) != case.id:
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await clear_buttons(call)
    await state.clear()
    response = await response_of(session, case.id, member.id, clock.now())
    response.seen_at = response.seen_at or clock.now()
    code = data.get("country") or member.country
    place = (code, geo.region_of(code) if code else None)
    key = organisation_key(organisation)
    added = await add_signature(session, case.id, member, organisation, key, place)
    text = _("✍️ Signed on behalf of {org}.") if added else _("You already signed for {org}.")
    withdraw = button(
        _("↩️ Withdraw my signature"), AlertCb(action="withdraw", case_id=case.id).pack()
    )
    await tapped(call).answer(
        text.format(org=html.escape(organisation)), reply_markup=keyboard([withdraw])
    )


@router.callback_query(AlertCb.filter(F.action == "withdraw"))
async def withdraw(
    call: CallbackQuery, callback_data: AlertCb, member: Member, session: AsyncSession, _: Gettext
) -> None:
    """Take the member's signatures off the case."""
    case = await open_case(call, member, session, callback_data.case_id, _)
    if case is None:
        return
    await withdraw_signatures(session, case.id, member.id)
    await call.answer(_("Your signature was withdrawn."), show_alert=True)
    await clear_buttons(call)


@router.callback_query(AlertCb.filter(F.action == "answer"))
async def answer(
    call: CallbackQuery,
    callback_data: AlertCb,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
) -> None:
    """The reporter answers the secretariat's question next."""
    case = await get_case(session, callback_data.case_id)
    if case is None or case.reporter_id != member.id:
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await state.set_state(Respond.answer)
    await state.set_data({"case_id": case.id})
    await tapped(call).answer(_("Send your answer."))


@router.message(StateFilter(Respond.answer), F.text, ~F.text.startswith("/"))
async def typed_answer(
    message: Message, member: Member, session: AsyncSession, state: FSMContext, _: Gettext
) -> None:
    """The answer goes to every admin, in their language."""
    case = await get_case(session, int((await state.get_data()).get("case_id") or 0))
    await state.clear()
    if case is None or case.reporter_id != member.id:
        await message.answer(_("This case is no longer available."))
        return
    text = (message.text or "")[:MAX_TEXT]
    await record_event(session, case, member, "answered", text[:200])
    admins = [admin.id for admin in await list_admins(session) if admin.is_active]
    await enqueue_broadcast(
        session,
        kind="solidarity_answer",
        payload={"case_id": case.id, "answer": text},
        recipients=admins,
        priority=Priority.HIGH,
        created_by_id=member.id,
    )
    await message.answer(_("Thank you: your answer was sent to the secretariat."))
