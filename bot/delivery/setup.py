"""The engine joins the bot: one flood gate for every send, the sender and the scheduler."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.app import App
from bot.delivery import notice
from bot.delivery.ratelimit import ChatLimits, FloodGateMiddleware, ReplyPacer, build_gate
from models.delivery import Broadcast, deliveries_of_member, forget_progress_chat
from models.member import Member


def install_delivery(app: App) -> None:
    """Pace every request of the bot, register the engine's own kinds and its services."""
    settings = app.settings
    gate = build_gate(settings)
    chats = ChatLimits(settings.send_rate_per_chat, settings.send_rate_per_group_minute)
    app.registry.add_renderer("notice", notice.render_notice)
    app.registry.add_job("notice", notice.run_notice_job)
    app.registry.add_data_section(deliveries_section)
    app.registry.add_forget_step(forget_progress)
    if settings.run_delivery:
        from bot.delivery.sender import DeliveryService

        service = DeliveryService(app, gate)
        chats = service.chats  # replies and broadcasts share each chat's pace
        app.services.append(service)
        if settings.run_scheduler:
            from bot.delivery.scheduler import Scheduler

            app.services.append(Scheduler(app))
    pacer = ReplyPacer(chats, settings.send_rate_per_chat, settings.reply_burst)
    app.bot.session.middleware(FloodGateMiddleware(gate, pacer))


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
