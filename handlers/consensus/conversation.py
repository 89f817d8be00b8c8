"""The plumbing the proposal conversation shares: its states, the draft in the FSM data, and
the screen each step shows (a new proposal and an amendment walk the same steps)."""

from __future__ import annotations

import copy
from collections.abc import Callable

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.consensus.jobs import group_name
from bot.consensus.service import Draft, poll_draft
from bot.consensus.views import (
    cancel_keyboard,
    closing_keyboard,
    preview_keyboard,
    quorum_keyboard,
    round_text,
    versions_keyboard,
    versions_text,
)
from bot.core.app import App
from bot.core.clock import Clock
from bot.core.i18n import format_when
from handlers.ui import AnyMessage
from models.consensus import Proposal, Round
from models.member import Member
from models.poll import audience_count

Gettext = Callable[..., str]


class Proposing(StatesGroup):
    """The steps that wait for something typed (the others wait for taps)."""

    title = State()
    text = State()
    versions = State()
    version = State()
    quorum = State()
    closing = State()
    preview = State()


async def load(state: FSMContext) -> Draft | None:
    """The draft being written, or None when the conversation is over."""
    data = await state.get_data()
    # A deep copy: editing the stored JSON in place would hide the change from the store.
    return Draft.from_json(copy.deepcopy(data["draft"])) if data.get("draft") else None


async def save(state: FSMContext, draft: Draft) -> None:
    await state.update_data(draft=draft.to_json())


async def ask_title(message: AnyMessage, state: FSMContext, _: Gettext) -> None:
    await state.set_state(Proposing.title)
    await message.answer(
        _("🤝 <b>New proposal</b>\n\nSend its title (one line)."), reply_markup=cancel_keyboard(_)
    )


async def ask_text(message: AnyMessage, state: FSMContext, draft: Draft, _: Gettext) -> None:
    await state.set_state(Proposing.text)
    if draft.proposal_id is None:
        text = _("Now send the text of the proposal, as members will read it.")
    else:
        text = _(
            "✏️ Send the amended text of “{title}”. Members will see what changed and the "
            "objections it answers. The current text is below."
        ).format(title=draft.title)
    await message.answer(text, reply_markup=cancel_keyboard(_))
    if draft.proposal_id is not None:
        await message.answer(draft.text)


async def show_versions(message: AnyMessage, state: FSMContext, draft: Draft, _: Gettext) -> None:
    await state.set_state(Proposing.versions)
    await message.answer(versions_text(draft, _), reply_markup=versions_keyboard(draft, _))


async def show_quorum(message: AnyMessage, state: FSMContext, _: Gettext) -> None:
    await state.set_state(Proposing.quorum)
    await message.answer(
        _(
            "Quorum: what share of the group must take part for a decision? "
            "Half is the usual choice."
        ),
        reply_markup=quorum_keyboard(_),
    )


async def show_closing(message: AnyMessage, state: FSMContext, _: Gettext) -> None:
    await state.set_state(Proposing.closing)
    await message.answer(
        _("When does this round close? Tap a choice, or type a date and time in your zone."),
        reply_markup=closing_keyboard(_),
    )


async def show_preview(
    message: AnyMessage,
    state: FSMContext,
    draft: Draft,
    member: Member,
    session: AsyncSession,
    app: App,
    clock: Clock,
    _: Gettext,
) -> None:
    """Exactly what members will receive, and how many will."""
    await state.set_state(Proposing.preview)
    existing = await session.get(Proposal, draft.proposal_id) if draft.proposal_id else None
    proposal = existing or Proposal(id=0, group_id=draft.group_id or None, quorum=draft.quorum)
    number = len(existing.rounds) + 1 if existing else 1
    closing = draft.closing
    assert closing is not None
    round_ = Round(number=number, title=draft.title, text=draft.text, versions=draft.versions)
    previous = existing.last_round if existing else None
    name = await group_name(session, proposal, member.locale, app.settings.default_locale)
    text = round_text(proposal, round_, name, member.locale, _, previous=previous)
    poll = poll_draft(draft, proposal.group_id).build(None, clock.now())
    audience = await audience_count(session, poll)
    when = format_when(closing, member.tz, member.locale)
    await message.answer(_("👀 <b>Preview</b>: this is what members receive."))
    await message.answer(text)
    if draft.attachment and draft.attachment_kind == "voice":
        await message.answer_voice(draft.attachment)
    elif draft.attachment:
        await message.answer_document(draft.attachment)
    summary = (
        _("Closes: {when}").format(when=when)
        + "\n"
        + (_("🔒 Secret ballot") if draft.anonymous else _("👤 Named vote"))
    )
    await message.answer(summary, reply_markup=preview_keyboard(draft, audience, _))
