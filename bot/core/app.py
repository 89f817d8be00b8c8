"""The running bot: what one process holds (`App`) and what the areas add to it (`Registry`).

The core never imports an area. Each area is a function that receives the `Registry` at
start-up and adds its routers, delivery renderers, scheduled jobs, `/mydata` sections,
`/forget` steps and deep links, the way aiogram routers are included (see `bot.wiring`).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.client.telegram import TelegramAPIServer
from aiogram.dispatcher.event.handler import FilterObject
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.methods import AnswerCallbackQuery, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InaccessibleMessage, Message
from aiohttp.payload import BytesPayload
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.core.clock import Clock
from bot.core.config import Settings
from bot.core.db import create_engine, create_sessionmaker, migrate
from bot.core.errors import error_router
from bot.core.floods import EarlyAnswer, FloodGuard, LateAnswers
from bot.core.fsm_storage import SqlStorage
from bot.core.i18n import Translator, create_i18n
from bot.core.middlewares import (
    CommitBeforeTelling,
    CommitMiddleware,
    DbSessionMiddleware,
    LocaleMiddleware,
    MemberMiddleware,
)
from bot.core.observe import Metrics, UpdateTimer
from bot.core.privacy import load_privacy_key, redact_logs, scrub
from bot.core.routing import RoutedDispatcher
from models.member import Member

log = logging.getLogger(__name__)
Gettext = Callable[..., str]
# Renderers and job handlers are typed where they are defined (bot.delivery); the core only
# keeps them by kind for the engine, so it needs no import of the engine.
Contribution = Callable[[Any], Awaitable[Any]]
DataSection = Callable[[AsyncSession, Member], Awaitable[dict[str, Any]]]
ForgetStep = Callable[[AsyncSession, "App", Member], Awaitable[None]]
PollCloseStep = Callable[[AsyncSession, "App", Any, datetime], Awaitable[None]]
# Lines of /help for what this member may do in an area (its commands for coordinators...).
HelpSection = Callable[[AsyncSession, Member, Gettext], Awaitable[list[str]]]
DeepLink = Callable[
    [Message | InaccessibleMessage, Member, AsyncSession, "App", Gettext, str], Awaitable[None]
]


class Service(Protocol):
    """A background task that lives as long as the dispatcher (delivery, scheduler)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class Registry:
    """What the areas add to the bot, in the order they were added."""

    routers: list[Router] = field(default_factory=list)
    fallback_routers: list[Router] = field(default_factory=list)
    renderers: dict[str, Contribution] = field(default_factory=dict)
    jobs: dict[str, Contribution] = field(default_factory=dict)
    data_sections: list[DataSection] = field(default_factory=list)
    forget_steps: list[ForgetStep] = field(default_factory=list)
    poll_close_steps: list[PollCloseStep] = field(default_factory=list)
    deep_links: dict[str, DeepLink] = field(default_factory=dict)
    digest_items: dict[str, Contribution] = field(default_factory=dict)
    maintenance: list[Callable[[App], Awaitable[Any]]] = field(default_factory=list)

    def add_maintenance(self, task: Callable[[App], Awaitable[Any]]) -> None:
        """Housekeeping the scheduler runs about once an hour (expiring abandoned state)."""
        self.maintenance.append(task)

    help_sections: list[HelpSection] = field(default_factory=list)

    def include_routers(self, *routers: Router) -> None:
        """Routers tried in the order the areas add them."""
        self.routers.extend(routers)

    def include_fallback(self, *routers: Router) -> None:
        """Routers tried after every area's: the catch-all answers."""
        self.fallback_routers.extend(routers)

    def add_renderer(self, kind: str, render: Contribution) -> None:
        """How a broadcast of this kind reads for one recipient (see bot.delivery.queue)."""
        _add_once(self.renderers, kind, render, "renderer")

    def add_job(self, kind: str, run: Contribution) -> None:
        """What a scheduled job of this kind does (see bot.delivery.scheduler)."""
        _add_once(self.jobs, kind, run, "job handler")

    def add_digest_item(self, kind: str, item: Contribution) -> None:
        """Broadcasts of this kind may be gathered into a member's daily digest; `item` gives
        their part of it (see bot.delivery.digest)."""
        _add_once(self.digest_items, kind, item, "digest item")

    def add_data_section(self, section: DataSection) -> None:
        """A part of the member's /mydata document: keys and JSON-ready values."""
        self.data_sections.append(section)

    def add_forget_step(self, step: ForgetStep) -> None:
        """Work /forget does before the member's row (and what cascades from it) is deleted."""
        self.forget_steps.append(step)

    def add_poll_close_step(self, step: PollCloseStep) -> None:
        """Work done in the transaction that closes a poll, at its time or early (a consensus
        round reads its close from its consent poll)."""
        self.poll_close_steps.append(step)

    def add_help_section(self, section: HelpSection) -> None:
        """Lines /help adds for a member (an area's commands for its coordinators, admins)."""
        self.help_sections.append(section)

    def add_deep_link(self, prefix: str, follow: DeepLink) -> None:
        """`t.me/<bot>?start=<prefix><rest>`: `follow` gets the rest."""
        _add_once(self.deep_links, prefix, follow, "deep link")


