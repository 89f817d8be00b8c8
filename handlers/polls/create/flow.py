"""The plumbing every step of the creation conversation shares: its states, the `Step` each
handler receives, and moving between steps (forward, Back, or the same question again)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiogram import BaseMiddleware, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InaccessibleMessage, Message, TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.app import App
from bot.core.clock import Clock
from bot.core.i18n import format_when
from bot.polls import screens
from bot.polls.messages import PollMessage
from bot.polls.screens import Drafting
from bot.polls.service import Draft
from handlers.ui import AnyMessage, clear_buttons, pressed
from models.member import Member

Gettext = Callable[..., str]
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class PollCreate(StatesGroup):
    """One state per step; the draft lives in the FSM data and survives restarts."""

    question = State()
    kind = State()
    options = State()
    secrecy = State()
    audience = State()
    region = State()
    closing = State()
    reminder = State()
    results = State()
    share = State()
    translations = State()
    tr_question = State()
    tr_options = State()
    voice = State()
    preview = State()


# Every step by the name the Back trail remembers: its state and what it shows.
STEPS: dict[str, tuple[State, Callable[[Drafting], Awaitable[list[PollMessage]]]]] = {
    "question": (PollCreate.question, screens.question),
    "kind": (PollCreate.kind, screens.kind),
    "options": (PollCreate.options, screens.options),
    "secrecy": (PollCreate.secrecy, screens.secrecy),
    "audience": (PollCreate.audience, screens.audience),
    "region": (PollCreate.region, screens.region),
    "closing": (PollCreate.closing, screens.closing),
    "reminder": (PollCreate.reminder, screens.reminder),
    "results": (PollCreate.results, screens.results),
    "share": (PollCreate.share, screens.share),
    "translations": (PollCreate.translations, screens.translations),
    "tr_question": (PollCreate.tr_question, screens.tr_question),
    "tr_options": (PollCreate.tr_options, screens.tr_options),
    "voice": (PollCreate.voice, screens.voice),
    "preview": (PollCreate.preview, screens.preview),
}


@dataclass
class Step:
    """What every step needs: where to write, the conversation, the coordinator, the tools."""

    message: AnyMessage
    state: FSMContext
    member: Member
    session: AsyncSession
    _: Gettext
    clock: Clock
    app: App

    async def draft(self) -> Draft:
        data = await self.state.get_data()
        return Draft.from_json(data.get("draft") or {"locale": self.member.locale})

    async def save(self, draft: Draft) -> None:
        await self.state.update_data(draft=draft.to_json())

    def when(self, moment: datetime) -> str:
        return format_when(moment, self.member.tz, self.member.locale, "full")

    async def show(self, name: str, preview_locale: str | None = None) -> None:
        """Ask a step's question (the preview in `preview_locale`, else in the draft's)."""
        state, draw = STEPS[name]
        await self.state.set_state(state)
        draft = await self.draft()
        if state == PollCreate.preview:
            preview_locale = preview_locale or draft.locale
            await self.state.update_data(preview_locale=preview_locale)
        for screen in await draw(await self.drafting(draft, preview_locale or "")):
            if screen.voice:
                await self.message.answer_voice(screen.voice)
            await self.message.answer(screen.text, reply_markup=screen.markup)

    async def drafting(self, draft: Draft, preview_locale: str = "") -> Drafting:
        """What the screens are drawn from."""
        data = await self.state.get_data()
        return Drafting(
            draft=draft,
            member=self.member,
            session=self.session,
            _=self._,
            now=self.clock.now(),
            default_locale=self.app.settings.default_locale,
            i18n=self.app.i18n,
            tr_locale=str(data.get("tr_locale")),
            preview_locale=preview_locale,
        )

    async def go(self, name: str) -> None:
        """Move forward to a step (remembered for Back) and ask its question."""
        trail = await self.trail()
        if not trail or trail[-1] != name:
            trail.append(name)
        await self.state.update_data(trail=trail)
        await self.show(name)

    async def back_to(self, name: str) -> None:
        """Return to an earlier step, forgetting the ones after it."""
        trail = await self.trail()
        while trail and trail[-1] != name:
            trail.pop()
        await self.state.update_data(trail=trail or [name])
        await self.show(name)

    async def back(self) -> None:
        """One step back (the first step stays where it is)."""
        trail = await self.trail() or ["question"]
        if len(trail) > 1:
            trail.pop()
        await self.state.update_data(trail=trail)
        await self.show(trail[-1])

    async def again(self) -> None:
        """Repeat the current step's question."""
        trail = await self.trail() or ["question"]
        await self.show(trail[-1])

    async def trail(self) -> list[str]:
        data = await self.state.get_data()
        return list(data.get("trail") or [])


async def accept(call: CallbackQuery) -> None:
    """A tap that moves the conversation on: answer it and retire the pressed buttons."""
    await call.answer()
    await clear_buttons(call)


async def decide(call: CallbackQuery, step: Step, field: str, value: bool, following: str) -> None:
    """A two-way choice (secret ballot, live results, sharing them): store it and move on."""
    await accept(call)
    draft = await step.draft()
    setattr(draft, field, value)
    await step.save(draft)
    await step.go(following)


class StepMiddleware(BaseMiddleware):
    """Give each step handler its `Step`. A conversation whose author is no longer a member
    (erased since) ends quietly."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        member: Member | None = data.get("member")
        message = pressed(event) if isinstance(event, CallbackQuery) else event
        state: FSMContext = data["state"]
        if member is None or not isinstance(message, Message | InaccessibleMessage):
            if isinstance(event, CallbackQuery):
                await event.answer()
            if member is None:
                await state.clear()
            return None
        data["step"] = Step(
            message, state, member, data["session"], data["_"], data["clock"], data["app"]
        )
        return await handler(event, data)


def step_router(name: str) -> Router:
    """A router for steps of the conversation: private chats, each handler given its `Step`."""
    router = Router(name=name)
    router.message.filter(F.chat.type == "private")
    router.callback_query.filter(F.message.chat.type == "private")
    router.message.middleware(StepMiddleware())
    router.callback_query.middleware(StepMiddleware())
    return router
