"""End to end: a consultation whose question has no version in a member's language says so,
as announcements and group cards do, in the member's own language."""

from __future__ import annotations

from typing import Any

from bot.sandbox.telegram import FakeTelegram
from tests.conftest import add_member
from tests.harness import RunningBot
from tests.test_polls import (
    CLOSES,
    NOW,
    QUESTION_EN,
    QUESTION_ES,
    eventually,
    has_text,
    make_group,
    poll_message,
)

ANA, CARMEN, CLAIRE, LAYLA, JOAO = 610_100, 610_101, 610_102, 610_103, 610_104
READERS = {CARMEN: "es", CLAIRE: "fr", LAYLA: "ar", JOAO: "pt"}


async def test_a_poll_without_a_version_in_the_readers_language_says_so(
    bot: RunningBot, fake: FakeTelegram, client: Any, clock: Any
) -> None:
    clock.set(NOW)
    fake.add_user(ANA, "Ana")
    await add_member(bot, ANA, "Ana", locale="en", country="UY")
    for telegram_id, locale in READERS.items():
        fake.add_user(telegram_id, f"M{telegram_id}", language_code=locale)
        await add_member(bot, telegram_id, f"M{telegram_id}", locale=locale, country="UY")
    await make_group(bot, "women", {"en": "Women and ESCR"}, [ANA], list(READERS))

    ana = client(ANA, "Ana")
    await ana.send("/newpoll")
    await ana.send(QUESTION_EN)
    await ana.click("Consent (agree, abstain, disagree, block)")
    await ana.click("👤 Named")
    await ana.click("☐ Women and ESCR")
    await ana.click("Next ▶")
    await ana.send(CLOSES.strftime("%d/%m %H:%M"))
    await ana.click("24 hours before (recommended)")
    await ana.click("Only when it closes (recommended)")
    await ana.click("Yes, send everyone who answered the results")
    await ana.click("+ Español")
    await ana.send(QUESTION_ES)
    await ana.click("Next ▶")
    reply = await ana.click("Skip")
    preview = next(m for m in reply if QUESTION_EN in m.get("text", ""))
    assert "Not available" not in preview["text"], "Ana reads the version she wrote"
    await ana.click("✅ Send to the audience (5)")
    await eventually(lambda: all(has_text(fake, member, "🗳") for member in READERS))

    spanish = poll_message(fake, CARMEN, QUESTION_ES)["text"]
    assert "No está disponible" not in spanish, "a Spanish version exists"
    french = poll_message(fake, CLAIRE, QUESTION_EN)["text"]
    assert "Pas disponible dans ta langue : voici la version en anglais." in french
    arabic = poll_message(fake, LAYLA, QUESTION_EN)["text"]
    assert "غير متاح بلغتك: هذه هي النسخة باللغة الإنجليزية." in arabic
    portuguese = poll_message(fake, JOAO, QUESTION_EN)["text"]
    assert "Não está disponível no seu idioma: esta é a versão em inglês." in portuguese
    # the note sits right under the question
    lines = french.splitlines()
    assert lines[lines.index(QUESTION_EN) + 1].startswith("Pas disponible")


def test_results_say_so_too() -> None:
    from bot.core.i18n import create_i18n
    from bot.polls.views import results_text
    from tests.test_poll_logic import build_tally, make

    i18n = create_i18n("en")
    poll = make(
        locale="en",
        question=QUESTION_EN,
        kind="consent",
        translations={"es": {"question": QUESTION_ES, "options": []}},
    )
    result = build_tally(4, [(0b0001, "419", "woman", 6)])

    def shown(locale: str) -> str:
        def _(message: str) -> str:
            return i18n.gettext(message, locale=locale)

        return results_text(poll, result, locale, "America/Montevideo", _)

    assert "voici la version en anglais" in shown("fr")
    assert QUESTION_ES in shown("es") and "No está disponible" not in shown("es")
    assert "Not available" not in shown("en")
