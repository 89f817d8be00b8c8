"""`python -m tests.crashpoint`: the real bot (`python -m bot run`) that kills itself with
SIGKILL at one chosen step of one update's work, for the crash tests.

CRASH_MATCH: a piece of the callback data (or text) of the update to watch.
CRASH_AT: the step to die at (1-based; 0: never). The steps of the watched update are, in
order: each write statement sent to the database (INSERT, UPDATE, DELETE, SAVEPOINT...), each
COMMIT, and each request to Telegram, before it is sent and after its answer came back.
Before dying, and when the update ends, a line `crashpoint ...` goes to stderr.
"""

from __future__ import annotations

import contextvars
import os
import signal
import sys
from typing import Any

from aiogram import Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.types import Update
from sqlalchemy import event
from sqlalchemy.engine import Engine

READS = ("SELECT", "PRAGMA", "BEGIN")
WATCHED: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("watched", default=None)


def step(what: str) -> None:
    """One step of the watched update: die here if it is the chosen one."""
    steps = WATCHED.get()
    if steps is None:
        return
    steps[0] += 1
    sys.stderr.write(f"crashstep {steps[0]}: {what}\n")
    if steps[0] == int(os.environ.get("CRASH_AT", "0")):
        sys.stderr.write(f"crashpoint {steps[0]}: killed at {what}\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)


def matches(update: Update) -> bool:
    wanted = os.environ.get("CRASH_MATCH", "\0")
    if update.callback_query is not None:
        return wanted in (update.callback_query.data or "")
    if update.message is not None:
        return wanted in (update.message.text or "")
    return False


def install() -> None:
    """Hook the steps: SQL writes and commits, and the bot's requests."""

    @event.listens_for(Engine, "before_cursor_execute")
    def _write(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        head = statement.lstrip()[:10].upper()
        if not head.startswith(READS):
            step("SQL " + head.split()[0] if head else "SQL")

    @event.listens_for(Engine, "commit")
    def _commit(_conn: Any) -> None:
        step("COMMIT")

    feed = Dispatcher.feed_update

    async def feed_update(self: Dispatcher, bot: Any, update: Update, **kwargs: Any) -> Any:
        if not matches(update):
            return await feed(self, bot, update, **kwargs)
        steps = [0]
        token = WATCHED.set(steps)
        try:
            return await feed(self, bot, update, **kwargs)
        finally:
            WATCHED.reset(token)
            sys.stderr.write(f"crashpoint done after {steps[0]} steps\n")
            sys.stderr.flush()

    Dispatcher.feed_update = feed_update  # type: ignore[method-assign]

    request = AiohttpSession.make_request

    async def make_request(self: AiohttpSession, bot: Any, method: Any, **kwargs: Any) -> Any:
        name = type(method).__name__
        step(f"request {name}")
        result = await request(self, bot, method, **kwargs)
        step(f"answer to {name}")
        return result

    AiohttpSession.make_request = make_request  # type: ignore[method-assign]


if __name__ == "__main__":
    from bot.__main__ import main

    install()
    sys.exit(main(sys.argv[1:] or ["run"]))
