"""A coordinator starts the annual evaluation: the group, then the template (progress on
objectives, what worked, what to change, priorities, next year) opens in the questionnaire
builder, where questions can be re-worded, re-kinded, moved, added and removed before it is
sent (handlers/consensus/builder.py)."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.consensus.questionnaire import evaluation_template
from bot.consensus.views import ProposeCb
from handlers.consensus.builder import open_draft, show_preview
from handlers.consensus.opening import offer_groups, picked_group
from models.member import Member

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")
Gettext = Callable[..., str]


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
    as_json = [{**q, "kind": str(q["kind"])} for q in questions]
    await open_draft(state, member, group_id, title, as_json)
    await show_preview(call, state, _)
