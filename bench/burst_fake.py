"""The fake Bot API server for handler benchmarks: pushes bursts of updates and times answers.

`python -m bench.burst_fake --users 1000000:1002000` prints one JSON line with its base URL
and control URL, then serves until killed. The control API (JSON):

- POST /push {"updates": [spec, ...], "rate": 0}: queue the updates (all at once, or `rate`
  a second, paced here). A spec is {"user": id, "text": "/help"} (a message) or
  {"user": id, "press": data, "shown": text, "buttons": [data, ...]} (a tap on a button of
  a bot message showing `shown`, created here first, as the bot would have sent it).
- GET /results: per update pushed since the last reset: when it was queued, when it was
  answered (monotonic seconds), whether the answer was the bot's "something went wrong",
  and when it left for the bot (in a getUpdates answer or a webhook POST).
- POST /webhook {"targets": [url, ...], "connections": 40}: deliver updates by POSTing them
  to the targets in turn, at most `connections` at once (as Telegram does), instead of
  getUpdates.
- GET /stats: first getUpdates / setWebhook time, sends, 429s given, limit violations.
- POST /reset: forget the results and the counters.

An update is answered by the bot's first answerCallbackQuery for a tap, and by its next
message to the chat for a text message (messages of one chat are answered in order).
The flood limits are enforced like Telegram's (429 with retry_after) unless --no-limits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import json
import signal
import sys
import time
from collections import Counter, deque
from typing import Any

import aiohttp
from aiohttp import web

from bot.sandbox.telegram import SEND_METHODS, FakeTelegram, TelegramError

FAILURE_TEXT = "Sorry, something went wrong"
KEEP_MESSAGES = 8  # per chat: enough to edit the recent ones, bounded for big audiences


class BurstTelegram(FakeTelegram):
    """The fake with lean records, answer timing per update, and webhook delivery."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pushed: dict[int, list[Any]] = {}  # update id -> [queued, answered, failed]
        self.by_query: dict[str, int] = {}
        self.waiting_text: dict[int, deque[int]] = {}
        self.sent = 0
        self.refused: Counter[int] = Counter()
        self.first_poll: float | None = None
        self.first_webhook: float | None = None
        self.targets: list[str] = []
        self.connections = 40
        self._http: aiohttp.ClientSession | None = None
        self._deliveries: asyncio.Queue[dict[str, Any]] | None = None
        self._posters: list[asyncio.Task[None]] = []

    # --- records ------------------------------------------------------------------------

    def _record(self, method: str, params: dict[str, Any], started: float, **kw: Any) -> None:
        """Count and time answers instead of keeping every call."""
        error: TelegramError | None = kw.get("error")
        if method == "getUpdates" and self.first_poll is None and error is None:
            self.first_poll = started
        if method == "setWebhook" and self.first_webhook is None and error is None:
            self.first_webhook = started
        if error is not None:
            self.refused[error.status] += 1
            return
        if method in SEND_METHODS:
            self.sent += 1
        if method == "answerCallbackQuery":
            update_id = self.by_query.pop(str(params.get("callback_query_id")), None)
            if update_id is not None:
                failed = FAILURE_TEXT in str(params.get("text") or "")
                self._answered(update_id, started, failed)
        elif method in ("sendMessage", "sendDocument"):
            chat = kw.get("chat_id")
            queue = self.waiting_text.get(int(chat)) if chat is not None else None
            if queue:
                failed = FAILURE_TEXT in str(params.get("text") or "")
                self._answered(queue.popleft(), started, failed)

    def _answered(self, update_id: int, at: float, failed: bool) -> None:
        """An update is answered when the bot's answer reaches Telegram (the request's
        arrival, before the fake's modelled processing latency)."""
        entry = self.pushed.get(update_id)
        if entry is not None and entry[1] is None:
            entry[1] = at
            entry[2] = failed

    def _handed(self, updates: list[dict[str, Any]]) -> None:
        """Note when updates leave for the bot (a getUpdates answer, a webhook POST)."""
        now = time.monotonic()
        for update in updates:
            entry = self.pushed.get(update["update_id"])
            if entry is not None and entry[3] is None:
                entry[3] = now

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        batch = await super()._api_getUpdates(params)
        self._handed(batch)
        return batch

    def _store_message(self, chat: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Keep only the newest few messages of each chat."""
        record = super()._store_message(chat, *args, **kwargs)
        if len(chat.messages) > KEEP_MESSAGES:
            for old in list(chat.messages)[: len(chat.messages) - KEEP_MESSAGES]:
                del chat.messages[old]
        return record

    # --- updates ------------------------------------------------------------------------

    def make_update(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Build (and store) what the user does; not queued yet."""
        user_id = int(spec["user"])
        if user_id not in self.users:
            self.add_user(user_id, f"Member {user_id}")
        chat = self._chats[user_id]
        if "press" in spec:
            markup = {
                "inline_keyboard": [
                    [{"text": str(i), "callback_data": data}]
                    for i, data in enumerate(spec.get("buttons") or [spec["press"]])
                ]
            }
            shown = self._store_message(
                chat,
                self.bot_user,
                {"text": spec.get("shown") or "…", "reply_markup": markup},
                from_bot=True,
            )
            self._callback_seq += 1
            query_id = f"{4_000_000_000_000_000 + self._callback_seq * 7919}"
            self._callbacks[query_id] = {
                "chat_id": chat.id,
                "user_id": user_id,
                "message_id": shown["message_id"],
                "answered": False,
                "at": time.monotonic(),
            }
            update = {
                "update_id": self._take_update_id(),
                "callback_query": {
                    "id": query_id,
                    "from": self.users[user_id],
                    "message": self._public(shown),
                    "chat_instance": self._chat_instance(chat.id),
                    "data": spec["press"],
                },
            }
            self.by_query[query_id] = update["update_id"]
            return update
        record = super()._store_message(
            chat, self.users[user_id], {"text": spec["text"]}, from_bot=False
        )
        if spec["text"].startswith("/"):
            command = spec["text"].split()[0]
            record["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"update_id": self._take_update_id(), "message": self._public(record)}

    def _take_update_id(self) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        return update_id

    def deliver(self, update: dict[str, Any]) -> None:
        """Queue one update now (getUpdates) or hand it to the webhook posters."""
        entry = [time.monotonic(), None, False, None]  # queued, answered, failed, handed over
        self.pushed[update["update_id"]] = entry
        message = update.get("message")
        if message is not None:  # waits for a message in its chat from now (not from its making)
            chat = int(message["chat"]["id"])
            self.waiting_text.setdefault(chat, deque()).append(update["update_id"])
        query = update.get("callback_query")
        if query is not None:
            self._callbacks[query["id"]]["at"] = entry[0]
        if self._deliveries is not None:
            self._deliveries.put_nowait(update)
        else:
            self._enqueue(update)

    async def push(self, specs: list[dict[str, Any]], rate: float) -> list[int]:
        """Build every update first, then queue them at once or at `rate` a second."""
        updates = [self.make_update(spec) for spec in specs]
        if rate <= 0:
            for update in updates:
                self.deliver(update)
        else:
            asyncio.get_running_loop().create_task(self._paced(updates, rate))
        return [u["update_id"] for u in updates]

    async def _paced(self, updates: list[dict[str, Any]], rate: float) -> None:
        start = time.monotonic()
        for index, update in enumerate(updates):
            wait = start + index / rate - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self.deliver(update)

    # --- webhook ------------------------------------------------------------------------

    async def use_webhook(self, targets: list[str], connections: int) -> None:
        """POST updates to the targets in turn, `connections` at a time."""
        self.targets = targets
        self.connections = connections
        self._http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connections * len(targets))
        )
        self._deliveries = asyncio.Queue()
        turn = itertools.cycle(targets)
        self._posters = [
            asyncio.get_running_loop().create_task(self._post_loop(turn))
            for _ in range(connections * len(targets))
        ]

    async def _post_loop(self, turn: Any) -> None:
        assert self._deliveries is not None and self._http is not None
        while True:
            update = await self._deliveries.get()
            target = next(turn)
            secret = self.webhook.get("secret_token") if self.webhook else None
            headers = {"X-Telegram-Bot-Api-Secret-Token": str(secret)} if secret else {}
            self._handed([update])
            for _attempt in range(3):
                try:
                    async with self._http.post(target, json=update, headers=headers) as response:
                        await response.read()
                        if response.status < 500:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)

    async def close_webhook(self) -> None:
        for task in self._posters:
            task.cancel()
        if self._http is not None:
            await self._http.close()

    def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        """Accept the registration; delivery goes to the targets given by the benchmark."""
        self.webhook = {k: v for k, v in params.items() if isinstance(v, str | int | bool)}
        return True

    # --- control ------------------------------------------------------------------------

    def results(self) -> dict[str, list[Any]]:
        return {str(k): v for k, v in self.pushed.items()}

    def stats(self) -> dict[str, Any]:
        return {
            "first_poll": self.first_poll,
            "first_webhook": self.first_webhook,
            "sent": self.sent,
            "refused": {str(k): v for k, v in self.refused.items()},
            "violations": len(self.violations),
            "violation_samples": self.violations[:5],
            "send_times": self._send_times,
        }

    def reset(self) -> None:
        self.pushed.clear()
        self.by_query.clear()
        self.waiting_text.clear()
        self.sent = 0
        self.refused.clear()
        self.violations.clear()
        self._send_times.clear()
        self._send_times_by_chat.clear()
        self.first_poll = None
        self.first_webhook = None


