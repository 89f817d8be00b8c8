"""Coordinators' announcements: written by taps, previewed, sent through the delivery engine,
read by each member in their language (or marked as another language's version)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from bot.core.i18n import create_i18n
from bot.groups.announcements import compose, fallback_note, pick_version
from bot.groups.callbacks import AnnounceCb
from bot.sandbox.telegram import FakeTelegram
from models.delivery import Broadcast
from tests.conftest import add_member
from tests.groupkit import add_to_group, make_group
from tests.harness import RunningBot

CHAT = -1009876543210


async def eventually(check: Callable[[], Any], within: float = 15.0) -> None:
    """Wait until `check()` is truthy."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.05)


def texts_of(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [str(m.get("text", m.get("caption", ""))) for m in fake.messages(chat_id)]


async def test_an_announcement_in_two_languages_reaches_each_member_in_theirs(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    fake.add_group(CHAT, "Women chat")
    fake.set_bot_admin(CHAT)
    carla = await add_member(bot, 8000, "Carla")
    group = await make_group(bot, chat_id=CHAT, chat_title="Women chat")
    await add_to_group(bot, group, carla, coordinator=True)
    readers = {8001: "es", 8002: "en", 8003: "fr"}
    for user_id, locale in readers.items():
        fake.add_user(user_id, f"Reader {user_id}", language_code=locale)
        await add_to_group(bot, group, await add_member(bot, user_id, locale=locale))
    fake.add_user(8004, "Pending", language_code="pt")
    pending = await add_member(bot, 8004, locale="pt")
    await add_to_group(bot, group, pending, status="pending")
    fake.add_user(8005, "Outsider")
    await add_member(bot, 8005)
    coordinator = client(8000, "Carla")

    await coordinator.send("/groups")
    await coordinator.click("⭐ Women and ESCR")
    await coordinator.click("📣 Announcement")
    assert "Send its text in English" in coordinator.last()["text"]
    reply = await coordinator.send("Assembly on Friday at 15:00.")
    assert "Languages: English (original)" in reply[-1]["text"]
    assert "Recipients: 4" in reply[-1]["text"]
    await coordinator.click("🌐 Add a language")
    await coordinator.click("Español")
    await coordinator.send("Asamblea el viernes a las 15:00.")
    await coordinator.click("💬 Also in the group chat")
    assert "Also posted in the group chat: yes" in coordinator.last()["text"]

    await coordinator.click("👁 Preview")
    previews = coordinator.texts()
    assert any("Mujeres y DESC" in t and "Asamblea" in t for t in previews)
    assert any("Assembly" in t and "Not available in your language" not in t for t in previews)
    assert any("Assembly" in t and "Pas disponible dans ta langue" in t for t in previews)
    assert not texts_of(fake, 8001), "a preview goes to the coordinator only"

    await coordinator.click("✅ Send to the group")
    await eventually(lambda: all(texts_of(fake, uid) for uid in readers) and texts_of(fake, CHAT))
    await fake.settle(quiet=0.3)
    assert texts_of(fake, 8001)[-1] == "📣 Mujeres y DESC\n\nAsamblea el viernes a las 15:00."
    assert texts_of(fake, 8002)[-1] == "📣 Women and ESCR\n\nAssembly on Friday at 15:00."
    french = texts_of(fake, 8003)[-1]
    assert "Assembly on Friday" in french and "voici la version en anglais" in french
    chat_post = [t for t in texts_of(fake, CHAT) if "Assembly" in t][-1]
    assert "Asamblea el viernes" in chat_post, "the group chat gets every version"
    assert not texts_of(fake, 8004) and not texts_of(fake, 8005)
    await eventually(lambda: any("has been sent" in t for t in coordinator.texts()))

    # The panel's buttons are gone; a forged second send queues nothing more.
    await coordinator.press_data(AnnounceCb(action="send", group_id=group).pack())
    assert "no longer open" in coordinator.callback_answer()["text"]
    broadcasts = await bot.db(lambda s: s.scalars(select(Broadcast)))
    assert len(list(broadcasts)) == 1


async def test_announcement_with_a_document_and_a_voice_note(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    carla = await add_member(bot, 8100, "Carla", locale="es")
    group = await make_group(bot)
    await add_to_group(bot, group, carla, coordinator=True)
    fake.add_user(8101, "Reader", language_code="pt")
    await add_to_group(bot, group, await add_member(bot, 8101, locale="pt"))
    coordinator = client(8100, "Carla", language_code="es")

    await coordinator.send("/groups")
    await coordinator.click("⭐ Mujeres y DESC")
    await coordinator.click("📣 Anuncio")
    reply = await coordinator.send(
        "Informe anual", document=b"%PDF-1.4 annual report", file_name="informe.pdf"
    )
    assert "informe.pdf" in reply[-1]["text"]
    await coordinator.click("✅ Enviar al grupo")
    await eventually(lambda: bool(fake.messages(8101)))
    await fake.settle(quiet=0.3)
    [received] = fake.messages(8101)
    assert received["document"]["file_name"] == "informe.pdf"
    assert "Informe anual" in received["caption"] and "espanhol" in received["caption"]

    # A voice note alone, without text, is an announcement too.
    await coordinator.click("📣 Anuncio", coordinator.messages()[0])
    await coordinator.send(voice=True)
    await coordinator.click("✅ Enviar al grupo")
    await eventually(lambda: len(fake.messages(8101)) == 2)
    await fake.settle(quiet=0.3)
    voice = fake.messages(8101)[-1]
    assert "voice" in voice
    assert voice["caption"] == "📣 Women and ESCR", "no Portuguese name: the default language's"


async def test_a_member_who_left_gets_nothing(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    from bot.groups.announcements import Draft, send_announcement
    from models.group import GroupMembership, get_group

    carla = await add_member(bot, 8200, "Carla")
    group = await make_group(bot)
    await add_to_group(bot, group, carla, coordinator=True)
    fake.add_user(8201, "Leaver")
    leaver = await add_member(bot, 8201)
    await add_to_group(bot, group, leaver)
    fake.add_user(8200, "Carla")

    async def queue_then_leave(session: Any) -> None:
        draft = Draft(group_id=group, token="t1", main="en", texts={"en": "Hello"})
        found = await get_group(session, group)
        await send_announcement(session, draft, found, author_id=carla.id, author_chat_id=8200)
        link = await session.scalar(
            select(GroupMembership).where(GroupMembership.member_id == leaver.id)
        )
        await session.delete(link)
        await session.commit()

    await bot.db(queue_then_leave)
    await eventually(lambda: bool(texts_of(fake, 8200)))
    await fake.settle(quiet=0.5)
    assert not [t for t in texts_of(fake, 8201) if "Hello" in t]


def test_versions_fall_back_to_the_default_language_and_are_marked() -> None:
    texts = {"pt": "Olá", "en": "Hello"}
    assert pick_version(texts, "pt", "pt", "en") == ("pt", "Olá")
    assert pick_version(texts, "fr", "pt", "en") == ("en", "Hello"), "default before original"
    assert pick_version({"pt": "Olá"}, "fr", "pt", "en") == ("pt", "Olá")
    assert pick_version({}, "fr", "pt", "en") == (None, "")

    i18n = create_i18n("en")

    def french(message: str) -> str:
        return i18n.gettext(message, locale="fr")

    note = fallback_note("en", "fr", french)
    assert "anglais" in note and note.startswith("<i>")
    payload = {"group_id": 1, "main": "pt", "texts": texts, "document": None, "voice": None}
    [own] = compose(payload, "Groupe", "pt", "en", french)
    assert own.text is not None and "Olá" in own.text and "<i>" not in own.text
    [other] = compose(payload, "Groupe", "fr", "en", french)
    assert other.text is not None and "Hello" in other.text and "anglais" in other.text
    [chat] = compose(payload, "Groupe", "pt", "en", french, all_versions=True)
    assert chat.text is not None and chat.text.index("Olá") < chat.text.index("Hello")


def test_long_text_and_attachment_go_as_two_messages() -> None:
    payload = {
        "main": "en",
        "texts": {"en": "x" * 2000},
        "document": {"file_id": "F1", "name": "a.pdf"},
        "voice": None,
    }
    parts = compose(payload, "G", "en", "en", lambda m: m)
    assert [bool(p.text) for p in parts] == [True, False] and parts[1].document == "F1"
    payload["texts"] = {"en": "short"}
    [one] = compose(payload, "G", "en", "en", lambda m: m)
    assert one.document == "F1" and one.caption and "short" in one.caption


async def test_a_coordinator_dismissed_while_writing_cannot_go_on(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    """The role is checked when the text arrives, not only when the draft was started."""
    from models.group import GroupMembership, GroupRole

    carla = await add_member(bot, 8300, "Carla")
    group = await make_group(bot)
    await add_to_group(bot, group, carla, coordinator=True)
    await add_to_group(bot, group, await add_member(bot, 8301))
    coordinator = client(8300, "Carla")
    await coordinator.send("/groups")
    await coordinator.click("⭐ Women and ESCR")
    await coordinator.click("📣 Announcement")

    async def dismiss(session: Any) -> None:
        link = await session.scalar(
            select(GroupMembership).where(GroupMembership.member_id == carla.id)
        )
        link.role = GroupRole.MEMBER
        await session.commit()

    await bot.db(dismiss)
    reply = await coordinator.send("Assembly on Friday.")
    assert "Only the coordinators of this group" in reply[-1]["text"]
    assert "✅ Send to the group" not in coordinator.buttons(reply[-1])
    reply = await coordinator.send("Assembly on Friday, again.")
    assert "Only the coordinators" not in reply[-1]["text"], "the conversation is over"
    assert not list(await bot.db(lambda s: s.scalars(select(Broadcast))))
