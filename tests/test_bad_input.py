"""End to end: odd input gets a clear, translated answer and never crashes the bot."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.sandbox.telegram import FakeTelegram
from models.member import Member
from tests.conftest import onboard
from tests.harness import RunningBot


async def test_free_text_where_a_button_is_expected(bot: RunningBot, client: Any) -> None:
    user = client(3001, "Pedro", language_code="es")
    await user.send("/start")
    reply = await user.send("hola")
    assert "botones" in reply[0]["text"]
    assert "✓ Español" in user.buttons(), "the question is asked again"


async def test_stickers_photos_and_voice(bot: RunningBot, client: Any) -> None:
    user = client(3002, "Pedro", language_code="es")
    await user.send("/start")
    await user.click("✓ Español")
    await user.click_nth(0)
    reply = await user.send(sticker=True)  # name step expects text or a tap
    assert "botones" in reply[0]["text"]
    await user.click_nth(0)
    reply = await user.send(photo=True)
    assert "botones" in reply[0]["text"]


async def test_stickers_outside_any_flow(bot: RunningBot, client: Any) -> None:
    user = client(3003, "Pierre", language_code="fr")
    reply = await user.send(sticker=True)
    assert "/help" in reply[0]["text"] and "autocollant" in reply[0]["text"].lower()
    reply = await user.send(voice=True)
    assert "/help" in reply[0]["text"]


async def test_very_long_text(bot: RunningBot, client: Any) -> None:
    user = client(3004, "Pedro", language_code="en")
    await user.send("/start")
    await user.click("✓ English")
    await user.click_nth(0)
    reply = await user.send("x" * 4000)
    assert "1 to 64" in reply[0]["text"]
    reply = await user.send("y" * 4096)  # at the country step? no: still the name step
    assert "1 to 64" in reply[0]["text"]


async def test_forged_and_stale_callback_data(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    user = client(3005, "Pedro", language_code="pt")
    await user.send("/start")
    first = user.last()
    await user.press_data("lang:xx", first)
    assert "não é mais válido" in user.callback_answer()["text"]
    await user.press_data("nonsense-data", first)
    assert "não é mais válido" in user.callback_answer()["text"]
    await user.press_data("country:ZZ", first)  # a step that is not current
    assert "não é mais válido" in user.callback_answer()["text"]
    await user.press_data("review:99999:1", first)
    assert user.callback_answer()["text"]
    await user.click("✓ Português")
    # the language keyboard is gone; pressing its data again is stale
    await user.press_data("consent:1", first)
    await user.click_nth(0)
    assert await bot.db(lambda s: s.scalar(select(Member).where(Member.telegram_id == 3005)))
    bot_errors = [c for c in fake.calls if not c.ok and c.method != "getUpdates"]
    assert not bot_errors, bot_errors


async def test_unknown_command_and_text_for_members(bot: RunningBot, client: Any) -> None:
    user = client(3006, "Ana", language_code="en")
    await onboard(user, language="✓ English", country="Kenya")
    reply = await user.send("/doesnotexist")
    assert "waiting for an admin" in reply[0]["text"]
    reply = await user.send("/help")
    assert "/language" in reply[0]["text"]
