"""The bot as an operator runs it: settings errors, webhook mode, and a real process restart."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import select

from bot.core.webhook import create_web_app
from bot.sandbox.telegram import FakeTelegram
from bot.wiring import build_app
from models.member import Member
from tests.botclient import BotClient
from tests.harness import ROOT, BotProcess, make_settings


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "ADMIN_IDS"}}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_missing_token_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run_cli("run", DATABASE_URL=f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: setting BOT_TOKEN is required but missing"
    assert "Traceback" not in result.stderr


def test_malformed_setting_names_it(tmp_path: Path) -> None:
    result = run_cli("run", BOT_TOKEN="123:abc", ADMIN_IDS="12,abc")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "ADMIN_IDS" in result.stderr
    result = run_cli("run", BOT_TOKEN="not-a-token")
    assert result.returncode == 2 and "BOT_TOKEN" in result.stderr


def test_migrate_and_promote_from_the_shell(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/bot.db"
    assert run_cli("migrate", BOT_TOKEN="1:a", DATABASE_URL=db).returncode == 0
    missing = run_cli("admin", "promote", "42", BOT_TOKEN="1:a", DATABASE_URL=db)
    assert missing.returncode == 1 and "no member" in missing.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_mode_answers_updates(fake: FakeTelegram, backend: dict[str, Any]) -> None:
    port = free_port()
    settings = make_settings(
        fake,
        backend["db_url"],
        backend["redis_url"],
        webhook_url="https://bot.example.org",
        webhook_secret="s3cret",
        webhook_port=port,
    )
    app = await build_app(settings)
    runner = web.AppRunner(create_web_app(app))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        assert fake.webhook is not None
        assert fake.webhook["url"] == "https://bot.example.org/telegram"
        fake.add_user(4242, "Web", language_code="fr")
        update = fake.user_sends(4242, "/start")
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{port}/telegram"
            refused = await http.post(url, json=update)
            assert refused.status == 401, "a request without the secret is refused"
            ok = await http.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
            )
            assert ok.status == 200
        await fake.wait_for_call(lambda c: c.method == "sendMessage" and c.chat_id == 4242)
        assert "langue" in fake.last_message(4242)["text"].lower()
    finally:
        await runner.cleanup()
        await app.close()


async def test_real_process_killed_mid_onboarding_resumes(
    fake: FakeTelegram, backend: dict[str, Any]
) -> None:
    env = {
        "BOT_TOKEN": fake.token,
        "TELEGRAM_API_URL": fake.base_url,
        "DATABASE_URL": backend["db_url"],
        "REDIS_URL": backend["redis_url"] or "",
    }
    user = BotClient(fake, 5150, "Ngozi", language_code="en")
    user.timeout = 30
    process = BotProcess(env)
    await process.start()
    await user.send("/start")
    await user.click("✓ English")
    await user.click_nth(0)
    await user.click_nth(0)  # keep name: now at the country question
    await process.kill()

    await process.start()
    await user.send("nige")
    assert "Nigeria" in user.buttons()
    await user.click("Nigeria")
    await user.click_nth(-1)
    await user.click_nth(-1)
    await process.terminate()

    from bot.core.db import create_engine

    engine = create_engine(backend["db_url"])
    async with engine.connect() as conn:
        row = (await conn.execute(select(Member).where(Member.telegram_id == 5150))).one()
    await engine.dispose()
    assert row.country == "NG" and row.status == "pending"
