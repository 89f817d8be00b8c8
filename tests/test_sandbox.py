"""The sandbox: the real bot against the in-process stand-in, driven through the page's API
as a visitor would; plus the command line that starts it (and refuses beside a real bot)."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bot.sandbox.people import ADMIN_ID, COORDINATOR_ID, NEWCOMER_ID, READY_MADE
from bot.sandbox.run import SandboxEnv, refusal
from models.group import GroupMembership, WorkingGroup
from models.member import Member, MemberStatus
from tests.harness import ROOT
from tests.sandboxkit import PageUser, running_sandbox

LAYLA = 700_003


@pytest.fixture
async def page(tmp_path: Path) -> AsyncIterator[tuple[object, str, aiohttp.ClientSession]]:
    async with running_sandbox(tmp_path) as (sandbox, base), aiohttp.ClientSession() as http:
        yield sandbox, base, http


async def onboard_by_taps(diego: PageUser) -> None:
    """A Spanish-speaking newcomer from Colombia joins the network by tapping only."""
    await diego.say("/start")
    await diego.tap("Español")
    await diego.tap("Aceptar")
    await diego.tap("Diego")
    await diego.tap("C")
    await diego.tap("▶")
    await diego.tap("Colombia")
    await diego.tap("Omitir")
    await diego.tap("Prefiero no decirlo")
    await diego.wait_text("¡Todo listo, Diego!")


async def test_newcomer_onboards_and_joins_a_group(page: tuple) -> None:
    sandbox, base, http = page
    diego = PageUser(http, base, NEWCOMER_ID)
    await onboard_by_taps(diego)
    await diego.say("/groups")
    await diego.tap("Mujeres y DESC")
    await diego.tap("Unirme")
    await diego.wait_text("Te uniste a <b>Mujeres y DESC</b>")

    # The personal link to the group's chat: opening it joins the chat, once.
    shown = await diego.wait_for(
        lambda ms: any("url" in b for m in ms for r in m.get("buttons", []) for b in r)
    )
    link = next(b["url"] for m in shown for row in m.get("buttons", []) for b in row if "url" in b)
    joined = await diego.post("/api/join", {"user": NEWCOMER_ID, "link": link})
    assert not joined["requested"]
    chats = await diego.get(f"/api/chats?user={NEWCOMER_ID}")
    assert [c["id"] for c in chats] == [NEWCOMER_ID, joined["chat"]]
    assert sandbox.fake.chat_members(joined["chat"])[NEWCOMER_ID] == "member"
    await diego.post("/api/join", {"user": NEWCOMER_ID, "link": link}, 400)
    await diego.post("/api/send", {"user": NEWCOMER_ID, "chat": joined["chat"], "text": "¡Hola!"})
    group_chat = await diego.get(f"/api/messages?user={NEWCOMER_ID}&chat={joined['chat']}")
    assert group_chat["messages"][-1]["html"] == "¡Hola!"
    assert group_chat["messages"][-1]["sender"] == "Diego"
    carmen = await diego.get(f"/api/chats?user={COORDINATOR_ID}")
    assert joined["chat"] in [c["id"] for c in carmen]

    async with sandbox.app.sessionmaker() as session:
        member = await session.scalar(select(Member).where(Member.telegram_id == NEWCOMER_ID))
        assert member is not None
        assert (member.locale, member.country, member.status) == ("es", "CO", MemberStatus.ACTIVE)
        groups = await session.scalars(
            select(WorkingGroup.code)
            .join(GroupMembership, GroupMembership.group_id == WorkingGroup.id)
            .where(GroupMembership.member_id == member.id)
        )
        assert list(groups) == ["women_escr"]


async def test_ready_made_people_and_content(page: tuple) -> None:
    sandbox, base, http = page
    state = await PageUser(http, base, ADMIN_ID).get("/api/state")
    people = {p["user_id"]: p for p in state["people"]}
    assert {p["locale"] for p in people.values()} == {"en", "es", "ar", "fr", "pt"}
    assert people[ADMIN_ID]["role"] == "admin" and people[ADMIN_ID]["locale"] == "en"
    assert people[COORDINATOR_ID]["role"] == "coordinator"
    assert people[COORDINATOR_ID]["locale"] == "es"
    assert len({p["timezone"] for p in people.values()}) == len(READY_MADE)

    # A member in Cairo got the open poll, in Arabic, with answer buttons, and the meeting.
    layla = PageUser(http, base, LAYLA)
    poll = await layla.wait_text("ما الموضوع الذي يجب أن تتناوله ورشتنا القادمة؟")
    assert poll["buttons"] and "<b>" in poll["html"]
    await layla.wait_for(
        lambda ms: any(m.get("file", {}).get("name", "").endswith(".ics") for m in ms)
    )
    async with sandbox.app.sessionmaker() as session:
        codes = set(await session.scalars(select(WorkingGroup.code)))
    assert len(codes) == 6


async def test_a_vote_and_a_file_download(page: tuple) -> None:
    _sandbox, base, http = page
    layla = PageUser(http, base, LAYLA)
    await layla.wait_text("ورشتنا")
    answer = await layla.tap("السكن")
    assert answer["answered"]
    shown = await layla.wait_for(
        lambda ms: any(m.get("file", {}).get("name", "").endswith(".ics") for m in ms)
    )
    ics = next(m["file"] for m in shown if m.get("file", {}).get("name", "").endswith(".ics"))
    async with http.get(f"{base}/api/file/{ics['id']}") as response:
        assert response.status == 200
        assert "attachment" in response.headers["Content-Disposition"]
        assert (await response.read()).startswith(b"BEGIN:VCALENDAR")


async def test_clock_moves_and_reset_starts_over(page: tuple) -> None:
    sandbox, base, http = page
    diego = PageUser(http, base, NEWCOMER_ID)
    await diego.say("/start")
    before = sandbox.clock.now()
    moved = await diego.post("/api/clock", {"hours": 24})
    assert moved["now"] >= (before.replace(microsecond=0)).isoformat()
    assert (sandbox.clock.now() - before).total_seconds() >= 24 * 3600
    nothing_before = sandbox.clock.now()
    jumped = await diego.post("/api/next", {})
    assert jumped["kind"]  # the poll's reminder or closing, or a meeting reminder
    assert sandbox.clock.now() > nothing_before
    await diego.post("/api/reset", {})
    assert (await diego.chat())["messages"] == []
    assert abs((sandbox.clock.now() - before).total_seconds()) < 60
    await PageUser(http, base, LAYLA).wait_text("ورشتنا")


async def test_new_person_and_refused_input(page: tuple) -> None:
    _sandbox, base, http = page
    visitor = PageUser(http, base, ADMIN_ID)
    await visitor.post("/api/people", {"name": "Ana", "locale": "fr", "country": "ZZ"}, 400)
    await visitor.post("/api/people", {"name": "Ana", "locale": "xx", "country": "UY"}, 400)
    ana = await visitor.post("/api/people", {"name": "Ana", "locale": "fr", "country": "UY"})
    assert ana["timezone"] == "America/Montevideo" and not ana["registered"]
    await PageUser(http, base, ana["user_id"]).wait_for(lambda ms: ms == [])
    await PageUser(http, base, ana["user_id"]).say("/start")
    await PageUser(http, base, ana["user_id"]).wait_text("Bienvenue")
    huge = 10**30
    await visitor.post("/api/press", {"user": ADMIN_ID, "message_id": huge, "data": "x"}, 400)
    await visitor.post("/api/send", {"user": huge, "text": "hi"}, 400)
    await visitor.post("/api/send", {"user": ADMIN_ID, "chat": LAYLA, "text": "hi"}, 400)
    await visitor.post("/api/clock", {"hours": huge}, 400)
    async with http.get(f"{base}/api/messages?user=1&chat=1") as response:
        assert response.status == 400


def test_refuses_beside_a_real_bot() -> None:
    real = "1234567890:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"
    assert refusal(SandboxEnv(bot_token=real)) is not None
    assert refusal(SandboxEnv(bot_token=real, telegram_api_url="http://127.0.0.1:8081")) is None
    assert refusal(SandboxEnv(bot_token="")) is None


async def _python_m_bot(tmp: Path, *args: str, **env: str) -> asyncio.subprocess.Process:
    clean = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "TELEGRAM_API_URL")}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=tmp,
        env={**clean, "PYTHONPATH": str(ROOT), "DATA_DIR": str(tmp / "data"), **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_command_line(tmp_path: Path) -> None:
    real = "1234567890:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"
    refused = await _python_m_bot(tmp_path, "sandbox", BOT_TOKEN=real)
    _out, err = await asyncio.wait_for(refused.communicate(), 30)
    assert refused.returncode == 2 and b"refuses" in err

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        busy = await _python_m_bot(tmp_path, "sandbox", "--port", port)
        _out, err = await asyncio.wait_for(busy.communicate(), 30)
    assert busy.returncode == 2 and b"cannot listen on 127.0.0.1:" in err

    no_token = await _python_m_bot(tmp_path, "run")
    _out, err = await asyncio.wait_for(no_token.communicate(), 30)
    assert no_token.returncode == 2 and b"BOT_TOKEN" in err

    started = await _python_m_bot(tmp_path, "start", SANDBOX_PORT="0")
    try:
        assert started.stdout is not None
        line = (await asyncio.wait_for(started.stdout.readline(), 60)).decode()
        assert line.startswith("no BOT_TOKEN: local sandbox at http://127.0.0.1:")
        assert line.rstrip().endswith(", nothing is sent to Telegram")
        url = line.split(" at ", 1)[1].split(",", 1)[0]
        async with aiohttp.ClientSession() as http, http.get(url + "/") as response:
            assert response.status == 200 and "<html" in await response.text()
        assert (tmp_path / "data" / "sandbox" / "sandbox.sqlite3").exists()
        assert not (tmp_path / "data" / "bot.sqlite3").exists()
    finally:
        started.terminate()
        await asyncio.wait_for(started.wait(), 30)
    assert started.returncode == 0


async def test_next_event_runs_it(page: tuple) -> None:
    """The next event is the poll's reminder: Layla, who has not answered, is reminded."""
    _sandbox, base, http = page
    layla = PageUser(http, base, LAYLA)
    await layla.wait_text("ورشتنا")
    await layla.wait_for(lambda ms: any(m.get("file") for m in ms))
    count = len(await layla.bot_messages())
    jumped = await layla.post("/api/next", {})
    assert jumped["kind"] == "poll_remind", jumped
    reminded = await layla.wait_for(lambda ms: len(ms) > count)
    assert "ورشتنا" in reminded[-1]["html"]


