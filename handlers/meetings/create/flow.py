"""What every step of the new-meeting conversation shares: starting it, asking the next
question, Back and Cancel, and answers that belong to no step.

Every step is a state; `steps` in the FSM data is the path walked so far, so Back returns to
the previous question with the answers kept. Buttons carry their step, and `Tap` takes a button
only while its step is the current one, so a button of an earlier question cannot act on a
later one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiogram import F
from aiogram.filters import Command, Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.config import Settings
from bot.meetings.callbacks import MeetingCb, NewCb
from bot.meetings.drafts import new_draft
from bot.meetings.questions import QUESTIONS
from handlers.meetings.access import meeting_router
from handlers.ui import AnyMessage, clear_buttons, pressed
from models.meeting import schedulable_groups
from models.member import Member

router = meeting_router(__name__)
fallback = meeting_router(f"{__name__}.fallback")
Gettext = Callable[..., str]


class NewMeeting(StatesGroup):
    """One state per question."""

    group = State()
    title = State()
    agenda = State()
    languages = State()
    tr_title = State()
    tr_agenda = State()
    mode = State()
    when = State()
    slots = State()
    zone = State()
    duration = State()
    link = State()
    place = State()
    reminders = State()
    preview = State()


TEXT_STEPS = frozenset(
    {"title", "agenda", "tr_title", "tr_agenda", "when", "slots", "zone", "link", "place"}
)


@dataclass
class Flow:
    """What every step needs: the conversation's state and the update's context."""

    state: FSMContext
    member: Member
    session: AsyncSession
    _: Gettext
    clock: Clock
    settings: Settings

    @classmethod
    def of(cls, ctx: dict[str, Any]) -> Flow:
        return cls(
            ctx["state"], ctx["member"], ctx["session"], ctx["_"], ctx["clock"], ctx["settings"]
        )

    @property
    def locale(self) -> str:
        return str(self.member.locale)


class Tap(Filter):
    """A button of this conversation: `action`, on one of `steps` (any step if none), pressed
    while its own step is the current one."""

    def __init__(self, action: str, *steps: str) -> None:
        rule = F.action == action
        self.button = NewCb.filter(rule & F.step.in_(steps) if steps else rule)

    async def __call__(
        self, call: CallbackQuery, raw_state: str | None = None
    ) -> bool | dict[str, Any]:
        found = await self.button(call)
        if not found or raw_state != f"{NewMeeting.__name__}:{found['callback_data'].step}":
            return False
        return found


def tapped(call: CallbackQuery) -> AnyMessage:
    """The message whose button was tapped (the conversation goes on below it)."""
    return pressed(call)


async def ask(message: AnyMessage, f: Flow, step: str) -> None:
    """Put the conversation on `step` and ask its question."""
    await f.state.set_state(getattr(NewMeeting, step))
    data = await f.state.get_data()
    text, markup = await QUESTIONS[step](f, data)
    await message.answer(text, reply_markup=markup)


async def goto(message: AnyMessage, f: Flow, step: str) -> None:
    """Go forward to `step`."""
    data = await f.state.get_data()
    await f.state.update_data(steps=[*data.get("steps", []), step])
    await ask(message, f, step)


async def advance(call: CallbackQuery, f: Flow, step: str, **answers: Any) -> None:
    """A tap answered the question: keep `answers`, then go forward to `step`."""
    await call.answer()
    await clear_buttons(call)
    if answers:
        await f.state.update_data(**answers)
    await goto(tapped(call), f, step)


async def current_step(state: FSMContext) -> str | None:
    """The step the conversation is on, if it is this conversation."""
    name = await state.get_state()
    if not name or not name.startswith(f"{NewMeeting.__name__}:"):
        return None
    return name.split(":", 1)[1]


async def store_text(f: Flow, locale: str | None, field: str, value: str) -> None:
    """Keep a title or agenda for one language (the draft's own when `locale` is None)."""
    data = await f.state.get_data()
    texts = {code: dict(text) for code, text in data["texts"].items()}
    code = locale or data["locale"]
    texts.setdefault(code, {"title": "", "agenda": ""})[field] = value
    await f.state.update_data(texts=texts)


async def start(message: AnyMessage, f: Flow) -> None:
    """Begin a new draft, or refuse members who may not schedule."""
    groups = await schedulable_groups(f.session, f.member)
    await f.state.set_state(None)
    if not groups and not f.member.is_admin:
        await message.answer(
            f._(
                "Only the coordinators of a working group and network admins can schedule "
                "meetings. Ask your group's coordinator if you would like to propose one."
            )
        )
        return
    only = groups[0].id if len(groups) == 1 and not f.member.is_admin else None
    draft = new_draft(f.member, only)
    await f.state.set_data(draft)
    await goto(message, f, "title" if "group" in draft else "group")


@router.message(Command("newmeeting"))
async def new_meeting_command(message: Message, **ctx: Any) -> None:
    """/newmeeting starts a draft."""
    await start(message, Flow.of(ctx))


@router.callback_query(MeetingCb.filter(F.action == "new"))
async def new_meeting_button(call: CallbackQuery, **ctx: Any) -> None:
    """➕ New meeting in /meetings starts a draft."""
    await call.answer()
    await start(tapped(call), Flow.of(ctx))


@router.message(StateFilter(NewMeeting), F.text.startswith("/"))
async def command_in_draft(message: Message, _: Gettext) -> None:
    """A command no other handler took: the draft waits for its answer."""
    await message.answer(
        _("You are preparing a meeting. Send what is asked, or tap Cancel to stop.")
    )


@router.callback_query(Tap("back"))
async def back(call: CallbackQuery, **ctx: Any) -> None:
    """Return to the previous question; answers given so far are kept."""
    f = Flow.of(ctx)
    await call.answer()
    await clear_buttons(call)
    data = await f.state.get_data()
    steps = list(data.get("steps", []))
    if len(steps) > 1:
        steps.pop()
    await f.state.update_data(steps=steps)
    await ask(tapped(call), f, steps[-1])


@router.callback_query(Tap("cancel"))
async def cancel(call: CallbackQuery, state: FSMContext, _: Gettext) -> None:
    """Drop the draft; nothing was stored or sent."""
    await call.answer()
    await clear_buttons(call)
    await state.clear()
    await tapped(call).answer(_("Cancelled: nothing was sent. /meetings shows your meetings."))


@fallback.callback_query(NewCb.filter())
async def stale_button(call: CallbackQuery, _: Gettext) -> None:
    """A button of an earlier question, of a finished draft, or forged."""
    await call.answer(_("This button is no longer valid."), show_alert=True)


async def use_the_buttons(message: Message, f: Flow) -> None:
    """Something typed or sent where a button is expected: say so and ask again."""
    step = await current_step(f.state)
    assert step is not None
    await message.answer(f._("Please use the buttons."))
    await ask(message, f, step)


@fallback.message(StateFilter(NewMeeting), F.text)
async def text_for_buttons(message: Message, **ctx: Any) -> None:
    """Typed text on a step that takes a tap (every typed step has its handler)."""
    await use_the_buttons(message, Flow.of(ctx))


@fallback.message(StateFilter(NewMeeting))
async def not_text(message: Message, **ctx: Any) -> None:
    """Stickers, photos and files during the conversation."""
    f = Flow.of(ctx)
    step = await current_step(f.state)
    assert step is not None
    if step in TEXT_STEPS:
        await message.answer(f._("Please send it as a text message."))
    else:
        await use_the_buttons(message, f)
