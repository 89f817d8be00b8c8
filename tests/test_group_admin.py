"""End to end: admins shape working groups by taps; deep links lead newcomers into a group;
what groups store about a member is exported and erased."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from bot.sandbox.telegram import FakeTelegram
from models.group import GroupMembership, MembershipStatus, WorkingGroup
from models.member import Member
from tests.conftest import add_member, onboard
from tests.groupkit import add_to_group, expect_call, last_link, make_group, membership_row
from tests.harness import RunningBot
from tests.test_privacy import row_counts_mentioning

CHAT = -1005555555555


async def group_by_code(bot: RunningBot, code: str) -> WorkingGroup | None:
    return await bot.db(lambda s: s.scalar(select(WorkingGroup).where(WorkingGroup.code == code)))


async def test_admin_creates_edits_and_archives_a_group(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    await add_member(bot, 9000, "Admin", role="admin")
    rosa = await add_member(bot, 9001, "Rosa", locale="es")
    admin = client(9000, "Admin")
    member = client(9001, "Rosa", language_code="es")

    await admin.send("/groups")
    await admin.click("➕ New working group")
    reply = await admin.send("Land Rights!")
    assert "2 to 24 lowercase" in reply[-1]["text"]
    await admin.send("land-rights")
    await admin.send("Land Rights")
    await admin.send("Access to land for rural communities.")
    assert "✅ The group Land Rights was created." in admin.texts()[-2]
    settings = admin.last()["text"]
    assert "(code: land_rights)" in settings and "✗ Español" in settings
    assert "start=wg_land_rights" in settings

    await admin.click("✏️ Español")
    await admin.send("Derechos a la tierra")
    await admin.click("Skip")
    assert "✓ Español: Derechos a la tierra" in admin.last()["text"]
    await admin.click("✏️ Español")
    await admin.click("Keep it")
    await admin.send("Acceso a la tierra para comunidades rurales.")
    await admin.click("🔒 Make it moderated")
    assert "🔒 Moderated" in admin.last()["text"]

    await member.send("/groups")
    await member.click("Derechos a la tierra")
    assert "Acceso a la tierra para comunidades rurales." in member.last()["text"]
    assert "Moderado" in member.last()["text"]
    group = await group_by_code(bot, "land_rights")
    assert group is not None and group.moderated

    # Coordinators are chosen among the group's members.
    await admin.click("👤 Coordinators")
    await admin.click("➕ Appoint a coordinator")
    assert "Nobody has joined" in admin.last()["text"]
    await add_to_group(bot, group.id, rosa)
    await admin.click("◀ Back")
    await admin.click("➕ Appoint a coordinator")
    await admin.click("Rosa")
    assert "⭐ Rosa" in admin.last()["text"]
    await fake.settle(member.chat_id)
    assert "Ahora coordinas" in member.last()["text"]
    assert (await membership_row(bot, group.id, rosa.id)).is_coordinator
    await admin.click("✖ Rosa")
    assert not (await membership_row(bot, group.id, rosa.id)).is_coordinator
    await fake.settle(member.chat_id)
    assert "Ya no coordinas" in member.last()["text"]

    await admin.click("◀ Back")
    await admin.click("🗄 Archive")
    assert "🗄 Archived" in admin.last()["text"]
    await member.send("/groups")
    assert "Derechos a la tierra" in member.last()["text"], "members see their own groups"
    outsider = client(9002, "Out", language_code="es")
    await add_member(bot, 9002, "Out", locale="es")
    await outsider.send("/groups")
    assert "Derechos a la tierra" not in outsider.last()["text"]


async def test_linking_a_chat_tells_the_members_already_in_the_group(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    await add_member(bot, 9100, "Admin", role="admin", locale="fr")
    early = await add_member(bot, 9101, "Early", locale="pt")
    group = await make_group(bot, names={"en": "Women and ESCR", "pt": "Mulheres e DESC"})
    await add_to_group(bot, group, early)
    fake.add_group(CHAT, "Mulheres")
    fake.set_bot_admin(CHAT)
    admin = client(9100, "Admin", language_code="fr")
    user = client(9101, "Early", language_code="pt")

    fake.user_sends(9100, "/link", chat_id=CHAT)
    await expect_call(fake, "sendMessage", admin.chat_id)
    await admin.click("Women and ESCR")
    assert "est maintenant la discussion de" in admin.last()["text"]
    await fake.wait_for_call(lambda c: c.method == "sendMessage" and c.chat_id == 9101)
    await fake.settle(quiet=0.3)
    assert "agora tem um chat no Telegram" in user.last()["text"]
    await user.click("💬 Chat do grupo")
    link = last_link(user)
    fake.user_joins(CHAT, 9101, link)
    await expect_call(fake, "revokeChatInviteLink", CHAT)
    assert fake.chat_members(CHAT)[9101] == "member"


class TestDeepLinks:
    """`/start wg_<code>`: onboarding first, then straight into the group."""

    async def test_newcomer_with_open_registration(
        self, bot: RunningBot, client: Any, fake: FakeTelegram
    ) -> None:
        group = await make_group(bot)
        user = client(9200, "Zoe", language_code="es")
        await user.send("/start wg_women_escr")
        await user.click("✓ Español")
        await user.click_nth(0)  # accept
        await user.click_nth(0)  # keep name
        await user.send("Uruguay")
        await user.click("Uruguay")
        await user.click_nth(-1)  # skip organisation
        await user.click_nth(-1)  # prefer not to say
        texts = user.texts()
        assert any("Te uniste a Mujeres y DESC" in t for t in texts), texts[-3:]
        assert "✅ Eres miembro." in user.last()["text"]
        member = await bot.db(lambda s: s.scalar(select(Member).where(Member.telegram_id == 9200)))
        assert (await membership_row(bot, group, member.id)).is_active

    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"open_registration": True}


class TestDeepLinksClosedRegistration:
    """With admin approval, the group request waits for the network's decision."""

    async def test_request_follows_the_approval(
        self, bot: RunningBot, client: Any, fake: FakeTelegram
    ) -> None:
        await add_member(bot, 9300, "Admin", role="admin")
        coordinator = await add_member(bot, 9301, "Coord")
        group = await make_group(bot, moderated=True)
        await add_to_group(bot, group, coordinator, coordinator=True)
        admin = client(9300, "Admin")
        coord = client(9301, "Coord")
        user = client(9302, "Yara", language_code="fr")
        await user.send("/start wg_women_escr")
        await user.click("✓ Français")
        await user.click_nth(0)
        await user.click_nth(0)
        await user.send("Maroc")
        await user.click("Maroc")
        await user.click_nth(-1)
        await user.click_nth(-1)
        assert "ta demande pour rejoindre Femmes et DESC suivra" in user.last()["text"]
        member = await bot.db(lambda s: s.scalar(select(Member).where(Member.telegram_id == 9302)))
        waiting = await membership_row(bot, group, member.id)
        assert waiting.status == MembershipStatus.WAITING
        assert not [t for t in coord.texts() if "Yara" in t], "coordinators wait for the network"

        await fake.settle(admin.chat_id)
        await admin.click("✅ Approve")
        await fake.settle()
        assert "envoyée à ses coordinateurs" in user.last()["text"]
        assert (await membership_row(bot, group, member.id)).status == MembershipStatus.PENDING
        assert "Yara" in coord.last()["text"] and "✅ Approve" in coord.buttons()

    async def test_declined_newcomer_leaves_no_request(
        self, bot: RunningBot, client: Any, fake: FakeTelegram
    ) -> None:
        await add_member(bot, 9400, "Admin", role="admin")
        group = await make_group(bot)
        admin = client(9400, "Admin")
        user = client(9401, "Xan")
        await user.send("/start wg_women_escr")
        await user.click("✓ English")
        await user.click_nth(0)
        await user.click_nth(0)
        await user.send("Kenya")
        await user.click("Kenya")
        await user.click_nth(-1)
        await user.click_nth(-1)
        await fake.settle(admin.chat_id)
        await admin.click("Decline")
        member = await bot.db(lambda s: s.scalar(select(Member).where(Member.telegram_id == 9401)))
        assert await membership_row(bot, group, member.id) is None