async def test_files_sent_by_a_person(page: tuple) -> None:
    """A voice note from a file, and a document, reach the bot with their bytes."""
    sandbox, base, http = page
    form = aiohttp.FormData()
    form.add_field("user", str(LAYLA))
    form.add_field("file", b"OggS real voice bytes", filename="note.ogg", content_type="audio/ogg")
    async with http.post(f"{base}/api/upload", data=form) as response:
        assert response.status == 200, await response.text()
    form = aiohttp.FormData()
    form.add_field("user", str(LAYLA))
    form.add_field("file", b"a,b\n1,2\n", filename="list.csv", content_type="text/csv")
    async with http.post(f"{base}/api/upload", data=form) as response:
        assert response.status == 200, await response.text()
    mine = [m for m in sandbox.fake.all_messages(LAYLA) if not m["_from_bot"]]
    voice, document = mine[-2:]
    assert sandbox.fake.files[voice["voice"]["file_id"]].data == b"OggS real voice bytes"
    assert document["document"]["file_name"] == "list.csv"
    assert sandbox.fake.files[document["document"]["file_id"]].data == b"a,b\n1,2\n"
    empty = aiohttp.FormData()
    empty.add_field("user", str(LAYLA))
    empty.add_field("file", b"", filename="x.pdf", content_type="application/pdf")
    async with http.post(f"{base}/api/upload", data=empty) as response:
        assert response.status == 400


