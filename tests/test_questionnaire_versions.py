"""Questionnaire versions in other languages and a closing time typed by hand, end to end:
the coordinator adds a Spanish version (a malformed one refused first) and removes a
Portuguese one, types a closing time (one in the past and one too far refused); a Spanish
member answers in Spanish, an English one in English, a French one reads the original marked
as such; results and the CSV come in each reader's language."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from bot.consensus.builder_views import ask_version
from bot.sandbox.telegram import FakeTelegram
from models.member import Member
from tests.conftest import add_member
from tests.harness import RunningBot
from tests.test_consensus import NOW, file_names, sent_file
from tests.test_polls import eventually, has_text, make_group, texts, wake
from tests.test_questionnaire_builder import failed_calls, newest

ANA, LUCIA, JOY, MARIE = 620_100, 620_201, 620_202, 620_203

SPANISH = """Encuesta de vivienda
1. ¿Qué ciudad?
- Montevideo
- Lima
2. ¿Algo más?"""


def test_a_long_original_is_shown_in_parts_that_telegram_accepts() -> None:
    """Fifteen long questions of twelve answers: the template comes in several messages."""
    question = {"kind": "single", "text": "Q" * 400, "options": [f"{i}" * 60 for i in range(12)]}
    data = {"title": "T" * 200, "questions": [question] * 15, "locale": "en"}
    parts = ask_version(data, "es", lambda text, *args: text if not args else args[0])
    assert len(parts) > 3 and all(len(part) <= 4096 for part in parts)
    assert all(part.startswith("<code>") for part in parts[1:])
    body = "\n".join(part.removeprefix("<code>").removesuffix("</code>") for part in parts[1:])
    assert body.count("\n- ") == 15 * 12 and body.startswith("T" * 200 + "\n1. ")


async def people(bot: RunningBot, fake: FakeTelegram) -> None:
    for telegram_id, name, locale in [
        (ANA, "Ana", "en"),
        (LUCIA, "Lucía", "es"),
        (JOY, "Joy", "en"),
        (MARIE, "Marie", "fr"),
    ]:
        fake.add_user(telegram_id, name, language_code=locale)
        await add_member(bot, telegram_id, name, locale=locale, country="UY")
    await make_group(bot, "housing", {"en": "Housing"}, [ANA], [LUCIA, JOY, MARIE])


async def start_housing_survey(coordinator: Any) -> None:
    """A new questionnaire for Housing with one question of one answer (two cities)."""
    await coordinator.send("/questionnaire")
    await coordinator.click("Housing")
    await coordinator.send("Housing survey")
    await coordinator.click("➕ Add a question")
    await coordinator.click("🔘 One answer")
    await coordinator.send("Which city?")
    await coordinator.send("Montevideo\nLima")


async def test_versions_typed_closing_and_readers_languages(
    bot: RunningBot, fake: FakeTelegram, client: Any, clock: Any
) -> None:
    clock.set(NOW)
    await people(bot, fake)
    ana, lucia, joy, marie = (
        client(ANA, "Ana"),
        client(LUCIA, "Lucía"),
        client(JOY, "Joy"),
        client(MARIE, "Marie"),
    )
    await start_housing_survey(ana)
    await ana.click("➕ Add a question")
    await ana.click("✍️ Short text")
    await ana.send("Anything else?")

    reply = await ana.click("🌐 Other languages")
    assert "Versions in other languages" in reply[-1]["text"]
    reply = await ana.click("+ Español")
    shown = reply[-1]["text"]
    assert "Housing survey\n1. Which city?\n- Montevideo\n- Lima\n2. Anything else?" in shown

    # malformed: an answer missing, then a question too many; nothing kept
    reply = await ana.send("Encuesta\n1. ¿Qué ciudad?\n- Montevideo\n2. ¿Algo más?")
    assert "Question 1 must have as many answers as the original" in reply[-1]["text"]
    reply = await ana.send(SPANISH + "\n3. ¿Y?")
    assert "The original has 2 questions" in reply[-1]["text"]
    assert "Also in" not in reply[-1]["text"]
    # sent in two parts (as a long one would be): the first well formed, then the rest
    reply = await ana.send("Encuesta de vivienda\n1. ¿Qué ciudad?\n- Montevideo")
    assert "Received up to question 1 of 2" in reply[-1]["text"]
    reply = await ana.send("- Lima\n2. ¿Algo más?")
    assert "🌐 Also in: Español" in reply[-1]["text"]

    # a Portuguese version added, then removed
    await ana.click("🌐 Other languages")
    await ana.click("+ Português")
    await ana.send("Pesquisa\n1. Qual cidade?\n- Montevidéu\n- Lima\n2. Algo mais?")
    reply = await ana.click("🌐 Other languages")
    assert "✓ Português" in ana.buttons() and "✓ Español" in ana.buttons()
    reply = await ana.click("🗑 Remove Português")
    assert "+ Português" in ana.buttons() and "🗑 Remove Español" in ana.buttons()
    await ana.click("◀ Back to the preview")

    await ana.click("Next ▶")
    reply = await ana.click("👤 Named")
    assert "type a date and time in your zone" in reply[-1]["text"]
    reply = await ana.send("1/1/2020 10:00")
    assert "That time is already past" in reply[-1]["text"]
    reply = await ana.send("2028-06-01 10:00")
    assert "more than a year away" in reply[-1]["text"]
    reply = await ana.send("2026-11-26 18:00")  # Montevideo: UTC-3
    assert "2 questions" in reply[-1]["text"] and "It goes to 4 members." in reply[-1]["text"]
    assert "🌐 Also in: Español" in reply[-1]["text"]
    await ana.click("✅ Send")
    questionnaire = await newest(bot)
    assert questionnaire.closes_at == datetime(2026, 11, 26, 21, 0, tzinfo=UTC)
    assert questionnaire.versions == {
        "es": {
            "title": "Encuesta de vivienda",
            "questions": [
                {"text": "¿Qué ciudad?", "options": ["Montevideo", "Lima"]},
                {"text": "¿Algo más?", "options": []},
            ],
        }
    }

    await eventually(
        lambda: (
            has_text(fake, LUCIA, "Encuesta de vivienda")
            and has_text(fake, JOY, "Housing survey")
            and has_text(fake, MARIE, "Housing survey")
        )
    )
    assert not has_text(fake, LUCIA, "Housing survey")
    assert has_text(fake, MARIE, "🌐 Pas disponible dans votre langue") and has_text(
        fake, MARIE, "English"
    )
    assert not has_text(fake, JOY, "🌐") and not has_text(fake, LUCIA, "🌐")

    # the reminder comes in each one's language too
    clock.set(questionnaire.closes_at - timedelta(days=1) + timedelta(seconds=1))
    wake(bot)
    await eventually(lambda: has_text(fake, LUCIA, "⏰") and has_text(fake, MARIE, "⏰"))
    assert any("⏰" in t and "Encuesta de vivienda" in t for t in texts(fake, LUCIA))
    assert any("⏰" in t and "Housing survey" in t and "🌐" in t for t in texts(fake, MARIE))

    # Lucía answers in Spanish, Joy in English, Marie on the original
    reply = await lucia.click("▶ Empezar o continuar")
    assert "¿Qué ciudad?" in reply[-1]["text"] and "Which city?" not in reply[-1]["text"]
    await lucia.click("Montevideo")
    reply = await lucia.send("Más vivienda social")
    assert "¿Algo más?" in reply[-1]["text"], "the summary in Spanish too"
    await lucia.click("📨 Enviar mis respuestas")

    reply = await joy.click("▶ Start or continue")
    assert "Which city?" in reply[-1]["text"]
    await joy.click("Lima")
    await joy.send("More rural voices")
    await joy.click("📨 Send my answers")

    reply = await marie.click_nth(0)
    assert "Which city?" in reply[-1]["text"] and "🌐" in reply[-1]["text"]
    await marie.click("Lima")
    await marie.send("Plus de logements")
    await marie.click_nth(0)

    # the coordinator now reads in Spanish: her report and CSV come in Spanish
    async def to_spanish(session: Any) -> None:
        await session.execute(update(Member).where(Member.telegram_id == ANA).values(locale="es"))
        await session.commit()

    await bot.db(to_spanish)
    clock.set(questionnaire.closes_at + timedelta(seconds=1))
    wake(bot)
    await eventually(lambda: ".csv" in file_names(fake, ANA))
    report = "\n".join(t for t in texts(fake, ANA) if "Encuesta de vivienda" in t)
    assert "¿Qué ciudad?" in report and "Montevideo: 1 · Lima: 2" in report
    data = fake.files[sent_file(fake, ANA, ".csv")["file_id"]].data.decode("utf-8-sig")
    sheet = list(csv.reader(io.StringIO(data)))
    assert sheet[0][1:] == ["¿Qué ciudad?", "¿Algo más?"]
    assert ["Lucía", "Montevideo", "Más vivienda social"] in sheet
    assert ["Joy", "Lima", "More rural voices"] in sheet

    await eventually(
        lambda: (
            has_text(fake, JOY, "Montevideo: 1 · Lima: 2")
            and has_text(fake, LUCIA, "Montevideo: 1 · Lima: 2")
        )
    )
    assert any("¿Qué ciudad?" in t and "Lima: 2" in t for t in texts(fake, LUCIA))
    assert any("Which city?" in t and "Lima: 2" in t for t in texts(fake, JOY))
    assert not failed_calls(fake)


async def test_secret_report_in_readers_language_and_stale_versions(
    bot: RunningBot, fake: FakeTelegram, client: Any, clock: Any
) -> None:
    """A version written before a question changed is dropped (and said so); a typed time
    that cannot be read is refused; a secret questionnaire's CSV in the reader's language."""
    clock.set(NOW)
    await people(bot, fake)
    ana, lucia = client(ANA, "Ana"), client(LUCIA, "Lucía")
    await start_housing_survey(ana)
    await ana.click("🌐 Other languages")
    await ana.click("+ Español")
    reply = await ana.send("1. ¿Qué ciudad?\n- Montevideo\n- Lima")
    assert "The first line must be the title." in reply[-1]["text"]
    reply = await ana.send("Encuesta\n1. ¿Qué ciudad?\n- Montevideo\n- Lima")
    assert "🌐 Also in: Español" in reply[-1]["text"]

    # the question re-worded: the Spanish version no longer fits, so it goes
    await ana.click("✏️ 1")
    await ana.click("✏️ Change the text")
    reply = await ana.send("Which city do you live in?")
    assert "The version in Español was removed" in reply[-1]["text"]
    assert "Also in" not in reply[-1]["text"]
    await ana.click("🌐 Other languages")
    await ana.click("+ Español")
    await ana.send("Encuesta\n1. ¿En qué ciudad vives?\n- Montevideo\n- Lima")

    await ana.click("Next ▶")
    await ana.click("🔒 Secret")
    reply = await ana.send("next Tuesday")
    assert "I could not read that date" in reply[-1]["text"]
    await ana.click("In 1 day")
    await ana.click("✅ Send")
    questionnaire = await newest(bot)
    assert questionnaire.anonymous
    assert questionnaire.versions is not None
    assert questionnaire.versions["es"]["questions"][0]["text"] == "¿En qué ciudad vives?"

    reply = await lucia.click("▶ Empezar o continuar")
    assert "¿En qué ciudad vives?" in reply[-1]["text"]
    await lucia.click("Lima")
    await lucia.click("📨 Enviar mis respuestas")

    async def to_spanish(session: Any) -> None:
        await session.execute(update(Member).where(Member.telegram_id == ANA).values(locale="es"))
        await session.commit()

    await bot.db(to_spanish)
    clock.set(questionnaire.closes_at + timedelta(seconds=1))
    wake(bot)
    await eventually(lambda: ".csv" in file_names(fake, ANA))
    data = fake.files[sent_file(fake, ANA, ".csv")["file_id"]].data.decode("utf-8-sig")
    sheet = list(csv.reader(io.StringIO(data)))
    assert ["¿En qué ciudad vives?", "Lima", "1"] in sheet
    assert ["¿En qué ciudad vives?", "Montevideo", "0"] in sheet
    assert not any("Which city" in cell for row in sheet for cell in row)
    assert not failed_calls(fake)
