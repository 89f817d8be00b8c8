"""Wiring: build the Bot, the Dispatcher and the background services from settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.db import create_engine, create_sessionmaker, migrate
from bot.errors import error_router
from bot.fsm_storage import SqlStorage
from bot.i18n import Translator, create_i18n
from bot.middlewares import DbSessionMiddleware, LocaleMiddleware, MemberMiddleware
from bot.ratelimit import FloodGate, FloodGateMiddleware, build_gate

if TYPE_CHECKING:
    from bot.delivery import Renderer
    from bot.scheduler import JobHandler

log = logging.getLogger(__name__)


class Service(Protocol):
    """A background task that lives as long as the dispatcher (delivery, scheduler)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class App:
    """Everything one running bot holds; built by `build_app`, torn down by `close`."""

    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    i18n: Translator
    bot: Bot
    dp: Dispatcher
    services: list[Service] = field(default_factory=list)
    gate: FloodGate | None = None  # the bot's send budget and 429 pause, shared by all senders

    async def close(self) -> None:
        """Release the HTTP session, the FSM storage and the database pool."""
        await self.bot.session.close()
        await self.dp.storage.close()
        await self.dp.fsm.events_isolation.close()
        await self.engine.dispose()


def create_bot(settings: Settings) -> Bot:
    """A Bot talking to the Bot API server named by TELEGRAM_API_URL, HTML by default."""
    # Enough connections for every delivery send in flight plus polling and handlers' replies;
    # aiohttp's default pool (100) would otherwise cap the engine at 100 / round-trip time.
    session = AiohttpSession(
        api=TelegramAPIServer.from_base(settings.telegram_api_url),
        limit=max(100, settings.delivery_workers + 50),
    )
    return Bot(
        token=settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def create_storage(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> tuple[BaseStorage, BaseEventIsolation]:
    """Redis when configured (several processes), else the SQL store with in-process locks."""
    if settings.redis_url:
        from aiogram.fsm.storage.redis import (
            DefaultKeyBuilder,
            RedisEventIsolation,
            RedisStorage,
        )

        storage = RedisStorage.from_url(
            settings.redis_url, key_builder=DefaultKeyBuilder(with_destiny=True)
        )
        return storage, RedisEventIsolation(redis=storage.redis)
    return SqlStorage(sessionmaker), SimpleEventIsolation()


def create_dispatcher(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    i18n: Translator,
    clock: Clock,
) -> Dispatcher:
    """The Dispatcher with middlewares in order (session, member, locale) and every router."""
    from handlers import setup_routers

    storage, isolation = create_storage(settings, sessionmaker)
    dp = Dispatcher(storage=storage, events_isolation=isolation)
    dp["settings"] = settings
    dp["clock"] = clock
    dp["sessionmaker"] = sessionmaker
    dp.update.outer_middleware(DbSessionMiddleware(sessionmaker))
    dp.update.outer_middleware(MemberMiddleware(clock))
    dp.update.outer_middleware(LocaleMiddleware(i18n))
    dp.include_router(setup_routers())
    dp.include_router(error_router(i18n))
    return dp


def renderers() -> dict[str, Renderer]:
    """Delivery renderers by broadcast kind: one line per kind (see bot/delivery.py)."""
    from bot import meeting_delivery as meetings
    from bot.announcements import render_announcement
    from bot.groups import render_chat_opened
    from bot.notice import render_notice
    from bot.poll_jobs import render_poll, render_poll_reminder, render_poll_results

    return {
        "notice": render_notice,
        "announcement": render_announcement,
        "group_chat": render_chat_opened,
        "poll": render_poll,
        "poll_reminder": render_poll_reminder,
        "poll_results": render_poll_results,
        "meeting": meetings.render_meeting,
        "meeting_change": meetings.render_change,
        "meeting_reminder": meetings.render_reminder,
        "meeting_minutes": meetings.render_minutes,
        "date_poll": meetings.render_date_poll,
    }


def job_handlers() -> dict[str, JobHandler]:
    """Scheduled job handlers by job kind: one line per kind (see bot/scheduler.py)."""
    from bot.meeting_delivery import REMIND_JOB, run_reminder
    from bot.notice import run_notice_job
    from bot.poll_jobs import run_poll_close, run_poll_remind

    return {
        "notice": run_notice_job,
        "poll_close": run_poll_close,
        "poll_remind": run_poll_remind,
        REMIND_JOB: run_reminder,
    }


def create_services(app: App) -> list[Service]:
    """The background services this process runs (RUN_DELIVERY=false: none, a worker does)."""
    services: list[Service] = []
    if app.settings.run_delivery:
        from bot.sender import DeliveryService

        services.append(DeliveryService(app))
        if app.settings.run_scheduler:
            from bot.scheduler import Scheduler

            services.append(Scheduler(app))
    return services


async def build_app(settings: Settings, clock: Clock | None = None, **extra: Any) -> App:
    """Migrate the database and assemble the bot; nothing talks to Telegram yet."""
    clock = clock or Clock()
    await migrate(settings.db_url)
    engine = create_engine(settings.db_url)
    sessionmaker = create_sessionmaker(engine)
    i18n = create_i18n(settings.default_locale)
    bot = create_bot(settings)
    dp = create_dispatcher(settings, sessionmaker, i18n, clock)
    app = App(settings, clock, engine, sessionmaker, i18n, bot, dp, gate=build_gate(settings))
    assert app.gate is not None
    bot.session.middleware(FloodGateMiddleware(app.gate))
    app.services.extend(create_services(app))
    dp["app"] = app
    dp["i18n_core"] = i18n
    for key, value in extra.items():
        dp[key] = value
    from bot.lifecycle import register_lifecycle

    register_lifecycle(app)
    return app


async def run_polling(app: App, *, handle_signals: bool = True) -> None:
    """Long polling until stopped; services start and stop with the dispatcher."""
    try:
        await app.dp.start_polling(
            app.bot,
            handle_signals=handle_signals,
            close_bot_session=False,
            allowed_updates=app.dp.resolve_used_update_types(),
        )
    finally:
        await app.close()