def _add_once(table: dict[str, Any], key: str, value: Any, what: str) -> None:
    if key in table:
        raise ValueError(f"two areas registered the {what} {key!r}")
    table[key] = value


Area = Callable[[Registry], None]


@dataclass
class App:
    """Everything one running bot holds; built by `assemble`, torn down by `close`."""

    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    i18n: Translator
    bot: Bot
    dp: Dispatcher
    registry: Registry
    services: list[Service] = field(default_factory=list)
    metrics: Metrics = field(default_factory=Metrics)
    privacy_key: bytes = b""
    # Scrubbing of old row versions after commits: one at a time, later requests folded in.
    background: set[asyncio.Task[None]] = field(default_factory=set)
    scrub_waiting: set[str] = field(default_factory=set)

    def scrub_after_commit(self, session: AsyncSession, tables: Sequence[str]) -> None:
        """Once the session's transaction commits, scrub the old row versions of `tables` in
        the background (see `bot.core.privacy.scrub`). Requests made while a scrub runs are
        folded into the next one, so a burst of votes or erasures costs one scrub at a time."""

        def start(_session: Any) -> None:
            self.scrub_waiting.update(tables)
            # A running loop picks the tables up before it ends (no await between its last
            # check and its end), so a new one is needed only when none is running.
            if all(task.done() for task in self.background):
                task = asyncio.get_running_loop().create_task(self._scrub_loop())
                self.background.add(task)
                task.add_done_callback(self.background.discard)

        event.listen(session.sync_session, "after_commit", start, once=True)

    async def _scrub_loop(self) -> None:
        while self.scrub_waiting:
            tables = sorted(self.scrub_waiting)
            self.scrub_waiting.clear()
            try:
                await scrub(self.engine, tables)
            except Exception:
                log.exception("scrubbing %s failed", ", ".join(tables))

    async def close(self) -> None:
        """Release the HTTP session, the FSM storage and the database pool."""
        if self.background:
            await asyncio.wait(list(self.background), timeout=30)
        await self.bot.session.close()
        await self.dp.storage.close()
        await self.dp.fsm.events_isolation.close()
        await self.engine.dispose()


class KeepResponseModels(BaseRequestMiddleware):
    """Keep aiogram's `Response[...]` models alive for the life of the process.

    aiogram builds `Response[<result type>]` for every answer, and pydantic caches such
    parametrised models only while something refers to them: after a garbage collection
    each was built again (4-7 ms of schema building, many times a minute under load).
    """

    def __init__(self) -> None:
        self.models: dict[Any, Any] = {}

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in self.models:
            self.models[returning] = Response[returning]  # type: ignore[valid-type]
        return await make_request(bot, method)


CALLBACK_ANSWER_LIMIT = 200  # Telegram's limit, in UTF-16 code units


