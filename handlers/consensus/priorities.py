"""A coordinator starts a priorities consultation: group, question, up to 12 possible actions
(one per line), top 3 or 5 points, closing time, a preview, then it goes to the group."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.consensus.priorities import launch, reminder_time
from bot.consensus.priority_views import member_text
from bot.consensus.service import MAX_TITLE, clean_text, may_propose
from bot.consensus.views import ProposeCb, cancel_keyboard, closing_keyboard
from bot.core.clock import Clock
from bot.core.config import SUPPORTED_LOCALES
from bot.polls.closing import check_closing, quick_closing
from bot.polls.screens import language as language_name
from bot.polls.service import (
    MAX_OPTIONS,
    MIN_OPTIONS,
    Problem,
    parse_options,
    parse_translated_options,
)
from handlers.consensus.opening import offer_groups, picked_group
from handlers.ui import AnyMessage, clear_buttons, pressed
from models.consensus import Priorities, PriorityMode
from models.member import Member

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")
Gettext = Callable[..., str]


class Ranking(StatesGroup):
    """The steps of a new priorities consultation."""

    title = State()
    options = State()
    mode = State()
    closing = State()
    preview = State()
    version = State()


@router.message(Command("priorities"))
async def start(
    message: Message, state: FSMContext, member: Member | None, session: AsyncSession, _: Gettext
) -> None:
    await offer_groups(
        message, state, member, session, _, _("🎯 Whose priorities do you want to ask?"), "pgroup"
    )


@router.callback_query(ProposeCb.filter(F.action == "pgroup"))
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
    await state.set_state(Ranking.title)
    await state.set_data({"group": group_id, "locale": member.locale})
    await pressed(call).answer(
        _("🎯 <b>Priorities</b>\n\nSend the question (one line)."), reply_markup=cancel_keyboard(_)
    )


@router.message(StateFilter(Ranking.title), F.text, ~F.text.startswith("/"))
async def got_title(message: Message, state: FSMContext, _: Gettext) -> None:
    title = clean_text(message.text or "", MAX_TITLE)
    if title is None or "\n" in title:
        await message.answer(
            _("Please send a title of one line, up to {limit} characters.").format(limit=MAX_TITLE)
        )
        return
    await state.update_data(title=title)
    await state.set_state(Ranking.options)
    await message.answer(
        _("Send the possible collective actions, one per line ({low} to {high}).").format(
            low=MIN_OPTIONS, high=MAX_OPTIONS
        )
    )


@router.message(StateFilter(Ranking.options), F.text, ~F.text.startswith("/"))
async def got_options(message: Message, state: FSMContext, _: Gettext) -> None:
    options = parse_options(message.text or "")
    if isinstance(options, Problem) or len(options) < MIN_OPTIONS:
        await message.answer(
            _(
                "Please send {low} to {high} different actions, one per line, each up to 40 "
                "characters."
            ).format(low=MIN_OPTIONS, high=MAX_OPTIONS)
        )
        return
    await state.update_data(options=options)
    await state.set_state(Ranking.mode)
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🥇 Top 3 in order"), callback_data=ProposeCb(action="pmode", value="rank"))
    kb.button(
        text=_("🔢 Spread 5 points"), callback_data=ProposeCb(action="pmode", value="points")
    )
    kb.adjust(1)
    await message.answer(_("How do members answer?"), reply_markup=kb.as_markup())


@router.callback_query(ProposeCb.filter(F.action == "pmode"), StateFilter(Ranking.mode))
async def got_mode(
    call: CallbackQuery, callback_data: ProposeCb, state: FSMContext, _: Gettext
) -> None:
    if callback_data.value not in {m.value for m in PriorityMode}:
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await clear_buttons(call)
    await state.update_data(mode=callback_data.value)
    await state.set_state(Ranking.closing)
    await pressed(call).answer(
        _("When does it close?"), reply_markup=closing_keyboard(_, action="pclose")
    )


def build(data: dict[str, Any], creator: Member | None, now: datetime) -> Priorities:
    """The consultation the conversation describes (transient)."""
    closes_at = datetime.fromisoformat(str(data["closes_at"]))
    return Priorities(
        group_id=int(data["group"]) or None,
        created_by_member_id=creator.id if creator else None,
        locale=str(data["locale"]),
        title=str(data["title"]),
        options=list(data["options"]),
        versions=dict(data.get("versions") or {}),
        mode=str(data["mode"]),
        anonymous=bool(data.get("anonymous", True)),
        closes_at=closes_at,
        remind_at=reminder_time(now, closes_at),
        created_at=now,
    )


def preview_keyboard(data: dict[str, Any], _: Gettext) -> InlineKeyboardMarkup:
    """Send; a version per other language; secret or named; Cancel."""
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ Send"), callback_data=ProposeCb(action="psend"))
    versions = data.get("versions") or {}
    others = [code for code in SUPPORTED_LOCALES if code != data.get("locale")]
    for code in others:
        mark = "✓ " if code in versions else "+ "
        kb.button(
            text=mark + language_name(code), callback_data=ProposeCb(action="plang", value=code)
        )
    secret = bool(data.get("anonymous", True))
    kb.button(
        text=_("👤 Make it named") if secret else _("🔒 Make it secret"),
        callback_data=ProposeCb(action="psecret"),
    )
    kb.button(text=_("✖ Cancel"), callback_data=ProposeCb(action="cancel"))
    kb.adjust(1, *([2] * ((len(others) + 1) // 2)), 1, 1)
    return kb.as_markup()


async def show_preview(
    message: AnyMessage, state: FSMContext, member: Member, clock: Clock, _: Gettext
) -> None:
    """Exactly what members receive (in the coordinator's language), then the choices."""
    await state.set_state(Ranking.preview)
    data = await state.get_data()
    preview = build(data, member, clock.now())
    await message.answer(_("👀 <b>Preview</b>: this is what members receive."))
    await message.answer(member_text(preview, "…", [], member.locale, member.tz, _))
    lines = [
        _("🔒 Secret: no one sees who ranked what.")
        if preview.anonymous
        else _("👤 Named: you will see who ranked what (in the results and the CSV)."),
        _(
            "Members read it in their language where you add a version (the others read it "
            "as you wrote it). Send it?"
        ),
    ]
    await message.answer("\n".join(lines), reply_markup=preview_keyboard(data, _))


@router.callback_query(ProposeCb.filter(F.action == "pclose"), StateFilter(Ranking.closing))
async def got_closing(
    call: CallbackQuery,
    callback_data: ProposeCb,
    state: FSMContext,
    member: Member,
    clock: Clock,
    _: Gettext,
) -> None:
    """Show exactly what members receive, with Send and Cancel."""
    moment = quick_closing(callback_data.value, clock.now())
    if moment is None:
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await clear_buttons(call)
    await state.update_data(closes_at=moment.isoformat())
    await show_preview(pressed(call), state, member, clock, _)


@router.callback_query(ProposeCb.filter(F.action == "psecret"), StateFilter(Ranking.preview))
async def toggle_secret(
    call: CallbackQuery, state: FSMContext, member: Member, clock: Clock, _: Gettext
) -> None:
    """Secret (the default) or named."""
    data = await state.get_data()
    await state.update_data(anonymous=not bool(data.get("anonymous", True)))
    await call.answer()
    await clear_buttons(call)
    await show_preview(pressed(call), state, member, clock, _)


@router.callback_query(ProposeCb.filter(F.action == "plang"), StateFilter(Ranking.preview))
async def ask_version(
    call: CallbackQuery, callback_data: ProposeCb, state: FSMContext, _: Gettext
) -> None:
    """The question and the actions in another language, as one message."""
    data = await state.get_data()
    code = callback_data.value
    if code not in SUPPORTED_LOCALES or code == data.get("locale"):
        await call.answer(_("That language is not offered."), show_alert=True)
        return
    await call.answer()
    await clear_buttons(call)
    await state.update_data(version_lang=code)
    await state.set_state(Ranking.version)
    count = len(data.get("options") or [])
    ngettext = _  # the catalogue's plural forms
    await pressed(call).answer(
        ngettext(
            "Send it in {language}: the question on the first line, then the {count} action "
            "in the same order, one per line.",
            "Send it in {language}: the question on the first line, then the {count} actions "
            "in the same order, one per line.",
            count,
        ).format(language=language_name(code), count=count),
        reply_markup=cancel_keyboard(_),
    )


@router.message(StateFilter(Ranking.version), F.text, ~F.text.startswith("/"))
async def got_version(
    message: Message, state: FSMContext, member: Member, clock: Clock, _: Gettext
) -> None:
    """Checked like the original: one title line, exactly as many actions, each short."""
    data = await state.get_data()
    count = len(data.get("options") or [])
    head, _sep, body = (message.text or "").strip().partition("\n")
    title = clean_text(head, MAX_TITLE)
    options = parse_translated_options(body, count)
    code = str(data.get("version_lang") or "")
    if title is None or isinstance(options, Problem) or code not in SUPPORTED_LOCALES:
        ngettext = _  # the catalogue's plural forms
        await message.answer(
            ngettext(
                "Please send the question on the first line, then exactly {count} action, "
                "one per line, each up to 40 characters.",
                "Please send the question on the first line, then exactly {count} actions, "
                "one per line, each up to 40 characters.",
                count,
            ).format(count=count)
        )
        return
    versions = dict(data.get("versions") or {})
    versions[code] = {"title": title, "options": options}
    await state.update_data(versions=versions)
    await show_preview(message, state, member, clock, _)


@router.callback_query(ProposeCb.filter(F.action == "psend"), StateFilter(Ranking.preview))
async def send(
    call: CallbackQuery,
    state: FSMContext,
    member: Member | None,
    session: AsyncSession,
    clock: Clock,
    _: Gettext,
) -> None:
    """Check the role and the time again, then send."""
    data = await state.get_data()
    if member is None or not await may_propose(session, member, int(data.get("group", -1))):
        await call.answer(_("Only the coordinators of this group can do this."), show_alert=True)
        return
    consultation = build(data, member, clock.now())
    if check_closing(consultation.closes_at, clock.now()).moment is None:
        await call.answer(_("The closing time has passed: choose another one."), show_alert=True)
        return
    session.add(consultation)
    await session.flush()
    await launch(session, consultation, member)
    await state.clear()
    await call.answer()
    await clear_buttons(call)
    await pressed(call).answer(_("Sent. You will get the ranking when it closes."))
