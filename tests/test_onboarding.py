"""End to end: people join by taps in their language, through the real bot and the fake API."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from bot.sandbox.telegram import FakeTelegram
from models.member import Member, MemberStatus
from tests.harness import RunningBot

ARABIC = re.compile("[\u0600-\u06ff]")


async def member_row(bot: RunningBot, telegram_id: int) -> Member | None:
    return await bot.db(
        lambda s: s.scalar(select(Member).where(Member.telegram_id == telegram_id))
    )


async def test_spanish_speaker_onboards_by_taps(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    ana = client(1001, "Ana", last_name="Pérez", language_code="es")
    reply = await ana.send("/start")
    assert "idioma" in reply[-1]["text"].lower()
    assert "✓ Español" in ana.buttons()

    reply = await ana.click("✓ Español")
    assert "Aceptar" in " ".join(ana.buttons())
    assert await member_row(bot, 1001) is None, "nothing is stored before consent"

    await ana.click_nth(0)  # Accept
    assert any("Ana Pérez" in b for b in ana.buttons())
    await ana.click_nth(0)  # keep name
    reply = await ana.send("urug")
    assert "Uruguay" in ana.buttons()
    await ana.click("Uruguay")
    # Uruguay has one zone: no question; organisation is next
    assert "Omitir" in ana.buttons()
    await ana.send("Red de Pescadoras")
    reply = await ana.click("Mujer")
    assert "Gracias" in ana.last()["text"]

    row = await member_row(bot, 1001)
    assert row is not None
    assert (row.locale, row.country, row.region, row.timezone) == (
        "es",
        "UY",
        "419",
        "America/Montevideo",
    )
    assert row.organisation == "Red de Pescadoras"
    assert row.gender == "woman"
    assert row.display_name == "Ana Pérez"
    assert row.status == MemberStatus.PENDING
    # Spanish command menu was published
    names = [c["description"] for c in fake.commands[("default", "es")]]
    assert "Cambiar idioma" in names
    assert "idioma" in fake.descriptions["es"] and "idioma" not in fake.descriptions[None]
    assert fake.short_descriptions["ar"].startswith("\u200f")


async def test_arabic_speaker_onboards_and_reads_right_to_left(
    bot: RunningBot, client: Any
) -> None:
    user = client(1002, "Layla", language_code="ar")
    reply = await user.send("/start")
    assert ARABIC.search(reply[-1]["text"])
    assert reply[-1]["text"].startswith("\u200f")
    await user.click("✓ العربية")
    await user.click_nth(0)  # accept
    await user.send("Layla H.")
    await user.send("مصر")
    await user.click("مصر")
    await user.click_nth(-1)  # skip organisation
    await user.click_nth(-1)  # prefer not to say
    assert ARABIC.search(user.last()["text"])
    row = await member_row(bot, 1002)
    assert row is not None
    assert (row.display_name, row.country, row.region, row.timezone, row.gender) == (
        "Layla H.",
        "EG",
        "015",
        "Africa/Cairo",
        "undisclosed",
    )


async def test_country_with_several_zones_asks_for_the_zone(bot: RunningBot, client: Any) -> None:
    user = client(1003, "Joana", language_code="pt-br")
    await user.send("/start")
    await user.click("✓ Português")
    await user.click_nth(0)
    await user.click_nth(0)
    await user.click("B")  # letter page
    assert "Brasil" not in user.buttons()
    await user.click("▶")  # next page of B
    await user.click("Brasil")
    labels = user.buttons()
    assert any("São Paulo" in b for b in labels) and len(labels) > 1
    await user.click(next(b for b in labels if "São Paulo" in b))
    row = await member_row(bot, 1003)
    assert row is not None and row.timezone == "America/Sao_Paulo"


async def test_decline_stores_nothing(bot: RunningBot, client: Any, fake: FakeTelegram) -> None:
    user = client(1004, "Kofi", language_code="en")
    await user.send("/start")
    await user.click("✓ English")
    await user.click("Decline")
    assert "/start" in user.last()["text"]
    assert await member_row(bot, 1004) is None


async def test_restart_mid_onboarding_loses_nothing(bot: RunningBot, client: Any) -> None:
    user = client(1005, "Rosa", language_code="fr")
    await user.send("/start")
    await user.click("✓ Français")
    await user.click_nth(0)
    await user.click_nth(0)  # keep name → country question
    await bot.restart()
    reply = await user.send("séné")
    assert "Sénégal" in user.buttons(), reply
    await user.click("Sénégal")
    await user.click_nth(-1)
    await user.click_nth(-1)
    row = await member_row(bot, 1005)
    assert row is not None and row.country == "SN" and row.status == MemberStatus.PENDING


class TestAdmins:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"admin_ids": [9001]}

    async def test_admin_approves_a_member(
        self, bot: RunningBot, client: Any, fake: FakeTelegram
    ) -> None:
        from tests.conftest import onboard

        admin = client(9001, "Maria", language_code="es")
        await onboard(admin, language="✓ Español")
        assert (await member_row(bot, 9001)).is_admin  # type: ignore[union-attr]

        kofi = client(1006, "Kofi", language_code="en")
        await onboard(kofi, language="✓ English", country="Kenya")
        request = admin.last()
        assert "Kofi" in request["text"] and "Kenia" in request["text"]
        assert str(1006) not in request["text"], "admins never see Telegram ids"
        await admin.click("✅ Aprobar", request)
        assert "approved" in kofi.last()["text"]
        row = await member_row(bot, 1006)
        assert row is not None and row.status == MemberStatus.ACTIVE
        # a second press on the same, now decided request changes nothing
        await admin.press_data(
            request["reply_markup"]["inline_keyboard"][0][1]["callback_data"], request
        )
        assert (await member_row(bot, 1006)).status == MemberStatus.ACTIVE  # type: ignore[union-attr]

    async def test_plain_member_cannot_approve(self, bot: RunningBot, client: Any) -> None:
        from bot.members.callbacks import ReviewCb
        from tests.conftest import onboard

        kofi = client(1007, "Kofi", language_code="en")
        await onboard(kofi, language="✓ English", country="Kenya")
        target = await member_row(bot, 1007)
        mallory = client(1008, "Mallory", language_code="en")
        await onboard(mallory, language="✓ English", country="Kenya")
        await mallory.press_data(ReviewCb(member_id=target.id, approve=True).pack())  # type: ignore[union-attr]
        assert "Only network admins" in mallory.callback_answer()["text"]
        assert (await member_row(bot, 1007)).status == MemberStatus.PENDING  # type: ignore[union-attr]


class TestOpenRegistration:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"open_registration": True}

    async def test_member_is_active_at_once(self, bot: RunningBot, client: Any) -> None:
        from tests.conftest import onboard

        user = client(1010, "Amina", language_code="en")
        await onboard(user, language="✓ English", country="Kenya")
        assert "all set" in user.last()["text"]
        assert (await member_row(bot, 1010)).status == MemberStatus.ACTIVE  # type: ignore[union-attr]