async def test_restart_keeps_the_database(tmp_path: Path) -> None:
    """A second start finds the filled database: nothing is added twice, created people and the
    group's chat come back (the chat history, kept by the stand-in, does not)."""
    from bot.sandbox.content import SHOWCASE_CHAT
    from bot.sandbox.run import Sandbox
    from models.poll import Poll

    first = Sandbox(tmp_path)
    await first.start()
    ana = first.add_person("Ana", "pt", "MZ", "Africa/Maputo")
    await first.stop()
    again = Sandbox(tmp_path)
    await again.start()
    try:
        assert ana in again.people
        assert again.fake.users[ana.user_id]["language_code"] == "pt"
        assert again.fake.chat_members(SHOWCASE_CHAT)[COORDINATOR_ID] == "administrator"
        assert again.app is not None
        async with again.app.sessionmaker() as session:
            assert len((await session.scalars(select(Poll))).all()) == 1
            assert len((await session.scalars(select(WorkingGroup))).all()) == 6
    finally:
        await again.stop()
    assert (tmp_path / "sandbox" / "sandbox.sqlite3").exists()


async def test_reply_keyboard_and_formatting(page: tuple) -> None:
    """The bot has no reply keyboard today; one sent through the stand-in shows in the page's
    data until removed, with Telegram's HTML kept."""
    from aiogram.types import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove

    sandbox, base, http = page
    claire = PageUser(http, base, 700_004)
    await claire.wait_text("atelier")
    keyboard = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="Oui"), KeyboardButton(text="Non")]], resize_keyboard=True
    )
    await sandbox.app.bot.send_message(
        700_004, "<b>Bold</b> &amp; <i>italic</i>", reply_markup=keyboard
    )
    shown = await claire.chat()
    assert shown["keyboard"] == [["Oui", "Non"]]
    assert shown["messages"][-1]["html"] == "<b>Bold</b> &amp; <i>italic</i>"
    await sandbox.app.bot.send_message(700_004, "Merci", reply_markup=ReplyKeyboardRemove())
    assert (await claire.chat())["keyboard"] is None
