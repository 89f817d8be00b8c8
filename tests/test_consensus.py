"""Decisions by consensus end to end: a proposal blocked in round 1 (with a reason in Spanish),
amended, adopted in round 2 with a stand-aside, the record sent in each member's language; a
round without quorum not adopted; and every forbidden action refused, changing nothing."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.sandbox.telegram import FakeTelegram
from models.consensus import (
    Outcome,
    Priorities,
    PriorityBallot,
    Proposal,
    Questionnaire,
    QuestionnaireAnswer,
)
from models.poll import Poll
from tests.botclient import BotClient
from tests.conftest import add_member
from tests.harness import RunningBot
from tests.test_polls import eventually, has_text, make_group, texts, wake

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ANA = 610_100
PEOPLE = [  # (telegram id, name, locale, country)
    (610_201, "Lucía", "es", "UY"),
    (610_202, "Carmen", "es", "AR"),
    (610_203, "Joy", "en", "KE"),
    (610_204, "Pedro", "es", "CL"),
    (610_205, "Tom", "en", "GB"),
]
OUTSIDER = 610_300
TITLE_EN, TITLE_ES = "Annual campaign on housing", "Campaña anual sobre vivienda"
TEXT_EN = "We run one campaign on the right to housing in 2027, led by the women's group."
TEXT_ES = "Hacemos una campaña sobre el derecho a la vivienda en 2027, liderada por el grupo."
AMENDED_EN = (
    "We run one campaign on the right to housing in 2027, led by the women's group, "
    "after consulting rural communities."
)
AMENDED_ES = (
    "Hacemos una campaña sobre el derecho a la vivienda en 2027, liderada por el grupo, "
    "después de consultar a las comunidades rurales."
)
BLOCK_REASON = "Falta consultar a las comunidades rurales"
DISAGREE_REASON = "Es demasiado cara para un año"


async def network(bot: RunningBot, fake: FakeTelegram) -> int:
    """Ana coordinates a group of five; an outsider belongs to another group."""
    fake.add_user(ANA, "Ana")
    await add_member(bot, ANA, "Ana", locale="en", country="UY")
    for telegram_id, name, locale, country in PEOPLE:
        fake.add_user(telegram_id, name, language_code=locale)
        await add_member(bot, telegram_id, name, locale=locale, country=country)
    fake.add_user(OUTSIDER, "Outsider")
    await add_member(bot, OUTSIDER, "Outsider", locale="en", country="FR")
    group = await make_group(
        bot,
        "women",
        {"en": "Women and ESCR", "es": "Mujeres y DESC"},
        [ANA],
        [p[0] for p in PEOPLE],
    )
    await make_group(bot, "litigation", {"en": "Strategic litigation"}, [], [OUTSIDER])
    return group


async def the_proposal(bot: RunningBot) -> Proposal:
    found = await bot.db(lambda s: s.scalar(select(Proposal).order_by(Proposal.id.desc())))
    assert found is not None
    return found


async def round_poll(bot: RunningBot, number: int) -> Poll:
    proposal = await the_proposal(bot)
    poll_id = proposal.rounds[number - 1].poll_id
    return await bot.db(lambda s: s.get(Poll, poll_id))


def poll_in(fake: FakeTelegram, chat_id: int, title: str) -> dict[str, Any]:
    """The newest consent poll message with buttons in a chat."""
    for message in reversed(fake.messages(chat_id)):
        text = str(message.get("text", ""))
        if title in text and "🗳" in text and message.get("reply_markup"):
            return message
    raise AssertionError(f"no poll in chat {chat_id}: {texts(fake, chat_id)}")


async def propose(
    ana: BotClient, quorum: str = "50 %", document: bool = False
) -> list[dict[str, Any]]:
    """Ana writes the proposal with a Spanish version (and a document) and previews it."""
    reply = await ana.send("/propose")
    assert "Who is the proposal for?" in reply[-1]["text"]
    await ana.click("Women and ESCR")
    await ana.send(TITLE_EN)
    await ana.send(TEXT_EN)
    await ana.click("+ Español")
    await ana.send(f"{TITLE_ES}\n{TEXT_ES}")
    assert "✓ Español" in ana.buttons()
    if document:
        reply = await ana.send(document=b"%PDF-1.4 plan", file_name="plan-2027.pdf")
        assert any("Attached" in m.get("text", "") for m in reply)
    await ana.click("Next ▶")
    await ana.click(quorum)
    return await ana.click("In 3 days")


async def close_round(bot: RunningBot, clock: Any, number: int) -> None:
    """Move the clock past the round's close and let the scheduler run."""
    proposal = await the_proposal(bot)
    clock.set(proposal.rounds[number - 1].closes_at + timedelta(seconds=1))
    wake(bot)
    await eventually(lambda: has_text(bot_fake(bot), ANA, f"Round {number} closed"))


