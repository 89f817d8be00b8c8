"""The bot as an operator runs it: settings errors, webhook mode, and a real process restart."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
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


def test_webhook_mode_needs_a_valid_secret(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/x.db"
    result = run_cli("run", BOT_TOKEN="1:abc", DATABASE_URL=db, WEBHOOK_URL="https://x.org")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "WEBHOOK_SECRET" in result.stderr and "required" in result.stderr
    for bad in ("with space", "é", "x" * 257):
        result = run_cli(
            "run",
            BOT_TOKEN="1:abc",
            DATABASE_URL=db,
            WEBHOOK_URL="https://x.org",
            WEBHOOK_SECRET=bad,
        )
        assert result.returncode == 2 and "WEBHOOK_SECRET" in result.stderr, bad
        assert "Traceback" not in result.stderr


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
            for wrong in ("s3crét", "s3cret\u00a0", "снег"):
                refused = await http.post(
                    url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": wrong}
                )
                assert refused.status == 401, f"a non-ASCII secret is just wrong: {wrong!r}"
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
        "PRIVACY_KEY": "test-privacy-key",
    }
    user = BotClient(fake, 5150, "Ngozi", language_code="en")
    user.timeout = 30
    # A child process can't report when an update is done; its replies to one chat come a
    # second apart (the shipped pacing), so the bot is done after more than a second of quiet.
    user.quiet = 1.5
    process = BotProcess(env)
    try:
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
    finally:
        await process.ensure_stopped()

    from bot.core.db import create_engine

    engine = create_engine(backend["db_url"])
    async with engine.connect() as conn:
        row = (await conn.execute(select(Member).where(Member.telegram_id == 5150))).one()
    await engine.dispose()
    assert row.country == "NG" and row.status == "pending"


# --- starting on a real server: one line, exit status 2, no traceback -----------------------


def one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    """The run failed with status 2 and a single `error: ...` line naming the problem."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], result.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("SEND_RATE_GLOBAL", "-5", "SEND_RATE_GLOBAL"),
        ("DELIVERY_WORKERS", "0", "DELIVERY_WORKERS"),
        ("WEBHOOK_URL", "http://bot.example.org", "WEBHOOK_URL"),
        ("DATABASE_URL", "mysql://root@localhost/bot", "DATABASE_URL"),
        ("DATABASE_URL", "not a url", "DATABASE_URL"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL"),
        ("WEBHOOK_PORT", "70000", "WEBHOOK_PORT"),
    ],
)
def test_out_of_range_settings_are_refused(name: str, value: str, needle: str) -> None:
    result = run_cli("run", BOT_TOKEN="123:abc", **{name: value})
    one_line_error(result, f"setting {needle} is invalid")


async def test_a_wrong_token_is_one_line(fake: FakeTelegram, tmp_path: Path) -> None:
    result = await asyncio.to_thread(
        run_cli,
        "run",
        BOT_TOKEN="999:wrong",
        TELEGRAM_API_URL=fake.base_url,
        DATABASE_URL=f"sqlite:///{tmp_path}/bot.db",
    )
    one_line_error(result, "BOT_TOKEN", "401")


def test_telegram_unreachable_is_retried_then_one_line(tmp_path: Path) -> None:
    started = time.monotonic()
    result = run_cli(
        "run",
        BOT_TOKEN="123:abc",
        TELEGRAM_API_URL=f"http://127.0.0.1:{free_port()}",
        DATABASE_URL=f"sqlite:///{tmp_path}/bot.db",
        STARTUP_RETRY_SECONDS="3",
    )
    one_line_error(result, "Telegram Bot API unreachable", "tries")
    assert time.monotonic() - started >= 3, "it kept trying for STARTUP_RETRY_SECONDS"
    assert "trying again" in result.stderr


def test_an_unreachable_database_is_one_line() -> None:
    result = run_cli(
        "run",
        BOT_TOKEN="123:abc",
        DATABASE_URL=f"postgresql://bot:secret@127.0.0.1:{free_port()}/bot",
    )
    line = one_line_error(result, "database unreachable", "PostgreSQL")
    assert "secret" not in line, "the password is not printed"


def test_an_unreachable_redis_is_found_at_start(tmp_path: Path) -> None:
    result = run_cli(
        "run",
        BOT_TOKEN="123:abc",
        DATABASE_URL=f"sqlite:///{tmp_path}/bot.db",
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
    )
    one_line_error(result, "Redis unreachable")


async def test_polling_after_webhook_mode_and_a_quiet_start(
    fake: FakeTelegram, backend: dict[str, Any]
) -> None:
    fake.webhook = {"url": "https://old.example.org/telegram"}
    env = {
        "BOT_TOKEN": fake.token,
        "TELEGRAM_API_URL": fake.base_url,
        "DATABASE_URL": backend["db_url"],
        "REDIS_URL": backend["redis_url"] or "",
    }
    process = BotProcess(env)
    await process.start()
    user = BotClient(fake, 5160, "Ngozi", language_code="en")
    user.timeout = 30
    # A child process can't report when an update is done; its replies to one chat come a
    # second apart (the shipped pacing), so the bot is done after more than a second of quiet.
    user.quiet = 1.5
    try:
        reply = await user.send("/start")
        assert "language" in reply[-1]["text"].lower()
        assert fake.webhook is None and fake.calls_to("deleteWebhook")
        log = (await process.terminate()).decode()
    finally:
        await process.ensure_stopped()
    lines = [line for line in log.splitlines() if line.strip()]
    running = lines[: next(i for i, line in enumerate(lines) if "SIGTERM" in line)]
    [started] = [line for line in running if " INFO " in line]
    assert "started long polling as @participation_bot" in started
    assert ("SQLite" in started or "PostgreSQL" in started) and fake.base_url in started
    assert "Traceback" not in log


async def test_processes_starting_together_migrate_one_after_the_other(
    backend: dict[str, Any],
) -> None:
    if backend["name"] != "postgres":
        pytest.skip("the advisory lock is PostgreSQL's; SQLite has one writer")
    results = await asyncio.gather(
        *(
            asyncio.to_thread(run_cli, "migrate", BOT_TOKEN="1:a", DATABASE_URL=backend["db_url"])
            for _ in range(3)
        )
    )
    assert [r.returncode for r in results] == [0, 0, 0], [r.stderr[-500:] for r in results]


def test_make_run_rebuilds_a_virtualenv_of_another_python(tmp_path: Path) -> None:
    """`make run` on a .venv built with another Python rebuilds it (dry run: nothing runs)."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text("#!/bin/sh\necho 3.9\n")
    python.chmod(0o755)
    (venv / ".installed").touch()
    result = subprocess.run(
        ["make", "-n", "run", f"VENV={venv}", f"PY={sys.executable}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert f"rm -rf {venv}" in result.stdout, result.stdout + result.stderr
    assert f"-m venv {venv}" in result.stdout
    same = subprocess.run(
        ["make", "-n", "run", f"VENV={ROOT / '.venv'}", f"PY={ROOT / '.venv' / 'bin' / 'python'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "rm -rf" not in same.stdout, "a virtualenv of the same Python is kept"