async def serve(args: argparse.Namespace) -> None:
    fake = BurstTelegram(latency=args.latency, enforce_limits=not args.no_limits)
    if args.no_limits:
        fake.global_limit = 10**9
    first, _, last = args.users.partition(":")
    for user_id in range(int(first), int(last or first)):
        fake.add_user(user_id, f"Member {user_id}")
    await fake.start()
    gc.freeze()  # the users live as long as the process: keep them out of the GC's scans

    async def push(request: web.Request) -> web.Response:
        body = await request.json()
        ids = await fake.push(body["updates"], float(body.get("rate") or 0))
        return web.json_response({"ids": ids})

    async def results(_request: web.Request) -> web.Response:
        return web.json_response(fake.results())

    async def stats(_request: web.Request) -> web.Response:
        return web.json_response(fake.stats())

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        await fake.use_webhook(list(body["targets"]), int(body.get("connections") or 40))
        return web.json_response({"ok": True})

    async def reset(_request: web.Request) -> web.Response:
        fake.reset()
        return web.json_response({"ok": True})

    control = web.Application(client_max_size=64 * 1024 * 1024)
    control.router.add_post("/push", push)
    control.router.add_get("/results", results)
    control.router.add_get("/stats", stats)
    control.router.add_post("/webhook", webhook)
    control.router.add_post("/reset", reset)
    runner = web.AppRunner(control, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    control_port = runner.addresses[0][1]
    print(
        json.dumps({"base_url": fake.base_url, "control_url": f"http://127.0.0.1:{control_port}"}),
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    await fake.close_webhook()
    await runner.cleanup()
    with contextlib.suppress(Exception):
        await fake.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--users", default="1:2", help="first:last (exclusive) user ids to create")
    ap.add_argument("--no-limits", action="store_true", help="do not enforce flood limits")
    asyncio.run(serve(ap.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
