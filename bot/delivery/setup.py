"""The engine joins the bot: one flood gate for every send, the sender and the scheduler."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.app import App
from bot.delivery import digest, notice
from bot.delivery.attention import ATTENTION_KEY, DIGEST_JOB, Attention
from bot.delivery.queue import Priority
from bot.delivery.ratelimit import (
    ChatLimits,
    FloodGate,
    FloodGateMiddleware,
    ReplyPacer,
    build_gate,
)
from models.delivery import (
    Broadcast,
    deliveries_of_member,
    forget_progress_chat,
    open_deliveries_by_priority,
)
from models.job import due_jobs
from models.member import Member


def install_delivery(app: App) -> None:
    """Pace every request of the bot, register the engine's own kinds and its services."""
    settings = app.settings
    gate = build_gate(settings)
    chats = ChatLimits(settings.send_rate_per_chat, settings.send_rate_per_group_minute)
    app.metrics.add_refresher(functools.partial(engine_figures, app, gate))
    app.registry.add_renderer("notice", notice.render_notice)
    app.registry.add_job("notice", notice.run_notice_job)
    app.registry.add_data_section(deliveries_section)
    app.registry.add_forget_step(forget_progress)
    app.registry.add_renderer("digest", digest.render_digest)
    app.registry.add_job(DIGEST_JOB, digest.run_digest_job)
    info = dict(app.sessionmaker.kw.get("info") or {})
    info[ATTENTION_KEY] = Attention(
        now=app.clock.now,
        quiet_hours=app.settings.quiet_hours,
        digest_kinds=frozenset(app.registry.digest_items),
    )
    app.sessionmaker.configure(info=info)
    if settings.run_delivery:
        from bot.delivery.sender import DeliveryService

        service = DeliveryService(app, gate)
        chats = service.chats  # replies and broadcasts share each chat's pace
        app.services.append(service)
        if settings.run_scheduler:
            from bot.delivery.scheduler import Scheduler

            app.services.append(Scheduler(app))
    shared = getattr(app.dp.storage, "redis", None)  # several processes share Redis
    pacer = ReplyPacer(chats, settings.send_rate_per_chat, settings.reply_burst, shared=shared)
    app.bot.session.middleware(FloodGateMiddleware(gate, pacer, app.metrics.rate_limited.inc))


async def engine_figures(app: App, gate: FloodGate, session: AsyncSession) -> None:
    """/metrics: the queue by priority (all processes), this process's 429 pause, due jobs."""
    from bot.delivery.sender import priority_name

    metrics = app.metrics
    metrics.queued.clear()
    for level in Priority:
        metrics.queued.labels(priority_name(level)).set(0)
    for priority, count in (await open_deliveries_by_priority(session)).items():
        metrics.queued.labels(priority_name(priority)).set(count)
    metrics.pause.set(max(0.0, gate.paused_until - gate.clock()))
    due, late = await due_jobs(session, app.clock.now(), LATE_AFTER)
    metrics.jobs_due.set(due)
    metrics.jobs_late.set(late)


LATE_AFTER = 60.0  # seconds past its time before a due job counts as late


async def deliveries_section(session: AsyncSession, member: Member) -> dict[str, Any]:
    """/mydata: which broadcasts reached the member, when, with what outcome."""
    deliveries = []
    for delivery in await deliveries_of_member(session, member.id):
        broadcast = await session.get(Broadcast, delivery.broadcast_id)
        deliveries.append(
            {
                "kind": broadcast.kind if broadcast else None,
                "status": delivery.status,
                "sent_at": delivery.sent_at.isoformat() if delivery.sent_at else None,
            }
        )
    return {"messages_sent_to_you": deliveries}


async def forget_progress(session: AsyncSession, app: App, member: Member) -> None:
    """/forget: a coordinator's progress messages no longer point at their chat."""
    await forget_progress_chat(session, member.telegram_id)
