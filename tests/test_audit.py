"""End to end: admins' and coordinators' actions leave an audit trail that admins read with
/audit (filtered, paged, as CSV), coordinators read for their groups, /forget anonymises and
retention erases."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.delivery.scheduler import scheduler_of
from bot.sandbox.telegram import FakeTelegram
from models.audit import AuditAction, AuditEntry, record
from models.base import utcnow
from models.member import Member
from tests.conftest import add_member, onboard
from tests.groupkit import add_to_group
from tests.harness import RunningBot
from tests.test_group_admin import group_by_code


async def entries(bot: RunningBot) -> list[AuditEntry]:
    rows = await bot.db(lambda s: s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    return list(rows)


def csv_rows(fake: FakeTelegram, message: dict[str, Any]) -> list[list[str]]:
    data = fake.files[message["document"]["file_id"]].data
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


async def test_admin_actions_are_recorded_read_filtered_exported_and_anonymised(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    await add_member(bot, 9000, "Admin", role="admin")
    admin = client(9000, "Admin")
    newcomer = client(9010, "Bruno", language_code="en")
    await onboard(newcomer, language="✓ English")
    await fake.settle(admin.chat_id)
    await admin.click("✅ Approve")

    await admin.send("/groups")
    await admin.click("➕ New working group")
    await admin.send("land_rights")
    await admin.send("Land Rights")
    await admin.send("Access to land for rural communities.")
    group = await group_by_code(bot, "land_rights")
    assert group is not None
    rosa = await add_member(bot, 9001, "Rosa", locale="es")
    await add_to_group(bot, group.id, rosa)
    await admin.click("👤 Coordinators")
    await admin.click("➕ Appoint a coordinator")
    await admin.click("Rosa")
    await admin.click("◀ Back")
    await admin.click("🗄 Archive")

    recorded = await entries(bot)
    assert [e.action for e in recorded] == [
        AuditAction.MEMBER_APPROVED,
        AuditAction.GROUP_CREATED,
        AuditAction.COORDINATOR_APPOINTED,
        AuditAction.GROUP_ARCHIVED,
    ]
    admin_id = recorded[0].actor_member_id
    assert all(e.actor_member_id == admin_id for e in recorded)
    assert recorded[2].subject_member_id == rosa.id and recorded[2].group_id == group.id

    reply = await admin.send("/audit")
    text = reply[-1]["text"]
    assert text.startswith("Audit trail")
    lines = text.splitlines()
    assert "Admin archived Land Rights" in lines[2], "newest first"
    assert "Admin made Rosa a coordinator of Land Rights" in text
    assert "Admin created the group Land Rights" in text
    assert "Admin approved Bruno as a member" in text

    await admin.click("🗂 By group")
    await admin.click("Land Rights")
    text = admin.last()["text"]
    assert "Group: Land Rights" in text and "Bruno" not in text
    assert "Admin made Rosa a coordinator" in text
    await admin.click("✖ All entries")
    await admin.click("👤 By person")
    await admin.click("Bruno")
    text = admin.last()["text"]
    assert "Person: Bruno" in text and "Admin approved Bruno as a member" in text
    assert "Land Rights" not in text
    reply = await admin.click("📄 CSV")
    rows = csv_rows(fake, next(m for m in reply if "document" in m))
    assert rows[0][:4] == ["Time (UTC)", "Action", "By", "Concerning"]
    assert [r[1:4] for r in rows[1:]] == [["member_approved", "Admin", "Bruno"]]

    # Bruno erases himself: the record stays, without him.
    await newcomer.send("/forget")
    await newcomer.click_nth(0)
    assert len(await entries(bot)) == 4
    reply = await admin.send("/audit")
    assert "Admin approved a former member as a member" in reply[-1]["text"]
    assert "Bruno" not in reply[-1]["text"]

    # The admin's own /mydata lists what they did.
    reply = await admin.send("/mydata")
    document = next(m for m in reply if "document" in m)
    data = json.loads(fake.files[document["document"]["file_id"]].data)
    assert [e["action"] for e in data["audit_trail"]] == [e.action for e in recorded]
    assert all(e["you_acted"] for e in data["audit_trail"])


async def test_coordinators_read_their_groups_only_and_members_not_at_all(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    from tests.groupkit import make_group

    admin = await add_member(bot, 9100, "Admin", role="admin")
    coordinator = await add_member(bot, 9101, "Ines", locale="fr")
    member = await add_member(bot, 9102, "Kofi")
    ours = await make_group(bot, "ours", {"en": "Ours", "fr": "Les nôtres"})
    theirs = await make_group(bot, "theirs", {"en": "Theirs", "fr": "Les leurs"})
    await add_to_group(bot, ours, coordinator, coordinator=True)
    await add_to_group(bot, ours, member)

    async def history(session: Any) -> None:
        for i in range(12):
            await record(session, admin, AuditAction.ANNOUNCEMENT_SENT, group_id=ours, object_id=i)
        await record(session, admin, AuditAction.GROUP_ARCHIVED, group_id=theirs)
        await record(session, admin, AuditAction.MEMBER_APPROVED, subject=member)
        await session.commit()

    await bot.db(history)
    ines = client(9101, "Ines", language_code="fr")
    reply = await ines.send("/audit")
    text = reply[-1]["text"]
    assert text.startswith("Journal d’audit")
    assert text.count("a envoyé une annonce à Les nôtres") == 10, "a page holds ten"
    assert "Les leurs" not in text and "Kofi" not in text
    await ines.click("Plus anciens ▶")
    text = ines.last()["text"]
    assert text.count("a envoyé une annonce") == 2
    assert "Plus anciens ▶" not in ines.buttons()
    await ines.click("🗂 Par groupe")
    assert ines.buttons() == ["Les nôtres", "◀ Retour"], "only the groups she coordinates"
    # A forged tap on the other group's filter shows nothing of it.
    await ines.press_data(f"audit:list:{theirs}:0:0")
    assert "Rien n’est enregistré ici." in ines.last()["text"]
    await ines.press_data("audit:list:99999999999999999999:0:0")  # out of bounds: refused
    assert "Rien n’est enregistré ici." in ines.last()["text"]
    reply = await ines.click("📄 CSV")  # of what is shown: nothing
    assert len(csv_rows(fake, next(m for m in reply if "document" in m))) == 1
    await ines.click("✖ Tout")
    reply = await ines.click("📄 CSV")
    rows = csv_rows(fake, next(m for m in reply if "document" in m))
    assert len(rows) == 1 + 12 and {r[4] for r in rows[1:]} == {"ours"}

    kofi = client(9102, "Kofi")
    reply = await kofi.send("/audit")
    assert "Only network admins and coordinators" in reply[-1]["text"]


async def test_entries_older_than_the_retention_are_erased(bot: RunningBot) -> None:
    admin = await add_member(bot, 9200, "Admin", role="admin")

    async def history(session: Any) -> None:
        old = utcnow() - timedelta(days=bot.settings.audit_retention_days + 1)
        await record(session, admin, AuditAction.GROUP_CREATED, at=old)
        await record(session, admin, AuditAction.GROUP_ARCHIVED)
        await session.commit()

    await bot.db(history)
    assert bot.app is not None
    scheduler = scheduler_of(bot.app)
    assert scheduler is not None
    await scheduler._prune()
    assert [e.action for e in await entries(bot)] == [AuditAction.GROUP_ARCHIVED]
    assert await bot.db(lambda s: s.scalar(select(Member.id).where(Member.id == admin.id)))
