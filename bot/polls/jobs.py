"""Polls in the delivery engine and the scheduler: sending, reminding, closing, results.

Broadcast kinds: `poll` (the poll to its audience), `poll_reminder` (to those who have not
answered), `poll_results` (counts to participants; the full report to the coordinator).
Job kinds: `poll_remind` and `poll_close`, keyed `poll:<id>:remind` and `poll:<id>:close`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from aiogram.types import InlineKeyboardButton
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.digest import DigestItem
from bot.delivery.queue import Outgoing, Priority, RenderContext, enqueue_broadcast
from bot.delivery.scheduler import JobContext, cancel_jobs, schedule
from bot.polls.ballot_box import scrub_box_after_commit
from bot.polls.messages import (
    PollMessage,
    manager_report,
    member_results,
    poll_message,
    reminder_message,
)
from bot.polls.service import can_manage, close_poll, voted_before_erasure
from bot.polls.views import ShowCb, short
from models.member import Member
from models.poll import (
    Participation,
    Poll,
    audience_ids,
    get_poll,
    has_participated,
    not_answered_ids,
)

if TYPE_CHECKING:
    from bot.core.app import App


def job_key(poll_id: int, what: str = "") -> str:
    """Scheduler key of a poll's jobs (`poll:<id>:` is the prefix of all of them)."""
    return f"poll:{poll_id}:{what}"


async def launch_poll(session: AsyncSession, app: App, poll: Poll, creator: Member) -> None:
    """Send a new poll to its audience and schedule its reminder and its closing, in the
    caller's transaction: all of it happens, once, or none of it."""
    await enqueue_broadcast(
        session,
        kind="poll",
        payload={"poll_id": poll.id},
        recipients=audience_ids(poll),
        priority=Priority.NORMAL,
        created_by_id=creator.id,
        progress_chat_id=creator.telegram_id,
        dedupe_key=f"poll:{poll.id}",
        deadline=poll.closes_at,
    )
    payload = {"poll_id": poll.id}
    await schedule(
        session,
        kind="poll_close",
        due_at=poll.closes_at,
        payload=payload,
        key=job_key(poll.id, "close"),
    )
    if poll.remind_at is not None:
        await schedule(
            session,
            kind="poll_remind",
            due_at=poll.remind_at,
            payload=payload,
            key=job_key(poll.id, "remind"),
            not_after=poll.closes_at,
        )


async def finish_poll(session: AsyncSession, app: App, poll: Poll, now: datetime) -> bool:
    """Close the poll once, then queue the results: counts to everyone who answered (unless
    the coordinator chose otherwise) and the full report to the coordinator."""
    if not await close_poll(session, poll, now, app.privacy_key):
        return False
    if poll.anonymous:
        scrub_box_after_commit(app, session)
    await cancel_jobs(session, job_key(poll.id))
    for step in app.registry.poll_close_steps:
        await step(session, app, poll, now)
    if poll.share_results:
        await enqueue_broadcast(
            session,
            kind="poll_results",
            payload={"poll_id": poll.id},
            recipients=select(Participation.member_id).where(Participation.poll_id == poll.id),
            dedupe_key=f"poll:{poll.id}:results",
        )
    if poll.created_by_member_id is not None:
        await enqueue_broadcast(
            session,
            kind="poll_results",
            payload={"poll_id": poll.id, "report": True},
            recipients=[poll.created_by_member_id],
            priority=Priority.HIGH,
            dedupe_key=f"poll:{poll.id}:report",
        )
    return True


# --- job handlers -------------------------------------------------------------------------------


async def run_poll_remind(ctx: JobContext) -> None:
    """Remind the audience members who have not answered yet."""
    poll = await get_poll(ctx.session, int(ctx.job.payload["poll_id"]))
    if poll is None or not poll.is_open:
        return
    await enqueue_broadcast(
        ctx.session,
        kind="poll_reminder",
        payload={"poll_id": poll.id},
        recipients=not_answered_ids(poll),
        dedupe_key=f"poll:{poll.id}:remind:{ctx.job.revision}",
    )


