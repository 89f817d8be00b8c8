"""`python -m bot sandbox`: the sandbox and its chat page on 127.0.0.1, until interrupted."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from pathlib import Path

from aiohttp import web

from bot.sandbox.run import Sandbox, SandboxEnv, refusal
from bot.sandbox.web import create_web_app


async def serve(host: str, port: int, data_dir: Path, *, prefix: str = "no BOT_TOKEN: ") -> int:
    """Run the sandbox and its page until interrupted (2 when the address is taken)."""
    sandbox = Sandbox(data_dir)
    runner = web.AppRunner(create_web_app(sandbox), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        print(
            f"error: the sandbox cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr
        )
        return 2
    await sandbox.start()
    bound_host, bound_port = runner.addresses[0][:2]
    print(
        f"{prefix}local sandbox at http://{bound_host}:{bound_port}, nothing is sent to Telegram",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        await sandbox.stop()
    return 0


def main(host: str | None = None, port: int | None = None) -> int:
    """`python -m bot sandbox`: refuse beside a real bot, else serve (exit 2 when refused)."""
    env = SandboxEnv()
    reason = refusal(env)
    if reason is not None:
        print(reason, file=sys.stderr)
        return 2
    return asyncio.run(
        serve(
            host or env.sandbox_host,
            env.sandbox_port if port is None else port,
            env.data_dir,
            prefix="" if env.bot_token else "no BOT_TOKEN: ",
        )
    )
