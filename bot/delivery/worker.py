"""`python -m bot worker`: the delivery engine and the scheduler without polling, for scale."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from bot.core.app import App

log = logging.getLogger(__name__)


async def run_worker(app: App) -> None:
    """Start the services, wait for SIGTERM or SIGINT, then stop them gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    started = []
    try:
        for service in app.services:
            await service.start()
            started.append(service)
        log.debug("worker running %d services; SIGTERM stops it gracefully", len(started))
        await stop.wait()
    finally:
        for service in reversed(started):
            await service.stop()
        await app.close()
