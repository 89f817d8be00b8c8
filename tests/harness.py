"""Run the real bot against the fake Bot API server: in this process, or as `python -m bot`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.app import App
from bot.core.clock import FakeClock
from bot.core.config import Settings, load_settings
from bot.sandbox.telegram import FakeTelegram
from bot.wiring import build_app

ROOT = Path(__file__).resolve().parent.parent


class RunningBot:
    """The real Dispatcher polling the fake server inside the test's event loop."""

    def __init__(
        self, settings: Settings, clock: FakeClock, fake: FakeTelegram | None = None
    ) -> None:
        self.fake = fake
        self.settings = settings
        self.clock = clock
        self.app: App | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.app = await build_app(self.settings, clock=self.clock)
        self._track_processing(self.app)
        self.task = asyncio.create_task(
            self.app.dp.start_polling(
                self.app.bot,
                handle_signals=False,
                close_bot_session=False,
                polling_timeout=1,
                allowed_updates=self.app.dp.resolve_used_update_types(),
            )
        )
        for _ in range(200):
            if self.app.dp._running_lock.locked():
                break
            await asyncio.sleep(0.01)

    def _track_processing(self, app: App) -> None:
        """Tell the fake server when each update is fully handled (committed, replies sent),
        so test clients wait for the bot's work rather than for a quiet gap."""
        fake = self.fake
        if fake is None:
            return
        feed = app.dp.feed_update

        async def feed_and_report(bot: Any, update: Any, **kwargs: Any) -> Any:
            try:
                return await feed(bot, update, **kwargs)
            finally:
                fake.mark_processed(update.update_id)

        app.dp.feed_update = feed_and_report  # type: ignore[method-assign]

    async def stop(self) -> None:
        if self.app is None or self.task is None:
            return
        with contextlib.suppress(RuntimeError):
            await self.app.dp.stop_polling()
        await asyncio.wait_for(self.task, 15)
        await self.app.close()
        self.app = None
        self.task = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def db(self, fn: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
        """Run `fn(session)` against the bot's store and return its result."""
        assert self.app is not None
        async with self.app.sessionmaker() as session:
            return await fn(session)


class BotProcess:
    """`python -m bot run` (or `worker`) as a child process, for restart and crash tests."""

    def __init__(self, env: dict[str, str], command: str = "run", module: str = "bot") -> None:
        self.env = env
        self.command = command
        self.module = module
        self.proc: asyncio.subprocess.Process | None = None
        self._stderr = bytearray()
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        env = {**os.environ, **self.env, "PYTHONPATH": str(ROOT)}
        self._stderr.clear()
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            self.module,
            self.command,
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        # Read stderr as it comes, so a chatty child never blocks on a full pipe.
        self._reader = asyncio.create_task(self._drain(self.proc))

    async def _drain(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stderr is not None
        while chunk := await proc.stderr.read(65536):
            self._stderr += chunk

    @property
    def stderr(self) -> str:
        """What the child printed to stderr so far (its log)."""
        return self._stderr.decode("utf-8", "replace")

    async def ensure_stopped(self) -> None:
        """Kill it if it still runs (a failed test must not leave a bot on the test store)."""
        if self.proc is not None and self.proc.returncode is None:
            await self.kill()

    async def kill(self) -> None:
        """Crash it (SIGKILL): no shutdown hook runs."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()
        if self._reader is not None:
            await self._reader

    async def terminate(self) -> bytes:
        """Stop it gracefully and return what it printed to stderr."""
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(self.proc.wait(), 30)
        if self._reader is not None:
            await self._reader
        return bytes(self._stderr)


def make_settings(
    fake: FakeTelegram, db_url: str, redis_url: str | None, **extra: Any
) -> Settings:
    """Settings pointing the bot at the fake server and the test database."""
    values: dict[str, Any] = {
        "bot_token": fake.token,
        "telegram_api_url": fake.base_url,
        "database_url": db_url,
        "redis_url": redis_url,
        "admin_ids": [],
        "default_locale": "en",
        "open_registration": False,
        # Tests of other subjects run at any hour of the real clock: quiet hours would hold
        # their messages some of the time. The attention tests turn them on.
        "quiet_hours": False,
        "privacy_key": "test-privacy-key",
        # The test users tap much faster than people do (ten taps a second, for minutes): the
        # shipped flood throttle would drop their taps, and the shipped per-chat pacing of
        # replies (one a second) make every conversation tested several times longer.
        # tests/test_floods.py checks the shipped values of both.
        "reply_burst": 20,
        "flood_burst": 10_000,
        "flood_rate": 1000.0,
    }
    values.update(extra)
    return load_settings(**values)
