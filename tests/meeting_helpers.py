"""Shared set-up for the meeting tests: a working group whose members live in four zones."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import icalendar
from sqlalchemy import select

from bot.sandbox.telegram import FakeTelegram
from models.group import GroupMembership, GroupRole, GroupTranslation, WorkingGroup
from models.member import Member
from tests.botclient import BotClient
from tests.conftest import add_member
from tests.harness import RunningBot

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
COORDINATOR = 6100
MONTEVIDEO, CAIRO, MANILA, OUTSIDER = 6101, 6102, 6103, 6104


@dataclass
class Network:
    """The coordinator (Nairobi, English) and members in Montevideo, Cairo and Manila."""

    group_id: int
    coordinator: BotClient
    montevideo: BotClient
    cairo: BotClient
    manila: BotClient
    outsider: BotClient

    @property
    def invited(self) -> list[BotClient]:
        return [self.coordinator, self.montevideo, self.cairo, self.manila]


async def eventually(check: Callable[[], Any], within: float = 15.0) -> Any:
    """Wait until `check()` is truthy (polling), or fail with what it last returned."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s (last: {result!r})")
        await asyncio.sleep(0.05)


async def network(bot: RunningBot, client: Callable[..., BotClient]) -> Network:
    """Store the people and their working group directly (onboarding is tested elsewhere)."""
    people = {
        COORDINATOR: ("Wanjiru", "en", "KE", "Africa/Nairobi", GroupRole.COORDINATOR),
        MONTEVIDEO: ("Lucía", "es", "UY", "America/Montevideo", GroupRole.MEMBER),
        CAIRO: ("Omar", "ar", "EG", "Africa/Cairo", GroupRole.MEMBER),
        MANILA: ("Maria", "fr", "PH", "Asia/Manila", GroupRole.MEMBER),
        OUTSIDER: ("Pedro", "es", "AR", "America/Argentina/Buenos_Aires", None),
    }
    clients = {}
    for telegram_id, (name, locale, country, zone, _role) in people.items():
        clients[telegram_id] = client(telegram_id, name, language_code=locale)
        await add_member(bot, telegram_id, name, locale=locale, country=country, timezone=zone)

    async def create(session: Any) -> int:
        group = WorkingGroup(
            code="women",
            translations=[
                GroupTranslation(locale="en", name="Women and ESCR"),
                GroupTranslation(locale="es", name="Mujeres y DESC"),
                GroupTranslation(locale="fr", name="Femmes et DESC"),
                GroupTranslation(locale="ar", name="النساء والحقوق"),
            ],
        )
        session.add(group)
        await session.flush()
        for telegram_id, (*_rest, role) in people.items():
            if role is None:
                continue
            member = await session.scalar(select(Member).where(Member.telegram_id == telegram_id))
            session.add(GroupMembership(group_id=group.id, member_id=member.id, role=role))
        await session.commit()
        return int(group.id)

    group_id = await bot.db(create)
    return Network(
        group_id,
        clients[COORDINATOR],
        clients[MONTEVIDEO],
        clients[CAIRO],
        clients[MANILA],
        clients[OUTSIDER],
    )


def texts_with(user: BotClient, needle: str) -> list[dict[str, Any]]:
    """The bot's messages to a user whose text or caption contains `needle`."""
    return [m for m in user.messages() if needle in str(m.get("text", m.get("caption", "")))]


def calendar_files(fake: FakeTelegram, user: BotClient) -> list[icalendar.Calendar]:
    """Every .ics document the user received, parsed."""
    found = []
    for message in user.messages():
        document = message.get("document")
        if document and str(document.get("file_name", "")).endswith(".ics"):
            found.append(icalendar.Calendar.from_ical(fake.files[document["file_id"]].data))
    return found


def wake_scheduler(bot: RunningBot) -> None:
    """Have the scheduler look for due jobs now that the clock moved."""
    from bot.delivery.scheduler import Scheduler

    assert bot.app is not None
    for service in bot.app.services:
        if isinstance(service, Scheduler):
            service.wake()


async def settle(fake: FakeTelegram, seconds: float = 0.6) -> None:
    """Let the engine and the scheduler finish what they are doing."""
    await asyncio.sleep(seconds)
    await fake.settle(quiet=0.3, timeout=10)


async def open_managed(coordinator: BotClient, title: str) -> None:
    """/meetings, then Manage meetings, then the meeting's button."""
    await coordinator.send("/meetings")
    await coordinator.click("⚙️ Manage meetings")
    listing = texts_with(coordinator, "Meetings you manage")[-1]
    await coordinator.click(title, listing)
