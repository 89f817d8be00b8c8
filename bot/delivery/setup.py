"""The engine joins the bot: one flood gate for every send, the sender and the scheduler."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.app import App
from bot.delivery import digest, notice
from bot.delivery.attention import ATTENTION_KEY, DIGEST_JOB, Attention
from bot.delivery.ratelimit import FloodGateMiddleware, build_gate
from models.delivery import Broadcast, deliveries_of_member, forget_progress_chat
from models.member import Member


def install_delivery(app: App) -> None:
    """Pace every request of the bot, register the engine's own kinds and its services."""
    gate = build_gate(app.settings)
    app.bot.session.middleware(FloodGateMiddleware(gate))
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
    if app.settings.run_delivery:
        from bot.delivery.sender import DeliveryService

        app.services.append(DeliveryService(app, gate))
        if app.settings.run_scheduler:
            from bot.delivery.scheduler import Scheduler

            app.services.append(Scheduler(app))


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
