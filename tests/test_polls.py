"""Consultations end to end: a coordinator creates a poll by taps, members answer in their
language, reminders and the close run through the delivery engine and the scheduler."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.polls.ballot_box import open_ballot
from bot.polls.tally import Counts, CrossCell, Group, Tally
from bot.sandbox.telegram import FakeTelegram
from models.fsm import FsmRecord
from models.group import GroupMembership, GroupRole, GroupTranslation, WorkingGroup
from models.member import Member
from models.poll import (
    AnonymousBallot,
    Participation,
    PendingBallot,
    Poll,
    PollKind,
    PollStatus,
)
from tests.botclient import BotClient
from tests.conftest import add_member
from tests.harness import RunningBot
from tests.test_poll_logic import recoverable

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CLOSES = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)  # 1 December, 18:00 in Montevideo
COORDINATOR = 600_100
QUESTION_EN = "Do we adopt the 2027 action plan?"
QUESTION_ES = "¿Adoptamos el plan de acción 2027?"


async def eventually(check: Callable[[], Any], within: float = 15.0) -> None:
    """Wait until `check()` is truthy, or fail with what it last returned."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s (last: {result!r})")
        await asyncio.sleep(0.05)


def wake(bot: RunningBot) -> None:
    """Let the scheduler and the delivery engine look at the (moved) clock now."""
    assert bot.app is not None
    for service in bot.app.services:
        waker = getattr(service, "wake", None)
        if callable(waker):
            waker()


