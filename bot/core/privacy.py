"""The server's privacy key, keyed one-way tokens made with it, and scrubbing old row versions.

Tokens let the bot remember *that* someone voted in a poll or was removed from a group after
/forget erased them, without keeping who: only the holder of the key can test a given
Telegram id against a token. Sealing (AES-GCM under a key derived from the privacy key) keeps
what must wait in the database, such as a secret ballot in the pool, unreadable without it.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
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


NONCE_SIZE = 12
SEAL_BLOCK = 512  # sealed payloads are padded to a multiple of this (at least `size`)


class SealError(ValueError):
    """A sealed value that cannot be opened: another key, another purpose or scope, or
    altered bytes."""


@functools.lru_cache(maxsize=32)
def derived_key(key: bytes, purpose: bytes) -> bytes:
    """A 256-bit key for one purpose, derived from the privacy key (HKDF-SHA256): a key
    that opens one kind of sealed value opens no other, and none is the token key."""
    if not key:
        raise SealError("no privacy key: nothing can be sealed or opened without it")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(key)


def seal(key: bytes, purpose: bytes, scope: bytes, payload: bytes, size: int = 0) -> bytes:
    """`payload` encrypted and authenticated (AES-256-GCM) under the key derived for
    `purpose`, bound to `scope` (associated data: a blob moved to another scope fails to
    open), with a random 12-byte nonce in front. The payload is padded to `size` bytes (or
    the next multiple of SEAL_BLOCK above it), so the blob's length says nothing about it."""
    framed = len(payload).to_bytes(4, "big") + payload
    padded = max(size, -(-len(framed) // SEAL_BLOCK) * SEAL_BLOCK)
    framed += bytes(padded - len(framed))
    nonce = secrets.token_bytes(NONCE_SIZE)
    return nonce + AESGCM(derived_key(key, purpose)).encrypt(nonce, framed, scope)


def unseal(key: bytes, purpose: bytes, scope: bytes, blob: bytes) -> bytes:
    """The payload `seal` sealed with the same key, purpose and scope; SealError otherwise."""
    cipher = AESGCM(derived_key(key, purpose))
    try:
        framed = cipher.decrypt(blob[:NONCE_SIZE], blob[NONCE_SIZE:], scope)
    except (InvalidTag, ValueError) as error:
        raise SealError("a sealed value does not open with this key") from error
    length = int.from_bytes(framed[:4], "big")
    return framed[4 : 4 + length]


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
