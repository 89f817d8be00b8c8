"""The coordinator's guided conversation for a new consultation: one question per step, Back and
Cancel everywhere, and a preview exactly as members will see it before anything is sent."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import geo
from bot.app import App
from bot.clock import Clock
from bot.i18n import LANGUAGE_NAMES, format_when, zone_name
from bot.poll_jobs import launch_poll
from bot.poll_time import TimeProblem, check_closing, parse_closing, quick_closing
from bot.poll_views import (
    NewPollCb,
    audience_text,
    kind_name,
    poll_keyboard,
    poll_text,
    region_label,
)
from bot.polls import (
    MAX_OPTION,
    MAX_OPTIONS,
    MAX_QUESTION,
    MIN_OPTIONS,
    Draft,
    Problem,
    can_create,
    check_options,
    clean_question,
    coordinated_groups,
    parse_options,
    parse_translated_options,
    save_poll,
)
from handlers.ui import clear_buttons
from models.group import WorkingGroup
from models.member import Member
from models.poll import Audience, Poll, PollKind, audience_filter

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")
Gettext = Callable[..., str]
REMINDER_HOURS = (24, 3)


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


@dataclass
class Step:
    """What every step needs: where to write, the conversation, the coordinator, the tools."""

    message: Message
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


def nav(kb: InlineKeyboardBuilder, _: Gettext, *, back: bool = True) -> InlineKeyboardMarkup:
    """Append the Back / Cancel row every step has, and build the markup."""
    rows = kb.export()
    row = InlineKeyboardBuilder()
    if back:
        row.button(text=_("◀ Back"), callback_data=NewPollCb(action="back"))
    row.button(text=_("✖ Cancel"), callback_data=NewPollCb(action="cancel"))
    built = InlineKeyboardBuilder.from_markup(InlineKeyboardMarkup(inline_keyboard=rows))
    built.attach(row)
    return built.as_markup()


def single(kb: InlineKeyboardBuilder) -> InlineKeyboardBuilder:
    """One button per row."""
    kb.adjust(1)
    return kb


async def audience_size(session: AsyncSession, poll: Poll) -> int:
    """How many members the poll would reach now."""
    return int(
        await session.scalar(select(func.count()).select_from(Member).where(audience_filter(poll)))
        or 0
    )


# --- the steps ----------------------------------------------------------------------------------


async def ask_question(step: Step) -> None:
    draft, _ = await step.draft(), step._
    await step.state.set_state(PollCreate.question)
    kb = InlineKeyboardBuilder()
    text = _(
        "🗳 <b>New consultation</b>\n\nSend the question as members will read it "
        "(up to {limit} characters), in {language}. You can add other languages later."
    ).format(limit=MAX_QUESTION, language=LANGUAGE_NAMES.get(draft.locale, draft.locale))
    if draft.question:
        text += "\n\n" + _("Now: {question}").format(question=html.escape(draft.question))
        kb.button(text=_("Keep it"), callback_data=NewPollCb(action="keep"))
    await step.message.answer(text, reply_markup=nav(single(kb), _, back=False))


async def ask_kind(step: Step) -> None:
    _ = step._
    await step.state.set_state(PollCreate.kind)
    kb = InlineKeyboardBuilder()
    for kind in PollKind:
        kb.button(text=kind_name(kind, _), callback_data=NewPollCb(action="kind", value=kind))
    await step.message.answer(
        _("What kind of answer do you ask for?"), reply_markup=nav(single(kb), _)
    )


async def ask_options(step: Step) -> None:
    draft, _ = await step.draft(), step._
    await step.state.set_state(PollCreate.options)
    lines = [
        _(
            "Send the answers members can choose, one per line ({low} to {high}, up to {limit} "
            "characters each, so they fit on a button). You can send them in several messages."
        ).format(low=MIN_OPTIONS, high=MAX_OPTIONS, limit=MAX_OPTION)
    ]
    kb = InlineKeyboardBuilder()
    if draft.options:
        lines.append("")
        lines.append(_("<b>Answers so far</b>"))
        lines.extend(f"{i}. {html.escape(o)}" for i, o in enumerate(draft.options, start=1))
        if len(draft.options) >= MIN_OPTIONS:
            kb.button(text=_("✅ Done"), callback_data=NewPollCb(action="optdone"))
        kb.button(text=_("↩ Remove the last one"), callback_data=NewPollCb(action="optundo"))
    await step.message.answer("\n".join(lines), reply_markup=nav(single(kb), _))


async def ask_secrecy(step: Step) -> None:
    _ = step._
    await step.state.set_state(PollCreate.secrecy)
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🔒 Secret ballot"), callback_data=NewPollCb(action="secret", value="1"))
    kb.button(text=_("👤 Named"), callback_data=NewPollCb(action="secret", value="0"))
    await step.message.answer(
        _(
            "<b>Secret ballot</b>: no one, not even you or the admins, can see who answered what; "
            "answers cannot be changed.\n<b>Named</b>: you see each member's answer; they can "
            "change it until the close."
        ),
        reply_markup=nav(single(kb), _),
    )


async def audience_keyboard(step: Step, draft: Draft) -> InlineKeyboardMarkup:
    """Group toggles (and, for admins, the whole network or a region)."""
    _ = step._
    kb = InlineKeyboardBuilder()
    if step.member.is_admin:
        kb.button(text=_("🌍 Whole network"), callback_data=NewPollCb(action="net"))
        kb.button(text=_("🗺 A region…"), callback_data=NewPollCb(action="reg"))
    default = step.app.settings.default_locale
    for group in await coordinated_groups(step.session, step.member):
        ticked = draft.audience == Audience.GROUPS and group.id in draft.group_ids
        name = group.text(step.member.locale, default)[0]
        kb.button(
            text=("☑ " if ticked else "☐ ") + name,
            callback_data=NewPollCb(action="grp", value=str(group.id)),
        )
    if draft.audience == Audience.GROUPS and draft.group_ids:
        kb.button(text=_("Next ▶"), callback_data=NewPollCb(action="audok"))
    return nav(single(kb), _)


async def ask_audience(step: Step) -> None:
    draft, _ = await step.draft(), step._
    await step.state.set_state(PollCreate.audience)
    if step.member.is_admin:
        text = _(
            "Who is this consultation for? Tick one or more working groups, or choose "
            "the whole network or a region."
        )
    else:
        text = _("Which of your working groups is this consultation for? Tick one or more.")
    await step.message.answer(text, reply_markup=await audience_keyboard(step, draft))


async def ask_region(step: Step) -> None:
    _ = step._
    await step.state.set_state(PollCreate.region)
    kb = InlineKeyboardBuilder()
    for code in geo.REGIONS:
        kb.button(
            text=geo.region_name(code, step.member.locale),
            callback_data=NewPollCb(action="region", value=code),
        )
    await step.message.answer(_("Which region?"), reply_markup=nav(single(kb), _))


async def ask_closing(step: Step) -> None:
    draft, _ = await step.draft(), step._
    await step.state.set_state(PollCreate.closing)
    kb = InlineKeyboardBuilder()
    for value, label in (
        ("1d", _("In 1 day")),
        ("3d", _("In 3 days")),
        ("1w", _("In 1 week")),
    ):
        kb.button(text=label, callback_data=NewPollCb(action="quick", value=value))
    kb.adjust(3)
    text = _(
        "When does it close? Tap a button, or type a date and time in your time zone ({zone}), "
        "for example 2026-12-01 18:00 or 1/12 18:00 (day/month)."
    ).format(zone=zone_name(step.member.tz, step.member.locale))
    if draft.closing:
        text += "\n\n" + _("Now: {when}").format(when=step.when(draft.closing))
        kb.row()
        kb.button(text=_("Keep it"), callback_data=NewPollCb(action="keep"))
    await step.message.answer(text, reply_markup=nav(kb, _))


async def ask_reminder(step: Step) -> None:
    draft, _ = await step.draft(), step._
    await step.state.set_state(PollCreate.reminder)
    closing = draft.closing
    assert closing is not None
    kb = InlineKeyboardBuilder()
    now = step.clock.now()
    for hours in REMINDER_HOURS:
        draft.remind_hours = hours
        moment = draft.remind_at(now)
        if moment is None:
            continue
        label = (
            _("{hours} hours before (recommended)") if hours == 24 else _("{hours} hours before")
        )
        kb.button(
            text=label.format(hours=hours),
            callback_data=NewPollCb(action="remind", value=str(hours)),
        )
    kb.button(text=_("No reminder"), callback_data=NewPollCb(action="remind", value="0"))
    await step.message.answer(
        _("When should members who have not answered get a reminder? It closes {when}.").format(
            when=step.when(closing)
        ),
        reply_markup=nav(single(kb), _),
    )


async def ask_results(step: Step) -> None:
    _ = step._
    await step.state.set_state(PollCreate.results)
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("Only when it closes (recommended)"),
        callback_data=NewPollCb(action="live", value="0"),
    )
    kb.button(
        text=_("Live, once they answered"), callback_data=NewPollCb(action="live", value="1")
    )
    await step.message.answer(
        _("When may members see the results?"), reply_markup=nav(single(kb), _)
    )


async def ask_share(step: Step) -> None:
    _ = step._
    await step.state.set_state(PollCreate.share)
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("Yes, send everyone who answered the results"),
        callback_data=NewPollCb(action="share", value="1"),
    )
    kb.button(text=_("No, only to me"), callback_data=NewPollCb(action="share", value="0"))
    await step.message.answer(
        _("When it closes, should everyone who answered get the results in their language?"),
        reply_markup=nav(single(kb), _),
    )


async def ask_translations(step: Step) -> None:
    draft, _ = await step.draft(), step._
    await step.state.set_state(PollCreate.translations)
    kb = InlineKeyboardBuilder()
    for code in draft.other_locales():
        mark = "✓ " if code in draft.translations else "+ "
        kb.button(
            text=mark + LANGUAGE_NAMES[code], callback_data=NewPollCb(action="lang", value=code)
        )
    kb.adjust(2)
    kb.row()
    kb.button(text=_("Next ▶"), callback_data=NewPollCb(action="trnext"))
    done = [LANGUAGE_NAMES[code] for code in sorted(draft.translations)]
    text = _(
        "Add the question in other languages? Members get the version in their language; the "
        "others get yours ({language})."
    ).format(language=LANGUAGE_NAMES.get(draft.locale, draft.locale))
    if done:
        text += "\n\n" + _("Versions added: {languages}").format(languages=", ".join(done))
    await step.message.answer(text, reply_markup=nav(kb, _))


async def ask_tr_question(step: Step) -> None:
    data = await step.state.get_data()
    _ = step._
    await step.state.set_state(PollCreate.tr_question)
    draft = await step.draft()
    code = str(data.get("tr_locale"))
    await step.message.answer(
        _("Send the question in {language}:\n\n{question}").format(
            language=LANGUAGE_NAMES.get(code, code), question=html.escape(draft.question)
        ),
        reply_markup=nav(InlineKeyboardBuilder(), _),
    )


async def ask_tr_options(step: Step) -> None:
    data = await step.state.get_data()
    _ = step._
    await step.state.set_state(PollCreate.tr_options)
    draft = await step.draft()
    code = str(data.get("tr_locale"))
    listing = "\n".join(f"{i}. {html.escape(o)}" for i, o in enumerate(draft.options, start=1))
    await step.message.answer(
        _(
            "Now the {count} answers in {language}, one per line, in this order:\n\n{answers}"
        ).format(
            count=len(draft.options), language=LANGUAGE_NAMES.get(code, code), answers=listing
        ),
        reply_markup=nav(InlineKeyboardBuilder(), _),
    )


async def ask_voice(step: Step) -> None:
    draft, _ = await step.draft(), step._
    await step.state.set_state(PollCreate.voice)
    kb = InlineKeyboardBuilder()
    if draft.voice_file_id:
        kb.button(text=_("Keep the voice note"), callback_data=NewPollCb(action="keepvoice"))
        kb.button(text=_("Remove the voice note"), callback_data=NewPollCb(action="novoice"))
    else:
        kb.button(text=_("Skip"), callback_data=NewPollCb(action="novoice"))
    await step.message.answer(
        _(
            "You can add a voice note for members who prefer listening: record it now, "
            "or tap Skip."
        ),
        reply_markup=nav(single(kb), _),
    )


async def ask_preview(step: Step, locale: str | None = None) -> None:
    draft, _ = await step.draft(), step._
    await step.state.set_state(PollCreate.preview)
    locale = locale or draft.locale
    await step.state.update_data(preview_locale=locale)
    now = step.clock.now()
    poll = draft.build(step.member.id, now)
    t = step.app.i18n

    def reader(message: str) -> str:
        return t.gettext(message, locale=locale)

    groups = await preview_group_names(step.session, draft, locale, step.app)
    audience = audience_text(poll, groups, locale, reader)
    await step.message.answer(
        _("👁 <b>Preview</b> in {language}: exactly what members will receive.").format(
            language=LANGUAGE_NAMES.get(locale, locale)
        )
    )
    if poll.voice_file_id:
        await step.message.answer_voice(poll.voice_file_id)
    await step.message.answer(
        poll_text(poll, locale, step.member.tz, reader, audience),
        reply_markup=poll_keyboard(poll, locale, reader),
    )
    count = await audience_size(step.session, poll)
    reminder = draft.remind_at(now)
    lines = [
        _("Audience: {audience} (now: {count})").format(
            audience=html.escape(audience_text(poll, groups, step.member.locale, _)), count=count
        ),
        _("Closes: {when}").format(when=step.when(poll.closes_at)),
        _("Reminder: {when}").format(when=step.when(reminder))
        if reminder
        else _("Reminder: none"),
        _("Results for members: {when}").format(
            when=_("live, once they answered") if draft.results_live else _("when it closes")
        ),
        _("Results sent to everyone who answered: {answer}").format(
            answer=_("yes") if draft.share_results else _("no")
        ),
    ]
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("✅ Send to the audience ({count})").format(count=count),
        callback_data=NewPollCb(action="send"),
    )
    for code in [draft.locale, *sorted(draft.translations)]:
        if code != locale:
            kb.button(
                text=_("👁 Preview in {language}").format(language=LANGUAGE_NAMES[code]),
                callback_data=NewPollCb(action="pvlang", value=code),
            )
    await step.message.answer("\n".join(lines), reply_markup=nav(single(kb), _))


async def preview_group_names(
    session: AsyncSession, draft: Draft, locale: str, app: App
) -> list[str]:
    """Names of the chosen groups in the preview's language."""
    if draft.audience != Audience.GROUPS or not draft.group_ids:
        return []
    rows = await session.scalars(
        select(WorkingGroup).where(WorkingGroup.id.in_(draft.group_ids)).order_by(WorkingGroup.id)
    )
    return [group.text(locale, app.settings.default_locale)[0] for group in rows]


