"""The questionnaire builder end to end: a questionnaire written from scratch (a question
removed, one re-kinded, one moved), answered, reminded and closed with its report, chart and
CSV; the annual evaluation template changed (a question added, one removed) and sent; and bad
input refused, changing nothing."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from PIL import Image
from sqlalchemy import func, select

from bot.sandbox.telegram import FakeTelegram
from models.consensus import Questionnaire
from models.delivery import Broadcast, Delivery
from models.member import Member
from tests.harness import RunningBot
from tests.test_consensus import ANA, NOW, OUTSIDER, file_names, network, sent_file
from tests.test_polls import eventually, has_text, make_group, texts, wake

JOY, PEDRO, TOM = 610_203, 610_204, 610_205


def failed_calls(fake: FakeTelegram) -> list[Any]:
    """Bot API calls Telegram refused (a bad edit, a message too long...)."""
    return [c for c in fake.calls if not c.ok and c.method != "getUpdates"]


async def newest(bot: RunningBot) -> Questionnaire:
    found = await bot.db(
        lambda s: s.scalar(select(Questionnaire).order_by(Questionnaire.id.desc()))
    )
    assert found is not None
    return found


async def add_question(ana: Any, kind: str, text: str, options: str = "") -> list[dict[str, Any]]:
    await ana.click("➕ Add a question")
    await ana.click(kind)
    reply = await ana.send(text)
    if options:
        reply = await ana.send(options)
    return reply


async def test_from_scratch_answered_reminded_and_reported(
    bot: RunningBot, fake: FakeTelegram, client: Any, clock: Any
) -> None:
    clock.set(NOW)
    await network(bot, fake)
    ana, joy, tom = client(ANA, "Ana"), client(JOY, "Joy"), client(TOM, "Tom")
    reply = await ana.send("/help")
    assert "/questionnaire" in reply[-1]["text"] and "/evaluation" in reply[-1]["text"]
    reply = await joy.send("/help")
    assert "/questionnaire" not in reply[-1]["text"], "only coordinators and admins see it"

    reply = await ana.send("/questionnaire")
    assert "Which group is the questionnaire for?" in reply[-1]["text"]
    await ana.click("Women and ESCR")
    reply = await ana.send("Housing survey")
    assert "0 of at most 15 questions" in reply[-1]["text"] and "Next ▶" not in ana.buttons()
    await add_question(ana, "🔘 One answer", "Which city?", "Montevideo\nNairobi\n  Lima  ")
    await add_question(ana, "📶 Scale 1–5", "How urgent is housing?")
    await add_question(ana, "✍️ Short text", "To be removed")
    reply = await add_question(ana, "✍️ Short text", "Anything else?")
    assert "4. ✍️ Anything else?" in reply[-1]["text"]

    # remove the third, make the first a multiple choice (options kept), move the last up
    await ana.click("✏️ 3")
    reply = await ana.click("🗑 Remove")
    assert "To be removed" not in reply[-1]["text"]
    await ana.click("✏️ 1")
    await ana.click("🔀 Change the kind")
    await ana.click("☑️ Several answers")
    await ana.click("✏️ 3")
    reply = await ana.click("⬆️ Move up")
    preview = reply[-1]["text"]
    assert "3 of at most 15 questions" in preview
    order = [
        "1. ☑️ Which city? (Montevideo, Nairobi, Lima)",
        "2. ✍️ Anything else?",
        "3. 📶 How urgent is housing?",
    ]
    assert all(line in preview for line in order), preview
    assert [preview.index(line) for line in order] == sorted(preview.index(x) for x in order)

    await ana.click("Next ▶")
    await ana.click("👤 Named")
    reply = await ana.click("In 3 days")
    assert "3 questions" in reply[-1]["text"] and "It goes to 6 members." in reply[-1]["text"]
    await ana.click("✅ Send")
    questionnaire = await newest(bot)
    assert not questionnaire.anonymous
    assert questionnaire.questions == [
        {"kind": "multiple", "text": "Which city?", "options": ["Montevideo", "Nairobi", "Lima"]},
        {"kind": "text", "text": "Anything else?", "options": []},
        {"kind": "scale", "text": "How urgent is housing?", "options": []},
    ]
    await eventually(lambda: has_text(fake, JOY, "Housing survey") and has_text(fake, TOM, "📝"))
    assert not has_text(fake, OUTSIDER, "Housing survey")

    # Joy answers before the reminder; Pedro and Tom have not
    await joy.click("▶ Start or continue")
    await joy.click("☐ Montevideo")
    await joy.click("☐ Lima")
    await joy.click("Next ▶")
    await joy.send("Housing matters")
    await joy.click("5")
    await joy.click("📨 Send my answers")

    clock.set(questionnaire.closes_at - timedelta(days=1) + timedelta(seconds=1))
    wake(bot)
    await eventually(lambda: has_text(fake, PEDRO, "⏰") and has_text(fake, TOM, "⏰ Reminder"))
    assert not has_text(fake, JOY, "⏰"), "no reminder for who has answered"
    reminded = await bot.db(
        lambda s: s.scalars(
            select(Member.telegram_id)
            .join(Delivery, Delivery.member_id == Member.id)
            .join(Broadcast, Broadcast.id == Delivery.broadcast_id)
            .where(Broadcast.kind == "questionnaire_reminder")
        )
    )
    assert sorted(reminded) == sorted([ANA, 610_201, 610_202, PEDRO, TOM]), "not sent: once each"
    assert not has_text(fake, OUTSIDER, "⏰")

    # Tom answers from the reminder
    await tom.click("▶ Start or continue")
    await tom.click("☐ Nairobi")
    await tom.click("Next ▶")
    await tom.send("More rural voices")
    await tom.click("3")
    await tom.click("📨 Send my answers")

    clock.set(questionnaire.closes_at + timedelta(seconds=1))
    wake(bot)
    await eventually(lambda: ".csv" in file_names(fake, ANA) and ".png" in file_names(fake, ANA))
    report = "\n".join(t for t in texts(fake, ANA) if "Results" in t)
    assert "Respondents: 2" in report
    assert "Montevideo: 1 · Nairobi: 1 · Lima: 1" in report
    assert "1: 0 · 2: 0 · 3: 1 · 4: 0 · 5: 1" in report
    assert "• Housing matters — Joy" in report and "• More rural voices — Tom" in report

    data = fake.files[sent_file(fake, ANA, ".csv")["file_id"]].data.decode("utf-8-sig")
    sheet = list(csv.reader(io.StringIO(data)))
    assert sheet[0] == ["Respondent", "Which city?", "Anything else?", "How urgent is housing?"]
    assert ["Joy", "Montevideo, Lima", "Housing matters", "5"] in sheet
    assert ["Tom", "Nairobi", "More rural voices", "3"] in sheet

    image = Image.open(io.BytesIO(fake.files[sent_file(fake, ANA, ".png")["file_id"]].data))
    assert image.format == "PNG" and image.width == 900
    assert image.height > 400, "two charted questions: 3 options and 5 points"
    colours = {colour for _n, colour in image.convert("RGB").getcolors(1 << 20) or []}
    assert (0x2E, 0x6D, 0xB4) in colours and (0x3A, 0x9D, 0x5D) in colours, "bars are drawn"
    await eventually(lambda: has_text(fake, JOY, "Respondents: 2"))
    assert not has_text(fake, JOY, "More rural voices"), "members get counts only"
    assert not failed_calls(fake)


async def test_evaluation_template_changed_and_sent(
    bot: RunningBot, fake: FakeTelegram, client: Any, clock: Any
) -> None:
    clock.set(NOW)
    await network(bot, fake)
    ana, joy = client(ANA, "Ana"), client(JOY, "Joy")
    await ana.send("/evaluation")
    reply = await ana.click("Women and ESCR")
    assert "5 of at most 15 questions" in reply[-1]["text"]
    await ana.click("✏️ 3")
    reply = await ana.click("🗑 Remove")
    assert "What should we change?" not in reply[-1]["text"]
    reply = await add_question(ana, "🔘 One answer", "Should we meet monthly?", "Yes\nNo")
    preview = reply[-1]["text"]
    assert "5. 🔘 Should we meet monthly? (Yes, No)" in preview
    assert "1. 📶 How much progress did we make on our objectives this year?" in preview
    await ana.click("✏️ 1")
    await ana.click("🔀 Change the kind")
    reply = await ana.click("🔘 One answer")
    assert "one per line" in reply[-1]["text"], "a scale made a choice needs options"
    reply = await ana.send("A lot\nSome\nNone")
    assert (
        "1. 🔘 How much progress" in reply[-1]["text"]
        and "(A lot, Some, None)" in reply[-1]["text"]
    )
    await ana.click("🏷 Change the title")
    reply = await ana.send("Annual evaluation 2026")
    assert "👀 Annual evaluation 2026 · preview" in reply[-1]["text"]
    await ana.click("Next ▶")
    await ana.click("🔒 Secret")
    await ana.click("In 1 week")
    await ana.click("✅ Send")
    questionnaire = await newest(bot)
    assert questionnaire.anonymous and questionnaire.title == "Annual evaluation 2026"
    kinds = [(q["kind"], q["text"]) for q in questionnaire.questions]
    assert kinds == [
        ("single", "How much progress did we make on our objectives this year?"),
        ("text", "What worked well?"),
        ("multiple", "What should our priorities be next year?"),
        ("single", "Will you take part in the group next year?"),
        ("single", "Should we meet monthly?"),
    ]
    await eventually(lambda: has_text(fake, JOY, "Annual evaluation 2026"))
    reply = await joy.click("▶ Start or continue")
    assert "question 1 of 5" in reply[-1]["text"] and "A lot" in joy.buttons()
    assert not failed_calls(fake)


async def test_bad_input_is_refused_and_changes_nothing(
    bot: RunningBot, fake: FakeTelegram, client: Any, clock: Any
) -> None:
    clock.set(NOW)
    await network(bot, fake)
    ana, outsider = client(ANA, "Ana"), client(OUTSIDER, "Outsider")
    reply = await outsider.send("/questionnaire")
    assert "Only working group coordinators" in reply[-1]["text"]

    await ana.send("/questionnaire")
    await ana.click("Women and ESCR")
    reply = await ana.send(sticker=True)
    assert "as a text message" in reply[-1]["text"]
    reply = await ana.send("x" * 121)
    assert "up to 120 characters" in reply[-1]["text"]
    await ana.send("Checks")
    await ana.press_data("qb:next:0:")
    assert "no longer valid" in str(ana.callback_answer()), "no questions: nothing to send"
    reply = await ana.send("hello")
    assert "tap one of the buttons" in reply[-1]["text"]

    await ana.click("➕ Add a question")
    await ana.press_data("qb:kind:0:bogus")
    assert "no longer valid" in str(ana.callback_answer())
    await ana.press_data("qb:kind:3:single")
    assert "no longer valid" in str(ana.callback_answer()), "not the next place"
    await ana.click("🔘 One answer")
    await ana.send("Which day?")
    reply = await ana.send("Monday")
    assert "at least 2 answers" in reply[-1]["text"] and "Nothing was changed" in reply[-1]["text"]
    reply = await ana.send("Monday\nTuesday\nmonday")
    assert "appears twice" in reply[-1]["text"]
    reply = await ana.send("\n".join(f"Day {n}" for n in range(13)))
    assert "At most 12 answers" in reply[-1]["text"]
    reply = await ana.send("y" * 61 + "\nTuesday")
    assert "at most 60 characters" in reply[-1]["text"]
    reply = await ana.send("Monday\nTuesday")
    assert "1. 🔘 Which day? (Monday, Tuesday)" in reply[-1]["text"]

    for forged in ("qb:menu:7:", "qb:del:1:", "qb:up:0:", "qb:down:0:", "qb:opts:5:"):
        await ana.press_data(forged)
        assert "no longer valid" in str(ana.callback_answer()), forged
    await ana.press_data("qb:menu:99999999999999999999:")
    assert "no longer valid" in str(ana.callback_answer()), "a huge number"
    await ana.press_data("qb:send:0:")
    assert "no longer valid" in str(ana.callback_answer()), "send before the last step"
    reply = await ana.click("✏️ 1")
    assert "Which day?" in reply[-1]["text"], "nothing changed"
    await ana.click("◀ Back to the preview")

    # at most 15 questions
    for n in range(2, 16):
        await add_question(ana, "✍️ Short text", f"Question {n}")
    assert "➕ Add a question" not in ana.buttons()
    await ana.press_data("qb:add:0:")
    assert "At most 15 questions" in str(ana.callback_answer())
    await ana.press_data("qb:kind:15:text")
    assert "no longer valid" in str(ana.callback_answer())

    await ana.click("Next ▶")
    reply = await ana.send("secret please")
    assert "tap one of the buttons" in reply[-1]["text"]
    await ana.click("🔒 Secret")
    await ana.press_data("cn:bclose:2y")
    assert "no longer valid" in str(ana.callback_answer())
    await ana.click("In 1 day")
    await ana.click("✅ Send")
    questionnaire = await newest(bot)
    assert len(questionnaire.questions) == 15
    await ana.press_data("qb:back:0:")
    assert "no longer valid" in str(ana.callback_answer()), "the conversation is over"
    await ana.press_data("cn:bclose:1d")
    assert "no longer valid" in str(ana.callback_answer())
    count = await bot.db(lambda s: s.scalar(select(func.count()).select_from(Questionnaire)))
    assert count == 1
    assert not failed_calls(fake)


async def test_a_spanish_coordinator_builds_in_spanish(
    bot: RunningBot, fake: FakeTelegram, client: Any, clock: Any
) -> None:
    clock.set(NOW)
    await network(bot, fake)
    await make_group(bot, "rural", {"es": "Comunidades rurales"}, [610_201], [610_202, PEDRO])
    lucia = client(610_201, "Lucía", language_code="es")
    reply = await lucia.send("/questionnaire")
    assert "¿Para qué grupo es el cuestionario?" in reply[-1]["text"]
    await lucia.click("Comunidades rurales")
    reply = await lucia.send("Encuesta rural")
    assert "0 de 15 preguntas como máximo" in reply[-1]["text"]
    await lucia.click("➕ Añadir una pregunta")
    await lucia.click("☑️ Varias respuestas")
    reply = await lucia.send("¿Qué días?")
    assert "una por línea" in reply[-1]["text"]
    reply = await lucia.send("Lunes\nlunes")
    assert "aparece dos veces" in reply[-1]["text"]
    reply = await lucia.send("Lunes\nMartes")
    assert "1. ☑️ ¿Qué días? (Lunes, Martes)" in reply[-1]["text"]
    await lucia.click("Siguiente ▶")
    await lucia.click("🔒 Secreto")
    reply = await lucia.click("En 1 día")
    assert "Se envía a 3 miembros." in reply[-1]["text"]
    await lucia.click("✅ Enviar")
    questionnaire = await newest(bot)
    assert questionnaire.locale == "es" and questionnaire.title == "Encuesta rural"
    await eventually(lambda: has_text(fake, PEDRO, "Encuesta rural"))
    assert not has_text(fake, JOY, "Encuesta rural"), "only the rural group"
    assert not failed_calls(fake)
