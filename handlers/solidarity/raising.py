"""Raise a case: a guided conversation with Back and Cancel, a preview, and submit (the
admins are told; nothing goes to members yet).

`steps` in the FSM data is the path walked so far; a button carries its step and is taken only
while that step is the current one, so an earlier question's button cannot act on a later one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram import F
from aiogram.filters import Command, Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import geo
from bot.solidarity.callbacks import RaiseCb, SolidarityCb
from bot.solidarity.questions import QUESTIONS, country_matches
from bot.solidarity.service import AFFECTED, ASKS, MAX_NAME, MAX_TEXT, new_draft, submit
from handlers.solidarity.access import solidarity_router, tapped
from handlers.ui import AnyMessage, clean_text, clear_buttons, show
from models.member import Member

router = solidarity_router(__name__)
fallback = solidarity_router(f"{__name__}.fallback")
Gettext = Callable[..., str]


class RaiseCase(StatesGroup):
    """One state per question."""

    what = State()
    country = State()
    affected = State()
    name = State()
    urgency = State()
    asks = State()
    share = State()
    preview = State()


class Tap(Filter):
    """A button of this conversation, pressed while its own step is the current one."""

    def __init__(self, action: str, *steps: str) -> None:
        rule = F.action == action
        self.button = RaiseCb.filter(rule & F.step.in_(steps) if steps else rule)

    async def __call__(
        self, call: CallbackQuery, raw_state: str | None = None
    ) -> bool | dict[str, Any]:
        found = await self.button(call)
        if not found or raw_state != f"{RaiseCase.__name__}:{found['callback_data'].step}":
            return False
        return found


async def ask(message: AnyMessage, state: FSMContext, _: Gettext, step: str) -> None:
    """Put the conversation on `step` and ask its question."""
    await state.set_state(getattr(RaiseCase, step))
    text, markup = QUESTIONS[step](await state.get_data(), _)
    await message.answer(text, reply_markup=markup)


async def goto(
    message: AnyMessage, state: FSMContext, _: Gettext, step: str, **answers: Any
) -> None:
    """Keep `answers` and go forward to `step`."""
    data = await state.get_data()
    await state.update_data(steps=[*data.get("steps", []), step], **answers)
    await ask(message, state, _, step)


async def advance(
    call: CallbackQuery, state: FSMContext, _: Gettext, step: str, **answers: Any
) -> None:
    """A tap answered the question: go forward."""
    await call.answer()
    await clear_buttons(call)
    await goto(tapped(call), state, _, step, **answers)


async def redraw(call: CallbackQuery, state: FSMContext, _: Gettext, **answers: Any) -> None:
    """A toggle changed: show the same question with its new marks."""
    await call.answer()
    await state.update_data(**answers)
    step = (await state.get_state() or ":").split(":", 1)[1]
    text, markup = QUESTIONS[step](await state.get_data(), _)
    await show(tapped(call), text, markup)


async def start(message: AnyMessage, state: FSMContext, member: Member, _: Gettext) -> None:
    """Begin a new case."""
    await state.set_data(new_draft(member))
    await goto(message, state, _, "what")


@router.message(Command("raisecase"))
async def raise_command(message: Message, state: FSMContext, member: Member, _: Gettext) -> None:
    """/raisecase starts a case."""
    await start(message, state, member, _)


@router.callback_query(SolidarityCb.filter(F.action == "raise"))
async def raise_button(call: CallbackQuery, state: FSMContext, member: Member, _: Gettext) -> None:
    """➕ in /solidarity starts a case."""
    await call.answer()
    await start(tapped(call), state, member, _)


@router.message(StateFilter(RaiseCase.what), F.text, ~F.text.startswith("/"))
async def typed_what(message: Message, state: FSMContext, _: Gettext) -> None:
    """What happened, as text."""
    text = (message.text or "").strip()
    if not text or len(text) > MAX_TEXT:
        await message.answer(_("Please send 1 to {limit} characters.").format(limit=MAX_TEXT))
        return
    await state.update_data(text=text)
    await ask(message, state, _, "what")


@router.message(StateFilter(RaiseCase.what), F.voice)
async def voice_what(message: Message, state: FSMContext, _: Gettext) -> None:
    """What happened, as a voice note."""
    assert message.voice is not None
    await state.update_data(voice=message.voice.file_id)
    await ask(message, state, _, "what")


@router.callback_query(Tap("next", "what"))
async def what_done(call: CallbackQuery, state: FSMContext, _: Gettext) -> None:
    """On to where."""
    await advance(call, state, _, "country", matches=[])


@router.message(StateFilter(RaiseCase.country), F.text, ~F.text.startswith("/"))
async def typed_country(message: Message, state: FSMContext, member: Member, _: Gettext) -> None:
    """A country's name: offer the matches as buttons."""
    matches = country_matches(message.text or "", member.locale)
    if not matches:
        await message.answer(_("No country matches that. Please try another spelling."))
        return
    await state.update_data(matches=[list(m) for m in matches])
    await ask(message, state, _, "country")