ASK: dict[str, Callable[[Step], Awaitable[None]]] = {
    "question": ask_question,
    "kind": ask_kind,
    "options": ask_options,
    "secrecy": ask_secrecy,
    "audience": ask_audience,
    "region": ask_region,
    "closing": ask_closing,
    "reminder": ask_reminder,
    "results": ask_results,
    "share": ask_share,
    "translations": ask_translations,
    "tr_question": ask_tr_question,
    "tr_options": ask_tr_options,
    "voice": ask_voice,
    "preview": ask_preview,
}


async def go(step: Step, name: str) -> None:
    """Move forward to a step (remembered for Back) and ask its question."""
    data = await step.state.get_data()
    trail = list(data.get("trail") or [])
    if not trail or trail[-1] != name:
        trail.append(name)
    await step.state.update_data(trail=trail)
    await ASK[name](step)


async def back_to(step: Step, name: str) -> None:
    """Return to an earlier step, forgetting the ones after it."""
    data = await step.state.get_data()
    trail = list(data.get("trail") or [])
    while trail and trail[-1] != name:
        trail.pop()
    await step.state.update_data(trail=trail or [name])
    await ASK[name](step)


async def ask_again(step: Step) -> None:
    """Repeat the current step's question."""
    data = await step.state.get_data()
    trail = list(data.get("trail") or ["question"])
    await ASK[trail[-1]](step)


