"""Consensus rounds end to end: a Block's reason with a version in another language shown side
by side (secret and named votes), a Disagree without a reason (Skip), and Close now bringing
the coordinator's review at once."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.sandbox.telegram import FakeTelegram
from models.consensus import Outcome, Priorities
from models.poll import NamedVote
from tests.harness import RunningBot
from tests.test_consensus import (
    ANA,
    NOW,
    TITLE_EN,
    TITLE_ES,
    bot_fake,
    close_round,
    network,
    poll_in,
    propose,
    round_poll,
    the_proposal,
)
from tests.test_polls import ballots, eventually, has_text, texts, wake

JOY, LUCIA, PEDRO, TOM = 610_203, 610_201, 610_204, 610_205
REASON_EN = "Rural communities were not consulted"
REASON_ES = "No se consultó a las comunidades rurales"


def review_of(fake: FakeTelegram, number: int) -> str:
    return next(t for t in texts(fake, ANA) if f"Round {number} closed" in t)


async def block_with_version(joy: Any, fake: FakeTelegram) -> list[dict[str, Any]]:
    """Joy blocks, writes the reason in English, adds a Spanish version, then confirms."""
    await joy.click("⛔ Block", poll_in(fake, JOY, TITLE_EN))
    reply = await joy.send(REASON_EN)
    confirm = next(m for m in reply if m.get("reply_markup"))
    assert "🌐 Add a version in another language" in joy.buttons(confirm)
    await joy.click("🌐 Add a version in another language", confirm)
    assert "Español" in joy.buttons() and "English" not in joy.buttons(), joy.buttons()
    reply = await joy.click("Español")
    assert "Send your reason in Español" in reply[-1]["text"]
    return await joy.send(REASON_ES)


async def test_secret_round_reason_versions_skip_and_close_now(
    bot: RunningBot, fake: FakeTelegram, client: Any, clock: Any
) -> None:
    clock.set(NOW)
    await network(bot, fake)
    ana = client(ANA, "Ana")
    joy, pedro, tom = (
        client(JOY, "Joy"),
        client(PEDRO, "Pedro", language_code="es"),
        client(TOM, "Tom"),
    )
    await propose(ana)
    await ana.click("✅ Send to the audience (6)")
    await eventually(lambda: all(has_text(fake, p, "🗳") for p in (JOY, PEDRO, TOM)))
    poll = await round_poll(bot, 1)

    # Joy's block: the reason, then its Spanish version quoted above the confirming buttons
    reply = await block_with_version(joy, fake)
    confirm = next(m for m in reply if m.get("reply_markup"))
    assert REASON_ES in confirm["text"] and confirm["reply_to_message"]["text"] == REASON_EN
    # a forged language is refused and nothing is counted
    await joy.press_data(f"pn:{poll.id}:0:1:xx")
    assert "not offered" in str(joy.callback_answer())
    await joy.press_data(f"pb:{poll.id}:0:3:xx", confirm)
    assert "not one of the options" in str(joy.callback_answer())
    await joy.click("⛔ Block, with this reason", confirm)
    assert "counted" in str(joy.callback_answer())

    # Pedro disagrees without a reason: Skip
    await pedro.click("👎 En desacuerdo", poll_in(fake, PEDRO, TITLE_ES))
    assert len(pedro.buttons()) == 2, pedro.buttons()
    await pedro.click_nth(0)  # ⏭ Skip
    await tom.click("👍 Agree", poll_in(fake, TOM, TITLE_EN))

    # the versions are stored with the reason in the (member-less) secret ballot
    async def stored() -> list[Any]:
        found = await ballots(bot, poll.id)  # the pool's opened with the bot's privacy key
        rows = [(b["choices"], b["reason"], b["reason_versions"]) for b in found]
        return sorted(rows, key=lambda r: r[0])

    assert await stored() == [
        (1, None, None),
        (4, None, None),
        (8, REASON_EN, {"es": REASON_ES}),
    ]

    # Close now, before the scheduled time: the review comes at once (the clock never moves)
    await tom.press_data(f"px:{poll.id}:1")
    assert "Only the coordinators" in str(tom.callback_answer()), "a member cannot close it"
    assert not has_text(fake, ANA, "Round 1 closed")
    sent = next(m for m in fake.messages(ANA) if "round 1 is open" in str(m.get("text", "")))
    await ana.click("⏹ Close this round now", sent)
    await ana.click("Yes, close it now")
    await eventually(lambda: has_text(fake, ANA, "Round 1 closed"))
    review = review_of(fake, 1)
    assert "Answers: 3 of 6" in review and "Block: 1" in review and "Disagree: 1" in review
    assert f"• {REASON_EN}\n   [Español] {REASON_ES}" in review, review
    assert "Disagreements" not in review, "a disagreement without a reason lists nothing"
    assert "❌ Record as not adopted" in ana.buttons()
    await ana.click("❌ Record as not adopted")
    assert (await the_proposal(bot)).status == Outcome.NOT_ADOPTED

    # the record: Pedro (es) reads the Spanish version first, then the reason as written
    await eventually(lambda: has_text(fake, PEDRO, REASON_ES))
    record = "\n".join(texts(fake, PEDRO))
    assert f"• [Español] {REASON_ES}" in record and REASON_EN in record
    assert record.index(REASON_ES, record.index("📜")) < record.rindex(REASON_EN)


async def test_named_round_reason_version_added_after_the_vote(
    bot: RunningBot, fake: FakeTelegram, client: Any, clock: Any
) -> None:
    clock.set(NOW)
    await network(bot, fake)
    ana = client(ANA, "Ana")
    joy = client(JOY, "Joy")
    await propose(ana)
    await ana.click("👤 Make it a named vote")
    await ana.click("✅ Send to the audience (6)")
    await eventually(lambda: has_text(fake, JOY, "🗳"))
    await joy.click("⛔ Block", poll_in(fake, JOY, TITLE_EN))
    await joy.send(REASON_EN)
    assert "🌐 Add a version in another language" in joy.buttons()
    await joy.click("🌐 Add a version in another language")
    await joy.click("Español")
    reply = await joy.send(REASON_ES)
    assert "saved" in reply[-1]["text"]
    vote = await bot.db(lambda s: s.scalar(select(NamedVote)))
    assert vote.reason == REASON_EN and vote.reason_versions == {"es": REASON_ES}

    bot.fake = fake  # type: ignore[attr-defined]
    await close_round(bot, clock, 1)
    review = review_of(bot_fake(bot), 1)
    assert f"• {REASON_EN} — Joy\n   [Español] {REASON_ES}" in review, review


ACTIONS = ["Housing campaign", "Litigation training", "Shadow report", "Regional meeting"]
ACTIONS_ES = ["Campaña de vivienda", "Formación en litigio", "Informe sombra", "Reunión regional"]
QUESTION_ES = "¿Qué hacemos en 2027?"


async def test_named_priorities_in_two_languages_with_one_reminder(
    bot: RunningBot, fake: FakeTelegram, client: Any, clock: Any
) -> None:
    clock.set(NOW)
    await network(bot, fake)
    ana = client(ANA, "Ana")
    joy, lucia = client(JOY, "Joy"), client(LUCIA, "Lucía", language_code="es")
    await ana.send("/priorities")
    await ana.click("Women and ESCR")
    await ana.send("What should we do in 2027?")
    await ana.send("\n".join(ACTIONS))
    await ana.click("🥇 Top 3 in order")
    reply = await ana.click("In 3 days")
    assert any("🔒 Secret: no one sees who ranked what" in m.get("text", "") for m in reply)
    # a forged language and a version with too few actions are refused
    await ana.press_data("cn:plang:xx")
    assert "not offered" in str(ana.callback_answer())
    reply = await ana.click("+ Español")
    assert "the 4 actions" in reply[-1]["text"]
    reply = await ana.send(QUESTION_ES + "\n" + "\n".join(ACTIONS_ES[:3]))
    assert "exactly 4 actions" in reply[-1]["text"]
    await ana.send(QUESTION_ES + "\n" + "\n".join(ACTIONS_ES))
    assert "✓ Español" in ana.buttons()
    reply = await ana.click("👤 Make it named")
    assert any("👤 Named: you will see who ranked what" in m.get("text", "") for m in reply)
    await ana.click("✅ Send")
    consultation = await bot.db(lambda s: s.scalar(select(Priorities)))
    assert not consultation.anonymous
    assert consultation.versions == {"es": {"title": QUESTION_ES, "options": ACTIONS_ES}}
    assert consultation.remind_at == consultation.closes_at - timedelta(days=1)

    # members read it in their language; Lucía ranks with Spanish buttons, Joy in English
    await eventually(lambda: has_text(fake, LUCIA, "🎯") and has_text(fake, JOY, "🎯"))
    spanish = next(t for t in texts(fake, LUCIA) if "🎯" in t)
    assert QUESTION_ES in spanish and "1. Campaña de vivienda" in spanish
    assert "What should we do" not in spanish
    for pick in (0, 1, 2):
        await lucia.click(f"{pick + 1}. {ACTIONS_ES[pick]}")
    await lucia.click_nth(0)  # Submit
    for pick in (1, 0, 3):
        await joy.click(f"{pick + 1}. {ACTIONS[pick]}")
    reply = await joy.click_nth(0)
    assert "✅ Your ranking was counted" in str(joy.callback_answer())

    # one reminder, only to those who have not answered
    clock.set(consultation.remind_at + timedelta(seconds=1))
    wake(bot)
    await eventually(lambda: all(has_text(fake, p, "⏰") for p in (610_202, PEDRO, TOM)))
    assert not has_text(fake, JOY, "⏰") and not has_text(fake, LUCIA, "⏰")

    # the close: "1 point", the coordinator sees who ranked what, in the report and the CSV
    clock.set(consultation.closes_at + timedelta(seconds=1))
    wake(bot)
    await eventually(lambda: len([m for m in fake.messages(ANA) if "document" in m]) == 2)
    report = next(t for t in texts(fake, ANA) if "Priorities: results" in t)
    assert (
        "1. Housing campaign: 5 points\n2. Litigation training: 5 points\n"
        "3. Shadow report: 1 point\n4. Regional meeting: 1 point"
    ) in report, report
    assert "Who ranked what" in report
    assert "Joy: 1st: Litigation training · 2nd: Housing campaign · 3rd: Regional meeting" in (
        report
    )
    documents = [m["document"] for m in fake.messages(ANA) if "document" in m]
    table = next(d for d in documents if d["file_name"].endswith(".csv"))
    sheet = list(csv.reader(io.StringIO(fake.files[table["file_id"]].data.decode("utf-8-sig"))))
    assert ["Joy", "Litigation training", "Housing campaign", "Regional meeting"] in sheet
    assert ["Lucía", "Housing campaign", "Litigation training", "Shadow report"] in sheet
    await eventually(lambda: has_text(fake, LUCIA, "Campaña de vivienda: 5"))
    results_es = next(t for t in texts(fake, LUCIA) if "Campaña de vivienda: 5" in t)
    assert "1. Campaña de vivienda: 5 puntos" in results_es
    assert "3. Informe sombra: 1 punto\n" in results_es
