"""What an operator watches: `/healthz`, Prometheus `/metrics`, and the update timer.

Each `App` has its own `Metrics` (its own Prometheus registry, so several bots in one
process, as in the tests, do not mix their figures). Counters are bumped where things
happen (an update handled, a delivery finished, a 429); figures held in the store (queue
depth, due jobs, members by status) are read when `/metrics` is scraped. Services that must
keep running (the delivery engine, the scheduler) beat a heartbeat that `/healthz` checks.
Nothing here holds personal data: no names, no Telegram ids, no texts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiogram import BaseMiddleware, Dispatcher
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import TelegramObject, Update
from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.core.logs import CURRENT_UPDATE
from models.member import members_by_status

log = logging.getLogger(__name__)
Refresher = Callable[[AsyncSession], Awaitable[None]]
HEARTBEAT_STALE = 30.0  # seconds without a beat before /healthz says a service is stuck
CHECK_TIMEOUT = 3.0  # seconds /healthz waits for the store or Redis
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The process's Prometheus figures and the heartbeats of its background services."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)
        self.updates = Counter(
            "bot_updates", "Updates handled, by type and outcome", ["type", "outcome"], registry=r
        )
        self.update_seconds = Histogram(
            "bot_update_seconds",
            "Time to handle one update (store, replies), by type",
            ["type"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.deliveries = Counter(
            "bot_deliveries",
            "Deliveries finished by this process, by priority and outcome",
            ["priority", "status"],
            registry=r,
        )
        self.queued = Gauge(
            "bot_deliveries_queued",
            "Deliveries queued or in flight (all processes), by priority",
            ["priority"],
            registry=r,
        )
        self.rate_limited = Counter(
            "bot_telegram_429", "429 Too Many Requests answers received from Telegram", registry=r
        )
        self.pause = Gauge(
            "bot_telegram_pause_seconds", "Seconds left of the current 429 pause", registry=r
        )
        self.jobs_due = Gauge(
            "bot_scheduler_jobs_due", "Scheduled jobs whose time has come, not yet run", registry=r
        )
        self.jobs_late = Gauge(
            "bot_scheduler_jobs_late",
            "Due jobs waiting for more than a minute (the scheduler is behind)",
            registry=r,
        )
        self.jobs_run = Counter(
            "bot_scheduler_jobs", "Jobs run by this process, by outcome", ["outcome"], registry=r
        )
        self.members = Gauge("bot_members", "Members by status", ["status"], registry=r)
        self.heartbeat = Gauge(
            "bot_service_heartbeat_timestamp_seconds",
            "When each background service last showed it is alive (Unix time)",
            ["service"],
            registry=r,
        )
        self._beats: dict[str, float] = {}
        self._refreshers: list[Refresher] = [self._refresh_members]

    def expect(self, service: str) -> None:
        """A service runs in this process: /healthz fails if it stops beating."""
        self.beat(service)

    def beat(self, service: str) -> None:
        """The service is alive and making progress."""
        self._beats[service] = time.monotonic()
        self.heartbeat.labels(service).set(time.time())

    def forget(self, service: str) -> None:
        """The service stopped on purpose (shut-down): no longer checked."""
        self._beats.pop(service, None)

    def beats(self) -> dict[str, float]:
        """Seconds since each running service's last beat."""
        now = time.monotonic()
        return {name: now - at for name, at in self._beats.items()}

    def add_refresher(self, refresh: Refresher) -> None:
        """Figures read from the store (or the process) each time /metrics is scraped."""
        self._refreshers.append(refresh)

    async def _refresh_members(self, session: AsyncSession) -> None:
        self.members.clear()
        for status, count in (await members_by_status(session)).items():
            self.members.labels(status).set(count)

    async def render(self, app: App) -> bytes:
        """The Prometheus text exposition, with the store's figures read now."""
        try:
            async with app.sessionmaker() as session:
                for refresh in self._refreshers:
                    await refresh(session)
        except Exception:
            log.exception("reading figures for /metrics failed")
        return generate_latest(self.registry)


class App(Protocol):
    """What these checks need of the running bot (`bot.core.app.App`, which imports us)."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    dp: Dispatcher
    metrics: Metrics


class UpdateTimer(BaseMiddleware):
    """Count and time every update; one log line each (no personal data) at DEBUG."""

    def __init__(self, metrics: Metrics, level: int = logging.DEBUG) -> None:
        self.metrics = metrics
        self.level = level  # of the line logged for each update

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        kind = event.event_type if isinstance(event, Update) else type(event).__name__
        update_id = event.update_id if isinstance(event, Update) else None
        start = time.perf_counter()
        outcome = "error"
        token = CURRENT_UPDATE.set(update_id)
        try:
            result = await handler(event, data)
            outcome = "unhandled" if result is UNHANDLED else "handled"
            return result
        finally:
            took = time.perf_counter() - start
            self.metrics.updates.labels(kind, outcome).inc()
            self.metrics.update_seconds.labels(kind).observe(took)
            if log.isEnabledFor(self.level):
                log.log(
                    self.level,
                    "update %s %s in %.1f ms",
                    update_id,
                    outcome,
                    took * 1e3,
                    extra={"update_type": kind, "duration_ms": took * 1e3, "outcome": outcome},
                )
            CURRENT_UPDATE.reset(token)


async def health(app: App) -> tuple[bool, dict[str, str]]:
    """Whether this process is fit to serve, and each check's answer."""
    checks: dict[str, str] = {}
    ok = True
    try:
        async with asyncio.timeout(CHECK_TIMEOUT), app.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["store"] = "ok"
    except Exception as exc:
        ok = False
        checks["store"] = f"unreachable: {type(exc).__name__}"
    redis = getattr(app.dp.storage, "redis", None)
    if redis is None:
        checks["redis"] = "not used"
    else:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                await redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            ok = False
            checks["redis"] = f"unreachable: {type(exc).__name__}"
    beats = app.metrics.beats()
    for service in ("delivery", "scheduler"):
        age = beats.get(service)
        if age is None:
            checks[service] = "not run in this process"
        elif age > HEARTBEAT_STALE:
            ok = False
            checks[service] = f"stuck: last tick {age:.0f} s ago"
        else:
            checks[service] = "ok"
    return ok, checks


def add_routes(web_app: web.Application, app: App) -> None:
    """`GET /healthz` (200 or 503, JSON) and `GET /metrics` (Prometheus text)."""

    async def healthz(_: web.Request) -> web.Response:
        ok, checks = await health(app)
        body = {"status": "ok" if ok else "failing", "checks": checks}
        return web.Response(
            text=json.dumps(body), status=200 if ok else 503, content_type="application/json"
        )

    async def metrics(_: web.Request) -> web.Response:
        body = await app.metrics.render(app)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics)


class MetricsServer:
    """A small HTTP server for /healthz and /metrics in polling and worker mode."""

    def __init__(self, app: App, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen on METRICS_HOST:METRICS_PORT."""
        web_app = web.Application()
        add_routes(web_app, self.app)
        self._runner = web.AppRunner(web_app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        log.info("health and metrics on http://%s:%s/metrics", self.host, self.port)

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def probe(host: str, port: int, timeout: float = 4.0) -> tuple[bool, str]:
    """GET /healthz of a running process (for `python -m bot healthcheck` and containers)."""
    import urllib.error
    import urllib.request

    probe_host = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    url = f"http://{probe_host}:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200, response.read().decode()
    except urllib.error.HTTPError as exc:
        return False, exc.read().decode(errors="replace")
    except OSError as exc:
        return False, f"{url}: {exc}"