def trim_utf16(text: str, limit: int) -> str:
    """`text` cut to `limit` UTF-16 code units (an ellipsis marks the cut)."""
    if len(text.encode("utf-16-le")) // 2 <= limit:
        return text
    out: list[str] = []
    used = 1  # the ellipsis
    for ch in text:
        size = 2 if ord(ch) > 0xFFFF else 1
        if used + size > limit:
            break
        out.append(ch)
        used += size
    return "".join(out).rstrip() + "…"


class TrimCallbackAnswers(BaseRequestMiddleware):
    """Cut a callback answer to Telegram's 200 characters: a long name in it must not make
    the answer fail after the action's effects were already sent."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if isinstance(method, AnswerCallbackQuery) and method.text:
            method.text = trim_utf16(method.text, CALLBACK_ANSWER_LIMIT)
        return await make_request(bot, method)


class LeanSession(AiohttpSession):
    """aiogram's session, sending requests without files as a JSON body (as the Bot API
    takes it): its multipart form draws a random boundary (uuid4, a system call) and builds
    a writer per request, and a urlencoded one quotes every character in Python."""

    def build_form_data(self, bot: Bot, method: TelegramMethod[TelegramType]) -> Any:
        fields: dict[str, Any] = {}
        files: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if prepared:
                # str.__str__: the text itself, also of a str enum such as ParseMode.HTML.
                fields[key] = str.__str__(prepared) if isinstance(prepared, str) else prepared
        if files:
            return super().build_form_data(bot, method)
        return BytesPayload(json.dumps(fields).encode(), content_type=JSON)


JSON = "application/json"


def create_bot(settings: Settings) -> Bot:
    """A Bot talking to the Bot API server named by TELEGRAM_API_URL, HTML by default."""
    # Enough connections for every delivery send in flight plus polling and handlers' replies;
    # aiohttp's default pool (100) would otherwise cap the engine at 100 / round-trip time.
    session = LeanSession(
        api=TelegramAPIServer.from_base(settings.telegram_api_url),
        limit=max(100, settings.delivery_workers + 50),
    )
    session.middleware(KeepResponseModels())
    session.middleware(TrimCallbackAnswers())
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
        from aiogram.fsm.storage.redis import DefaultKeyBuilder, RedisStorage
        from redis.asyncio import BlockingConnectionPool, Redis

        from bot.core.locks import RedisEventLocks

        # A bounded pool whose users wait for a free connection: redis-py's default pool
        # raises MaxConnectionsError in a burst instead.
        pool = BlockingConnectionPool.from_url(
            settings.redis_url,
            max_connections=settings.redis_max_connections,
            timeout=settings.redis_pool_timeout,
        )
        redis = Redis(connection_pool=pool)
        keys = DefaultKeyBuilder(with_destiny=True)
        return RedisStorage(redis, key_builder=keys), RedisEventLocks(redis, keys)
    return SqlStorage(sessionmaker), SimpleEventIsolation()


def create_dispatcher(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    i18n: Translator,
    clock: Clock,
    routers: Sequence[Router],
    metrics: Metrics | None = None,
    late: LateAnswers | None = None,
) -> RoutedDispatcher:
    """The Dispatcher with middlewares in order (timer, session, FSM lock and state, commit,
    member, locale) and the routers."""
    storage, isolation = create_storage(settings, sessionmaker)
    # aiogram's FSM middleware is registered by hand below, after the session is opened, so
    # the state is read in the update's own session (one transaction, one statement).
    dp = RoutedDispatcher(storage=storage, events_isolation=isolation, disable_fsm=True)
    # Before any database work: a flood is dropped for the price of a dict lookup, and a
    # button is answered in time even when the store is slow.
    dp.update.outer_middleware(
        FloodGuard(
            i18n,
            rate=settings.flood_rate,
            burst=settings.flood_burst,
            default_locale=settings.default_locale,
        )
    )
    if late is not None:
        dp.update.outer_middleware(EarlyAnswer(late, settings.callback_answer_seconds))
    dp["settings"] = settings
    dp["clock"] = clock
    dp["sessionmaker"] = sessionmaker
    if metrics is not None:
        # In JSON logs every update gets its line (update id, type, outcome, duration).
        level = logging.INFO if settings.log_format == "json" else logging.DEBUG
        dp.update.outer_middleware(UpdateTimer(metrics, level))
    dp.update.outer_middleware(DbSessionMiddleware(sessionmaker))
    dp.update.outer_middleware(dp.fsm)
    dp.update.outer_middleware(CommitMiddleware())
    dp.update.outer_middleware(MemberMiddleware(clock))
    dp.update.outer_middleware(LocaleMiddleware(i18n))
    for router in routers:
        # Module routers are built once per process; a second Dispatcher (a restart in the
        # same process, as the tests do) re-attaches them to itself.
        router._parent_router = None
    dp.include_routers(*routers)
    dp.include_router(error_router(i18n))
    run_filters_inline(dp)
    dp.index_routes()
    return dp


def run_filters_inline(router: Router) -> None:
    """Evaluate plain filters (`F.chat.type == "private"`, lambdas) in the event loop.

    aiogram runs every filter that is not a coroutine in a worker thread (`to_thread`), as
    it would a blocking handler: a thread hop for each router an update passes, which costs
    far more than reading an attribute and makes the loop and the threads fight for the GIL.
    Our filters never block, so they are called directly. Handlers stay as they are.
    """
    for observer in router.observers.values():
        filters = list(observer._handler.filters or [])
        for handler in observer.handlers:
            filters.extend(handler.filters or [])
        for obj in filters:
            if isinstance(obj, FilterObject) and not obj.awaitable:
                obj.callback = _as_coroutine(obj.callback)
                obj.awaitable = True
    for child in router.sub_routers:
        run_filters_inline(child)


def _as_coroutine(callback: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(callback)
    async def call(*args: Any, **kwargs: Any) -> Any:
        return callback(*args, **kwargs)

    return call


def pool_options(settings: Settings) -> dict[str, Any]:
    """The SQL pool's size and patience from the settings. SQLite keeps SQLAlchemy's small
    pool (each connection is a thread; more of them only contend for its one writer)."""
    if settings.db_url.startswith("sqlite"):
        return {} if ":memory:" in settings.db_url else {"pool_timeout": settings.db_pool_timeout}
    return {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_pool_size,
        "pool_timeout": settings.db_pool_timeout,
    }


async def assemble(
    settings: Settings, areas: Sequence[Area], clock: Clock | None = None, **extra: Any
) -> App:
    """Migrate the database and put the core and the areas together; nothing is sent yet."""
    clock = clock or Clock()
    await migrate(settings.db_url)
    registry = Registry()
    for area in areas:
        area(registry)
    engine = create_engine(settings.db_url, **pool_options(settings))
    sessionmaker = create_sessionmaker(engine)
    i18n = create_i18n(settings.default_locale)
    bot = create_bot(settings)
    late = LateAnswers()
    bot.session.middleware(late)
    bot.session.middleware(CommitBeforeTelling())
    routers = [*registry.routers, *registry.fallback_routers]
    metrics = Metrics()
    dp = create_dispatcher(settings, sessionmaker, i18n, clock, routers, metrics, late)
    redact_logs(settings.bot_token.get_secret_value())
    app = App(settings, clock, engine, sessionmaker, i18n, bot, dp, registry, metrics=metrics)
    secret = settings.privacy_key.get_secret_value() if settings.privacy_key else None
    app.privacy_key = load_privacy_key(secret, settings.data_dir)
    if settings.metrics_port and not settings.webhook_url:
        from bot.core.observe import MetricsServer

        app.services.insert(0, MetricsServer(app, settings.metrics_host, settings.metrics_port))
    dp["app"] = app
    dp["i18n_core"] = i18n
    for key, value in extra.items():
        dp[key] = value
    return app


async def run_polling(app: App, *, handle_signals: bool = True) -> None:
    """Long polling until stopped; services start and stop with the dispatcher.

    A webhook left from webhook mode would make every getUpdates fail (409): drop it first.
    """
    try:
        await app.bot.delete_webhook()
        await app.dp.start_polling(
            app.bot,
            handle_signals=handle_signals,
            close_bot_session=False,
            allowed_updates=app.dp.resolve_used_update_types(),
        )
    finally:
        await app.close()
