"""Logging: plain lines for people, or `LOG_FORMAT=json`, one JSON object per line.

What is logged never names a person: ids are our own row ids (a member's id, a delivery's),
never Telegram ids, names or message texts, and SQL parameters are hidden from error
messages (`hide_parameters` in bot.core.db). The update being handled is added to every
line logged while it runs.
"""

from __future__ import annotations

import contextvars
import json
import logging
from datetime import UTC, datetime
from typing import IO, Any

CURRENT_UPDATE: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "current_update", default=None
)
FIELDS = ("update_id", "update_type", "duration_ms", "outcome")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One object per line: time, level, logger, message, the update, and any error."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        current = CURRENT_UPDATE.get()
        if current is not None:
            entry["update_id"] = current
        for name in FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                entry[name] = round(value, 2) if isinstance(value, float) else value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


# Libraries that log personal data at low levels: aiosqlite logs every statement with its
# parameters at DEBUG. They stay at WARNING whatever LOG_LEVEL says.
QUIET = ("aiosqlite",)
# Chatter at INFO (aiogram's polling start and stop, Alembic's migration context, aiohttp's
# access log): the bot says in one line what started; failures are still logged.
CHATTY = ("aiogram", "alembic", "aiohttp.access")


def setup_logging(
    log_format: str = "text", level: str = "INFO", stream: IO[str] | None = None
) -> None:
    """Configure the root logger once for the process (the CLI calls this)."""
    handler = logging.StreamHandler(stream)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # aiogram logs a line for every update handled; under load that is most of the log and a
    # measurable share of the CPU. Ours (bot.core.observe) is at DEBUG, or INFO in JSON.
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    for name in (*QUIET, *CHATTY):
        logging.getLogger(name).setLevel(logging.WARNING)
