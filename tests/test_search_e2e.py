"""End to end: members find their country and coordinators their time zone in their own words
(other languages, typos, offsets), through the real bot and the fake Bot API, on every store."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.core.clock import FakeClock
from models.member import Member
from tests.harness import RunningBot
from tests.meeting_helpers import NOW, network
from tests.test_meeting_bad_input import to_date_step


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)  # 1 March 2027: southern summer, Santiago at UTC-3


async def stored(bot: RunningBot, telegram_id: int) -> Member:
    row = await bot.db(lambda s: s.scalar(select(Member).where(Member.telegram_id == telegram_id)))
    assert row is not None
    return row


async def start_country_step(user: Any, language: str) -> None:
    await user.send("/start")
    await user.click(language)
    await user.click_nth(0)  # accept
    await user.click_nth(0)  # keep the name


async def test_a_typo_and_a_name_from_another_language_find_the_country(
    bot: RunningBot, client: Any
) -> None:
    ana = client(7001, "Ana", language_code="es")
    await start_country_step(ana, "✓ Español")
    await ana.send("urguay")
    assert ana.buttons()[0] == "Uruguay"
    await ana.click("Uruguay")
    row = await stored(bot, 7001)
    assert (row.country, row.timezone) == ("UY", "America/Montevideo")

    sam = client(7002, "Sam", language_code="en")
    await start_country_step(sam, "✓ English")
    await sam.send("Palestina")
    assert sam.buttons()[0] == "Palestinian Territories"
    await sam.send("EEUU")
    assert sam.buttons()[0] == "United States"
    await sam.send("Kenia")
    await sam.click("Kenya")
    assert (await stored(bot, 7002)).country == "KE"


async def test_chile_offers_santiago_first(bot: RunningBot, client: Any) -> None:
    user = client(7003, "Rosa", language_code="es")
    await start_country_step(user, "✓ Español")
    await user.send("chle")  # a typo
    await user.click("Chile")
    buttons = user.buttons()
    assert buttons[0].startswith("Santiago de Chile (UTC−03:00)")
    assert buttons[-1].startswith("Isla de Pascua")
    await user.click_nth(0)
    assert (await stored(bot, 7003)).timezone == "America/Santiago"


async def test_a_zone_typed_as_offset_city_or_abbreviation(bot: RunningBot, client: Any) -> None:
    net = await network(bot, client)
    await to_date_step(net)
    c = net.coordinator
    await c.click("🌍 Another time zone")
    reply = await c.send("America")  # a folder of the tz database, not a zone: no crash
    assert "Tap the time zone" in reply[0]["text"]
    assert c.buttons()[0] == "New York (UTC−05:00)"
    await c.send("EAT")
    assert "Nairobi (UTC+03:00)" in c.buttons()
    assert not any("London" in label for label in c.buttons())
    await c.send("Nueva York")
    assert c.buttons()[0] == "New York (UTC−05:00)"
    await c.send("القاهرة")
    assert c.buttons()[0] == "Cairo (UTC+02:00)"
    await c.send("GMT-3")
    assert c.buttons()[0] == "UTC−3 (UTC−03:00)"
    assert "Montevideo (UTC−03:00)" in c.buttons()
    await c.click("UTC−3 (UTC−03:00)")
    assert "UTC−3" in c.last()["text"]
