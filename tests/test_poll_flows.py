"""Consultations end to end, the other paths: named votes that change, multiple choice, live
results, comments, early closing, who may do what, bad input, and /mydata and /forget."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from bot.polls.ballot_box import open_ballot, open_comment
from bot.polls.jobs import launch_poll
from bot.polls.service import Draft, save_poll
from bot.sandbox.telegram import FakeTelegram
from models.group import GroupMembership, GroupRole, WorkingGroup
from models.member import Member
from models.poll import (
    AnonymousBallot,
    AnonymousComment,
    NamedVote,
    Participation,
    PendingBallot,
    PendingComment,
    Poll,
    PollComment,
    PollKind,
    PollStatus,
)
from tests.conftest import add_member
from tests.harness import RunningBot
from tests.test_polls import (
    COORDINATOR,
    NOW,
    PEOPLE,
    eventually,
    has_text,
    make_group,
    network,
    poll_message,
)
from tests.test_privacy import row_counts_mentioning

CLOSES = NOW + timedelta(days=2)


async def quick_poll(bot: RunningBot, creator: int, **fields: Any) -> int:
    """A poll stored and sent as the creation conversation would (for tests about answering)."""
    assert bot.app is not None
    app = bot.app

    async def create(session: Any) -> int:
        member = await session.scalar(select(Member).where(Member.telegram_id == creator))
        code = fields.pop("group", "women")
        group_ids = [
            await session.scalar(select(WorkingGroup.id).where(WorkingGroup.code == code))
        ]
        closes_at = fields.pop("closes_at", CLOSES).isoformat()
        draft = Draft(locale=member.locale, closes_at=closes_at, group_ids=group_ids, **fields)
        poll = await save_poll(session, draft, member, NOW)
        await launch_poll(session, app, poll, member)
        await session.commit()
        return int(poll.id)

    result: int = await bot.db(create)
    return result


async def count(bot: RunningBot, table: Any, poll_id: int) -> int:
    """Rows of the poll in `table`; secret ballots are counted in the box and in the pool."""
    if table is AnonymousBallot:
        return await rows_in(bot, table, poll_id) + await rows_in(bot, PendingBallot, poll_id)
    return await rows_in(bot, table, poll_id)


async def rows_in(bot: RunningBot, table: Any, poll_id: int) -> int:
    return int(
        await bot.db(
            lambda s: s.scalar(
                select(func.count()).select_from(table).where(table.poll_id == poll_id)
            )
        )
    )


async def test_named_vote_changes_and_forget_erases_it_but_secret_ballots_stay(
    bot: RunningBot, fake: FakeTelegram, client: Any, clock: Any
) -> None:
    clock.set(NOW)
    await network(bot, fake)
    named = await quick_poll(
        bot,
        COORDINATOR,
        question="Where do we meet in 2027?",
        kind=PollKind.SINGLE,
        options=["Montevideo", "Nairobi", "Online"],
        anonymous=False,
        translations={
            "es": {
                "question": "¿Dónde nos reunimos en 2027?",
                "options": ["Montevideo", "Nairobi", "En línea"],
            }
        },
    )
    secret = await quick_poll(
        bot, COORDINATOR, question="Do we adopt the budget?", kind=PollKind.CONSENT
    )
    pedro = client(600_205, "Pedro", language_code="es")
    await eventually(lambda: has_text(fake, 600_205, "¿Dónde nos reunimos en 2027?"))
    await eventually(lambda: has_text(fake, 600_205, "Do we adopt the budget?"))

    # a named answer, then changed before the close
    message = poll_message(fake, 600_205, "¿Dónde nos reunimos")
    assert "👤" in message["text"] and "1. Montevideo" in pedro.buttons(message)
    await pedro.click("1. Montevideo", message)
    assert "contada" in str(pedro.callback_answer())
    message = poll_message(fake, 600_205, "¿Dónde nos reunimos")
    assert "✓ 1. Montevideo" in pedro.buttons(message)
    await pedro.click("3. En línea", message)
    assert "cambiada" in str(pedro.callback_answer())
    message = poll_message(fake, 600_205, "¿Dónde nos reunimos")
    assert "Tu respuesta: En línea" in message["text"]
    assert "✓ 3. En línea" in pedro.buttons(message)
    votes = await bot.db(lambda s: s.scalars(select(NamedVote).where(NamedVote.poll_id == named)))
    assert [vote.choices for vote in votes] == [0b100]

    # and a secret ballot
    await pedro.click("👍 De acuerdo", poll_message(fake, 600_205, "Do we adopt the budget?"))
    assert await count(bot, AnonymousBallot, secret) == 1

    # /mydata: participations and the named answer, never the secret ballot's content
    reply = await pedro.send("/mydata")
    document = next(m for m in reply if "document" in m)
    data = json.loads(fake.files[document["document"]["file_id"]].data)
    polls = data["consultations"]
    assert sorted(item["poll"] for item in polls["answered"]) == sorted([named, secret])
    assert [(a["poll"], a["answer"]) for a in polls["named_answers"]] == [(named, ["Online"])]
    assert "agree" not in json.dumps(polls)

    # /forget: the named answer and both participations go; the secret ballot stays counted
    member = await bot.db(lambda s: s.scalar(select(Member).where(Member.telegram_id == 600_205)))
    await pedro.send("/forget")
    await pedro.click_nth(0)
    assert await row_counts_mentioning(bot, member.id, 600_205) == {}
    assert await count(bot, NamedVote, named) == 0
    assert await count(bot, Participation, named) == 0
    assert await count(bot, Participation, secret) == 0
    assert await count(bot, AnonymousBallot, secret) == 1


async def test_multiple_choice_live_results_comments_and_early_close(
    bot: RunningBot, fake: FakeTelegram, client: Any, clock: Any
) -> None:
    clock.set(NOW)
    await network(bot, fake)
    poll_id = await quick_poll(
        bot,
        COORDINATOR,
        question="What should we work on first?",
        kind=PollKind.MULTIPLE,
        options=["Water", "Land", "Housing"],
        results_live=True,
    )
    joy = client(600_203, "Joy")
    tom = client(600_207, "Tom")
    await eventually(lambda: has_text(fake, 600_203, "What should we work on first?"))
    await eventually(lambda: has_text(fake, 600_207, "What should we work on first?"))

    # ticks move on the buttons; nothing is stored before Submit
    await joy.click("☐ 1. Water")
    await joy.click("☐ 3. Housing")
    assert joy.buttons()[:3] == ["☑ 1. Water", "☐ 2. Land", "☑ 3. Housing"]
    assert await count(bot, AnonymousBallot, poll_id) == 0
    await tom.click("📨 Submit", poll_message(fake, 600_207, "work on first"))
    assert "Tick at least one" in str(tom.callback_answer())
    await joy.click("📨 Submit")
    assert "counted" in str(joy.callback_answer())
    assert bot.app is not None
    key = bot.app.privacy_key
    rows = await bot.db(lambda s: s.scalars(select(PendingBallot.sealed)))
    # waiting in the pool for 4 more, sealed
    assert [open_ballot(key, poll_id, row)["choices"] for row in rows] == [0b101]

    # live results once answered, in steps of 5 answers; a comment stored without its author
    reply = await joy.click("📊 Results so far")
    assert "Answers: 0" in reply[-1]["text"]
    assert "steps of at least 5 answers" in reply[-1]["text"]
    await tom.press_data(f"pr:{poll_id}", poll_message(fake, 600_207, "work on first"))
    assert "shared when the consultation closes" in str(tom.callback_answer())
    await joy.click("💬 Add a comment")
    reply = await joy.send("Clean water first, then land.")
    assert "comment was saved" in reply[-1]["text"]
    # sealed until the close (its keyed counter shares the transaction): nothing readable
    sealed = list(await bot.db(lambda s: s.scalars(select(PendingComment.sealed))))
    assert [open_comment(key, poll_id, blob) for blob in sealed] == [
        {"text": "Clean water first, then land.", "voice_file_id": None}
    ]
    assert b"Clean water" not in sealed[0]
    assert await rows_in(bot, AnonymousComment, poll_id) == 0
    assert set(PendingComment.__table__.columns.keys()) == {"id", "poll_id", "sealed"}
    assert set(AnonymousComment.__table__.columns.keys()) == {
        "id",
        "poll_id",
        "text",
        "voice_file_id",
    }

    # the coordinator reads results and comments from /polls, and closes early
    ana = client(COORDINATOR, "Ana")
    await eventually(lambda: has_text(fake, COORDINATOR, "work on first"))  # she is a member too
    await ana.send("/polls")
    await ana.click("📊 What should we work on first?")
    report = ana.last()["text"]
    assert "Answers: 0" in report and "💬 Comments: 1" in report
    reply = await ana.click("💬 Comments")
    assert any("Clean water first, then land." in m.get("text", "") for m in reply)
    await ana.click("🔒 Close now")
    await ana.click("Yes, close it now")
    poll = await bot.db(lambda s: s.get(Poll, poll_id))
    assert poll.status == PollStatus.CLOSED
    await eventually(lambda: has_text(fake, 600_203, "This consultation is closed."))
    await tom.press_data(f"pu:{poll_id}:1", poll_message(fake, 600_207, "work on first"))
    assert "closed" in str(tom.callback_answer())
    assert await count(bot, AnonymousBallot, poll_id) == 1
    assert await bot.db(lambda s: s.scalar(select(func.count()).select_from(PollComment))) == 0
    # at the close the comment entered the box, opened, and the sealed one is gone
    stored = await bot.db(
        lambda s: s.execute(select(AnonymousComment.text, AnonymousComment.voice_file_id))
    )
    assert stored.all() == [("Clean water first, then land.", None)]
    assert await rows_in(bot, PendingComment, poll_id) == 0


async def test_plain_members_cannot_create_or_close_and_coordinators_only_their_groups(
    bot: RunningBot, fake: FakeTelegram, client: Any, clock: Any
) -> None:
    clock.set(NOW)
    await network(bot, fake)
    poll_id = await quick_poll(bot, COORDINATOR, question="Budget?", kind=PollKind.CONSENT)
    tom = client(600_207, "Tom")
    await eventually(lambda: has_text(fake, 600_207, "Budget?"))
    reply = await tom.send("/newpoll")
    assert "Only working group coordinators and network admins" in reply[-1]["text"]
    reply = await tom.send("/polls")
    assert "➕ New consultation" not in tom.buttons()
    await tom.press_data("nw:start:")
    assert "Only working group coordinators" in tom.last()["text"]
    await tom.press_data("nw:send:")
    assert "conversation is over" in str(tom.callback_answer())
    for data in (f"px:{poll_id}:1", f"pe:{poll_id}", f"pl:{poll_id}"):
        await tom.press_data(data)
        assert "Only the coordinators of this consultation" in str(tom.callback_answer()), data
    poll = await bot.db(lambda s: s.get(Poll, poll_id))
    assert poll.status == PollStatus.OPEN

    # the coordinator of another group may not consult this one, nor the whole network
    fake.add_user(600_400, "Kofi")
    await add_member(bot, 600_400, "Kofi", locale="en", country="GH")
    women = poll.group_ids[0]
    await make_group(bot, "land", {"en": "Land rights"}, [600_400], [])
    kofi = client(600_400, "Kofi")
    await kofi.send("/newpoll")
    await kofi.send("Shall we?")
    await kofi.click("One answer")
    await kofi.send("Yes\nNo")
    await kofi.click("✅ Done")
    await kofi.click("🔒 Secret ballot")
    assert "☐ Land rights" in kofi.buttons() and "🌍 Whole network" not in kofi.buttons()
    await kofi.press_data(f"nw:grp:{women}")
    assert "only consult the working groups you coordinate" in str(kofi.callback_answer())
    await kofi.press_data("nw:net:")
    assert "Only network admins" in str(kofi.callback_answer())


async def test_bad_input_while_creating_changes_nothing(
    bot: RunningBot, fake: FakeTelegram, client: Any, clock: Any
) -> None:
    clock.set(NOW)
    fake.add_user(600_500, "Grace")
    await add_member(bot, 600_500, "Grace", locale="en", country="US", timezone="America/New_York")
    for telegram_id, name, locale, country, gender in PEOPLE[:3]:
        fake.add_user(telegram_id, name, language_code=locale)
        await add_member(bot, telegram_id, name, locale=locale, country=country, gender=gender)
    await make_group(bot, "housing", {"en": "Housing"}, [600_500], [p[0] for p in PEOPLE[:3]])
    grace = client(600_500, "Grace")
    await grace.send("/newpoll")
    reply = await grace.send(sticker=True)
    assert reply[0]["text"] == "Please send text." and "New consultation" in reply[-1]["text"]
    reply = await grace.send("x" * 700)
    assert "at most 600 characters" in reply[-1]["text"]
    await grace.send("Which campaign first?")
    reply = await grace.send("free text where a button is expected")
    assert "Please answer with the buttons below." in reply[0]["text"]
    await grace.click("One answer")
    reply = await grace.send("\n".join(f"Campaign {i}" for i in range(13)))
    assert "Too many answers: at most 12" in reply[-1]["text"]
    reply = await grace.send("A campaign whose name is far too long for a button")
    assert "too long" in reply[-1]["text"]
    reply = await grace.send("Water\nLand")
    assert "1. Water\n2. Land" in reply[-1]["text"]
    reply = await grace.send("water")
    assert "already in the list" in reply[-1]["text"]
    await grace.click("✅ Done")
    reply = await grace.click("◀ Back")
    assert "1. Water\n2. Land" in reply[-1]["text"], "Back returns to the answers, kept"
    await grace.click("✅ Done")
    await grace.click("👤 Named")
    await grace.click("☐ Housing")
    await grace.click("Next ▶")
    for typed, expected in (
        ("2026-11-01 10:00", "already past"),
        ("23/11 06:00", "already past"),
        ("14/3/2027 02:30", "does not exist in United States (New York) Time"),
        ("7/11/2027 01:30", "happens twice in United States (New York) Time"),
        ("31/11 10:00", "That date does not exist"),
        ("tomorrow-ish", "could not read"),
    ):
        reply = await grace.send(typed)
        assert expected in reply[-1]["text"], typed
    reply = await grace.send("2026-12-01 18:00")
    assert (
        "Tuesday 1 December 2026, 18:00 (United States (New York) Time, UTC−05:00)"
        in reply[0]["text"]
    )
    reply = await grace.click("◀ Back")
    assert "When does it close?" in reply[-1]["text"] and "Keep it" in grace.buttons()
    await grace.click("Keep it")
    await grace.click("No reminder")
    await grace.click("Live, once they answered")
    await grace.click("No, only to me")
    await grace.click("Next ▶")
    reply = await grace.send(sticker=True)
    assert reply[0]["text"] == "Please record a voice note, or tap Skip."
    reply = await grace.send(voice=True)
    assert "voice" in reply[1], "the preview starts with the voice note, as members get it"
    assert "Which campaign first?" in reply[2]["text"] and "Reminder: none" in reply[3]["text"]
    assert grace.buttons(reply[2]) == ["1. Water", "2. Land"]
    await grace.click("1. Water", reply[2])
    assert "preview: nothing was counted" in str(grace.callback_answer())
    await grace.click("✖ Cancel")
    assert "Cancelled: the consultation was not sent." in grace.last()["text"]
    assert await bot.db(lambda s: s.scalar(select(func.count()).select_from(Poll))) == 0
    await grace.press_data("nw:send:")
    assert "conversation is over" in str(grace.callback_answer())
    assert not any(has_text(fake, p[0], "Which campaign") for p in PEOPLE[:3])


async def test_scale_poll_from_polls_list_and_a_block_by_voice_note(
    bot: RunningBot, fake: FakeTelegram, client: Any, clock: Any
) -> None:
    clock.set(NOW)
    await network(bot, fake)
    scale = await quick_poll(
        bot, COORDINATOR, question="How useful was the assembly?", kind=PollKind.SCALE
    )
    consent = await quick_poll(
        bot,
        COORDINATOR,
        question="Do we sign the joint letter?",
        kind=PollKind.CONSENT,
        anonymous=False,
    )
    diego = client(600_208, "Diego", language_code="es")
    await eventually(lambda: has_text(fake, 600_208, "joint letter"))

    # /polls lists open consultations, answered or not, and shows one again on a tap
    await diego.send("/polls")
    assert diego.buttons() == ["🗳 How useful was the assembly?", "🗳 Do we sign the joint letter?"]
    reply = await diego.click("🗳 How useful was the assembly?")
    assert diego.buttons(reply[-1]) == ["1", "2", "3", "4", "5"]
    assert "1 (nada) al 5 (totalmente)" in reply[-1]["text"]
    await diego.click("4", reply[-1])
    votes = await bot.db(lambda s: s.scalars(select(NamedVote.choices)))
    assert list(votes) == []  # secret by default: no named vote
    assert await count(bot, AnonymousBallot, scale) == 1
    await diego.send("/polls")
    assert diego.buttons()[0] == "✅ How useful was the assembly?"

    # a named block with a voice note as its reason
    await diego.click("⛔ Bloquear", poll_message(fake, 600_208, "joint letter"))
    await diego.send(voice=True)
    vote = await bot.db(lambda s: s.scalar(select(NamedVote).where(NamedVote.poll_id == consent)))
    assert vote.choices == 0b1000 and vote.reason is None and vote.reason_voice_file_id
    ana = client(COORDINATOR, "Ana")
    await eventually(lambda: has_text(fake, COORDINATOR, "joint letter"))  # she is a member too
    await ana.send("/polls")
    reply = await ana.click("📊 Do we sign the joint letter?")
    # (the report, not ana.last(): her delivery summary for the poll may land just after it)
    assert any("• Diego: (voice note)" in m.get("text", "") for m in reply)
    reply = await ana.click("💬 Comments")
    voices = [m for m in reply if "voice" in m]
    assert len(voices) == 1 and voices[0]["caption"] == "Reason for blocking · Diego"
    assert voices[0]["voice"]["file_id"] == vote.reason_voice_file_id

    # a coordinator half-way through a new poll can block with a reason, then carry on
    await ana.send("/newpoll")
    reply = await ana.send("Which date suits you?")
    kind_step = next(m for m in reply if "What kind of answer" in m.get("text", ""))
    await ana.click("⛔ Block", poll_message(fake, COORDINATOR, "joint letter"))
    reply = await ana.send("The letter names people at risk")
    assert any("counted" in m.get("text", "") for m in reply)
    reply = await ana.click("One answer", kind_step)
    assert "Send the answers members can choose" in reply[-1]["text"]
    reasons = await bot.db(lambda s: s.scalars(select(NamedVote.reason).order_by(NamedVote.id)))
    assert list(reasons) == [None, "The letter names people at risk"]


async def test_admin_consults_a_region(
    bot: RunningBot, fake: FakeTelegram, client: Any, clock: Any
) -> None:
    clock.set(NOW)
    await network(bot, fake)
    fake.add_user(600_600, "Zola")
    await add_member(bot, 600_600, "Zola", locale="en", country="ZA", role="admin")
    zola = client(600_600, "Zola")
    await zola.send("/newpoll")
    await zola.send("Should the next assembly be in Africa?")
    await zola.click("Scale from 1 to 5")
    await zola.click("👤 Named")
    assert {"🌍 Whole network", "🗺 A region…", "☐ Women and ESCR"} <= set(zola.buttons())
    await zola.click("🗺 A region…")
    await zola.click("Sub-Saharan Africa")
    await eventually(lambda: "Region: Sub-Saharan Africa" in zola.texts())
    await zola.click("In 1 week")
    await zola.click("24 hours before (recommended)")
    await zola.click("Only when it closes (recommended)")
    await zola.click("Yes, send everyone who answered the results")
    await zola.click("Next ▶")
    await zola.click("Skip")
    # Amina, Wanjiru and Zola herself
    await eventually(
        lambda: any("Audience: Sub-Saharan Africa (now: 3)" in t for t in zola.texts())
    )
    await zola.click("✅ Send to the audience (3)")
    await eventually(lambda: has_text(fake, 600_214, "next assembly be in Africa"))
    await eventually(lambda: has_text(fake, 600_215, "next assembly be in Africa"))
    assert not has_text(fake, 600_201, "next assembly"), "Latin America is not consulted"
    poll = await bot.db(lambda s: s.scalar(select(Poll)))
    assert (poll.audience, poll.region) == ("region", "202")
    in_a_week = poll.closes_at - (NOW + timedelta(weeks=1))
    assert timedelta(0) <= in_a_week <= timedelta(minutes=1) and poll.closes_at.second == 0


async def set_role(bot: RunningBot, telegram_id: int, role: GroupRole) -> None:
    """Change a member's role in every group they belong to (as /groups would)."""

    async def change(session: Any) -> None:
        member = await session.scalar(select(Member).where(Member.telegram_id == telegram_id))
        for link in await session.scalars(
            select(GroupMembership).where(GroupMembership.member_id == member.id)
        ):
            link.role = role
        await session.commit()

    await bot.db(change)


