"""Results and the coordinators' tools: the full report, the chart and CSV, the comments, and
closing early. Every tool is checked against the member's role at the moment of the tap."""

from __future__ import annotations

from collections.abc import Callable

from aiogram.types import BufferedInputFile, CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.app import App
from bot.core.clock import Clock
from bot.polls.jobs import finish_poll
from bot.polls.messages import comments_report, manager_report, member_results
from bot.polls.service import VoteResult, can_manage
from bot.polls.views import (
    CloseCb,
    CommentsCb,
    CommentsPageCb,
    ExportCb,
    ResultsCb,
    close_question,
    refusal,
)
from handlers.polls.access import PollNeed, poll_router
from handlers.ui import clear_buttons, pressed
from models.audit import AuditAction, record_for_groups
from models.member import Member
from models.poll import Poll, has_participated

router = poll_router(__name__)
Gettext = Callable[..., str]


@router.callback_query(ResultsCb.filter(), flags={"poll": PollNeed.ANSWER})
async def results(
    call: CallbackQuery,
    poll: Poll,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
    app: App,
) -> None:
    """Coordinators get the full report; participants the counts when they may see them."""
    message = pressed(call)
    if member is None:
        await call.answer(refusal(VoteResult.NOT_FOR_YOU, _), show_alert=True)
        return
    if await can_manage(session, member, poll):
        await call.answer()
        report = await manager_report(
            session, poll, member.locale, member.tz, _, key=app.privacy_key, files=False
        )
        await message.answer(report.text, reply_markup=report.markup)
        return
    participated = await has_participated(session, poll.id, member.id)
    visible = poll.results_live if poll.is_open else poll.share_results
    if not (participated and visible):
        await call.answer(_("Results are shared when the consultation closes."), show_alert=True)
        return
    await call.answer()
    await message.answer(await member_results(session, poll, member.locale, member.tz, _))


@router.callback_query(ExportCb.filter(), flags={"poll": PollNeed.MANAGE})
async def export(
    call: CallbackQuery, poll: Poll, member: Member, session: AsyncSession, _: Gettext, app: App
) -> None:
    """The chart and the CSV of a poll's results."""
    message = pressed(call)
    await call.answer()
    report = await manager_report(session, poll, member.locale, member.tz, _, key=app.privacy_key)
    await record_for_groups(
        session,
        member,
        AuditAction.RESULTS_EXPORTED,
        poll.group_ids,
        object_kind="poll",
        object_id=poll.id,
    )
    assert report.chart is not None and report.table is not None
    for name, data in (report.chart, report.table):
        await message.answer_document(BufferedInputFile(data, filename=name))


@router.callback_query(CommentsCb.filter(), flags={"poll": PollNeed.MANAGE})
@router.callback_query(CommentsPageCb.filter(), flags={"poll": PollNeed.MANAGE})
async def read_comments(
    call: CallbackQuery,
    callback_data: CommentsCb | CommentsPageCb,
    poll: Poll,
    session: AsyncSession,
    _: Gettext,
    app: App,
) -> None:
    """Reasons and comments, ten at a time with ◀ ▶; the page's voice notes after it."""
    message = pressed(call)
    await call.answer()
    number = callback_data.page if isinstance(callback_data, CommentsPageCb) else 0
    page = await comments_report(session, poll, number, _, app.privacy_key)
    await message.answer(page.text, reply_markup=page.markup)
    for caption, file_id in page.voices:
        await message.answer_voice(file_id, caption=caption)


@router.callback_query(CloseCb.filter(), flags={"poll": PollNeed.MANAGE})
async def close(
    call: CallbackQuery,
    callback_data: CloseCb,
    poll: Poll,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    clock: Clock,
    app: App,
) -> None:
    """Close a poll early, after a confirmation (step 0 asks, 1 closes, 2 keeps it open)."""
    message = pressed(call)
    if not poll.is_open:
        await call.answer(_("This consultation is already closed."), show_alert=True)
        await clear_buttons(call)
        return
    if callback_data.step == 2:
        await call.answer(_("The consultation stays open."))
        await clear_buttons(call)
        return
    if callback_data.step != 1:
        await call.answer()
        text, markup = close_question(poll, member.locale, _)
        await message.answer(text, reply_markup=markup)
        return
    await call.answer()
    await clear_buttons(call)
    if await finish_poll(session, app, poll, clock.now()):
        await record_for_groups(
            session,
            member,
            AuditAction.POLL_CLOSED,
            poll.group_ids,
            object_kind="poll",
            object_id=poll.id,
        )
    await message.answer(_("🔒 The consultation is closed. The results are on their way to you."))
