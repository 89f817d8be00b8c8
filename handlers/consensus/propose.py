"""A coordinator writes a proposal (or an amendment): group, title, text, versions in other
languages, quorum, closing time, a preview, then the round goes out as a consent poll."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.consensus.service import (
    MAX_TEXT,
    MAX_TITLE,
    NETWORK,
    QUORUMS,
    Draft,
    check_amendment,
    check_draft,
    clean_text,
    may_propose,
    open_round,
    parse_version,
)
from bot.consensus.views import ProposeCb, close_now_keyboard, language_name, refusal
from bot.core.app import App
from bot.core.clock import Clock
from bot.core.i18n import zone_name
from bot.polls.closing import parse_closing, quick_closing
from bot.polls.screens import time_problem
from handlers.consensus.conversation import (
    Proposing,
    ask_text,
    ask_title,
    load,
    save,
    show_closing,
    show_preview,
    show_quorum,
    show_versions,
)
from handlers.consensus.opening import offer_groups, picked_group
from handlers.ui import AnyMessage, clear_buttons, pressed
from models.consensus import get_proposal
from models.member import Member

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")
Gettext = Callable[..., str]
TYPED = (F.text, ~F.text.startswith("/"))


@router.message(Command("propose"))
async def propose(
    message: Message, state: FSMContext, member: Member | None, session: AsyncSession, _: Gettext
) -> None:
    """Pick the group the proposal is for (admins may also put it to the whole network)."""
    await offer_groups(
        message, state, member, session, _, _("🤝 Who is the proposal for?"), "group"
    )


@router.callback_query(ProposeCb.filter(F.action == "group"))
async def pick_group(
    call: CallbackQuery,
    callback_data: ProposeCb,
    state: FSMContext,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
) -> None:
    group_id = await picked_group(call, callback_data, member, session, _)
    if group_id is None or member is None:
        return
    await state.set_data({"draft": Draft(locale=member.locale, group_id=group_id).to_json()})
    await ask_title(pressed(call), state, _)


@router.message(StateFilter(Proposing.title), *TYPED)
async def got_title(message: Message, state: FSMContext, _: Gettext) -> None:
    draft = await load(state)
    title = clean_text(message.text or "", MAX_TITLE)
    if draft is None or title is None or "\n" in title:
        await message.answer(
            _("Please send a title of one line, up to {limit} characters.").format(limit=MAX_TITLE)
        )
        return
    draft.title = title
    await save(state, draft)
    await ask_text(message, state, draft, _)


@router.message(StateFilter(Proposing.text), *TYPED)
async def got_text(message: Message, state: FSMContext, _: Gettext) -> None:
    draft = await load(state)
    text = clean_text(message.text or "", MAX_TEXT)
    if draft is None or text is None:
        await message.answer(
            _("Please send a text of up to {limit} characters.").format(limit=MAX_TEXT)
        )
        return
    draft.text, draft.versions = text, {}
    await save(state, draft)
    await show_versions(message, state, draft, _)


@router.callback_query(ProposeCb.filter(F.action == "lang"), StateFilter(Proposing.versions))
async def pick_language(
    call: CallbackQuery, callback_data: ProposeCb, state: FSMContext, _: Gettext
) -> None:
    draft = await load(state)
    if draft is None or callback_data.value not in draft.other_locales():
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await state.update_data(lang=callback_data.value)
    await state.set_state(Proposing.version)
    await pressed(call).answer(
        _(
            "Send the {language} version in one message: the title on the first line, "
            "the text below it."
        ).format(language=language_name(callback_data.value))
    )


@router.message(StateFilter(Proposing.version), *TYPED)
async def got_version(message: Message, state: FSMContext, _: Gettext) -> None:
    draft, lang = await load(state), (await state.get_data()).get("lang")
    version = parse_version(message.text or "")
    if draft is None or lang not in (draft.other_locales() if draft else []):
        await state.clear()
        return
    if version is None:
        await message.answer(
            _(
                "Please send the title on the first line and the text (up to {limit} "
                "characters) below it."
            ).format(limit=MAX_TEXT)
        )
        return
    draft.versions[str(lang)] = {"title": version[0], "text": version[1]}
    await save(state, draft)
    await show_versions(message, state, draft, _)


@router.message(StateFilter(Proposing.versions), F.voice | F.document)
async def got_attachment(message: Message, state: FSMContext, _: Gettext) -> None:
    """A voice note or a document to go with the text (a new one replaces the old)."""
    draft = await load(state)
    if draft is None:
        return
    if message.voice is not None:
        draft.attachment, draft.attachment_kind = message.voice.file_id, "voice"
    elif message.document is not None:
        draft.attachment, draft.attachment_kind = message.document.file_id, "document"
    await save(state, draft)
    await message.answer(_("📎 Attached: members receive it with the proposal."))
    await show_versions(message, state, draft, _)


@router.callback_query(ProposeCb.filter(F.action == "next"), StateFilter(Proposing.versions))
async def versions_done(call: CallbackQuery, state: FSMContext, _: Gettext) -> None:
    draft = await load(state)
    await call.answer()
    await clear_buttons(call)
    if draft is not None and draft.proposal_id is None:
        await show_quorum(pressed(call), state, _)
    else:
        await show_closing(pressed(call), state, _)


@router.callback_query(ProposeCb.filter(F.action == "quorum"), StateFilter(Proposing.quorum))
async def got_quorum(
    call: CallbackQuery, callback_data: ProposeCb, state: FSMContext, _: Gettext
) -> None:
    draft = await load(state)
    value = callback_data.value
    if draft is None or not value.isdigit() or int(value) not in QUORUMS:
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    draft.quorum = int(value)
    await save(state, draft)
    await call.answer()
    await clear_buttons(call)
    await show_closing(pressed(call), state, _)


async def set_closing(
    message: AnyMessage, state: FSMContext, moment: datetime, **ctx: Any
) -> None:
    draft = await load(state)
    if draft is None:
        return
    draft.closes_at = moment.isoformat()
    await save(state, draft)
    await show_preview(
        message, state, draft, ctx["member"], ctx["session"], ctx["app"], ctx["clock"], ctx["_"]
    )


@router.message(StateFilter(Proposing.closing), *TYPED)
async def typed_closing(
    message: Message, state: FSMContext, member: Member, clock: Clock, _: Gettext, **ctx: Any
) -> None:
    parsed = parse_closing(message.text or "", member.tz, clock.now())
    if parsed.moment is None:
        assert parsed.problem is not None
        await message.answer(time_problem(parsed.problem, zone_name(member.tz, member.locale), _))
        return
    await set_closing(message, state, parsed.moment, member=member, clock=clock, _=_, **ctx)


@router.callback_query(ProposeCb.filter(F.action == "close"), StateFilter(Proposing.closing))
async def quick(
    call: CallbackQuery, callback_data: ProposeCb, state: FSMContext, clock: Clock, **ctx: Any
) -> None:
    moment = quick_closing(callback_data.value, clock.now())
    if moment is None:
        await call.answer(ctx["_"]("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await clear_buttons(call)
    await set_closing(pressed(call), state, moment, clock=clock, **ctx)


@router.callback_query(ProposeCb.filter(F.action == "secret"), StateFilter(Proposing.preview))
async def toggle_secret(call: CallbackQuery, state: FSMContext, **ctx: Any) -> None:
    draft = await load(state)
    if draft is None or draft.proposal_id is not None:
        await call.answer()
        return
    draft.anonymous = not draft.anonymous
    await save(state, draft)
    await call.answer()
    await clear_buttons(call)
    await show_preview(
        pressed(call),
        state,
        draft,
        ctx["member"],
        ctx["session"],
        ctx["app"],
        ctx["clock"],
        ctx["_"],
    )


@router.callback_query(ProposeCb.filter(F.action == "send"), StateFilter(Proposing.preview))
async def send(
    call: CallbackQuery,
    state: FSMContext,
    member: Member | None,
    session: AsyncSession,
    app: App,
    clock: Clock,
    _: Gettext,
) -> None:
    """Check everything again as it stands now, then open the round."""
    draft = await load(state)
    if draft is None or member is None:
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    refused = check_draft(draft, clock.now())
    if refused is None and draft.proposal_id is not None:
        proposal = await get_proposal(session, draft.proposal_id)
        refused = await check_amendment(session, member, proposal, draft.after_round or 0)
    elif refused is None and not await may_propose(session, member, draft.group_id or NETWORK):
        await call.answer(_("Only the coordinators of this group can do this."), show_alert=True)
        return
    if refused is not None:
        await call.answer(refusal(refused, _), show_alert=True)
        return
    round_ = await open_round(session, app, draft, member, clock.now())
    await state.clear()
    await call.answer()
    await clear_buttons(call)
    await pressed(call).answer(
        _("Sent: round {number} is open. You will see the objections when it closes.").format(
            number=round_.number
        ),
        reply_markup=close_now_keyboard(round_, _),
    )


@router.callback_query(ProposeCb.filter(F.action == "cancel"))
async def cancel(call: CallbackQuery, state: FSMContext, _: Gettext) -> None:
    await call.answer()
    await clear_buttons(call)
    await state.clear()
    await pressed(call).answer(_("Cancelled: nothing was sent."))


@router.callback_query(ProposeCb.filter())
async def stale(call: CallbackQuery, _: Gettext) -> None:
    """A button of a conversation that is over."""
    await call.answer(
        _("This conversation is over. Send /propose to start again."), show_alert=True
    )