# --- entry --------------------------------------------------------------------------------------


def make_step(message: Message, state: FSMContext, member: Member, **ctx: Any) -> Step:
    """A Step from a handler's injected context."""
    return Step(message, state, member, ctx["session"], ctx["_"], ctx["clock"], ctx["app"])


async def begin(message: Message, state: FSMContext, member: Member | None, **ctx: Any) -> None:
    """Start a new draft, if this member may create consultations."""
    _: Gettext = ctx["_"]
    session: AsyncSession = ctx["session"]
    if member is None or not await can_create(session, member):
        await message.answer(
            _("Only working group coordinators and network admins can create consultations.")
        )
        return
    await state.set_state(None)
    await state.set_data({"draft": Draft(locale=member.locale).to_json(), "trail": []})
    await go(make_step(message, state, member, **ctx), "question")


@router.message(Command("newpoll"))
async def new_poll_command(
    message: Message, state: FSMContext, member: Member | None, **ctx: Any
) -> None:
    await begin(message, state, member, **ctx)


@router.callback_query(NewPollCb.filter(F.action == "start"))
async def new_poll_button(
    call: CallbackQuery, state: FSMContext, member: Member | None, **ctx: Any
) -> None:
    assert isinstance(call.message, Message)
    await call.answer()
    await begin(call.message, state, member, **ctx)