class TestPrivacy:
    """/mydata shows group links and removals; /forget also takes the person out of chats."""

    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"open_registration": True}

    async def test_mydata_and_forget(
        self, bot: RunningBot, client: Any, fake: FakeTelegram
    ) -> None:
        fake.add_group(CHAT, "Chat")
        fake.set_bot_admin(CHAT)
        await make_group(bot, chat_id=CHAT)
        other = await make_group(bot, "other", {"en": "Other"})
        user = client(9500, "Sam")
        await onboard(user, language="✓ English", country="Kenya")
        member = await bot.db(lambda s: s.scalar(select(Member).where(Member.telegram_id == 9500)))
        await user.send("/groups")
        await user.click("Women and ESCR")
        await user.click("➕ Join")
        fake.user_joins(CHAT, 9500, last_link(user))
        await expect_call(fake, "revokeChatInviteLink", CHAT)

        async def removed_from_other(session: Any) -> None:
            from models.group import GroupRemoval

            session.add(GroupRemoval(group_id=other, member_id=member.id))
            await session.commit()

        await bot.db(removed_from_other)
        reply = await user.send("/mydata")
        document = next(m for m in reply if "document" in m)
        data = json.loads(fake.files[document["document"]["file_id"]].data)
        assert data["working_groups"][0]["group"] == "women_escr"
        [invite] = data["group_chat_links"]
        assert invite["group"] == "women_escr" and invite["used_at"]
        assert data["group_removals"][0]["group"] == "other"

        await user.send("/forget")
        await user.click("Yes, erase everything")
        assert fake.chat_members(CHAT)[9500] == "left", "out of the chat: nobody vouches for them"
        assert await row_counts_mentioning(bot, member.id, 9500) == {}
        links = await bot.db(lambda s: s.scalars(select(GroupMembership)))
        assert not list(links)


async def test_an_admin_demoted_while_writing_a_name_changes_nothing(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    """The role is checked when the name arrives, not only when the language was tapped."""
    boss = await add_member(bot, 9600, "Admin", role="admin")
    group = await make_group(bot, names={"en": "Women and ESCR"})
    admin = client(9600, "Admin")
    await admin.send("/groups")
    await admin.click("Women and ESCR")
    await admin.click("⚙️ Manage")
    await admin.click("✏️ Español")

    async def demote(session: Any) -> None:
        (await session.get(Member, boss.id)).role = "member"
        await session.commit()

    await bot.db(demote)
    reply = await admin.send("Mujeres y DESC")
    assert "Only network admins" in reply[-1]["text"]
    row = await group_by_code(bot, "women_escr")
    assert row is not None and row.translation("es") is None
    assert row.id == group
