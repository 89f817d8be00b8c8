"""End to end: members see everything stored about them and can erase it without a trace."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from bot.sandbox.telegram import FakeTelegram
from models import Base
from models.group import GroupMembership, GroupTranslation, WorkingGroup
from models.member import Member
from tests.conftest import onboard
from tests.harness import RunningBot


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"open_registration": True}


async def test_mydata_shows_what_is_stored(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    user = client(2001, "Thabo", language_code="en")
    await onboard(user, language="✓ English", country="South Africa")
    reply = await user.send("/mydata")
    summary = next(m for m in reply if "text" in m)
    assert "Thabo" in summary["text"] and "South Africa" in summary["text"]
    assert "Sub-Saharan Africa" in summary["text"]
    document = next(m for m in reply if "document" in m)
    stored = fake.files[document["document"]["file_id"]].data
    data = json.loads(stored)
    assert data["member"]["display_name"] == "Thabo"
    assert data["member"]["country"] == "ZA"
    assert data["member"]["timezone"] == "Africa/Johannesburg"
    assert "phone" not in json.dumps(data) and "username" not in data["member"]


async def row_counts_mentioning(
    bot: RunningBot, member_id: int, telegram_id: int
) -> dict[str, int]:
    """For every table, rows whose columns hold the member's id or Telegram id."""

    def mentions(table: str, column: str, value: Any) -> bool:
        if column.endswith("member_id") or (table == "members" and column == "id"):
            return bool(value == member_id)
        if isinstance(value, str):
            return str(telegram_id) in value
        return bool(value == telegram_id)

    async def scan(session: Any) -> dict[str, int]:
        found: dict[str, int] = {}
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).mappings().all()
            hits = 0
            for row in rows:
                hits += sum(mentions(table.name, column, value) for column, value in row.items())
            if hits:
                found[table.name] = hits
        return found

    return await bot.db(scan)


async def test_forget_leaves_no_trace(bot: RunningBot, client: Any) -> None:
    user = client(2002, "Nomvula", language_code="en")
    await onboard(user, language="✓ English", country="South Africa")
    member = await bot.db(lambda s: s.scalar(select(Member).where(Member.telegram_id == 2002)))

    async def join(session: Any) -> None:
        group = WorkingGroup(
            code="women", translations=[GroupTranslation(locale="en", name="Women")]
        )
        session.add(group)
        await session.flush()
        session.add(GroupMembership(group_id=group.id, member_id=member.id))
        await session.commit()

    await bot.db(join)
    assert await row_counts_mentioning(bot, member.id, 2002)

    await user.send("/forget")
    await user.click("Yes, erase everything")
    assert "erased" in user.last()["text"]
    assert await row_counts_mentioning(bot, member.id, 2002) == {}
    # they can come back later
    reply = await user.send("/start")
    assert "language" in reply[-1]["text"].lower()


async def test_forget_can_be_cancelled(bot: RunningBot, client: Any) -> None:
    user = client(2003, "Ali", language_code="en")
    await onboard(user, language="✓ English", country="Kenya")
    await user.send("/forget")
    await user.click("No, keep my data")
    assert await bot.db(lambda s: s.scalar(select(Member).where(Member.telegram_id == 2003)))


@pytest.mark.parametrize(
    ("language", "heading"),
    [("en", "Secret ballots"), ("es", "Votos secretos"), ("ar", "الاقتراع السري")],
)
async def test_privacy_says_what_the_secret_ballot_and_forget_protect(
    bot: RunningBot, client: Any, language: str, heading: str
) -> None:
    user = client(2010, "Lina", language_code=language)
    reply = await user.send("/privacy")
    text = reply[-1]["text"]
    assert heading in text and "/forget" in text and len(text) < 4096
