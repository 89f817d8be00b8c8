"""Floods: one person sending a hundred messages at once is asked once to slow down and does
not hold up others; the bot's replies to one chat are paced; a tapped button is answered in
time even when the store is slow."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiogram import BaseMiddleware

from bot.core.config import Settings
from bot.core.floods import Buckets
from bot.sandbox.telegram import FakeTelegram
from tests.conftest import add_member
from tests.harness import RunningBot

SLOW_DOWN = {"en": "too fast", "es": "demasiado rápido"}
# The shipped throttle and pacing (the harness relaxes them for its fast test users).
SHIPPED = {
    name: Settings.model_fields[name].default
    for name in ("reply_burst", "flood_burst", "flood_rate")
}


def test_buckets_allow_a_burst_then_the_rate() -> None:
    now = [100.0]
    buckets = Buckets(rate=2.0, burst=3, clock=lambda: now[0])
    waits = [buckets.reserve(7) for _ in range(5)]
    assert waits == [0.0, 0.0, 0.0, 0.5, 1.0]
    assert buckets.wait(8) == 0.0, "each key has its own bucket"
    now[0] += 10
    assert buckets.wait(7) == 0.0


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return SHIPPED


async def test_a_flood_is_dropped_after_one_slow_down_and_others_are_answered(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    await add_member(bot, 7301, "Flood", locale="es")
    await add_member(bot, 7302, "Calm")
    fake.add_user(7301, "Flood", language_code="es")
    calm = client(7302, "Calm")
    started = time.monotonic()
    for i in range(150):
        fake.user_sends(7301, f"spam {i}")
    reply = await calm.send("/help")
    assert "/groups" in reply[-1]["text"]
    assert time.monotonic() - started < 8, "the flood did not hold the others up"
    await fake.settle(7301, quiet=1.5, timeout=60)
    texts = [str(m.get("text", "")) for m in fake.messages(7301)]
    warnings = [t for t in texts if SLOW_DOWN["es"] in t]
    assert len(warnings) == 1, texts
    assert len(texts) <= 40, f"most of the flood was dropped ({len(texts)} replies)"
    assert not [v for v in fake.violations if "private chat 7301" in v], fake.violations[:3]
    # Once the flood is over, they are answered again as usual.
    fake.user_sends(7301, "/help")
    deadline = time.monotonic() + 30
    while not any("/groups" in str(m.get("text")) for m in fake.messages(7301)):
        assert time.monotonic() < deadline, "no answer after the flood"
        await asyncio.sleep(0.1)


class SlowStore(BaseMiddleware):
    """A store that takes three seconds per update (a long lock wait, a slow disk)."""

    async def __call__(self, handler: Any, event: Any, data: dict[str, Any]) -> Any:
        await asyncio.sleep(3.0)
        return await handler(event, data)


class TestSlowStore:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {**SHIPPED, "callback_answer_seconds": 0.5}

    async def test_a_button_is_answered_in_time_and_the_answer_shown_as_a_message(
        self, bot: RunningBot, client: Any, fake: FakeTelegram
    ) -> None:
        assert bot.app is not None
        await add_member(bot, 7310, "Ana")
        user = client(7310, "Ana")
        await user.send("/help")
        fake.callback_timeout = 2.0  # Telegram's limit, shortened
        bot.app.dp.update.outer_middleware(SlowStore())
        user.timeout = 20
        await user.press_data("wg:explode:1")
        answers = fake.calls_to("answerCallbackQuery")
        assert answers and all(c.ok for c in answers), fake.format_calls()
        await fake.settle(7310, quiet=0.5, timeout=10)
        assert "no longer valid" in user.texts()[-1], "the handler's alert came as a message"
        assert not [c for c in fake.calls if not c.ok and c.method != "getUpdates"]
