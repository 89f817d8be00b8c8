"""Fixtures: the fake Bot API server, a fresh database per test, the running bot, clients."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.core.clock import FakeClock
from bot.core.db import create_engine
from bot.core.i18n import compile_catalogues
from bot.sandbox.telegram import FakeTelegram
from tests.botclient import BotClient
from tests.harness import RunningBot, make_settings

ON_CI = os.environ.get("CI", "").lower() == "true"
PG_URL = os.environ.get("TEST_DATABASE_URL")
REDIS_URL = os.environ.get("TEST_REDIS_URL")
BACKENDS = ["sqlite"] + (["postgres"] if PG_URL else [])


def pytest_configure(config: pytest.Config) -> None:
    """Catalogues are compiled before any test, as the bot does on start."""
    compile_catalogues()
    if ON_CI and not (PG_URL and REDIS_URL):
        raise pytest.UsageError("CI=true needs TEST_DATABASE_URL and TEST_REDIS_URL")


async def reset_postgres(url: str) -> None:
    """Drop every table of the test database so each test starts from an empty schema."""
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def reset_redis(url: str) -> None:
    """Empty the Redis database used for FSM storage."""
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    await client.flushdb()
    await client.aclose()


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """A fresh, empty store: SQLite in a temp folder, or PostgreSQL (+ Redis) when configured."""
    if request.param == "postgres":
        assert PG_URL
        await reset_postgres(PG_URL)
        if REDIS_URL:
            await reset_redis(REDIS_URL)
        return {"db_url": PG_URL, "redis_url": REDIS_URL, "name": "postgres"}
    return {
        "db_url": f"sqlite+aiosqlite:///{tmp_path / f'bot-{uuid.uuid4().hex[:8]}.sqlite3'}",
        "redis_url": None,
        "name": "sqlite",
    }


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """A fake Telegram Bot API server on 127.0.0.1."""
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Tests override settings (ADMIN_IDS, OPEN_REGISTRATION...) by redefining this fixture."""
    return {}


@pytest.fixture
async def bot(
    fake: FakeTelegram,
    backend: dict[str, Any],
    clock: FakeClock,
    settings_overrides: dict[str, Any],
) -> AsyncIterator[RunningBot]:
    """The real bot, polling the fake server."""
    settings = make_settings(fake, backend["db_url"], backend["redis_url"], **settings_overrides)
    running = RunningBot(settings, clock, fake)
    await running.start()
    yield running
    await running.stop()
    await fake.settle(quiet=0.05, timeout=2)


@pytest.fixture
def client(fake: FakeTelegram, bot: RunningBot) -> Callable[..., BotClient]:
    """Make a Telegram user who talks to the running bot."""

    def make(user_id: int, first_name: str = "Ana", **kwargs: Any) -> BotClient:
        return BotClient(fake, user_id, first_name, **kwargs)

    return make


async def onboard(
    user: BotClient,
    *,
    language: str = "English",
    country: str = "Uruguay",
    zone: str | None = None,
) -> None:
    """Complete onboarding by taps (used by tests of other areas)."""
    await user.send("/start")
    await user.click(language)
    await user.click_nth(0)  # Accept
    await user.click_nth(0)  # Keep name
    await user.send(country)
    await user.click(country)
    if zone:
        await user.click(zone)
    await user.click_nth(-1)  # Skip organisation
    await user.click_nth(-1)  # Prefer not to say


Onboard = Callable[..., Awaitable[None]]


async def add_member(
    bot: RunningBot,
    telegram_id: int,
    name: str = "Member",
    *,
    locale: str = "en",
    country: str = "UY",
    timezone: str | None = None,
    gender: str | None = None,
    role: str = "member",
    status: str = "active",
    organisation: str | None = None,
) -> Any:
    """Store an onboarded member directly (for tests whose subject is not onboarding)."""
    from bot.core import geo
    from models.member import Member

    async def create(session: Any) -> Any:
        member = Member(
            telegram_id=telegram_id,
            display_name=name,
            locale=locale,
            country=country,
            region=geo.region_of(country),
            timezone=timezone or (geo.timezones_for(country) or ["UTC"])[0],
            gender=gender,
            role=role,
            status=status,
            organisation=organisation,
        )
        session.add(member)
        await session.commit()
        return member

    return await bot.db(create)
