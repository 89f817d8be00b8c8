"""The server's privacy key, keyed one-way tokens made with it, and scrubbing old row versions.

Tokens let the bot remember *that* someone voted in a poll or was removed from a group after
/forget erased them, without keeping who: only the holder of the key can test a given
Telegram id against a token.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

KEY_FILE = "privacy.key"
WAIT_STEPS = 300  # tenths of a second a PostgreSQL scrub waits for older transactions
log = logging.getLogger(__name__)


def load_privacy_key(configured: str | None, data_dir: Path) -> bytes:
    """PRIVACY_KEY when set, else the key kept in `<DATA_DIR>/privacy.key` (made on first use,
    readable by the bot's user only)."""
    if configured:
        return configured.encode()
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


REDACTED = "<redacted>"


def redact(text: str, token: str) -> str:
    """The text without the bot token, nor its secret half (Telegram URLs carry it)."""
    secret = token.partition(":")[2]
    for part in (token, secret):
        if part and len(part) >= 8:
            text = text.replace(part, REDACTED)
    return text


def redact_logs(token: str) -> None:
    """Every log record of this process, its message and its traceback, without the token.

    Done where records are made, so it holds for every handler, added now or later.
    """
    previous = logging.getLogRecordFactory()
    tokens: set[str] | None = getattr(previous, "redacted_tokens", None)
    if tokens is not None:  # already installed: one more token to hide
        tokens.add(token)
        return
    hidden = {token}

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return record  # a malformed call: left for the handler to report as usual
        for secret in hidden:
            message = redact(message, secret)
        record.msg, record.args = message, None
        if record.exc_info and not record.exc_text:
            formatted = logging.Formatter().formatException(record.exc_info)
            for secret in hidden:
                formatted = redact(formatted, secret)
            record.exc_text = formatted
        return record

    factory.redacted_tokens = hidden  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def keyed_token(key: bytes, purpose: str, scope: int, telegram_id: int) -> str:
    """HMAC-SHA256 of (purpose, scope, Telegram id): equal for the same person, one-way."""
    message = f"{purpose}:{scope}:{telegram_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


async def scrub(engine: AsyncEngine, tables: list[str]) -> None:
    """Leave no old version of rows just deleted or rewritten where a copy of the files shows it.

    SQLite (secure_delete is on for every connection): checkpoint the write-ahead log into
    the database and truncate it, so the history of commits is gone. PostgreSQL: VACUUM
    FULL of the tables, which rewrites them into new files without the dead row versions.
    """
    if engine.dialect.name == "sqlite":
        async with engine.connect() as conn:
            # Readers hold the log only briefly; wait a little for them, never for long.
            await conn.exec_driver_sql("PRAGMA busy_timeout=2000")
            try:
                busy = (await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")).first()
            finally:
                await conn.exec_driver_sql("PRAGMA busy_timeout=30000")
            if busy and busy[0]:
                log.warning("write-ahead log busy: checkpointed at the next scrub")
        return
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        # VACUUM keeps row versions an older transaction may still see: wait (a little) until
        # every transaction that began before the deletion has ended.
        mark = await auto.scalar(text("SELECT pg_current_xact_id()"))
        for _ in range(WAIT_STEPS):
            oldest = await auto.scalar(text("SELECT pg_snapshot_xmin(pg_current_snapshot())"))
            if int(str(oldest)) > int(str(mark)):
                break
            await asyncio.sleep(0.1)
        for table in tables:
            await auto.execute(text(f'VACUUM FULL "{table}"'))
