"""The fake Bot API server in a process of its own, so benchmarks measure the bot, not it.

`python -m bench.fake_server --latency 0.1 --users 1000:11000` prints one JSON line with
its base URL and control URL, then serves until killed. Several processes can share one port
(SO_REUSEPORT, `--port`) to give the engine more server capacity than one Python process has;
each keeps its own records, and the benchmark adds up their `/stats`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import signal
import socket
import sys
import time
from collections import Counter
from typing import Any

from aiohttp import web

from bot.sandbox.telegram import SEND_METHODS, FakeTelegram


class BenchTelegram(FakeTelegram):
    """The fake, listening on a given (shareable) port and keeping only lean send records."""

    def __init__(self, *args: Any, port: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.port = port
        self.sent_to: Counter[int] = Counter()
        self.refused: Counter[int] = Counter()
        self.arrived: dict[int, float] = {}

    async def start(self) -> None:
        """Listen on 127.0.0.1:port with SO_REUSEPORT so sibling processes share the port."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_port=True, backlog=4096)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self.port}"

    def _record(self, method: str, params: dict[str, Any], started: float, **kw: Any) -> None:
        """Count instead of keeping every call: 100,000 sends must not swamp this process."""
        error = kw.get("error")
        if method in SEND_METHODS:
            chat = kw.get("chat_id")
            if error is None and chat is not None:
                self.sent_to[int(chat)] += 1
                self.arrived[int(chat)] = started
            elif error is not None:
                self.refused[error.status] += 1

    def _store_message(self, chat: Any, sender: Any, content: Any, **kw: Any) -> dict[str, Any]:
        """Number the message like Telegram but do not keep its body."""
        message_id = chat.next_message_id
        chat.next_message_id += 1
        return {
            "message_id": message_id,
            "from": sender,
            "chat": chat.obj,
            "date": self._now(),
            **content,
        }

    def stats(self) -> dict[str, Any]:
        """Sends per chat, refusals by status, limit violations and send times."""
        return {
            "sent_to": dict(self.sent_to),
            "refused": {str(k): v for k, v in self.refused.items()},
            "violations": len(self.violations),
            "violation_samples": self.violations[:5],
            "send_times": self._send_times,
            "cpu_seconds": time.process_time(),
        }


async def serve(args: argparse.Namespace) -> None:
    # Telegram's limits enforced: a send over them gets 429 (so "429s provoked" can fail).
    fake = BenchTelegram(latency=args.latency, port=args.port, enforce_limits=True)
    fake.global_limit = args.global_limit
    first, _, last = args.users.partition(":")
    for user_id in range(int(first), int(last or first)):
        fake.add_user(user_id, "Member")
    await fake.start()
    # The users made above live as long as the process: keep them out of the collector's
    # scans, so its pauses stay short and do not bunch requests up (Telegram has no GC).
    gc.freeze()

    async def stats(request: web.Request) -> web.Response:
        data = fake.stats()
        if request.query.get("by_chat"):
            data["by_chat"] = {str(k): v for k, v in fake._send_times_by_chat.items()}
            data["arrived"] = {str(k): v for k, v in fake.arrived.items()}
        return web.json_response(data)

    async def reset(_request: web.Request) -> web.Response:
        fake.sent_to.clear()
        fake.refused.clear()
        fake.violations.clear()
        fake._send_times.clear()
        fake._send_times_by_chat.clear()
        fake._global_window_q.clear()
        fake._last_private_send.clear()
        return web.json_response({"ok": True})

    control = web.Application()
    control.router.add_get("/stats", stats)
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
    await runner.cleanup()
    await fake.stop()


def free_port() -> int:
    """A port no one listens on now (the sibling servers then share it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--users", default="1:2", help="first:last (exclusive) user ids to create")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--global-limit", type=int, default=30)
    asyncio.run(serve(ap.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
