"""Drive a sandbox started in this process through its page's JSON API, as the page does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.sandbox.run import Sandbox
from bot.sandbox.web import create_web_app


@asynccontextmanager
async def running_sandbox(data_dir: Path) -> AsyncIterator[tuple[Sandbox, str]]:
    """The sandbox and its page on a free port of 127.0.0.1; yields (sandbox, base URL)."""
    sandbox = Sandbox(data_dir)
    await sandbox.start()
    runner = web.AppRunner(create_web_app(sandbox), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        yield sandbox, f"http://{host}:{port}"
    finally:
        await runner.cleanup()
        await sandbox.stop()


TAP_WAIT = 5.0  # seconds a tap waits for its button to appear


class PageUser:
    """One person's panel: what they see in their chat with the bot, and their taps."""

    def __init__(self, http: aiohttp.ClientSession, base: str, user_id: int) -> None:
        self.http, self.base, self.user_id = http, base, user_id

    async def get(self, path: str) -> Any:
        async with self.http.get(self.base + path) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def post(self, path: str, body: dict[str, Any], status: int = 200) -> Any:
        async with self.http.post(self.base + path, json=body) as response:
            assert response.status == status, await response.text()
            return await response.json()

    async def chat(self) -> dict[str, Any]:
        return await self.get(f"/api/messages?user={self.user_id}&chat={self.user_id}")

    async def bot_messages(self) -> list[dict[str, Any]]:
        return [m for m in (await self.chat())["messages"] if m["from_bot"]]

    async def wait_for(
        self, predicate: Callable[[list[dict[str, Any]]], bool], within: float = 15.0
    ) -> list[dict[str, Any]]:
        """Poll like the page until the bot's messages satisfy the predicate."""
        deadline = time.monotonic() + within
        while True:
            shown = await self.bot_messages()
            if predicate(shown):
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"not seen within {within}s: {[m['html'] for m in shown]}")
            await asyncio.sleep(0.1)

    async def wait_text(self, fragment: str, within: float = 15.0) -> dict[str, Any]:
        """The newest bot message containing the fragment, once it is there."""
        shown = await self.wait_for(lambda ms: any(fragment in m["html"] for m in ms), within)
        return next(m for m in reversed(shown) if fragment in m["html"])

    async def say(self, text: str) -> None:
        count = len(await self.bot_messages())
        await self.post("/api/send", {"user": self.user_id, "text": text})
        await self.wait_for(lambda ms: len(ms) > count)

    async def tap(self, button: str, fragment: str | None = None) -> dict[str, Any]:
        """Tap the button (exact text, or the one containing it) on the newest message that has
        it, waiting a little for that message (replies are paced per chat, as in Telegram), and
        wait until the bot answered the tap."""
        deadline = asyncio.get_running_loop().time() + TAP_WAIT
        while True:
            messages = await self.bot_messages()
            for message in reversed(messages):
                for row in message.get("buttons", []):
                    for b in row:
                        if (b["text"] == button or button in b["text"]) and "callback_data" in b:
                            reply = await self.post(
                                "/api/press",
                                {
                                    "user": self.user_id,
                                    "message_id": message["id"],
                                    "data": b["callback_data"],
                                },
                            )
                            return await self.answered(reply["query_id"])
            if asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.1)
        shown = [[b["text"] for row in m.get("buttons", []) for b in row] for m in messages]
        raise AssertionError(f"no button {button!r}; buttons: {shown[-3:]}")

    async def answered(self, query_id: str, within: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            answer = await self.get(f"/api/answer?id={query_id}")
            if answer["answered"]:
                await asyncio.sleep(0.3)  # the edits that follow the answer
                return dict(answer)
            await asyncio.sleep(0.1)
        raise AssertionError(f"tap {query_id} not answered within {within}s")