# --- navigation ---------------------------------------------------------------------------------


@router.callback_query(NewPollCb.filter(F.action == "cancel"), StateFilter(PollCreate))
async def cancel(call: CallbackQuery, state: FSMContext, _: Gettext) -> None:
    assert isinstance(call.message, Message)
    await call.answer()
    await clear_buttons(call)
    await state.clear()
    await call.message.answer(_("Cancelled: the consultation was not sent."))


@router.callback_query(NewPollCb.filter(F.action == "back"), StateFilter(PollCreate))
async def back(call: CallbackQuery, state: FSMContext, member: Member | None, **ctx: Any) -> None:
    assert isinstance(call.message, Message)
    if member is None:
        await call.answer()
        return
    await call.answer()
    await clear_buttons(call)
    data = await state.get_data()
    trail = list(data.get("trail") or ["question"])
    if len(trail) > 1:
        trail.pop()
    await state.update_data(trail=trail)
    await ASK[trail[-1]](make_step(call.message, state, member, **ctx))


@router.callback_query(NewPollCb.filter(), ~StateFilter(PollCreate))
async def stale(call: CallbackQuery, _: Gettext) -> None:
    """A button of a conversation that is over."""
    await call.answer(
        _("This conversation is over. Send /newpoll to start again."), show_alert=True
    )


