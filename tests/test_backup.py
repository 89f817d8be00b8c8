"""`python -m bot backup PATH` and `restore PATH`: consistent copies while the bot writes."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.core.db import migrate

TOKEN = "123456:TEST-token"


def members(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [row[0] for row in conn.execute("SELECT display_name FROM members ORDER BY id")]
    finally:
        conn.close()


def add(path: Path, name: str, telegram_id: int) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute(
            "INSERT INTO members (telegram_id, display_name, locale, status, role, created_at, "
            "last_seen_at, consent_at) VALUES (?, ?, 'en', 'active', 'member', "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            (telegram_id, name),
        )
        conn.commit()
    finally:
        conn.close()


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A migrated SQLite store with one member, named by DATABASE_URL."""
    db = tmp_path / "data" / "bot.sqlite3"
    url = f"sqlite+aiosqlite:///{db}"
    asyncio.run(migrate(url))
    add(db, "Amina", 1001)
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    return db


def test_backup_while_a_writer_holds_a_transaction_then_restore(
    live: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    writer = sqlite3.connect(live)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE members SET display_name = 'uncommitted'")
    target = tmp_path / "backups" / "copy.sqlite3"
    try:
        assert main(["backup", str(target)]) == 0
    finally:
        writer.rollback()
        writer.close()
    out = capsys.readouterr().out
    assert "backed up to" in out and "schema" in out
    assert members(target) == ["Amina"]  # the committed state, not the writer's change

    add(live, "Bruno", 1002)  # the live store moves on after the backup
    assert members(live) == ["Amina", "Bruno"]
    assert main(["restore", str(target)]) == 1  # refuses to replace without --force
    assert "--force" in capsys.readouterr().err
    assert main(["restore", str(target), "--force"]) == 0
    assert members(live) == ["Amina"]


def test_backup_does_not_overwrite_and_restore_refuses_a_foreign_file(
    live: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "copy.sqlite3"
    target.write_text("keep me")
    assert main(["backup", str(target)]) == 1
    assert target.read_text() == "keep me"
    assert main(["restore", str(target), "--force"]) == 1
    assert "not a SQLite database" in capsys.readouterr().err
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    assert main(["restore", str(empty), "--force"]) == 1
    assert "no bot database" in capsys.readouterr().err
    assert members(live) == ["Amina"]


def test_postgres_gets_the_pg_dump_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot@db/bot")
    assert main(["backup", "nightly.dump"]) == 1
    assert 'pg_dump --format=custom --no-owner --file "nightly.dump"' in capsys.readouterr().err
    assert main(["restore", "nightly.dump"]) == 1
    assert "pg_restore" in capsys.readouterr().err
