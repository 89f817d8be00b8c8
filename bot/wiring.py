"""Which areas make up the bot, and how one process is put together from settings."""

from __future__ import annotations

from typing import Any

from bot.core.app import App, Area, assemble
from bot.core.clock import Clock
from bot.core.config import Settings
from bot.core.lifecycle import register_lifecycle
from bot.delivery.setup import install_delivery


def areas() -> list[Area]:
    """Every area, in the order their routers are tried (members first: onboarding)."""
    from handlers import consensus, groups, meetings, members, polls, solidarity

    return [
        members.setup,
        groups.setup,
        polls.setup,
        meetings.setup,
        solidarity.setup,
        consensus.setup,
    ]


async def build_app(settings: Settings, clock: Clock | None = None, **extra: Any) -> App:
    """Migrate the database and assemble the bot; nothing talks to Telegram yet."""
    app = await assemble(settings, areas(), clock, **extra)
    install_delivery(app)
    register_lifecycle(app)
    return app
