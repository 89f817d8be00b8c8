"""Checks before start: the database, Redis and Telegram answer, so an operator gets one line
naming what is wrong instead of a traceback on the first update."""

from __future__ import annotations

import asyncio
import logging
import time

from aiogram import Bot
from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import User
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.core.config import Settings

log = logging.getLogger(__name__)
CONNECT_TIMEOUT = 10.0  # seconds for the database and Redis to answer at start


class StartupError(Exception):
    """Something the bot needs is missing or refuses; the message is the one line to print."""


def where_data_lives(settings: Settings) -> str:
    """The database (without its password) for the start-up line and error messages."""
    url = make_url(settings.db_url)
    if url.get_backend_name() == "sqlite":
        return f"SQLite {url.database}"
    return f"PostgreSQL {url.render_as_string(hide_password=True).split('://', 1)[1]}"


def _reason(exc: BaseException) -> str:
    """The first line of an exception, for a one-line message."""
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


async def check_database(settings: Settings) -> None:
    """Connect once and run SELECT 1."""
    from bot.core.db import create_engine

    engine = create_engine(settings.db_url)
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error is the operator's to read, in one line
        raise StartupError(
            f"database unreachable ({where_data_lives(settings)}): {_reason(exc)}"
        ) from None
    finally:
        await engine.dispose()


async def check_redis(settings: Settings) -> None:
    """PING the Redis server that keeps conversation state, when one is configured."""
    if not settings.redis_url:
        return
    from redis.asyncio import Redis

    client = Redis.from_url(settings.redis_url, socket_connect_timeout=CONNECT_TIMEOUT)
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT):
            await client.ping()
    except Exception as exc:  # connection refused, wrong password, DNS: all one line
        host = make_url(settings.redis_url).render_as_string(hide_password=True)
        raise StartupError(f"Redis unreachable ({host}): {_reason(exc)}") from None
    finally:
        await client.aclose()


async def check_telegram(bot: Bot, settings: Settings) -> User:
    """getMe, retried with backoff while Telegram can't be reached; a refused token is final."""
    deadline = time.monotonic() + settings.startup_retry_seconds
    delay = 1.0
    tries = 0
    while True:
        tries += 1
        try:
            return await bot.get_me(request_timeout=int(CONNECT_TIMEOUT))
        except TelegramUnauthorizedError:
            raise StartupError(
                f"Telegram refused BOT_TOKEN (401 Unauthorized at {settings.telegram_api_url}): "
                "check the token from @BotFather"
            ) from None
        except (TelegramNetworkError, TelegramServerError, OSError, TimeoutError) as exc:
            left = deadline - time.monotonic()
            if left <= 0:
                raise StartupError(
                    f"Telegram Bot API unreachable at {settings.telegram_api_url} after "
                    f"{tries} tries: {_reason(exc)}"
                ) from None
            log.warning("Telegram not reachable yet (%s); trying again", _reason(exc))
            await asyncio.sleep(min(delay, left))
            delay = min(delay * 2, 30.0)


async def preflight(settings: Settings) -> None:
    """The store first (migrations need it), then Redis."""
    await check_database(settings)
    await check_redis(settings)