async def run_poll_close(ctx: JobContext) -> None:
    """Close the poll at its deadline (nothing happens if the coordinator closed it before)."""
    poll = await get_poll(ctx.session, int(ctx.job.payload["poll_id"]))
    if poll is not None:
        await finish_poll(ctx.session, ctx.app, poll, ctx.app.clock.now())


# --- renderers ----------------------------------------------------------------------------------


def parts(message: PollMessage) -> list[Outgoing]:
    """The voice note first (if any), then the poll with its buttons."""
    out = [Outgoing(voice=message.voice)] if message.voice else []
    out.append(Outgoing(text=message.text, reply_markup=message.markup))
    return out


async def render_poll(ctx: RenderContext) -> list[Outgoing] | None:
    """The poll for one member; skipped if it closed or they already answered meanwhile."""
    poll = await get_poll(ctx.session, int(ctx.broadcast.payload["poll_id"]))
    member = ctx.member
    if poll is None or member is None or not poll.is_open:
        return None
    if await has_participated(ctx.session, poll.id, member.id):
        return None
    if await voted_before_erasure(ctx.session, poll, member, ctx.app.privacy_key):
        return None
    default = ctx.app.settings.default_locale
    return parts(
        await poll_message(ctx.session, poll, member, ctx.locale, member.tz, ctx._, default)
    )


async def digest_poll(ctx: RenderContext) -> DigestItem | None:
    """A new poll in a member's digest: its text, and a button that opens it to answer."""
    poll = await get_poll(ctx.session, int(ctx.broadcast.payload["poll_id"]))
    member = ctx.member
    if poll is None or member is None or not poll.is_open:
        return None
    if await has_participated(ctx.session, poll.id, member.id):
        return None
    default = ctx.app.settings.default_locale
    message = await poll_message(ctx.session, poll, member, ctx.locale, member.tz, ctx._, default)
    question = poll.text(ctx.locale)[0]
    button = InlineKeyboardButton(
        text="🗳 " + short(question), callback_data=ShowCb(poll=poll.id).pack()
    )
    return DigestItem(text=message.text, buttons=[button])


async def render_poll_reminder(ctx: RenderContext) -> list[Outgoing] | None:
    """The poll again under a reminder; skipped if they answered or it closed meanwhile."""
    poll = await get_poll(ctx.session, int(ctx.broadcast.payload["poll_id"]))
    member = ctx.member
    if poll is None or member is None:
        return None
    if await voted_before_erasure(ctx.session, poll, member, ctx.app.privacy_key):
        return None  # they voted, erased themselves and came back: nothing to remind
    default = ctx.app.settings.default_locale
    message = await reminder_message(
        ctx.session, poll, member, ctx.locale, member.tz, ctx._, default
    )
    return None if message is None else parts(message)


async def render_poll_results(ctx: RenderContext) -> list[Outgoing] | None:
    """Counts for a participant; for the coordinator the report, the chart and the CSV."""
    poll = await get_poll(ctx.session, int(ctx.broadcast.payload["poll_id"]))
    member = ctx.member
    if poll is None or member is None:
        return None
    if ctx.broadcast.payload.get("report"):
        if not await can_manage(ctx.session, member, poll):
            return None  # the author is no longer a coordinator of the poll's groups
        report = await manager_report(
            ctx.session, poll, ctx.locale, member.tz, ctx._, key=ctx.app.privacy_key
        )
        assert report.chart is not None and report.table is not None
        return [
            Outgoing(text=report.text, reply_markup=report.markup),
            Outgoing(document=report.chart),
            Outgoing(document=report.table),
        ]
    return [Outgoing(text=await member_results(ctx.session, poll, ctx.locale, member.tz, ctx._))]