async def test_a_coordinator_dismissed_since_the_buttons_were_sent_is_refused(
    bot: RunningBot, fake: FakeTelegram, client: Any, clock: Any
) -> None:
    """Roles are checked at the tap, not when the buttons were drawn."""
    clock.set(NOW)
    await network(bot, fake)
    fake.add_user(600_400, "Kofi")
    await add_member(bot, 600_400, "Kofi", locale="en", country="GH")
    await make_group(bot, "land", {"en": "Land rights"}, [600_400], [])

    # Ana stops coordinating while choosing the audience, and again at the preview
    ana = client(COORDINATOR, "Ana")
    await ana.send("/newpoll")
    await ana.send("Do we march on the 8th?")
    await ana.click("Consent (agree, abstain, disagree, block)")
    await ana.click("🔒 Secret ballot")
    await ana.click("☐ Women and ESCR")
    await set_role(bot, COORDINATOR, GroupRole.MEMBER)
    await ana.click("☑ Women and ESCR")
    assert "only consult the working groups you coordinate" in str(ana.callback_answer())
    await set_role(bot, COORDINATOR, GroupRole.COORDINATOR)
    await ana.click("Next ▶")
    await ana.click("In 3 days")
    await ana.click("No reminder")
    await ana.click("Only when it closes (recommended)")
    await ana.click("No, only to me")
    await ana.click("Next ▶")
    await ana.click("Skip")
    assert "✅ Send to the audience (16)" in ana.buttons()
    await set_role(bot, COORDINATOR, GroupRole.MEMBER)
    await ana.click("✅ Send to the audience (16)")
    assert "Only working group coordinators and network admins" in str(ana.callback_answer())
    assert await bot.db(lambda s: s.scalar(select(func.count()).select_from(Poll))) == 0

    # Kofi coordinates both groups when a poll goes out, then only his own: the poll's
    # report and its tools are no longer his
    await set_role(bot, COORDINATOR, GroupRole.COORDINATOR)
    women = await bot.db(
        lambda s: s.scalar(select(WorkingGroup.id).where(WorkingGroup.code == "women"))
    )
    await make_membership(bot, women, 600_400, GroupRole.COORDINATOR)
    poll_id = await quick_poll(bot, COORDINATOR, question="Budget?", kind=PollKind.CONSENT)
    kofi = client(600_400, "Kofi")
    await eventually(lambda: has_text(fake, 600_400, "Budget?"))
    reply = await kofi.send("/polls")
    assert "📊 Budget?" in kofi.buttons(reply[-1])
    reply = await kofi.click("📊 Budget?", reply[-1])
    report = next(m for m in reply if "Results" in m.get("text", ""))
    assert "🔒 Close now" in kofi.buttons(report)
    await set_role(bot, 600_400, GroupRole.MEMBER)
    for label in ("🔒 Close now", "📎 Chart and CSV"):
        await kofi.click(label, report)
        assert "Only the coordinators of this consultation" in str(kofi.callback_answer())
    await kofi.press_data(f"pr:{poll_id}")
    assert "Results are shared when the consultation closes" in str(kofi.callback_answer())
    poll = await bot.db(lambda s: s.get(Poll, poll_id))
    assert poll.status == PollStatus.OPEN


async def make_membership(bot: RunningBot, group_id: int, telegram_id: int, role: str) -> None:
    async def add(session: Any) -> None:
        member = await session.scalar(select(Member).where(Member.telegram_id == telegram_id))
        session.add(GroupMembership(group_id=group_id, member_id=member.id, role=role))
        await session.commit()

    await bot.db(add)