@router.callback_query(Tap("pick", "country"))
async def pick_country(
    call: CallbackQuery, callback_data: RaiseCb, state: FSMContext, _: Gettext
) -> None:
    """The country (checked against the country list)."""
    if callback_data.value not in geo.country_codes():
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await advance(call, state, _, "affected", country=callback_data.value)


@router.callback_query(Tap("pick", "affected"))
async def pick_affected(
    call: CallbackQuery, callback_data: RaiseCb, state: FSMContext, _: Gettext
) -> None:
    """A defender, an organisation or a community."""
    if callback_data.value not in AFFECTED:
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await advance(call, state, _, "name", affected=callback_data.value)


@router.message(StateFilter(RaiseCase.name), F.text, ~F.text.startswith("/"))
async def typed_name(message: Message, state: FSMContext, _: Gettext) -> None:
    """The affected person's or organisation's name."""
    name = clean_text(message.text or "", MAX_NAME)
    if name is None:
        await message.answer(_("Please send 1 to {limit} characters.").format(limit=MAX_NAME))
        return
    await goto(message, state, _, "urgency", name=name)


@router.callback_query(Tap("skip", "name"))
async def skip_name(call: CallbackQuery, state: FSMContext, _: Gettext) -> None:
    """No name."""
    await advance(call, state, _, "urgency", name=None, share_affected=False)


@router.callback_query(Tap("pick", "urgency"))
async def pick_urgency(
    call: CallbackQuery, callback_data: RaiseCb, state: FSMContext, _: Gettext
) -> None:
    """Urgent or ongoing."""
    await advance(call, state, _, "asks", urgent=callback_data.value == "urgent")


@router.callback_query(Tap("toggle", "asks"))
async def toggle_ask(
    call: CallbackQuery, callback_data: RaiseCb, state: FSMContext, _: Gettext
) -> None:
    """Add or remove one thing asked of members."""
    chosen = list((await state.get_data()).get("asks", []))
    value = callback_data.value
    if value not in ASKS:
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    chosen = [a for a in chosen if a != value] if value in chosen else [*chosen, value]
    await redraw(call, state, _, asks=chosen)


@router.callback_query(Tap("next", "asks"))
async def asks_done(call: CallbackQuery, state: FSMContext, _: Gettext) -> None:
    """On to what may be shared."""
    await advance(call, state, _, "share")


@router.callback_query(Tap("toggle", "share"))
async def toggle_share(
    call: CallbackQuery, callback_data: RaiseCb, state: FSMContext, _: Gettext
) -> None:
    """Show or hide the reporter's or the affected name to members."""
    data = await state.get_data()
    key = {"reporter": "share_reporter", "affected": "share_affected"}.get(callback_data.value)
    if key is None:
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await redraw(call, state, _, **{key: not data.get(key)})


@router.callback_query(Tap("next", "share"))
async def share_done(call: CallbackQuery, state: FSMContext, _: Gettext) -> None:
    """On to the preview."""
    await advance(call, state, _, "preview")


@router.callback_query(Tap("submit", "preview"))
async def submit_case(
    call: CallbackQuery, state: FSMContext, member: Member, session: AsyncSession, _: Gettext
) -> None:
    """Store the case and tell the admins; the reporter hears what happens next."""
    draft = await state.get_data()
    await call.answer()
    await clear_buttons(call)
    await state.clear()
    case = await submit(session, draft, member)
    await tapped(call).answer(
        _(
            "Thank you. Case #{id} was sent to the network's secretariat, who will review it "
            "and may ask you questions here. Nothing has gone to members yet."
        ).format(id=case.id)
    )


@router.callback_query(Tap("back"))
async def back(call: CallbackQuery, state: FSMContext, _: Gettext) -> None:
    """Return to the previous question; answers so far are kept."""
    await call.answer()
    await clear_buttons(call)
    steps = list((await state.get_data()).get("steps", []))
    if len(steps) > 1:
        steps.pop()
    await state.update_data(steps=steps)
    await ask(tapped(call), state, _, steps[-1])


@router.callback_query(Tap("cancel"))
async def cancel(call: CallbackQuery, state: FSMContext, _: Gettext) -> None:
    """Drop the draft; nothing was stored."""
    await call.answer()
    await clear_buttons(call)
    await state.clear()
    await tapped(call).answer(_("Cancelled: nothing was stored or sent."))


@fallback.callback_query(RaiseCb.filter())
async def stale_button(call: CallbackQuery, _: Gettext) -> None:
    """A button of an earlier question, of a finished draft, or forged."""
    await call.answer(_("This button is no longer valid."), show_alert=True)


@fallback.message(StateFilter(RaiseCase))
async def unexpected(message: Message, state: FSMContext, _: Gettext) -> None:
    """Anything the current step does not take: say so and ask again."""
    step = (await state.get_state() or ":").split(":", 1)[1]
    await message.answer(_("You are raising a case. Answer the question, or tap Cancel."))
    await ask(message, state, _, step)
