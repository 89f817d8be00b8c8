"""Webhook mode: Telegram pushes updates to our aiohttp server instead of long polling."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.core.app import App

log = logging.getLogger(__name__)


def create_web_app(app: App) -> web.Application:
    """An aiohttp application that feeds Telegram's POSTs to the dispatcher."""
    settings = app.settings
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    web_app = web.Application()
    SimpleRequestHandler(dispatcher=app.dp, bot=app.bot, secret_token=secret).register(
        web_app, path=settings.webhook_path
    )
    setup_application(web_app, app.dp, bot=app.bot)

    async def register(_: web.Application) -> None:
        assert settings.webhook_url
        await app.bot.set_webhook(
            settings.webhook_url.rstrip("/") + settings.webhook_path,
            secret_token=secret,
            allowed_updates=app.dp.resolve_used_update_types(),
        )

    web_app.on_startup.append(register)
    return web_app


async def run_webhook(app: App) -> None:
    """Serve the webhook until cancelled (Ctrl-C or SIGTERM)."""
    runner = web.AppRunner(create_web_app(app))
    await runner.setup()
    site = web.TCPSite(runner, app.settings.webhook_host, app.settings.webhook_port)
    await site.start()
    log.debug("webhook listening on %s:%s", app.settings.webhook_host, app.settings.webhook_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        await app.close()
