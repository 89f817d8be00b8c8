"""The sandbox page in a real headless chromium (Debian's package, through chromedriver): a
Spanish-speaking newcomer onboards by tapping and joins a working group, beside the
coordinator's panel; at a phone's width and a desktop's, no text leaves its bubble, and Arabic
reads right to left. Screenshots go to test-artifacts/sandbox/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.sandbox.content import SHOWCASE_CHAT
from bot.sandbox.people import COORDINATOR_ID, NEWCOMER_ID
from tests.conftest import ON_CI
from tests.harness import ROOT
from tests.sandboxkit import running_sandbox
from tests.webdriver import Browser, browser_paths, chromium

ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", ROOT / "test-artifacts")) / "sandbox"
LAYLA = 700_003

OVERFLOWS = """
const out = [];
for (const bubble of document.querySelectorAll('.bubble, .buttons button, .keyboard button')) {
  if (bubble.scrollWidth > bubble.clientWidth + 1) out.push(bubble.textContent.slice(0, 60));
  const panel = bubble.closest('.panel').getBoundingClientRect();
  const box = bubble.getBoundingClientRect();
  if (box.left < panel.left - 1 || box.right > panel.right + 1) {
    out.push('outside its panel: ' + bubble.textContent.slice(0, 60));
  }
}
if (document.documentElement.scrollWidth > window.innerWidth + 1) out.push('wide page');
return out;
"""


def panel(user_id: int) -> str:
    return f"//section[contains(@class,'panel')][@data-user='{user_id}']"


async def tap(browser: Browser, user_id: int, text: str, *, exact: bool = False) -> None:
    """Tap the newest inline button with this text in the person's panel."""
    match = f"normalize-space(.)='{text}'" if exact else f"contains(normalize-space(.),'{text}')"
    await browser.click(
        await browser.wait_for(f"{panel(user_id)}//div[@class='buttons']//button[{match}]")
    )


async def say(browser: Browser, user_id: int, text: str) -> None:
    field = await browser.wait_for(f"{panel(user_id)}//input[@class='text']")
    await browser.type(field, text)
    await browser.click(await browser.wait_for(f"{panel(user_id)}//button[@class='send']"))


async def sees(browser: Browser, user_id: int, text: str) -> dict[str, str]:
    return await browser.wait_for(
        f"{panel(user_id)}//div[@class='bubble'][contains(normalize-space(.),'{text}')]"
    )


async def test_onboard_and_join_in_a_browser(tmp_path: Path) -> None:
    paths = browser_paths()
    if paths is None:
        if ON_CI or os.environ.get("SANDBOX_BROWSER_REQUIRED"):
            pytest.fail("chromium and chromedriver are needed (.ci/run installs them)")
        pytest.skip(
            "chromium and chromedriver are not installed (apt-get install chromium-driver)"
        )
    async with running_sandbox(tmp_path) as (_sandbox, base), chromium(*paths) as browser:
        try:
            await visit(browser, base)
        except AssertionError:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            (ARTIFACTS / "failure.png").write_bytes(await browser.screenshot())
            raise


async def visit(browser: Browser, base: str) -> None:
    """The visit itself, in a desktop window and then at a phone's width."""
    if True:
        await browser.screen(1280, 860, mobile=False)
        await browser.open(base + "/")
        await browser.wait_for(panel(COORDINATOR_ID))
        await say(browser, NEWCOMER_ID, "/start")
        await tap(browser, NEWCOMER_ID, "Español")
        await tap(browser, NEWCOMER_ID, "Aceptar")
        await tap(browser, NEWCOMER_ID, "Diego")
        await tap(browser, NEWCOMER_ID, "C", exact=True)
        await tap(browser, NEWCOMER_ID, "▶", exact=True)
        await tap(browser, NEWCOMER_ID, "Colombia", exact=True)
        await tap(browser, NEWCOMER_ID, "Omitir")
        await tap(browser, NEWCOMER_ID, "Prefiero no decirlo")
        await sees(browser, NEWCOMER_ID, "¡Todo listo, Diego!")
        await say(browser, NEWCOMER_ID, "/groups")
        await tap(browser, NEWCOMER_ID, "Mujeres y DESC", exact=True)
        await tap(browser, NEWCOMER_ID, "Unirme")
        await sees(browser, NEWCOMER_ID, "Te uniste a Mujeres y DESC")

        # The open consultation, answered; the meeting in Bogotá's time, and its calendar file.
        await say(browser, NEWCOMER_ID, "/polls")
        await tap(browser, NEWCOMER_ID, "🗳 ¿Qué tema")
        await tap(browser, NEWCOMER_ID, "1. Vivienda", exact=True)
        await tap(browser, NEWCOMER_ID, "Añadir un comentario")  # offered once the vote is in
        await say(browser, NEWCOMER_ID, "/meetings")
        await tap(browser, NEWCOMER_ID, "Llamada para planificar el taller")
        await sees(browser, NEWCOMER_ID, "09:00 (hora de Colombia, UTC−05:00)")
        await tap(browser, NEWCOMER_ID, "Archivo de calendario")
        link = await browser.wait_for(f"{panel(NEWCOMER_ID)}//a[@class='file']")
        calendar = await browser.run("return fetch(arguments[0].href).then(r => r.text())", link)
        assert calendar.startswith("BEGIN:VCALENDAR") and "Llamada para planificar" in calendar
        assert (await browser.run("return arguments[0].download;", link)).endswith(".ics")

        # The coordinator's panel, beside it, counts the answer.
        await say(browser, COORDINATOR_ID, "/polls")
        await tap(browser, COORDINATOR_ID, "📊")
        await sees(browser, COORDINATOR_ID, "Respuestas: 1")
        await sees(browser, COORDINATOR_ID, "1. Vivienda: 1 (100%)")

        # A third panel, in Arabic: the open poll reads right to left.
        await browser.run(
            "const s = document.getElementById('person'); s.value = arguments[0];", LAYLA
        )
        await browser.click(await browser.wait_for("//button[@id='open']"))
        arabic = await sees(browser, LAYLA, "ورشتنا القادمة")
        direction = await browser.run("return getComputedStyle(arguments[0]).direction;", arabic)
        assert direction == "rtl"
        assert await browser.run("return arguments[0].closest('.panel').dir;", arabic) == "rtl"
        spanish = await sees(browser, NEWCOMER_ID, "Te uniste")
        assert (
            await browser.run("return getComputedStyle(arguments[0]).direction;", spanish) == "ltr"
        )

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        assert await browser.run(OVERFLOWS) == []
        (ARTIFACTS / "desktop.png").write_bytes(await browser.screenshot())
        await browser.screen(360, 740, mobile=True)
        assert await browser.run("return window.innerWidth;") == 360
        assert await browser.run(OVERFLOWS) == []
        (ARTIFACTS / "phone.png").write_bytes(await browser.screenshot())

        # The personal invite link opens the group's chat in the same panel.
        await tap(browser, NEWCOMER_ID, "Entrar al chat del grupo")
        await say(browser, NEWCOMER_ID, "¡Hola a todas!")
        await sees(browser, NEWCOMER_ID, "¡Hola a todas!")
        chosen = await browser.wait_for(f"{panel(NEWCOMER_ID)}//select[@class='chat-select']")
        assert int(await browser.run("return arguments[0].value;", chosen)) == SHOWCASE_CHAT
