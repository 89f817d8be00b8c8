"""/forget against a copy of the database files: after the erasure (and the scrub that follows
it) no byte of the SQLite file and its log, or of PostgreSQL's table and index files, holds the
member's name, organisation or Telegram id. /mydata shows a half-written draft too."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot.sandbox.telegram import FakeTelegram
from models.poll import PollKind
from tests.conftest import add_member
from tests.harness import RunningBot
from tests.test_poll_flows import quick_poll
from tests.test_polls import COORDINATOR, NOW, eventually, has_text, network, poll_message

NAME = "Nomvula Qwabekazi"
ORGANISATION = "Masiphumelele Fisherfolk Forum"
TELEGRAM_ID = 7_345_678_901
ANNOUNCEMENT = "Nets for the coast: meeting on the pier at dawn"


def needles() -> dict[str, bytes]:
    """What must not survive, as text and as the 8-byte integers both databases store."""
    return {
        "name": NAME.encode(),
        "organisation": ORGANISATION.encode(),
        "telegram id (text)": str(TELEGRAM_ID).encode(),
        "telegram id (int8, little-endian)": TELEGRAM_ID.to_bytes(8, "little"),
        "telegram id (int8, big-endian)": TELEGRAM_ID.to_bytes(8, "big"),
    }


def sqlite_files(path: Path) -> dict[str, bytes]:
    """The database file, its write-ahead log and any rollback journal."""
    found = {}
    for suffix in ("", "-wal", "-journal"):
        part = Path(f"{path}{suffix}")
        if part.exists():
            found[part.name] = part.read_bytes()
    return found


async def raw_files(bot: RunningBot, backend: dict[str, Any]) -> dict[str, bytes]:
    """Every file a copy of the database would hold (PostgreSQL: after a checkpoint)."""
    if backend["name"] == "sqlite":
        return sqlite_files(Path(backend["db_url"].split(":///", 1)[1]))

    async def read(session: Any) -> dict[str, bytes]:
        await session.execute(text("CHECKPOINT"))
        rows = await session.execute(
            text(
                "SELECT c.relname, pg_relation_filepath(c.oid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname IN ('public', 'pg_toast') AND c.relkind IN ('r', 'i', 't') "
                "AND pg_relation_filepath(c.oid) IS NOT NULL"
            )
        )
        found = {}
        for name, path in rows.all():
            data = await session.scalar(
                text("SELECT pg_read_binary_file(:p, 0, 1000000000, true)"), {"p": path}
            )
            if data:
                found[name] = bytes(data)
        return found

    result: dict[str, bytes] = await bot.db(read)
    return result


async def leftovers(bot: RunningBot, backend: dict[str, Any]) -> list[str]:
    files = await raw_files(bot, backend)
    return [
        f"{what} in {name}"
        for name, data in files.items()
        for what, needle in needles().items()
        if needle in data
    ]


async def test_forget_leaves_no_byte_of_the_member_in_the_files(
    bot: RunningBot, fake: FakeTelegram, client: Callable[..., Any], clock: Any, backend: Any
) -> None:
    clock.set(NOW)
    await network(bot, fake)
    fake.add_user(TELEGRAM_ID, NAME, language_code="en")
    await add_member(bot, TELEGRAM_ID, NAME, organisation=ORGANISATION, gender="woman")

    async def join(session: Any) -> None:
        from sqlalchemy import select

        from models.group import GroupMembership, GroupRole, WorkingGroup
        from models.member import Member

        member = await session.scalar(select(Member).where(Member.telegram_id == TELEGRAM_ID))
        group = await session.scalar(select(WorkingGroup).where(WorkingGroup.code == "women"))
        session.add(
            GroupMembership(group_id=group.id, member_id=member.id, role=GroupRole.COORDINATOR)
        )
        await session.commit()

    await bot.db(join)

    async def announce(session: Any) -> None:
        """She signs an announcement to the group, as the drafting conversation would."""
        from sqlalchemy import select

        from bot.groups.announcements import Draft, send_announcement
        from models.group import WorkingGroup
        from models.member import Member

        member = await session.scalar(select(Member).where(Member.telegram_id == TELEGRAM_ID))
        group = await session.scalar(select(WorkingGroup).where(WorkingGroup.code == "women"))
        draft = Draft(group_id=group.id, token="t1", main="en", texts={"en": ANNOUNCEMENT})
        await send_announcement(
            session, draft, group, author_id=member.id, author_chat_id=TELEGRAM_ID
        )
        await session.commit()

    await bot.db(announce)
    await eventually(lambda: has_text(fake, 600_203, ANNOUNCEMENT))
    question = "Do we join the coastal march?"
    await quick_poll(bot, COORDINATOR, question=question, kind=PollKind.SINGLE, options=["Y", "N"])
    named = await quick_poll(
        bot, COORDINATOR, question="Named one", kind=PollKind.CONSENT, anonymous=False
    )
    await eventually(lambda: has_text(fake, TELEGRAM_ID, question))
    await eventually(lambda: has_text(fake, TELEGRAM_ID, "Named one"))
    nomvula = client(TELEGRAM_ID, NAME)
    await nomvula.click("1. Y", poll_message(fake, TELEGRAM_ID, question))
    await nomvula.press_data(f"pv:{named}:0", poll_message(fake, TELEGRAM_ID, "Named one"))
    await nomvula.click("💬 Add a comment")
    await nomvula.send(f"{NAME} from {ORGANISATION} agrees")
    # half-way through writing a poll: /mydata shows the draft
    await nomvula.send("/newpoll")
    await nomvula.send(f"Question drafted by {NAME}")
    reply = await nomvula.send("/mydata")
    document = next(m for m in reply if "document" in m)
    data = json.loads(fake.files[document["document"]["file_id"]].data)
    assert f"Question drafted by {NAME}" in json.dumps(data["conversation"], ensure_ascii=False)
    assert data["announcements_sent"][0]["texts"]["en"] == ANNOUNCEMENT
    assert "meetings_created" in data
    assert await leftovers(bot, backend), "the test must see the member before /forget"

    await nomvula.send("/forget")
    await nomvula.click("Yes, erase everything")
    assert "erased" in nomvula.last()["text"]
    await eventually(lambda: _clean(bot, backend), within=30)
    # the announcement she signed keeps its text, no longer anyone's name
    kept = await bot.db(lambda s: s.execute(text("SELECT payload, created_by_id FROM broadcasts")))
    signed = [row for row in kept.all() if ANNOUNCEMENT in str(row[0])]
    assert signed and all(row[1] is None for row in signed)


async def _clean(bot: RunningBot, backend: dict[str, Any]) -> bool:
    found = await leftovers(bot, backend)
    return not found