def styled(message: dict[str, Any], kind: str) -> list[str]:
    """The parts of a message shown in one style (Telegram counts offsets in UTF-16)."""
    raw = str(message["text"]).encode("utf-16-le")
    return [
        raw[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le")
        for e in message.get("entities", [])
        if e["type"] == kind
    ]


def bot_fake(bot: RunningBot) -> FakeTelegram:
    fake: FakeTelegram = bot.fake  # type: ignore[attr-defined]
    return fake


async def vote(
    user: BotClient, fake: FakeTelegram, title: str, label: str, reason: str = ""
) -> None:
    await user.click(label, poll_in(fake, user.user_id, title))
    if reason:
        await give_reason(user, label, reason)


async def give_reason(user: BotClient, label: str, reason: str) -> None:
    """Write the reason; on a secret ballot the answer is confirmed by the button under the
    bot's reply (the choice travels in that button, never in the stored conversation)."""
    reply = await user.send(reason)
    confirm = next(m for m in reply if m.get("reply_markup"))
    await user.click(label.split(" ", 1)[1], confirm)


async def test_blocked_amended_adopted_with_a_stand_aside(
    bot: RunningBot, fake: FakeTelegram, client: Any, clock: Any
) -> None:
    clock.set(NOW)
    group = await network(bot, fake)
    ana = client(ANA, "Ana")
    users = {p[0]: client(p[0], p[1], language_code=p[2]) for p in PEOPLE}
    lucia, carmen, joy, pedro, tom = (users[p[0]] for p in PEOPLE)
    reply = await propose(ana, document=True)
    assert any(TEXT_EN in m.get("text", "") for m in reply), "the preview shows the text"
    assert any("document" in m for m in reply), "and the document"
    await ana.click("✅ Send to the audience (6)")
    proposal = await the_proposal(bot)
    assert [r.number for r in proposal.rounds] == [1] and proposal.quorum == 50, proposal.rounds[
        0
    ].versions
    assert proposal.rounds[0].versions, ana.texts()

    # members read the proposal in their language, then the consent poll under it
    await eventually(lambda: all(has_text(fake, p[0], "🗳") for p in PEOPLE))
    assert has_text(fake, 610_201, "🤝 Propuesta · Mujeres y DESC · ronda 1")
    assert has_text(fake, 610_201, TEXT_ES) and has_text(fake, 610_203, TEXT_EN), texts(
        fake, 610_201
    )
    assert not has_text(fake, OUTSIDER, TITLE_EN)
    await eventually(lambda: any("document" in m for m in fake.messages(610_201)))
    sent = next(m for m in fake.messages(610_201) if "document" in m)
    assert sent["document"]["file_name"] == "plan-2027.pdf"

    # round 1: Lucía blocks with a reason in Spanish, Pedro disagrees and says why
    await vote(lucia, fake, TITLE_ES, "⛔ Bloquear", BLOCK_REASON)
    await pedro.click("👎 En desacuerdo", poll_in(fake, 610_204, TITLE_ES))
    assert "⏭" in " ".join(pedro.buttons()), "a disagreement in a round asks for its reason"
    await give_reason(pedro, "👎 En desacuerdo", DISAGREE_REASON)
    await vote(joy, fake, TITLE_EN, "👍 Agree")
    await vote(tom, fake, TITLE_EN, "👍 Agree")
    # a member outside the audience cannot answer
    poll1 = await round_poll(bot, 1)
    outsider = client(OUTSIDER, "Outsider")
    await outsider.send("/help")
    await outsider.press_data(f"pv:{poll1.id}:0")
    assert "not meant for you" in str(outsider.callback_answer())

    # the close: Ana sees the objections grouped and whether the quorum was met
    bot.fake = fake  # type: ignore[attr-defined]
    await close_round(bot, clock, 1)
    review = next(t for t in texts(fake, ANA) if "Round 1 closed" in t)
    assert "Answers: 4 of 6" in review and "Quorum 50%: ✅ met" in review
    assert "⛔ <b>Blocks</b> (1)" in review or "Blocks (1)" in review
    assert BLOCK_REASON in review and DISAGREE_REASON in review
    assert "Lucía" not in review, "a secret ballot's reasons are anonymous"
    assert "someone blocked it" in review
    assert "✅ Adopt" not in ana.buttons()
    proposal = await the_proposal(bot)
    r1 = proposal.rounds[0]

    # forbidden: adopting a blocked proposal, a member amending, answering after the close
    await ana.press_data(f"cd:{proposal.id}:{r1.id}:adopt")
    assert "someone blocked it" in str(ana.callback_answer())
    await joy.press_data(f"cd:{proposal.id}:{r1.id}:amend")
    assert "Only the coordinators" in str(joy.callback_answer())
    await carmen.press_data(f"pv:{poll1.id}:0", poll_in(fake, 610_202, TITLE_ES))
    assert "cerrada" in str(carmen.callback_answer())
    assert (await the_proposal(bot)).status == Outcome.OPEN

    # Ana amends: new text and Spanish version; the preview shows what changed
    await ana.click("✏️ Amend (round 2)")
    await ana.send(AMENDED_EN)
    await ana.click("+ Español")
    await ana.send(f"{TITLE_ES}\n{AMENDED_ES}")
    await ana.click("Next ▶")
    reply = await ana.click("In 3 days")
    preview = next(m for m in reply if "round 2" in m.get("text", ""))
    assert styled(preview, "underline") == ["group, after consulting rural communities."]
    assert styled(preview, "strikethrough") == ["group."]
    await ana.click("✅ Send to the audience (6)")

    # a forged decision on the old round is refused
    await ana.press_data(f"cd:{proposal.id}:{r1.id}:withdraw")
    assert "not the proposal's current round" in str(ana.callback_answer())

    # round 2 reaches the same audience, with the change and the reasons it answers
    await eventually(
        lambda: all(len([t for t in texts(fake, p[0]) if "🗳" in t]) >= 2 for p in PEOPLE)
    )
    intro = next(
        m for m in reversed(fake.messages(610_201)) if "ronda 2" in str(m.get("text", ""))
    )
    assert styled(intro, "underline") == ["grupo, después de consultar a las comunidades rurales."]
    assert styled(intro, "strikethrough") == ["grupo."]
    assert "Qué cambió desde la ronda 1" in intro["text"]
    assert BLOCK_REASON in intro["text"] and DISAGREE_REASON in intro["text"]
    for user, title, label, reason in (
        (lucia, TITLE_ES, "👍 De acuerdo", ""),
        (carmen, TITLE_ES, "👍 De acuerdo", ""),
        (pedro, TITLE_ES, "👎 En desacuerdo", DISAGREE_REASON),
        (joy, TITLE_EN, "👍 Agree", ""),
        (tom, TITLE_EN, "✋ Abstain", ""),
    ):
        await vote(user, fake, title, label, reason)
    await close_round(bot, clock, 2)
    assert "✅ Adopt" in ana.buttons()
    reply = await ana.click("✅ Adopt")
    assert any("Adopted with stand-asides" in m.get("text", "") for m in reply)
    proposal = await the_proposal(bot)
    assert proposal.status == Outcome.STAND_ASIDES and proposal.decided_at is not None

    # the record goes to every participant in their language, not to the outsider
    def records_in() -> bool:
        """Each member has the record's header and both rounds (round 2's text twice: its
        intro and the record)."""
        for telegram_id, _name, locale, _country in PEOPLE:
            amended = AMENDED_ES if locale == "es" else AMENDED_EN
            if sum(amended in t for t in texts(fake, telegram_id)) < 2:
                return False
        return all(has_text(fake, p[0], "📜") for p in PEOPLE)

    await eventually(records_in)
    assert not has_text(fake, OUTSIDER, "📜")
    record_en = "\n".join(t for t in texts(fake, 610_203) if "Round" in t or "📜" in t)
    assert "Adopted with stand-asides" in record_en and "Stand-asides" in record_en
    assert TEXT_EN in record_en and AMENDED_EN in record_en and BLOCK_REASON in record_en
    record_es = "\n".join(texts(fake, 610_201))
    assert TEXT_ES in record_es and AMENDED_ES in record_es
    assert "📜 Acta de la decisión · Mujeres y DESC" in record_es
    assert "Resultado: ✅ Adoptada con apartamientos" in record_es
    assert "Apartamientos (en desacuerdo sin bloquear): 1" in record_es
    assert "Lucía" not in record_en

    # /decisions: the group's decisions for its members only
    await joy.send("/decisions")
    reply = await joy.click("Women and ESCR")
    assert TITLE_EN in reply[-1]["text"] and "Adopted with stand-asides" in reply[-1]["text"]
    await outsider.send("/decisions")
    assert "Women and ESCR" not in outsider.buttons()
    await outsider.press_data(f"cl:{group}")
    assert "Only members of this group" in str(outsider.callback_answer())
    await outsider.press_data(f"cr:{proposal.id}")
    assert "Only members of this group" in str(outsider.callback_answer())
    await outsider.press_data("cr:99999999999999")
    assert "no longer valid" in str(outsider.callback_answer())


async def test_quorum_not_met_is_not_adopted(
    bot: RunningBot, fake: FakeTelegram, client: Any, clock: Any
) -> None:
    clock.set(NOW)
    await network(bot, fake)
    ana = client(ANA, "Ana")
    joy = client(610_203, "Joy")
    await propose(ana, quorum="75 %")
    await ana.click("✅ Send to the audience (6)")
    await eventually(lambda: has_text(fake, 610_203, "🗳"))
    await vote(joy, fake, TITLE_EN, "👍 Agree")
    bot.fake = fake  # type: ignore[attr-defined]
    await close_round(bot, clock, 1)
    review = next(t for t in texts(fake, ANA) if "Round 1 closed" in t)
    assert "Answers: 1 of 6" in review and "Quorum 75%: ❌ not met" in review
    proposal = await the_proposal(bot)
    await ana.press_data(f"cd:{proposal.id}:{proposal.rounds[0].id}:adopt")
    assert "quorum was not met" in str(ana.callback_answer())
    await ana.click("❌ Record as not adopted")
    assert (await the_proposal(bot)).status == Outcome.NOT_ADOPTED
    await eventually(lambda: has_text(fake, 610_203, "📜"))
    assert any("❌ Not adopted" in t for t in texts(fake, 610_203))
    assert not has_text(fake, 610_201, "📜"), "Lucía did not take part"


ACTIONS = ["Housing campaign", "Litigation training", "Shadow report", "Regional meeting"]
RANKINGS = {  # Borda 3-2-1: Housing 10, Litigation 11, Shadow report 8, Regional meeting 1
    610_201: (0, 1, 2),
    610_202: (0, 2, 1),
    610_203: (1, 0, 3),
    610_204: (2, 1, 0),
    610_205: (1, 2, 0),
}


async def test_priorities_ranking_with_a_known_borda_result(
    bot: RunningBot, fake: FakeTelegram, client: Any, clock: Any
) -> None:
    clock.set(NOW)
    await network(bot, fake)
    ana = client(ANA, "Ana")
    users = {p[0]: client(p[0], p[1], language_code=p[2]) for p in PEOPLE}
    await ana.send("/priorities")
    await ana.click("Women and ESCR")
    await ana.send("What should we do in 2027?")
    await ana.send("\n".join(ACTIONS))
    await ana.click("🥇 Top 3 in order")
    reply = await ana.click("In 3 days")
    assert any("1. Housing campaign" in m.get("text", "") for m in reply), "the preview"
    await ana.click("✅ Send")
    consultation = await bot.db(lambda s: s.scalar(select(Priorities)))
    await eventually(lambda: all(has_text(fake, p[0], "🎯") for p in PEOPLE))

    # forged picks: an option twice, an option that does not exist, an outsider
    joy = users[610_203]
    await joy.press_data(f"yp:{consultation.id}:1.1")
    assert "only once" in str(joy.callback_answer())
    await joy.press_data(f"ys:{consultation.id}:1.1.0")
    assert "only once" in str(joy.callback_answer())
    await joy.press_data(f"yp:{consultation.id}:9")
    assert "not one of the options" in str(joy.callback_answer())
    outsider = client(OUTSIDER, "Outsider")
    await outsider.send("/help")
    await outsider.press_data(f"ys:{consultation.id}:0.1.2")
    assert "not meant for you" in str(outsider.callback_answer())
    assert await ballot_count(bot) == 0

    # each member taps their top 3 in order, then sends it
    for telegram_id, picks in RANKINGS.items():
        user = users[telegram_id]
        for pick in picks:
            await user.click(f"{pick + 1}. {ACTIONS[pick]}")
        assert len(user.buttons()) == 2, user.buttons()
        await user.click_nth(0)  # Submit
    assert await ballot_count(bot) == 5
    assert (
        "Your choice: 1st: Litigation training · 2nd: Housing campaign"
        in users[610_203].texts()[-1]
    )
    await joy.press_data(f"ys:{consultation.id}:0.1.2")
    assert "already answered" in str(joy.callback_answer())
    assert await ballot_count(bot) == 5

    # the close: the ranking with its method, to everyone who answered and to Ana
    clock.set(consultation.closes_at + timedelta(seconds=1))
    wake(bot)
    await eventually(lambda: len([m for m in fake.messages(ANA) if "document" in m]) == 2)
    report = next(t for t in texts(fake, ANA) if "Priorities: results" in t)
    assert (
        "1. Litigation training: 11 points\n2. Housing campaign: 10 points\n"
        "3. Shadow report: 8 points\n4. Regional meeting: 1 point"
    ) in report
    assert "Borda count" in report and "Answers: 5" in report
    assert ": hidden" in report, "small groups are hidden in the breakdowns"
    documents = [m["document"] for m in fake.messages(ANA) if "document" in m]
    table = next(d for d in documents if d["file_name"].endswith(".csv"))
    sheet = list(csv.reader(io.StringIO(fake.files[table["file_id"]].data.decode("utf-8-sig"))))
    assert sheet[1] == ["Total", "", "", "5", "10", "11", "8", "1"]
    await eventually(lambda: has_text(fake, 610_201, "1. Litigation training"))
    assert not has_text(fake, OUTSIDER, "Litigation")
    await users[610_203].press_data(f"ys:{consultation.id}:0.1.2")
    assert "closed" in str(users[610_203].callback_answer())
    sealed = await bot.db(
        lambda s: s.execute(select(PriorityBallot.region, PriorityBallot.gender))
    )
    assert set(sealed.all()) == {(None, None)}, "the close drops region and gender"


async def ballot_count(bot: RunningBot) -> int:
    return int(await bot.db(lambda s: s.scalar(select(func.count()).select_from(PriorityBallot))))


def file_names(fake: FakeTelegram, chat_id: int) -> str:
    return " ".join(
        str(m["document"].get("file_name")) for m in fake.messages(chat_id) if "document" in m
    )


def sent_file(fake: FakeTelegram, chat_id: int, suffix: str) -> dict[str, Any]:
    """The newest document sent to a chat whose name ends with `suffix`."""
    for message in reversed(fake.messages(chat_id)):
        document = message.get("document")
        if document and str(document.get("file_name", "")).endswith(suffix):
            return dict(document)
    raise AssertionError(f"no {suffix} file in chat {chat_id}")


async def test_annual_evaluation_in_two_sittings_across_a_restart(
    bot: RunningBot, fake: FakeTelegram, client: Any, clock: Any
) -> None:
    clock.set(NOW)
    await network(bot, fake)
    ana = client(ANA, "Ana")
    joy, lucia = client(610_203, "Joy"), client(610_201, "Lucía", language_code="es")
    await ana.send("/evaluation")
    reply = await ana.click("Women and ESCR")
    assert (
        "5. 🔘 Will you take part in the group next year? (Yes, Not sure, No)" in reply[-1]["text"]
    )
    await ana.click("✏️ 2")
    await ana.click("✏️ Change the text")
    reply = await ana.send("What worked well this year?")
    assert "2. ✍️ What worked well this year?" in reply[-1]["text"], "the edit shows"
    await ana.click("Next ▶")
    await ana.click("🔒 Secret")
    await ana.click("In 1 week")
    await ana.click("✅ Send")
    questionnaire = await bot.db(lambda s: s.scalar(select(Questionnaire)))
    assert questionnaire.anonymous and len(questionnaire.questions) == 5
    await eventually(lambda: has_text(fake, 610_203, "📝") and has_text(fake, 610_201, "📝"))

    # first sitting: two answers, then "continue later"
    reply = await joy.click("▶ Start or continue")
    assert "question 1 of 5" in reply[-1]["text"]
    reply = await joy.click("4")
    assert (
        "question 2 of 5" in reply[-1]["text"]
        and "What worked well this year?" in reply[-1]["text"]
    )
    qid = questionnaire.id
    await joy.press_data(f"qq:{qid}:1:pick:1")
    assert "not an answer this question takes" in str(joy.callback_answer())
    await joy.press_data(f"qq:{qid}:0:pick:1")
    assert "not the one you are at" in str(joy.callback_answer())
    reply = await joy.send("The housing campaign")
    assert "question 3 of 5" in reply[-1]["text"]
    reply = await joy.click("⏸ Continue later")
    assert "kept" in reply[-1]["text"]

    # the bot restarts; the second sitting starts where Joy stopped
    await bot.restart()
    reply = await joy.click("▶ Start or continue")
    assert "question 3 of 5" in reply[-1]["text"]
    reply = await joy.send("Shorter meetings")
    assert "question 4 of 5" in reply[-1]["text"]
    await joy.click("☐ Advocacy")
    await joy.click("☐ Research")
    reply = await joy.click("Next ▶")
    assert "question 5 of 5" in reply[-1]["text"]
    reply = await joy.click("◀ Back")
    assert "Your answer: Advocacy, Research" in reply[-1]["text"] and "☑ Advocacy" in joy.buttons()
    await joy.click("Next ▶")
    reply = await joy.click("Yes")
    summary = reply[-1]["text"]
    assert "→ 4" in summary and "→ Shorter meetings" in summary and "→ Yes" in summary
    await joy.click("📨 Send my answers")
    await joy.press_data(f"qq:{qid}:5:send:0")
    assert "already sent" in str(joy.callback_answer())

    # Lucía answers in one sitting (buttons in Spanish)
    await lucia.click("▶ Empezar o continuar")
    await lucia.click("2")
    await lucia.send("La formación")
    await lucia.send("Más reuniones regionales")
    await lucia.click("☐ Advocacy")
    await lucia.click_nth(-3)  # Next
    await lucia.click("Not sure")
    await lucia.click_nth(0)  # Send
    answers = await bot.db(lambda s: s.execute(select(QuestionnaireAnswer.__table__)))
    rows = [dict(r) for r in answers.mappings().all()]
    assert len(rows) == 10 and all(r["member_id"] is None for r in rows)

    # the close: per question results, the text answers (anonymous), a CSV per question
    clock.set(questionnaire.closes_at + timedelta(seconds=1))
    wake(bot)
    await eventually(lambda: ".csv" in file_names(fake, ANA))
    report = "\n".join(t for t in texts(fake, ANA) if "Results" in t or "•" in t)
    assert "Respondents: 2" in report
    assert "• The housing campaign" in report and "• Más reuniones regionales" in report
    assert "Advocacy: 2 · Litigation: 0 · Research: 1 · Training: 0" in report
    assert "Yes: 1 · Not sure: 1 · No: 0" in report
    document = sent_file(fake, ANA, ".csv")
    sheet = list(csv.reader(io.StringIO(fake.files[document["file_id"]].data.decode("utf-8-sig"))))
    assert sheet[0] == ["Question", "Answer", "Answers"]
    assert ["What worked well this year?", "The housing campaign", ""] in sheet
    await eventually(lambda: has_text(fake, 610_203, "Respondents: 2"))
    assert not has_text(fake, 610_203, "The housing campaign"), "members get counts only"
    answers = await bot.db(lambda s: s.execute(select(QuestionnaireAnswer.__table__)))
    sealed = [dict(r) for r in answers.mappings().all()]
    assert len(sealed) == 10 and {(r["region"], r["gender"]) for r in sealed} == {(None, None)}
