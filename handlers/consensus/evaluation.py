"""A coordinator starts the annual evaluation: group, closing time, the template (progress on
objectives, what worked, what to change, priorities, next year) shown as a preview where each
question can be edited, secret or named, then it goes to the group."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.consensus.questionnaire import evaluation_template, launch_questionnaire
from bot.consensus.service import MAX_TITLE, clean_text, may_propose
from bot.consensus.views import ProposeCb, closing_keyboard
from bot.core.clock import Clock
from bot.polls.closing import check_closing, quick_closing
from handlers.consensus.opening import offer_groups, picked_group
from handlers.ui import AnyMessage, clear_buttons, pressed
from models.consensus import Questionnaire
from models.member import Member

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")
Gettext = Callable[..., str]


class Evaluating(StatesGroup):
    closing = State()
    preview = State()
    edit = State()


@router.message(Command("evaluation"))
async def start(
    message: Message, state: FSMContext, member: Member | None, session: AsyncSession, _: Gettext
) -> None:
    await offer_groups(
        message, state, member, session, _, _("📝 Which group's annual evaluation?"), "qgroup"
    )


@router.callback_query(ProposeCb.filter(F.action == "qgroup"))
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
    title, questions = evaluation_template(_)
    await state.set_state(Evaluating.closing)
    await state.set_data(
        {
            "group": group_id,
            "locale": member.locale,
            "title": title,
            "questions": questions,
            "anonymous": True,
        }
    )
    await pressed(call).answer(
        _("When does it close?"), reply_markup=closing_keyboard(_, action="qclose")
    )


async def preview(message: AnyMessage, data: dict[str, Any], _: Gettext) -> None:
    """The questions as members will get them, with an edit button for each."""
    lines = [f"👀 <b>{html.escape(data['title'])}</b>", ""]
    kb = InlineKeyboardBuilder()
    for i, question in enumerate(data["questions"]):
        options = ", ".join(question.get("options") or [])
        lines.append(
            f"{i + 1}. {html.escape(question['text'])}"
            + (f" ({html.escape(options)})" if options else "")
        )
        kb.button(
            text=_("✏️ {number}").format(number=i + 1),
            callback_data=ProposeCb(action="qedit", value=str(i)),
        )
    secrecy = _("🔒 Secret") if data["anonymous"] else _("👤 Named")
    kb.button(text=secrecy, callback_data=ProposeCb(action="qsecret"))
    kb.button(text=_("✅ Send"), callback_data=ProposeCb(action="qsend"))
    kb.button(text=_("✖ Cancel"), callback_data=ProposeCb(action="cancel"))
    kb.adjust(len(data["questions"]), 1, 1, 1)
    await message.answer("\n".join(lines), reply_markup=kb.as_markup())


@router.callback_query(ProposeCb.filter(F.action == "qclose"), StateFilter(Evaluating.closing))
async def got_closing(
    call: CallbackQuery, callback_data: ProposeCb, state: FSMContext, clock: Clock, _: Gettext
) -> None:
    moment = quick_closing(callback_data.value, clock.now())
    if moment is None:
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await clear_buttons(call)
    await state.update_data(closes_at=moment.isoformat())
    await state.set_state(Evaluating.preview)
    await preview(pressed(call), await state.get_data(), _)


@router.callback_query(ProposeCb.filter(F.action == "qedit"), StateFilter(Evaluating.preview))
async def edit(
    call: CallbackQuery, callback_data: ProposeCb, state: FSMContext, _: Gettext
) -> None:
    data = await state.get_data()
    value = callback_data.value
    if not value.isdigit() or int(value) >= len(data.get("questions", [])):
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await state.update_data(edit=int(value))
    await state.set_state(Evaluating.edit)
    await pressed(call).answer(
        _("Send the new text of question {number}.").format(number=int(value) + 1)
    )


@router.message(StateFilter(Evaluating.edit), F.text, ~F.text.startswith("/"))
async def edited(message: Message, state: FSMContext, _: Gettext) -> None:
    text = clean_text(message.text or "", MAX_TITLE * 2)
    if text is None:
        await message.answer(
            _("Please send a text of up to {limit} characters.").format(limit=MAX_TITLE * 2)
        )
        return
    data = await state.get_data()
    questions = [dict(q) for q in data["questions"]]
    questions[int(data["edit"])]["text"] = text
    await state.update_data(questions=questions)
    await state.set_state(Evaluating.preview)
    await preview(message, await state.get_data(), _)


@router.callback_query(ProposeCb.filter(F.action == "qsecret"), StateFilter(Evaluating.preview))
async def toggle(call: CallbackQuery, state: FSMContext, _: Gettext) -> None:
    data = await state.get_data()
    await state.update_data(anonymous=not data["anonymous"])
    await call.answer()
    await clear_buttons(call)
    await preview(pressed(call), await state.get_data(), _)


@router.callback_query(ProposeCb.filter(F.action == "qsend"), StateFilter(Evaluating.preview))
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
    closes = datetime.fromisoformat(str(data["closes_at"]))
    if check_closing(closes, clock.now()).moment is None:
        await call.answer(_("The closing time has passed: choose another one."), show_alert=True)
        return
    questionnaire = Questionnaire(
        group_id=int(data["group"]) or None,
        created_by_member_id=member.id,
        locale=str(data["locale"]),
        title=str(data["title"]),
        questions=list(data["questions"]),
        anonymous=bool(data["anonymous"]),
        closes_at=closes,
        created_at=clock.now(),
    )
    session.add(questionnaire)
    await session.flush()
    await launch_questionnaire(session, questionnaire, member)
    await state.clear()
    await call.answer()
    await clear_buttons(call)
    await pressed(call).answer(_("Sent. You will get the results when it closes."))