def texts(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [str(m.get("text") or m.get("caption") or "") for m in fake.messages(chat_id)]


def has_text(fake: FakeTelegram, chat_id: int, needle: str) -> bool:
    return any(needle in text for text in texts(fake, chat_id))


async def make_group(
    bot: RunningBot, code: str, names: dict[str, str], coordinators: list[int], members: list[int]
) -> int:
    """A working group with coordinators and active members (by Telegram id)."""

    async def create(session: Any) -> int:
        group = WorkingGroup(
            code=code,
            translations=[GroupTranslation(locale=k, name=v) for k, v in names.items()],
        )
        session.add(group)
        await session.flush()
        for telegram_id in coordinators + members:
            member = await session.scalar(select(Member).where(Member.telegram_id == telegram_id))
            role = GroupRole.COORDINATOR if telegram_id in coordinators else GroupRole.MEMBER
            session.add(GroupMembership(group_id=group.id, member_id=member.id, role=role))
        await session.commit()
        return int(group.id)

    result: int = await bot.db(create)
    return result


# Members of the "women" group: (telegram id, name, locale, country, gender)
PEOPLE = [
    (600_201, "Lucía", "es", "UY", "woman"),
    (600_202, "Carmen", "es", "AR", "woman"),
    (600_203, "Joy", "en", "UY", "woman"),
    (600_204, "Marta", "es", "CL", "woman"),
    (600_205, "Pedro", "es", "UY", "man"),
    (600_206, "Juan", "es", "AR", "man"),
    (600_207, "Tom", "en", "BR", "man"),
    (600_208, "Diego", "es", "PE", "man"),
    (600_209, "Elena", "es", "ES", "woman"),
    (600_210, "Sofía", "es", "ES", "woman"),
    (600_211, "Pablo", "es", "ES", "man"),
    (600_212, "Hugo", "en", "GB", "man"),
    (600_213, "Emma", "en", "IE", "woman"),
    (600_214, "Amina", "en", "KE", "woman"),
    (600_215, "Wanjiru", "en", "KE", "woman"),
]
ANSWERS = {  # Wanjiru (600_215) does not answer; Diego (600_208) blocks, with a reason
    600_201: "👍 De acuerdo",
    600_202: "👍 De acuerdo",
    600_203: "👍 Agree",
    600_204: "✋ Abstenerse",
    600_205: "👎 En desacuerdo",
    600_206: "👍 De acuerdo",
    600_207: "👍 Agree",
    600_209: "👍 De acuerdo",
    600_210: "👍 De acuerdo",
    600_211: "👎 En desacuerdo",
    600_212: "👍 Agree",
    600_213: "✋ Abstain",
    600_214: "👍 Agree",
}


async def network(bot: RunningBot, fake: FakeTelegram) -> int:
    """A coordinator in Montevideo, twelve members, and a second group she does not run."""
    fake.add_user(COORDINATOR, "Ana")
    await add_member(bot, COORDINATOR, "Ana", locale="en", country="UY", gender="woman")
    for telegram_id, name, locale, country, gender in PEOPLE:
        fake.add_user(telegram_id, name, language_code=locale)
        await add_member(bot, telegram_id, name, locale=locale, country=country, gender=gender)
    fake.add_user(600_300, "Outsider")
    await add_member(bot, 600_300, "Outsider", locale="en", country="FR")
    group = await make_group(
        bot,
        "women",
        {"en": "Women and ESCR", "es": "Mujeres y DESC"},
        [COORDINATOR],
        [p[0] for p in PEOPLE],
    )
    await make_group(bot, "litigation", {"en": "Strategic litigation"}, [], [600_300])
    return group


async def create_consent_poll(ana: BotClient) -> str:
    """Ana creates a secret consent poll with a Spanish version, by taps; returns the preview."""
    reply = await ana.send("/newpoll")
    assert "New consultation" in reply[-1]["text"]
    await ana.send(QUESTION_EN)
    await ana.click("Consent (agree, abstain, disagree, block)")
    await ana.click("🔒 Secret ballot")
    await ana.click("☐ Women and ESCR")
    assert "☑ Women and ESCR" in ana.buttons()
    await ana.click("Next ▶")
    reply = await ana.send("1/12 18:00")
    assert "Tuesday 1 December 2026, 18:00" in reply[0]["text"]
    assert "UTC−03:00" in reply[0]["text"]
    await ana.click("24 hours before (recommended)")
    await ana.click("Only when it closes (recommended)")
    await ana.click("Yes, send everyone who answered the results")
    await ana.click("+ Español")
    await ana.send(QUESTION_ES)
    assert "✓ Español" in ana.buttons()
    await ana.click("Next ▶")
    reply = await ana.click("Skip")
    preview = next(m for m in reply if QUESTION_EN in m.get("text", ""))
    assert "👍 Agree" in ana.buttons(preview)
    assert "✅ Send to the audience (16)" in ana.buttons()
    return str(preview["text"])


async def the_poll(bot: RunningBot) -> Poll:
    poll = await bot.db(lambda s: s.scalar(select(Poll).order_by(Poll.id.desc())))
    assert poll is not None
    return poll


def poll_message(fake: FakeTelegram, chat_id: int, question: str) -> dict[str, Any]:
    """The newest poll message in a chat."""
    for message in reversed(fake.messages(chat_id)):
        text = str(message.get("text", ""))
        if question in text and "🗳" in text and message.get("reply_markup"):
            return message
    raise AssertionError(f"no poll in chat {chat_id}: {texts(fake, chat_id)}")


async def ballots(bot: RunningBot, poll_id: int) -> list[dict[str, Any]]:
    """The poll's secret ballots, in the box and still waiting in the pool (opened with the
    bot's privacy key: the pool holds them sealed)."""
    assert bot.app is not None
    key = bot.app.privacy_key

    async def read(session: Any) -> list[dict[str, Any]]:
        rows = await session.execute(
            select(AnonymousBallot.__table__).where(AnonymousBallot.poll_id == poll_id)
        )
        found = [dict(row) for row in rows.mappings().all()]
        pool = await session.execute(
            select(PendingBallot.id, PendingBallot.sealed).where(PendingBallot.poll_id == poll_id)
        )
        for row_id, sealed in pool.all():
            found.append({"id": row_id, "poll_id": poll_id, **open_ballot(key, poll_id, sealed)})
        return found

    result: list[dict[str, Any]] = await bot.db(read)
    return result


def backend_of(bot: RunningBot) -> str:
    assert bot.app is not None
    return "redis" if bot.app.settings.redis_url else "sql"


async def fsm_rows(bot: RunningBot, where: str, telegram_id: int) -> dict[str, Any]:
    """Everything the conversation store holds for this user (SQL rows or Redis keys)."""
    assert bot.app is not None
    if where == "redis":
        storage: Any = bot.app.dp.storage
        found = {}
        async for key in storage.redis.scan_iter(match=f"fsm:*{telegram_id}:{telegram_id}:*"):
            if await storage.redis.type(key) in (b"string", "string"):
                found[str(key)] = str(await storage.redis.get(key))
        return found
    rows = await bot.db(
        lambda s: s.execute(
            select(FsmRecord.state, FsmRecord.data).where(FsmRecord.user_id == telegram_id)
        )
    )
    return {str(state): data for state, data in rows.all()}


def published(sheet: list[list[str]]) -> Tally:
    """The tally as the coordinator's CSV shows it (hidden groups without counts)."""

    def counts(row: list[str]) -> Counts | None:
        return None if row[3] == "hidden" else Counts(int(row[3]), [int(n) for n in row[4:]])

    rows = [row for row in sheet[1:] if len(row) > 4]
    total = counts(rows[0])
    assert total is not None
    return Tally(
        total,
        [Group(r[1], counts(r)) for r in rows if r[0] == "Region"],
        [Group(r[2], counts(r)) for r in rows if r[0] == "Gender"],
        [CrossCell(r[1], r[2], counts(r)) for r in rows if r[0] == "Region × gender"],
    )


async def participants(bot: RunningBot, poll_id: int) -> int:
    return int(
        await bot.db(
            lambda s: s.scalar(
                select(func.count())
                .select_from(Participation)
                .where(Participation.poll_id == poll_id)
            )
        )
    )


def language(user: BotClient) -> str:
    return str(user.user.get("language_code"))


def question_for(user: BotClient) -> str:
    return QUESTION_ES if language(user) == "es" else QUESTION_EN


async def test_secret_consent_poll_from_creation_to_results(
    bot: RunningBot, fake: FakeTelegram, client: Any, clock: Any
) -> None:
    clock.set(NOW)
    await network(bot, fake)
    ana = client(COORDINATOR, "Ana")
    preview = await create_consent_poll(ana)
    reply = await ana.click("✅ Send to the audience (16)")
    assert any("Sent. Audience: 16." in m.get("text", "") for m in reply)
    poll = await the_poll(bot)
    assert (poll.kind, poll.anonymous, poll.closes_at) == (PollKind.CONSENT, True, CLOSES)
    assert poll.remind_at == CLOSES - timedelta(hours=24)
    users = {p[0]: client(p[0], p[1], language_code=p[2]) for p in PEOPLE}

    # every member gets it in their language, with the closing time in their own zone
    await eventually(lambda: all(has_text(fake, p[0], "🗳") for p in PEOPLE))
    joy = poll_message(fake, 600_203, QUESTION_EN)
    assert joy["text"] == preview, "the preview is exactly what a member in Ana's zone gets"
    lucia = poll_message(fake, 600_201, QUESTION_ES)
    assert "Mujeres y DESC" in lucia["text"] and "martes 1 diciembre 2026, 18:00" in lucia["text"]
    assert "👍 De acuerdo" in users[600_201].buttons(lucia)
    amina = poll_message(fake, 600_214, QUESTION_EN)
    assert "Wednesday 2 December 2026, 00:00" in amina["text"] and "UTC+03:00" in amina["text"]
    assert not has_text(fake, 600_300, "🗳"), "the outsider is not in the audience"

    # members vote in English and Spanish
    for telegram_id, label in ANSWERS.items():
        user = users[telegram_id]
        await user.click(label, poll_message(fake, telegram_id, question_for(user)))
        answer = str((user.callback_answer() or {}).get("text"))
        assert ("counted" if language(user) == "en" else "contada") in answer, answer
    assert len(await ballots(bot, poll.id)) == len(ANSWERS)
    assert "Your secret ballot was counted" in poll_message(fake, 600_203, QUESTION_EN)["text"]

    # a block without a reason is refused: nothing counts until the reason comes
    diego = users[600_208]
    reply = await diego.click("⛔ Bloquear", poll_message(fake, 600_208, QUESTION_ES))
    assert "motivo" in reply[-1]["text"]
    reply = await diego.send(sticker=True)
    assert "nota de voz" in reply[-1]["text"]
    await diego.click("✖ Cancelar")
    assert len(await ballots(bot, poll.id)) == len(ANSWERS)
    assert await participants(bot, poll.id) == len(ANSWERS)
    await diego.click("⛔ Bloquear", poll_message(fake, 600_208, QUESTION_ES))
    # while he writes, the conversation state holds the poll, never his choice
    assert "choices" not in json.dumps(await fsm_rows(bot, backend_of(bot), 600_208))
    reply = await diego.send("Falta consultar a las comunidades rurales")
    assert "bloqueo" in reply[-1]["text"] and len(await ballots(bot, poll.id)) == len(ANSWERS)
    assert reply[-1]["reply_to_message"]["text"] == "Falta consultar a las comunidades rurales"
    assert await fsm_rows(bot, backend_of(bot), 600_208) == {}
    await diego.click("⛔ Bloquear, con este motivo", reply[-1])
    assert "contada" in str(diego.callback_answer())
    assert len(await ballots(bot, poll.id)) == len(ANSWERS) + 1
    reasons = [row["reason"] for row in await ballots(bot, poll.id) if row["reason"]]
    assert reasons == ["Falta consultar a las comunidades rurales"]

    # a second secret vote is refused and changes nothing
    joy_user = users[600_203]
    await joy_user.press_data(f"pv:{poll.id}:2", poll_message(fake, 600_203, QUESTION_EN))
    assert "already answered" in str(joy_user.callback_answer())
    assert len(await ballots(bot, poll.id)) == await participants(bot, poll.id) == 14

    # forged data: a poll not meant for this member, an option out of range, nonsense
    outsider = client(600_300, "Outsider")
    await outsider.send("/help")
    await outsider.press_data(f"pv:{poll.id}:0")
    assert "not meant for you" in str(outsider.callback_answer())
    wanjiru = users[600_215]
    for data, expected in (
        (f"pv:{poll.id}:9", "not one of the options"),
        (f"pv:{poll.id}:-1", "not one of the options"),
        (f"pv:{poll.id}:x", "no longer valid"),
        ("pv:999999:0", "no longer exists"),
    ):
        await wanjiru.press_data(data, poll_message(fake, 600_215, QUESTION_EN))
        assert expected in str(wanjiru.callback_answer()), data
    assert len(await ballots(bot, poll.id)) == 14

    # the secret ballot table holds nothing that links to a member
    rows = await ballots(bot, poll.id)
    people = await bot.db(lambda s: s.execute(select(Member.id, Member.telegram_id)))
    identifiers = {str(value) for pair in people.all() for value in pair if value > 1000}
    for row in rows:
        assert set(row) == {
            "id",
            "poll_id",
            "choices",
            "region",
            "gender",
            "reason",
            "reason_voice_file_id",
            "reason_versions",  # the reason in other languages, kept with it
        }
        assert len(row["id"]) == 32 and int(row["id"], 16) >= 0
        assert not any(ident in str(value) for value in row.values() for ident in identifiers)
    assert {row["region"] for row in rows} == {"419", "150", "202"}

    # the reminder reaches only the one who has not answered
    clock.set(CLOSES - timedelta(hours=24) + timedelta(seconds=1))
    wake(bot)
    await eventually(lambda: has_text(fake, 600_215, "Reminder"))
    await asyncio.sleep(0.5)
    reminded = [p for p in (COORDINATOR, *(p[0] for p in PEOPLE)) if has_text(fake, p, "⏰")]
    assert reminded == [COORDINATOR, 600_215], "Ana is in her group too, and did not answer"

    # the bot restarts; the scheduler still closes the poll on time, once
    await bot.restart()
    clock.set(CLOSES - timedelta(seconds=5))
    wake(bot)
    await asyncio.sleep(0.5)
    assert (await the_poll(bot)).status == PollStatus.OPEN
    clock.set(CLOSES + timedelta(seconds=1))
    wake(bot)
    await eventually(lambda: has_text(fake, COORDINATOR, "📊 Results"))
    closed = await the_poll(bot)
    assert closed.status == PollStatus.CLOSED and closed.closed_at is not None

    # the coordinator's report: counts, the block stated, small groups suppressed
    await eventually(lambda: len([m for m in fake.messages(COORDINATOR) if "document" in m]) == 2)
    report = next(t for t in texts(fake, COORDINATOR) if t.startswith("📊 Results"))
    assert "Answers: 14" in report
    assert "👍 Agree: 9 (64.3%)" in report
    assert "⛔ Block: 1 (7.1%)" in report and "Blocked" in report
    assert "Falta consultar a las comunidades rurales" in report
    assert "Latin America (8): 👍 Agree 5 · ✋ Abstain 1 · 👎 Disagree 1 · ⛔ Block 1" in report
    assert "Sub-Saharan Africa: hidden" in report
    assert "Europe: hidden" in report
    assert "Women (8): 👍 Agree 6" in report and "Men (6)" in report
    documents = [m["document"] for m in fake.messages(COORDINATOR) if "document" in m]
    assert sorted(d["file_name"] for d in documents) == [
        f"poll-{poll.id}.csv",
        f"poll-{poll.id}.png",
    ]
    chart = next(d for d in documents if d["file_name"].endswith(".png"))
    assert fake.files[chart["file_id"]].data.startswith(b"\x89PNG")
    table = next(d for d in documents if d["file_name"].endswith(".csv"))
    sheet = list(csv.reader(io.StringIO(fake.files[table["file_id"]].data.decode("utf-8-sig"))))
    assert sheet[1] == ["Total", "", "", "14", "9", "2", "2", "1"]
    by_region = {row[1]: row[3] for row in sheet if row[:1] == ["Region"]}
    assert by_region["Latin America"] == "8"
    assert by_region["Sub-Saharan Africa"] == by_region["Europe"] == "hidden"
    # the attacker: from the CSV (which holds all the message and the chart show), no
    # hidden cell can be worked out, and the message hides exactly what the CSV hides
    assert recoverable(published(sheet)) == []
    for region, answers in by_region.items():
        assert (f"{region}: hidden" in report) == (answers == "hidden"), region

    # closing the loop: each participant gets the results in their language, not the others
    await eventually(lambda: has_text(fake, 600_201, "📊 Resultados"))
    assert has_text(fake, 600_203, "📊 Results")
    assert not has_text(fake, 600_215, "📊"), "Wanjiru did not answer"
    assert not has_text(fake, 600_201, "frica"), "members get no breakdowns"

    # after the close no vote is taken; the ballots are sealed, without attributes
    await wanjiru.press_data(f"pv:{poll.id}:0", poll_message(fake, 600_215, QUESTION_EN))
    assert "closed" in str(wanjiru.callback_answer())
    sealed = await ballots(bot, poll.id)
    assert len(sealed) == 14
    assert {(b["region"], b["gender"]) for b in sealed} == {(None, None)}
    assert not {b["id"] for b in sealed} & {b["id"] for b in rows}
    await asyncio.sleep(1.5)
    assert len([t for t in texts(fake, COORDINATOR) if t.startswith("📊 Results")]) == 1
    # broadcasts were paced; only the two people tapping through conversations went faster
    paced = [v for v in fake.violations if "600100" not in v and "600208" not in v]
    assert paced == [], paced
