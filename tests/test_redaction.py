"""The bot token never reaches the logs or the store, whatever Telegram (or a proxy) puts in an
error: it is redacted from stored delivery errors and from every log record."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.privacy import REDACTED, redact
from bot.delivery.notice import enqueue_notice
from bot.sandbox.telegram import FakeTelegram
from models.delivery import Delivery, DeliveryStatus
from tests.harness import RunningBot
from tests.test_delivery import GREETINGS, members, queue, settled


async def test_token_is_redacted_from_delivery_errors_and_logs(
    bot: RunningBot, fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await members(bot, fake, 1)
    leaky = f"Bad Request: see {fake.base_url}/bot{fake.token}/sendMessage"
    fake.fail_next(1, 400, leaky, methods={"sendMessage"})
    broadcast = await queue(bot, lambda s: enqueue_notice(s, GREETINGS))
    assert await settled(bot, broadcast.id) == {DeliveryStatus.FAILED: 1}

    async def error(session: Any) -> str:
        row = await session.scalar(select(Delivery).where(Delivery.broadcast_id == broadcast.id))
        return str(row.error)

    stored = await bot.db(error)
    assert REDACTED in stored and fake.token not in stored
    assert fake.token.partition(":")[2] not in stored
    logging.getLogger("bot.test").warning("request to %s failed", f"/bot{fake.token}/getMe")
    try:
        raise RuntimeError(f"boom at /bot{fake.token}/x")
    except RuntimeError:
        logging.getLogger("bot.test").exception("failed")
    logged = caplog.text
    assert "request to /bot<redacted>/getMe failed" in logged
    assert fake.token not in logged and fake.token.partition(":")[2] not in logged


def test_redact_hides_the_token_and_its_secret_half() -> None:
    token = "123456:AAH-secret_part_xyz"
    assert redact(f"x {token} y AAH-secret_part_xyz", token) == "x <redacted> y <redacted>"
    assert redact("nothing here", token) == "nothing here"


def test_privacy_key_is_made_once_readable_by_the_bot_only(tmp_path: Any) -> None:
    from bot.core.privacy import keyed_token, load_privacy_key

    first = load_privacy_key(None, tmp_path / "data")
    assert len(first) == 64 and load_privacy_key(None, tmp_path / "data") == first
    assert (tmp_path / "data" / "privacy.key").stat().st_mode & 0o777 == 0o600
    assert load_privacy_key("set-by-operator", tmp_path) == b"set-by-operator"
    token = keyed_token(first, "poll", 3, 123456789)
    assert "123456789" not in token and token == keyed_token(first, "poll", 3, 123456789)
    assert token != keyed_token(first, "poll", 4, 123456789)
    assert token != keyed_token(b"another key", "poll", 3, 123456789)
