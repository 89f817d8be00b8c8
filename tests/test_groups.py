"""End to end: members browse and join working groups, coordinators decide, the bot guards
each group's Telegram chat."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.groups.callbacks import GroupCb
from bot.sandbox.telegram import FakeTelegram
from models.group import (
    GroupMembership,
    GroupRemoval,
    GroupRole,
    MembershipStatus,
    RemovalToken,
)
from tests.conftest import add_member
from tests.groupkit import (
    add_to_group,
    expect_call,
    group_row,
    invites,
    last_link,
    make_group,
    membership_row,
)
from tests.harness import RunningBot

CHAT = -1001234567890


def linked_chat(fake: FakeTelegram, title: str = "Women and ESCR chat") -> int:
    """A supergroup where the bot is an administrator."""
    fake.add_group(CHAT, title)
    fake.set_bot_admin(CHAT)
    return CHAT


async def test_groups_list_in_the_members_language_with_status(
    bot: RunningBot, client: Any
) -> None:
    ana = await add_member(bot, 5001, "Ana", locale="es")
    women = await make_group(bot)
    await make_group(bot, "litigation", {"en": "Strategic Litigation"}, moderated=True)
    await make_group(bot, "old", {"en": "Old group"}, archived=True)
    await add_to_group(bot, women, ana)
    user = client(5001, "Ana", language_code="es")

    reply = await user.send("/groups")
    text = reply[-1]["text"]
    assert "Grupos de trabajo" in text
    assert "✅ Mujeres y DESC" in text and "Strategic Litigation" in text
    assert "Old group" not in text, "archived groups are hidden from members"
    await user.click("Strategic Litigation")
    card = user.last()["text"]
    assert "Moderado" in card
    assert "Aún no está traducido" in card, "the fallback to English is marked"
    assert "➕ Unirme" in user.buttons()
    await user.click("◀ Todos los grupos")
    await user.click("✅ Mujeres y DESC")
    assert "✅ Eres miembro." in user.last()["text"]
    assert "Salir" in user.buttons()


async def test_member_joins_an_open_group_and_gets_into_its_chat(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    admin = await add_member(bot, 5010, "Admin", role="admin")
    bea_row = await add_member(bot, 5011, "Bea")
    women = await make_group(bot)
    chat = linked_chat(fake)
    boss = client(5010, "Admin")
    bea = client(5011, "Bea")

    # The admin links the chat: /link in the group, the choice in private.
    fake.user_sends(admin.telegram_id, "/link", chat_id=chat)
    await expect_call(fake, "sendMessage", boss.chat_id)
    assert "private chat" in fake.messages(chat)[-1]["text"]
    await boss.click("Women and ESCR")
    assert "is now the chat of" in boss.last()["text"]
    assert "belongs to the working group" in fake.messages(chat)[-1]["text"]
    group = await group_row(bot, women)
    assert group.chat_id == chat and group.chat_title == "Women and ESCR chat"
    assert group.chat_join_link and fake.invite_links(chat)[0]["creates_join_request"]

    await bea.send("/groups")
    await bea.click("Women and ESCR")
    await bea.click("➕ Join")
    assert "You joined Women and ESCR" in bea.last()["text"]
    link = last_link(bea)
    stored = next(li for li in fake.invite_links(chat) if li["invite_link"] == link)
    assert stored["member_limit"] == 1 and stored["expire_date"] > fake.clock()
    assert "✅ You are a member." in bea.messages()[-2]["text"], "the card shows the new status"

    fake.user_joins(chat, 5011, link)
    await expect_call(fake, "revokeChatInviteLink", chat)
    assert fake.chat_members(chat)[5011] == "member"
    [invite] = await invites(bot, bea_row.id)
    assert invite.used_at is not None, "the personal link is spent"
    assert next(li for li in fake.invite_links(chat) if li["invite_link"] == link)["is_revoked"]

    # Asking again while in the chat: no new link.
    await bea.click("💬 Group chat", bea.messages()[-2])
    assert "already in the Telegram chat" in bea.last()["text"]


async def test_moderated_request_is_approved_by_its_coordinator(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    coordinator = await add_member(bot, 5020, "Carla", locale="pt")
    dan = await add_member(bot, 5021, "Dan", country="KE", organisation="Fisherfolk Union")
    group = await make_group(
        bot,
        "litigation",
        {"en": "Strategic Litigation", "pt": "Litígio estratégico"},
        moderated=True,
        chat_id=linked_chat(fake),
    )
    await add_to_group(bot, group, coordinator, coordinator=True)
    carla = client(5020, "Carla", language_code="pt")
    user = client(5021, "Dan")

    await user.send("/groups")
    await user.click("Strategic Litigation")
    await user.click("➕ Join")
    assert "sent to its coordinators" in user.last()["text"]
    assert (await membership_row(bot, group, dan.id)).status == MembershipStatus.PENDING
    await fake.settle(carla.chat_id)
    request = carla.last()["text"]
    assert "Litígio estratégico" in request and "Dan" in request
    assert "Quênia" in request and "Fisherfolk Union" in request
    assert "5021" not in request, "coordinators never see Telegram ids"

    await carla.click("✅ Aprovar")
    assert "Dan" in carla.last()["text"] and not carla.buttons(carla.last())
    await fake.settle(user.chat_id)
    assert "was approved" in user.last()["text"]
    assert last_link(user).startswith("https://t.me/+")
    assert (await membership_row(bot, group, dan.id)).status == MembershipStatus.ACTIVE

    # A second press on the same request changes nothing.
    await carla.press_data(f"wgreq:{(await membership_row(bot, group, dan.id)).id}:0")
    assert (await membership_row(bot, group, dan.id)).status == MembershipStatus.ACTIVE


async def test_moderated_request_declined(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    coordinator = await add_member(bot, 5025, "Carla")
    eve = await add_member(bot, 5026, "Eve", locale="fr")
    group = await make_group(bot, moderated=True)
    await add_to_group(bot, group, coordinator, coordinator=True)
    carla = client(5025, "Carla")
    user = client(5026, "Eve", language_code="fr")
    await user.send("/groups")
    await user.click("Femmes et DESC")
    await user.click("➕ Rejoindre")
    await fake.settle(carla.chat_id)
    await carla.click("Decline")
    await fake.settle(user.chat_id)
    assert "pas été acceptée" in user.last()["text"]
    assert await membership_row(bot, group, eve.id) is None


async def test_a_strangers_join_request_is_declined(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    chat = linked_chat(fake)
    fake.add_user(5031, "Fatima", language_code="ar")
    fatima = await add_member(bot, 5031, "Fatima", locale="ar")
    group = await make_group(bot, chat_id=chat, names={"en": "Women and ESCR", "ar": "المرأة"})
    await add_to_group(bot, group, fatima)

    # A stranger who never used the bot asks to join.
    fake.chat_join_request(chat, 5030)
    await expect_call(fake, "declineChatJoinRequest", chat)
    assert 5030 not in fake.join_requests(chat)
    assert fake.chat_members(chat).get(5030) is None
    [explained] = fake.messages(5030)
    assert "only for members" in explained["text"]
    assert "start=wg_women_escr" in explained["text"]

    # An accepted member of the group is let in.
    fake.chat_join_request(chat, 5031)
    await expect_call(fake, "approveChatJoinRequest", chat)
    assert fake.chat_members(chat)[5031] == "member"

    # A network member who is not in the group is declined, told in their language.
    fake.add_user(5032, "Pierre", language_code="fr")
    await add_member(bot, 5032, "Pierre", locale="fr")
    fake.chat_join_request(chat, 5032)
    await expect_call(fake, "declineChatJoinRequest", chat)
    assert "/groups" in fake.messages(5032)[-1]["text"]
    assert "refusée" in fake.messages(5032)[-1]["text"]


async def test_leaving_removes_the_member_from_the_chat(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    chat = linked_chat(fake)
    gil = await add_member(bot, 5040, "Gil")
    group = await make_group(bot, chat_id=chat)
    await add_to_group(bot, group, gil)
    fake.add_chat_member(chat, 5040)
    user = client(5040, "Gil")

    await user.send("/groups")
    await user.click("✅ Women and ESCR")
    await user.click("Leave")
    assert "removed from its Telegram chat" in user.last()["text"]
    await user.click("Yes, leave")
    assert "You left" in user.last()["text"]
    assert fake.chat_members(chat)[5040] == "left", "banned, then unbanned: free to come back"
    unban = fake.calls_to("unbanChatMember", chat)[-1]
    assert unban.params.get("only_if_banned") in (True, "true")
    assert await membership_row(bot, group, gil.id) is None

    # They can join again later and get a fresh link.
    await user.click("➕ Join")
    fake.user_joins(chat, 5040, last_link(user))
    await expect_call(fake, "revokeChatInviteLink", chat)
    assert fake.chat_members(chat)[5040] == "member"


async def test_coordinator_removes_a_member(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    chat = linked_chat(fake)
    coordinator = await add_member(bot, 5050, "Hana")
    ivan = await add_member(bot, 5051, "Ivan", locale="es", country="AR", organisation="Barrio")
    group = await make_group(bot, chat_id=chat)
    await add_to_group(bot, group, coordinator, coordinator=True)
    await add_to_group(bot, group, ivan)
    fake.add_chat_member(chat, 5051)
    hana = client(5050, "Hana")
    user = client(5051, "Ivan", language_code="es")

    await hana.send("/groups")
    await hana.click("⭐ Women and ESCR")
    await hana.click("👥 Members")
    listing = hana.last()["text"]
    assert "Hana ⭐" in listing and "Ivan · Argentina, Barrio" in listing
    assert "5051" not in listing
    await hana.click("Remove Ivan")
    await hana.click("Yes, remove")
    assert "Ivan" not in hana.last()["text"].split("\n", 1)[1]
    assert fake.chat_members(chat)[5051] == "left"
    await fake.settle(user.chat_id)
    assert "te quitó del grupo de trabajo" in user.last()["text"]
    removals = await bot.db(lambda s: s.scalars(select(GroupRemoval)))
    assert [r.member_id for r in removals] == [ivan.id]

    # Coming back to the open group now needs a coordinator's yes.
    await user.send("/groups")
    await user.click("Mujeres y DESC")
    await user.click("➕ Unirme")
    assert (await membership_row(bot, group, ivan.id)).status == MembershipStatus.PENDING
    await fake.settle(hana.chat_id)
    assert "Ivan" in hana.last()["text"] and "✅ Approve" in hana.buttons()


async def test_a_removed_member_cannot_forget_and_walk_back_in(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    coordinator = await add_member(bot, 5060, "Hana")
    ivan = await add_member(bot, 5061, "Ivan", locale="es", country="AR")
    group = await make_group(bot)
    await add_to_group(bot, group, coordinator, coordinator=True)
    await add_to_group(bot, group, ivan)
    hana = client(5060, "Hana")
    user = client(5061, "Ivan", language_code="es")
    await hana.send("/groups")
    await hana.click("⭐ Women and ESCR")
    await hana.click("👥 Members")
    await hana.click("Remove Ivan")
    await hana.click("Yes, remove")
    await fake.settle(user.chat_id)

    # /forget erases Ivan and his removal record, but a keyed token of the removal stays
    await user.send("/forget")
    await user.click_nth(0)
    assert not list(await bot.db(lambda s: s.scalars(select(GroupRemoval))))
    tokens = list(await bot.db(lambda s: s.scalars(select(RemovalToken.token))))
    assert len(tokens) == 1 and "5061" not in tokens[0]
    again = await add_member(bot, 5061, "Ivan", locale="es", country="AR")
    await user.send("/groups")
    await user.click("Mujeres y DESC")
    await user.click("➕ Unirme")
    assert (await membership_row(bot, group, again.id)).status == MembershipStatus.PENDING

    # a coordinator's yes lets him in and ends the token
    await fake.settle(hana.chat_id)
    await hana.click("✅ Approve")
    assert (await membership_row(bot, group, again.id)).status == MembershipStatus.ACTIVE
    assert not list(await bot.db(lambda s: s.scalars(select(RemovalToken))))


@pytest.mark.parametrize(
    "persona", ["pending member", "other group's coordinator", "dismissed coordinator", "stranger"]
)
async def test_no_one_without_the_role_can_do_coordinator_or_admin_actions(
    bot: RunningBot, client: Any, fake: FakeTelegram, persona: str
) -> None:
    from bot.groups.callbacks import AnnounceCb, LinkCb, ManageCb, RemoveCb, RequestCb

    chat = linked_chat(fake)
    kim = await add_member(bot, 5071, "Kim")
    group = await make_group(bot, chat_id=chat)
    await add_to_group(bot, group, kim)
    pending = await make_group(bot, "mod", {"en": "Moderated"}, moderated=True)
    request = await add_to_group(bot, pending, kim, status=MembershipStatus.PENDING)
    fake.add_chat_member(chat, 5071)
    if persona == "pending member":
        actor = await add_member(bot, 5070, "Pat", status="pending")
    elif persona == "other group's coordinator":
        actor = await add_member(bot, 5070, "Pat")
        other = await make_group(bot, "land", {"en": "Land"})
        await add_to_group(bot, other, actor, coordinator=True)
    elif persona == "dismissed coordinator":
        actor = await add_member(bot, 5070, "Pat")
        await add_to_group(bot, group, actor, coordinator=True)

        async def dismiss(session: Any) -> None:
            link = await session.scalar(
                select(GroupMembership).where(GroupMembership.member_id == actor.id)
            )
            link.role = GroupRole.MEMBER
            await session.commit()

        await bot.db(dismiss)
    else:
        fake.add_user(5070, "Pat")
        actor = None
    user = client(5070, "Pat")
    await user.send("/help")
    actions = [
        GroupCb(action="members", group_id=group),
        GroupCb(action="requests", group_id=pending),
        RequestCb(membership_id=request, approve=True),
        RemoveCb(group_id=group, member_id=kim.id, confirm=True),
        AnnounceCb(action="new", group_id=group),
        AnnounceCb(action="send", group_id=group),
        ManageCb(action="show", group_id=group),
        ManageCb(action="archive", group_id=group, arg="1"),
        ManageCb(action="appoint", group_id=group, arg=str(kim.id)),
        ManageCb(action="new"),
        ManageCb(action="unlink", group_id=group),
        LinkCb(chat_id=chat, group_id=pending),
    ]
    for data in actions:
        await user.press_data(data.pack())
        answer = user.callback_answer()
        assert answer and answer.get("show_alert"), (persona, data, answer)
    assert (await membership_row(bot, pending, kim.id)).status == MembershipStatus.PENDING
    assert (await membership_row(bot, group, kim.id)).is_active
    assert not (await membership_row(bot, group, kim.id)).is_coordinator
    assert fake.chat_members(chat)[5071] == "member"
    row = await group_row(bot, group)
    assert not row.archived and row.chat_id == chat
    assert not any("Kim" in text.get("text", "") for text in fake.messages(5070))
    assert actor is None or actor.telegram_id == 5070


async def test_plain_members_cannot_do_coordinator_or_admin_actions(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    from bot.groups.callbacks import AnnounceCb, LinkCb, ManageCb, RemoveCb, RequestCb

    chat = linked_chat(fake)
    jo = await add_member(bot, 5060, "Jo", locale="fr")
    kim = await add_member(bot, 5061, "Kim")
    group = await make_group(bot, chat_id=chat)
    await add_to_group(bot, group, jo)
    await add_to_group(bot, group, kim)
    pending = await make_group(bot, "mod", {"en": "Moderated"}, moderated=True)
    request = await add_to_group(bot, pending, kim, status=MembershipStatus.PENDING)
    fake.add_chat_member(chat, 5061)
    user = client(5060, "Jo", language_code="fr")
    await user.send("/groups")
    await user.click("✅ Femmes et DESC")
    assert "👥 Membres" not in user.buttons() and "⚙️ Gérer" not in user.buttons()

    coordinator_only = [
        GroupCb(action="members", group_id=group),
        GroupCb(action="requests", group_id=pending),
        RequestCb(membership_id=request, approve=True),
        RemoveCb(group_id=group, member_id=kim.id, confirm=True),
        AnnounceCb(action="new", group_id=group),
        AnnounceCb(action="send", group_id=group),
        AnnounceCb(action="preview", group_id=group),
    ]
    for data in coordinator_only:
        await user.press_data(data.pack())
        answer = user.callback_answer()
        assert answer and "coordinateurs" in answer["text"], (data, answer)
    admin_only = [
        ManageCb(action="show", group_id=group),
        ManageCb(action="archive", group_id=group, arg="1"),
        ManageCb(action="appoint", group_id=group, arg=str(jo.id)),
        ManageCb(action="new"),
        ManageCb(action="unlink", group_id=group),
        LinkCb(chat_id=chat, group_id=pending),
    ]
    for data in admin_only:
        await user.press_data(data.pack())
        answer = user.callback_answer()
        assert answer and "administrat" in answer["text"], (data, answer)
    # Nothing changed.
    assert (await membership_row(bot, pending, kim.id)).status == MembershipStatus.PENDING
    assert (await membership_row(bot, group, kim.id)).is_active
    assert fake.chat_members(chat)[5061] == "member"
    row = await group_row(bot, group)
    assert not row.archived and row.chat_id == chat
    assert not (await membership_row(bot, group, jo.id)).is_coordinator
    bot_errors = [c for c in fake.calls if not c.ok and c.method != "getUpdates"]
    assert not bot_errors, bot_errors


async def test_bad_input_gets_a_clear_answer(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    await add_member(bot, 5070, "Lia", locale="pt")
    archived = await make_group(bot, "old", {"en": "Old group"}, archived=True)
    user = client(5070, "Lia", language_code="pt")
    await user.send("/groups")

    await user.press_data(GroupCb(action="join", group_id=archived).pack())
    assert "arquivado" in user.last()["text"]
    await user.press_data(GroupCb(action="join", group_id=9999).pack())
    assert "não existe" in user.callback_answer()["text"]
    await user.press_data("wg:join:notanumber")
    assert "não é mais válido" in user.callback_answer()["text"]
    await user.press_data(GroupCb(action="explode", group_id=archived).pack())
    assert "não é mais válido" in user.callback_answer()["text"]
    reply = await user.send("/start wg_nope")
    assert "não existe" in reply[-1]["text"]
    reply = await user.send("/start wg_old")
    assert "arquivado" in reply[-1]["text"]
    assert await membership_row(bot, archived, 1) is None


async def test_expired_and_misused_links(
    bot: RunningBot, client: Any, fake: FakeTelegram, clock: Any
) -> None:
    fake.clock = lambda: clock.now().timestamp()
    chat = linked_chat(fake)
    mia = await add_member(bot, 5080, "Mia", locale="es")
    group = await make_group(bot, chat_id=chat)
    await add_to_group(bot, group, mia)
    user = client(5080, "Mia", language_code="es")
    await user.send("/groups")
    await user.click("✅ Mujeres y DESC")
    card = user.last()
    await user.click("💬 Chat del grupo")
    first = last_link(user)

    # The link expires unused: asking again explains and gives a new one.
    clock.advance(timedelta(hours=25))
    try:
        fake.user_joins(chat, 5080, first)
        raise AssertionError("Telegram refuses an expired link")
    except AssertionError as refused:
        assert "expired" in str(refused)
    await user.click("💬 Chat del grupo", card)
    assert "caducó o ya se usó" in user.last()["text"]
    second = last_link(user)
    assert second != first

    # Someone else uses it: they are removed, the link stops working, Mia is told.
    fake.user_joins(chat, 6666, second)
    await expect_call(fake, "unbanChatMember", chat)
    assert fake.chat_members(chat)[6666] == "left"
    assert next(li for li in fake.invite_links(chat) if li["invite_link"] == second)["is_revoked"]
    await fake.settle(user.chat_id)
    assert "Otra persona usó tu enlace" in user.last()["text"]
    await user.click("💬 Chat del grupo", card)
    third = last_link(user)
    fake.user_joins(chat, 5080, third)
    await expect_call(fake, "revokeChatInviteLink", chat)
    assert fake.chat_members(chat)[5080] == "member"


async def test_entering_the_chat_by_another_route_is_checked(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    chat = linked_chat(fake)
    lea = await add_member(bot, 5090, "Lea")
    outsider = await add_member(bot, 5091, "Otto")  # a network member, not in this group
    group = await make_group(bot, chat_id=chat)
    await add_to_group(bot, group, lea)
    fake.add_chat_member(chat, 5090)
    client(5090, "Lea")
    client(5091, "Otto")

    # through the chat's primary link: not a member of the group, so out again
    fake.user_joins(chat, 5091)
    await expect_call(fake, "banChatMember", chat)
    await expect_call(fake, "unbanChatMember", chat)
    assert fake.chat_members(chat)[5091] == "left"
    # added by a member of the chat: the same
    fake.member_adds(chat, 5092, by=5090)
    await fake.wait_for_call(
        lambda c: c.method == "unbanChatMember" and c.params.get("user_id") in (5092, "5092")
    )
    assert fake.chat_members(chat)[5092] == "left"
    # an accepted member who comes in by the primary link stays
    await add_to_group(bot, group, outsider)
    fake.user_joins(chat, 5091)
    await fake.settle()
    assert fake.chat_members(chat)[5091] == "member"


async def test_bot_losing_admin_rights_is_reported_to_admins(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    chat = linked_chat(fake)
    await add_member(bot, 5090, "Nadia", role="admin", locale="ar")
    await add_member(bot, 5091, "Omar", role="admin", locale="es")
    olga = await add_member(bot, 5092, "Olga")
    group = await make_group(bot, chat_id=chat, chat_title="Women chat")
    await add_to_group(bot, group, olga)
    nadia = client(5090, "Nadia", language_code="ar")
    omar = client(5091, "Omar", language_code="es")
    user = client(5092, "Olga")

    fake.my_chat_member(chat, "member", by_user_id=7777)  # demoted
    await expect_call(fake, "sendMessage", omar.chat_id)
    await fake.settle()
    assert "No soy administrador" in omar.last()["text"]
    assert "Women and ESCR chat" in omar.last()["text"], "the title is refreshed"
    assert nadia.last()["text"].startswith("\u200f") and "لست مشرفًا" in nadia.last()["text"]
    assert (await group_row(bot, group)).chat_problem == "not_admin"

    # A member asking for the chat is told it can't let anyone in right now.
    await user.send("/groups")
    await user.click("✅ Women and ESCR")
    await user.click("💬 Group chat")
    assert "cannot let anyone in right now" in user.last()["text"]
    assert not fake.calls_to("createChatInviteLink", chat)

    # Removed altogether, then promoted again: admins hear both.
    fake.my_chat_member(chat, "left", by_user_id=7777)
    await expect_call(fake, "sendMessage", omar.chat_id)
    assert "quitaron" in omar.last()["text"] or "/link" in omar.last()["text"]
    fake.my_chat_member(chat, "administrator", by_user_id=7777)
    await expect_call(fake, "sendMessage", omar.chat_id)
    assert "✅" in omar.last()["text"]
    assert (await group_row(bot, group)).chat_problem is None


async def test_link_needs_admin_rights_and_a_network_admin(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    fake.add_group(CHAT, "New chat")
    await add_member(bot, 5100, "Pat", role="admin", locale="fr")
    await add_member(bot, 5101, "Quin")
    await make_group(bot)
    client(5100, "Pat", language_code="fr")
    client(5101, "Quin")

    fake.user_sends(5101, "/link", chat_id=CHAT)
    await expect_call(fake, "sendMessage", CHAT)
    assert "Only a network admin" in fake.messages(CHAT)[-1]["text"]
    fake.user_sends(5100, "/link", chat_id=CHAT)
    await expect_call(fake, "sendMessage", CHAT)
    assert "administrateur" in fake.messages(CHAT)[-1]["text"]
    assert not fake.messages(5100), "no choice is offered before the bot is admin"


async def test_arabic_readers_get_right_to_left_screens(bot: RunningBot, client: Any) -> None:
    await add_member(bot, 5110, "Rami", locale="ar")
    await make_group(bot, names={"en": "Women and ESCR", "ar": "المرأة والحقوق"})
    await make_group(bot, "other", {"en": "Economic Policy"})
    user = client(5110, "Rami", language_code="ar")
    reply = await user.send("/groups")
    assert reply[-1]["text"].startswith("\u200f") and "المرأة والحقوق" in reply[-1]["text"]
    await user.click("Economic Policy")
    card = user.last()["text"]
    assert card.startswith("\u200fEconomic Policy"), "an English name still reads right to left"
    assert "لم تُترجم إلى لغتك بعد" in card