# --- answers to each step -----------------------------------------------------------------------


@router.message(StateFilter(PollCreate.question), F.text, ~F.text.startswith("/"))
async def got_question(
    message: Message, state: FSMContext, member: Member | None, **ctx: Any
) -> None:
    if member is None:
        return
    step = make_step(message, state, member, **ctx)
    question = clean_question(message.text or "")
    if question is Problem.TOO_LONG:
        await message.answer(
            step._("That is too long: at most {limit} characters.").format(limit=MAX_QUESTION)
        )
        return
    if not isinstance(question, str):
        await message.answer(step._("Please send the question as text."))
        return
    draft = await step.draft()
    draft.question = question
    await step.save(draft)
    await go(step, "kind")


@router.callback_query(NewPollCb.filter(F.action == "keep"), StateFilter(PollCreate))
async def keep(call: CallbackQuery, state: FSMContext, member: Member | None, **ctx: Any) -> None:
    assert isinstance(call.message, Message)
    await call.answer()
    if member is None:
        return
    await clear_buttons(call)
    step = make_step(call.message, state, member, **ctx)
    current = await state.get_state()
    if current == PollCreate.closing.state:
        await go(step, "reminder")
    else:
        await go(step, "kind")


@router.callback_query(NewPollCb.filter(F.action == "kind"), StateFilter(PollCreate.kind))
async def got_kind(
    call: CallbackQuery,
    callback_data: NewPollCb,
    state: FSMContext,
    member: Member | None,
    **ctx: Any,
) -> None:
    assert isinstance(call.message, Message)
    if member is None or callback_data.value not in set(PollKind):
        await call.answer(ctx["_"]("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await clear_buttons(call)
    step = make_step(call.message, state, member, **ctx)
    draft = await step.draft()
    if draft.kind != callback_data.value:
        draft.translations = {}
    draft.kind = callback_data.value
    await step.save(draft)
    await go(step, "options" if draft.has_own_options else "secrecy")


@router.message(StateFilter(PollCreate.options), F.text, ~F.text.startswith("/"))
async def got_options(
    message: Message, state: FSMContext, member: Member | None, **ctx: Any
) -> None:
    if member is None:
        return
    step = make_step(message, state, member, **ctx)
    _ = step._
    draft = await step.draft()
    options = parse_options(message.text or "", draft.options)
    problems = {
        Problem.TOO_MANY: _("Too many answers: at most {high}. Nothing was added.").format(
            high=MAX_OPTIONS
        ),
        Problem.OPTION_TOO_LONG: _(
            "An answer is too long: at most {limit} characters each, so it fits on a button. "
            "Nothing was added."
        ).format(limit=MAX_OPTION),
        Problem.DUPLICATE: _("That answer is already in the list. Nothing was added."),
        Problem.EMPTY: _("Please send at least one answer."),
    }
    if isinstance(options, Problem):
        await message.answer(problems.get(options, problems[Problem.EMPTY]))
        return
    draft.options = options
    draft.translations = {}
    await step.save(draft)
    await ask_options(step)


@router.callback_query(
    NewPollCb.filter(F.action.in_({"optdone", "optundo"})), StateFilter(PollCreate.options)
)
async def options_buttons(
    call: CallbackQuery,
    callback_data: NewPollCb,
    state: FSMContext,
    member: Member | None,
    **ctx: Any,
) -> None:
    assert isinstance(call.message, Message)
    if member is None:
        await call.answer()
        return
    step = make_step(call.message, state, member, **ctx)
    draft = await step.draft()
    if callback_data.action == "optundo":
        await call.answer()
        await clear_buttons(call)
        draft.options = draft.options[:-1]
        draft.translations = {}
        await step.save(draft)
        await ask_options(step)
        return
    if check_options(draft.options) is not None:
        await call.answer(
            step._("Please give {low} to {high} answers.").format(
                low=MIN_OPTIONS, high=MAX_OPTIONS
            ),
            show_alert=True,
        )
        return
    await call.answer()
    await clear_buttons(call)
    await go(step, "secrecy")


# Two-way choices: the button's action, the step it answers, the draft field, the next step.
YES_NO_STEPS: dict[str, tuple[State, str, str]] = {
    "secret": (PollCreate.secrecy, "anonymous", "audience"),
    "live": (PollCreate.results, "results_live", "share"),
    "share": (PollCreate.share, "share_results", "translations"),
}


@router.callback_query(
    NewPollCb.filter(F.action.in_(set(YES_NO_STEPS))),
    StateFilter(*(step for step, _field, _next in YES_NO_STEPS.values())),
)
async def got_yes_no(
    call: CallbackQuery,
    callback_data: NewPollCb,
    state: FSMContext,
    member: Member | None,
    **ctx: Any,
) -> None:
    """Secret ballot, live results, sharing results: store the choice and move on."""
    assert isinstance(call.message, Message)
    step_state, field, following = YES_NO_STEPS[callback_data.action]
    if await state.get_state() != step_state.state:
        await call.answer(
            ctx["_"]("This button is no longer valid. Send /help to see what you can do."),
            show_alert=True,
        )
        return
    await call.answer()
    if member is None:
        return
    await clear_buttons(call)
    step = make_step(call.message, state, member, **ctx)
    draft = await step.draft()
    setattr(draft, field, callback_data.value == "1")
    await step.save(draft)
    await go(step, following)


@router.callback_query(
    NewPollCb.filter(F.action.in_({"grp", "net", "reg", "audok"})),
    StateFilter(PollCreate.audience),
)
async def got_audience(
    call: CallbackQuery,
    callback_data: NewPollCb,
    state: FSMContext,
    member: Member | None,
    **ctx: Any,
) -> None:
    assert isinstance(call.message, Message)
    if member is None:
        await call.answer()
        return
    step = make_step(call.message, state, member, **ctx)
    _ = step._
    draft = await step.draft()
    action = callback_data.action
    if action in ("net", "reg") and not member.is_admin:
        await call.answer(
            _("Only network admins can consult the whole network or a region."), show_alert=True
        )
        return
    if action == "net":
        draft.audience, draft.group_ids, draft.region = Audience.NETWORK, [], None
        await step.save(draft)
        await call.answer()
        await clear_buttons(call)
        await go(step, "closing")
        return
    if action == "reg":
        await call.answer()
        await clear_buttons(call)
        await go(step, "region")
        return
    if action == "audok":
        if draft.audience != Audience.GROUPS or not draft.group_ids:
            await call.answer(_("Tick at least one working group."), show_alert=True)
            return
        await call.answer()
        await clear_buttons(call)
        await go(step, "closing")
        return
    allowed = {group.id for group in await coordinated_groups(step.session, member)}
    group_id = int(callback_data.value) if callback_data.value.isdigit() else -1
    if group_id not in allowed:
        await call.answer(
            _("You can only consult the working groups you coordinate."), show_alert=True
        )
        return
    await call.answer()
    chosen = set(draft.group_ids) if draft.audience == Audience.GROUPS else set()
    chosen ^= {group_id}
    draft.audience, draft.group_ids, draft.region = Audience.GROUPS, sorted(chosen), None
    await step.save(draft)
    await call.message.edit_reply_markup(reply_markup=await audience_keyboard(step, draft))


@router.callback_query(NewPollCb.filter(F.action == "region"), StateFilter(PollCreate.region))
async def got_region(
    call: CallbackQuery,
    callback_data: NewPollCb,
    state: FSMContext,
    member: Member | None,
    **ctx: Any,
) -> None:
    assert isinstance(call.message, Message)
    _: Gettext = ctx["_"]
    if member is None or not member.is_admin or callback_data.value not in geo.REGIONS:
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await clear_buttons(call)
    step = make_step(call.message, state, member, **ctx)
    draft = await step.draft()
    draft.audience, draft.group_ids, draft.region = Audience.REGION, [], callback_data.value
    await step.save(draft)
    await call.message.answer(
        _("Region: {region}").format(region=region_label(draft.region, member.locale, _))
    )
    await go(step, "closing")


def time_problem(problem: TimeProblem, zone: str, _: Gettext) -> str:
    """Why a typed closing time was refused, and what to do instead."""
    texts = {
        TimeProblem.UNREADABLE: _(
            "I could not read that date. Write it like 2026-12-01 18:00 or 1/12 18:00 "
            "(day/month), or tap a button."
        ),
        TimeProblem.NO_SUCH_DATE: _("That date does not exist. Please check the day and month."),
        TimeProblem.PAST: _("That time is already past. Please choose a time in the future."),
        TimeProblem.TOO_FAR: _("That is more than a year away. Please choose an earlier time."),
        TimeProblem.SKIPPED: _(
            "That time does not exist in {zone}: the clocks skip it when summer time starts. "
            "Please choose another time."
        ),
        TimeProblem.AMBIGUOUS: _(
            "That time happens twice in {zone}, when the clocks go back. "
            "Please choose another time, for example an hour later."
        ),
    }
    return texts[problem].format(zone=zone)


async def set_closing(step: Step, moment: datetime) -> None:
    """Store the closing time, say how it was understood, and move on."""
    draft = await step.draft()
    draft.closes_at = moment.isoformat()
    await step.save(draft)
    await step.message.answer(step._("Closes: {when}").format(when=step.when(moment)))
    await go(step, "reminder")


@router.message(StateFilter(PollCreate.closing), F.text, ~F.text.startswith("/"))
async def got_closing(
    message: Message, state: FSMContext, member: Member | None, **ctx: Any
) -> None:
    if member is None:
        return
    step = make_step(message, state, member, **ctx)
    parsed = parse_closing(message.text or "", member.tz, step.clock.now())
    if parsed.moment is None:
        assert parsed.problem is not None
        zone = zone_name(member.tz, member.locale)
        await message.answer(time_problem(parsed.problem, zone, step._))
        return
    await set_closing(step, parsed.moment)


@router.callback_query(NewPollCb.filter(F.action == "quick"), StateFilter(PollCreate.closing))
async def got_quick_closing(
    call: CallbackQuery,
    callback_data: NewPollCb,
    state: FSMContext,
    member: Member | None,
    **ctx: Any,
) -> None:
    assert isinstance(call.message, Message)
    if member is None:
        await call.answer()
        return
    step = make_step(call.message, state, member, **ctx)
    moment = quick_closing(callback_data.value, step.clock.now())
    if moment is None:
        await call.answer(step._("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await clear_buttons(call)
    await set_closing(step, moment)


@router.callback_query(NewPollCb.filter(F.action == "remind"), StateFilter(PollCreate.reminder))
async def got_reminder(
    call: CallbackQuery,
    callback_data: NewPollCb,
    state: FSMContext,
    member: Member | None,
    **ctx: Any,
) -> None:
    assert isinstance(call.message, Message)
    if member is None or not callback_data.value.isdigit():
        await call.answer()
        return
    await call.answer()
    await clear_buttons(call)
    step = make_step(call.message, state, member, **ctx)
    draft = await step.draft()
    hours = int(callback_data.value)
    draft.remind_hours = hours if hours in REMINDER_HOURS else None
    await step.save(draft)
    await go(step, "results")


@router.callback_query(
    NewPollCb.filter(F.action.in_({"lang", "trnext"})), StateFilter(PollCreate.translations)
)
async def got_translation_choice(
    call: CallbackQuery,
    callback_data: NewPollCb,
    state: FSMContext,
    member: Member | None,
    **ctx: Any,
) -> None:
    assert isinstance(call.message, Message)
    if member is None:
        await call.answer()
        return
    step = make_step(call.message, state, member, **ctx)
    draft = await step.draft()
    if callback_data.action == "trnext":
        await call.answer()
        await clear_buttons(call)
        await go(step, "voice")
        return
    if callback_data.value not in draft.other_locales():
        await call.answer(step._("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await clear_buttons(call)
    await state.update_data(tr_locale=callback_data.value)
    await go(step, "tr_question")


@router.message(StateFilter(PollCreate.tr_question), F.text, ~F.text.startswith("/"))
async def got_tr_question(
    message: Message, state: FSMContext, member: Member | None, **ctx: Any
) -> None:
    if member is None:
        return
    step = make_step(message, state, member, **ctx)
    question = clean_question(message.text or "")
    if not isinstance(question, str):
        await message.answer(
            step._("Please send the question as text, up to {limit} characters.").format(
                limit=MAX_QUESTION
            )
        )
        return
    draft = await step.draft()
    data = await state.get_data()
    code = str(data.get("tr_locale"))
    if draft.has_own_options:
        await state.update_data(tr_question=question)
        await go(step, "tr_options")
        return
    draft.translations[code] = {"question": question, "options": []}
    await step.save(draft)
    await back_to(step, "translations")


@router.message(StateFilter(PollCreate.tr_options), F.text, ~F.text.startswith("/"))
async def got_tr_options(
    message: Message, state: FSMContext, member: Member | None, **ctx: Any
) -> None:
    if member is None:
        return
    step = make_step(message, state, member, **ctx)
    _ = step._
    draft = await step.draft()
    options = parse_translated_options(message.text or "", len(draft.options))
    if isinstance(options, Problem):
        if options is Problem.OPTION_TOO_LONG:
            text = _("An answer is too long: at most {limit} characters each.").format(
                limit=MAX_OPTION
            )
        else:
            text = _(
                "Please send exactly {count} lines, one per answer, in the same order."
            ).format(count=len(draft.options))
        await message.answer(text)
        return
    data = await state.get_data()
    code = str(data.get("tr_locale"))
    draft.translations[code] = {"question": str(data.get("tr_question", "")), "options": options}
    await step.save(draft)
    await back_to(step, "translations")


@router.message(StateFilter(PollCreate.voice), F.voice)
async def got_voice(
    message: Message, state: FSMContext, member: Member | None, **ctx: Any
) -> None:
    if member is None or message.voice is None:
        return
    step = make_step(message, state, member, **ctx)
    draft = await step.draft()
    draft.voice_file_id = message.voice.file_id
    await step.save(draft)
    await go(step, "preview")


@router.callback_query(
    NewPollCb.filter(F.action.in_({"novoice", "keepvoice"})), StateFilter(PollCreate.voice)
)
async def voice_buttons(
    call: CallbackQuery,
    callback_data: NewPollCb,
    state: FSMContext,
    member: Member | None,
    **ctx: Any,
) -> None:
    assert isinstance(call.message, Message)
    await call.answer()
    if member is None:
        return
    await clear_buttons(call)
    step = make_step(call.message, state, member, **ctx)
    if callback_data.action == "novoice":
        draft = await step.draft()
        draft.voice_file_id = None
        await step.save(draft)
    await go(step, "preview")


@router.callback_query(NewPollCb.filter(F.action == "pvlang"), StateFilter(PollCreate.preview))
async def preview_language(
    call: CallbackQuery,
    callback_data: NewPollCb,
    state: FSMContext,
    member: Member | None,
    **ctx: Any,
) -> None:
    assert isinstance(call.message, Message)
    if member is None:
        await call.answer()
        return
    step = make_step(call.message, state, member, **ctx)
    draft = await step.draft()
    if callback_data.value not in {draft.locale, *draft.translations}:
        await call.answer(step._("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await clear_buttons(call)
    await ask_preview(step, callback_data.value)


async def may_send(step: Step, draft: Draft) -> str | None:
    """Why this member may not send this draft now, or None."""
    _ = step._
    if not await can_create(step.session, step.member):
        return _("Only working group coordinators and network admins can create consultations.")
    if draft.audience != Audience.GROUPS:
        if not step.member.is_admin:
            return _("Only network admins can consult the whole network or a region.")
    else:
        allowed = {group.id for group in await coordinated_groups(step.session, step.member)}
        if not draft.group_ids or not set(draft.group_ids) <= allowed:
            return _("You can only consult the working groups you coordinate.")
    if not draft.question or (draft.has_own_options and check_options(draft.options)):
        return _("The draft is incomplete. Please go back and finish it.")
    closing = draft.closing
    if closing is None or check_closing(closing, step.clock.now()).moment is None:
        return _("The closing time is already past. Please go back and choose a new one.")
    return None


@router.callback_query(NewPollCb.filter(F.action == "send"), StateFilter(PollCreate.preview))
async def send(call: CallbackQuery, state: FSMContext, member: Member | None, **ctx: Any) -> None:
    """Store the poll and hand it to the delivery engine."""
    assert isinstance(call.message, Message)
    if member is None:
        await call.answer()
        return
    step = make_step(call.message, state, member, **ctx)
    draft = await step.draft()
    problem = await may_send(step, draft)
    if problem is not None:
        await call.answer(problem, show_alert=True)
        return
    await call.answer()
    await clear_buttons(call)
    poll = await save_poll(step.session, draft, member, step.clock.now())
    count = await audience_size(step.session, poll)
    await launch_poll(step.session, step.app, poll, member)
    await state.clear()
    await call.message.answer(
        step._(
            "✅ Sent. Audience: {count}. You will get the results when it closes, {when}. "
            "/polls shows how it is going."
        ).format(count=count, when=step.when(poll.closes_at))
    )


# --- anything else while creating ---------------------------------------------------------------


@router.message(StateFilter(PollCreate), ~F.text.startswith("/"))
async def unexpected(
    message: Message, state: FSMContext, member: Member | None, **ctx: Any
) -> None:
    """Free text where a tap is expected (or a sticker anywhere): say so and ask again."""
    if member is None:
        await state.clear()
        return
    step = make_step(message, state, member, **ctx)
    current = await state.get_state()
    if current == PollCreate.voice.state:
        await message.answer(step._("Please record a voice note, or tap Skip."))
    elif current in {
        PollCreate.question.state,
        PollCreate.options.state,
        PollCreate.closing.state,
        PollCreate.tr_question.state,
        PollCreate.tr_options.state,
    }:
        await message.answer(step._("Please send text."))
    else:
        await message.answer(step._("Please answer with the buttons below."))
    await ask_again(step)
