"""Run the real bot against the in-process stand-in for Telegram, with the chat page beside it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.config import DEFAULT_DATA_DIR, load_settings
from bot.delivery.scheduler import scheduler_of
from bot.sandbox.people import FIRST_FREE_ID, READY_MADE, Person
from bot.sandbox.telegram import FakeTelegram

SANDBOX_TOKEN = "123456:SANDBOX-NOT-A-REAL-TOKEN"
TELEGRAM_HOST = "api.telegram.org"
CALLS_KEPT = 2_000
CALLS_TIDY_SECONDS = 60.0
REAL_TOKEN = re.compile(r"^\d{5,15}:[A-Za-z0-9_-]{30,}$")


class SandboxEnv(BaseSettings):
    """The few settings the sandbox reads (the bot's own settings would demand a token)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: str = ""
    telegram_api_url: str = "https://api.telegram.org"
    data_dir: Path = DEFAULT_DATA_DIR
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = 8080


def refusal(env: SandboxEnv) -> str | None:
    """Why the sandbox must not start: a real token aimed at the real Telegram means a real bot
    is configured here, and sandbox people must never mix with its members."""
    if REAL_TOKEN.match(env.bot_token.strip()) and TELEGRAM_HOST in env.telegram_api_url:
        return (
            "error: BOT_TOKEN looks like a real token and TELEGRAM_API_URL is Telegram's; "
            "the sandbox refuses to run beside a real bot (unset BOT_TOKEN to try the sandbox)"
        )
    return None


class Sandbox:
    """The stand-in Telegram, the real bot polling it, the people and a movable clock."""

    def __init__(self, data_dir: Path, *, clock: FakeClock | None = None) -> None:
        self.folder = data_dir / "sandbox"
        self.clock = clock or FakeClock()
        self.fake = FakeTelegram(SANDBOX_TOKEN)
        self.app: App | None = None
        self.people: list[Person] = []
        self._task: asyncio.Task[None] | None = None
        self._tidy: asyncio.Task[None] | None = None
        # Reply keyboards are not part of a Message: they are read from the bot's calls.
        self.keyboards: dict[int, list[list[str]] | None] = {}
        self._scanned = 0

    @property
    def db_file(self) -> Path:
        return self.folder / "sandbox.sqlite3"

    @property
    def people_file(self) -> Path:
        return self.folder / "people.json"

    async def start(self) -> None:
        """Stand-in first, then the bot exactly as `python -m bot run` builds it."""
        from bot.sandbox.content import CHAT_TITLES, fill, has_content, linked_chats
        from bot.wiring import build_app

        self.folder.mkdir(parents=True, exist_ok=True)
        self.fake = FakeTelegram(SANDBOX_TOKEN)
        self.keyboards, self._scanned = {}, 0
        self.fake.clock = lambda: self.clock.now().timestamp()
        await self.fake.start()
        settings = load_settings(
            bot_token=SANDBOX_TOKEN,
            telegram_api_url=self.fake.base_url,
            database_url=f"sqlite+aiosqlite:///{self.db_file.as_posix()}",
            redis_url=None,
            webhook_url=None,
            data_dir=self.folder,
            admin_ids=[p.user_id for p in READY_MADE if p.role == "admin"],
            open_registration=True,
            quiet_hours=False,
            run_delivery=True,
            run_scheduler=True,
        )
        self.app = app = await build_app(settings, clock=self.clock)
        self.people = self._load_people()
        for person in self.people:
            self.fake.add_user(person.user_id, person.name, language_code=person.locale)
        async with app.sessionmaker() as session:
            filled = await has_content(session)
        if not filled:
            await fill(app, self.clock.now())
        for chat_id, code, members in await linked_chats(app):
            self.fake.add_group(chat_id, CHAT_TITLES.get(code, code))
            self.fake.set_bot_admin(chat_id)
            for user_id, role in members:
                status = "administrator" if role == "coordinator" else "member"
                self.fake.add_chat_member(chat_id, user_id, status)
        self._task = asyncio.create_task(
            app.dp.start_polling(
                app.bot,
                handle_signals=False,
                close_bot_session=False,
                polling_timeout=1,
                allowed_updates=app.dp.resolve_used_update_types(),
            )
        )
        self._tidy = asyncio.create_task(self._forget_old_calls())
        for _ in range(500):
            if app.dp._running_lock.locked():
                break
            await asyncio.sleep(0.01)

    async def _forget_old_calls(self) -> None:
        """The stand-in records every API call for tests; a sandbox left running for days keeps
        only the recent ones (long polls alone add one a second)."""
        while True:
            await asyncio.sleep(CALLS_TIDY_SECONDS)
            if len(self.fake.calls) > CALLS_KEPT * 5:
                self.scan_keyboards()
                del self.fake.calls[:-CALLS_KEPT]
                self._scanned = len(self.fake.calls)

    def scan_keyboards(self) -> None:
        """Follow the reply keyboard each chat shows: set by a send with one, gone with
        remove_keyboard (Telegram keeps it on the client, not on the message)."""
        calls = self.fake.calls
        for call in calls[self._scanned :]:
            markup = call.params.get("reply_markup") if call.ok else None
            if not isinstance(markup, dict) or call.chat_id is None:
                continue
            if "keyboard" in markup:
                self.keyboards[call.chat_id] = [
                    [str(b["text"]) if isinstance(b, dict) else str(b) for b in row]
                    for row in markup["keyboard"]
                ]
            elif markup.get("remove_keyboard"):
                self.keyboards[call.chat_id] = None
        self._scanned = len(calls)

    async def stop(self) -> None:
        """Stop polling (services stop with it), close the bot, then the stand-in."""
        if self._tidy is not None:
            self._tidy.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tidy
            self._tidy = None
        if self.app is not None and self._task is not None:
            with contextlib.suppress(RuntimeError):
                await self.app.dp.stop_polling()
            await asyncio.wait_for(self._task, 30)
            await self.app.close()
        self.app, self._task = None, None
        await self.fake.stop()

    async def reset(self) -> None:
        """Forget everything: a fresh database, the ready-made people and content again."""
        await self.stop()
        for path in (self.db_file, self.people_file):
            path.unlink(missing_ok=True)
        self.clock = FakeClock()
        await self.start()

    def advance(self, delta: timedelta) -> None:
        """Move the bot's clock; the scheduler looks for what became due at once."""
        self.clock.advance(delta)
        if self.app is not None and (scheduler := scheduler_of(self.app)) is not None:
            scheduler.wake()

    async def to_next_event(self) -> str | None:
        """Move the clock just past the next scheduled job (a reminder, a closing, ...) and
        say which kind it is; None when nothing is scheduled."""
        from sqlalchemy import select

        from models.job import Job, JobStatus

        if self.app is None:
            return None
        async with self.app.sessionmaker() as session:
            job = await session.scalar(
                select(Job).where(Job.status == JobStatus.PENDING).order_by(Job.due_at).limit(1)
            )
        if job is None:
            return None
        delta = job.due_at - self.clock.now() + timedelta(seconds=1)
        self.advance(max(delta, timedelta(0)))
        return job.kind

    def add_person(self, name: str, locale: str, country: str, timezone: str) -> Person:
        """A new Telegram user who has not met the bot yet."""
        user_id = max([FIRST_FREE_ID - 1, *(p.user_id for p in self.people)]) + 1
        person = Person(user_id, name, locale, country, timezone, registered=False)
        self.people.append(person)
        self.fake.add_user(user_id, name, language_code=locale)
        self.people_file.write_text(
            json.dumps([p.to_json() for p in self.people if p.user_id >= FIRST_FREE_ID]),
            encoding="utf-8",
        )
        return person

    def _load_people(self) -> list[Person]:
        """The ready-made people and those the visitor created before."""
        people = list(READY_MADE)
        with contextlib.suppress(FileNotFoundError, ValueError, TypeError):
            saved: list[dict[str, Any]] = json.loads(self.people_file.read_text("utf-8"))
            people += [Person(**item) for item in saved]
        return people
