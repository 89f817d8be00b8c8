"""`GET /healthz` and `GET /metrics`: on the webhook server, and on METRICS_PORT when polling."""

from __future__ import annotations

import asyncio
import socket
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from bot.core import observe
from bot.core.clock import FakeClock
from bot.core.webhook import create_web_app
from bot.delivery.notice import enqueue_notice, schedule_notice
from bot.delivery.scheduler import scheduler_of
from bot.sandbox.telegram import FakeTelegram
from bot.wiring import build_app
from tests.botclient import BotClient
from tests.conftest import add_member
from tests.harness import RunningBot, make_settings
from tests.test_delivery import FAST, eventually, queue, settled

TEXTS = {"en": "Assembly on Friday", "es": "Asamblea el viernes"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def port() -> int:
    """Where the polling bot serves /healthz and /metrics (METRICS_PORT)."""
    return free_port()


@pytest.fixture
def settings_overrides(port: int) -> dict[str, Any]:
    return {**FAST, "metrics_port": port}


async def get(path: str, port: int) -> tuple[int, str]:
    """GET a path; the server starts with the dispatcher, so wait a little for it to listen."""
    for attempt in range(50):
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.get(f"http://127.0.0.1:{port}{path}") as response,
            ):
                return response.status, await response.text()
        except aiohttp.ClientConnectorError:
            if attempt == 49:
                raise
            await asyncio.sleep(0.1)
    raise AssertionError("unreachable")


async def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, keyed by name and sorted labels."""
    status, body = await get("/metrics", port)
    assert status == 200
    samples = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[Any, float], name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


async def health(port: int) -> tuple[int, dict[str, Any]]:
    import json

    status, body = await get("/healthz", port)
    return status, json.loads(body)


async def test_polling_mode_serves_health_and_figures(
    bot: RunningBot, fake: FakeTelegram, backend: dict[str, Any], clock: FakeClock, port: int
) -> None:
    status, body = await health(port)
    assert status == 200 and body["status"] == "ok"
    assert body["checks"] == {
        "store": "ok",
        "redis": "ok" if backend["redis_url"] else "not used",
        "delivery": "ok",
        "scheduler": "ok",
    }

    user = BotClient(fake, 7001, "Lucia", language_code="es")
    await user.send("/start")
    for i, member_status in enumerate(["active", "active", "active", "pending"]):
        fake.add_user(7100 + i, f"M{i}", language_code="en")
        await add_member(bot, 7100 + i, f"M{i}", status=member_status)
    fake.inject_429(1, retry_after=1)
    broadcast = await queue(bot, lambda s: enqueue_notice(s, TEXTS))
    assert (await settled(bot, broadcast.id)) == {"sent": 3}

    samples = await scrape(port)
    assert value(samples, "bot_updates_total", type="message", outcome="handled") == 1
    assert value(samples, "bot_update_seconds_count", type="message") == 1
    assert value(samples, "bot_members", status="active") == 3
    assert value(samples, "bot_members", status="pending") == 1
    assert value(samples, "bot_deliveries_total", priority="normal", status="sent") == 3
    assert value(samples, "bot_deliveries_queued", priority="normal") == 0
    assert value(samples, "bot_telegram_429_total") == 1
    assert value(samples, "bot_scheduler_jobs_due") == 0
    pause = value(samples, "bot_telegram_pause_seconds")
    assert pause is not None and pause <= 1
    assert value(samples, "bot_service_heartbeat_timestamp_seconds", service="delivery")
    ok, text = await asyncio.to_thread(observe.probe, "0.0.0.0", port)
    assert ok and '"delivery": "ok"' in text  # what `python -m bot healthcheck` asks
    body_text = (await get("/metrics", port))[1]
    assert "Lucia" not in body_text and "7001" not in body_text  # no personal data


async def test_a_stuck_scheduler_fails_health_and_late_jobs_show(
    bot: RunningBot,
    fake: FakeTelegram,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    port: int,
) -> None:
    assert bot.app is not None
    scheduler = scheduler_of(bot.app)
    assert scheduler is not None
    monkeypatch.setattr(observe, "HEARTBEAT_STALE", 2.0)  # the engine ticks every 0.7 s
    release = asyncio.Event()
    real_run_due = scheduler.run_due

    async def stuck() -> int:  # a job that never returns, as a hung handler would
        await release.wait()
        return await real_run_due()

    monkeypatch.setattr(scheduler, "run_due", stuck)
    scheduler.wake()

    async def late_job(session: Any) -> None:
        await schedule_notice(
            session, TEXTS, key="late", due_at=clock.now() - timedelta(minutes=5)
        )
        await session.commit()

    await bot.db(late_job)

    async def failing() -> dict[str, Any] | None:
        status, body = await health(port)
        return body if status == 503 else None

    body = await eventually(failing, within=10)
    assert body["status"] == "failing"
    assert body["checks"]["scheduler"].startswith("stuck")
    assert body["checks"]["delivery"] == "ok"
    samples = await scrape(port)
    assert value(samples, "bot_scheduler_jobs_due") == 1
    assert value(samples, "bot_scheduler_jobs_late") == 1

    release.set()

    async def recovered() -> bool:
        samples = await scrape(port)
        return value(samples, "bot_scheduler_jobs_total", outcome="done") == 1

    await eventually(recovered)

    async def healthy() -> bool:
        status, body = await health(port)
        return status == 200 and body["checks"]["scheduler"] == "ok"

    await eventually(healthy, within=5)
    assert value(await scrape(port), "bot_scheduler_jobs_due") == 0


async def test_webhook_server_serves_health_and_metrics(
    fake: FakeTelegram, backend: dict[str, Any]
) -> None:
    port = free_port()
    settings = make_settings(
        fake,
        backend["db_url"],
        backend["redis_url"],
        webhook_url="https://bot.example.org",
        webhook_secret="s3cret",
        webhook_port=port,
        metrics_port=free_port(),  # ignored: the webhook server has the routes
        run_delivery=False,
    )
    app = await build_app(settings)
    assert not app.services, "no engine, no scheduler, no second server in this process"
    runner = web.AppRunner(create_web_app(app))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        fake.add_user(4343, "Web", language_code="pt")
        update = fake.user_sends(4343, "/help")
        async with aiohttp.ClientSession() as http:
            ok = await http.post(
                f"http://127.0.0.1:{port}/telegram",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"},
            )
            assert ok.status == 200
        await fake.wait_for_call(lambda c: c.method == "sendMessage" and c.chat_id == 4343)
        status, body = await health(port)
        assert status == 200
        assert body["checks"]["delivery"] == "not run in this process"
        assert body["checks"]["scheduler"] == "not run in this process"
        samples = await scrape(port)
        assert value(samples, "bot_updates_total", type="message", outcome="handled") == 1
    finally:
        await runner.cleanup()
        await app.close()
