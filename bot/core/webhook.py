"""Webhook mode: Telegram pushes updates to our aiohttp server instead of long polling."""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal

from aiogram import Bot
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.core.app import App
from bot.core.observe import add_routes

log = logging.getLogger(__name__)


class SecretRequestHandler(SimpleRequestHandler):
    """aiogram's handler, comparing the secret header as bytes: a non-ASCII header made the
    string comparison raise (a 500); now it is just a wrong secret (401)."""

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        if not self.secret_token:
            return True
        given = telegram_secret_token.encode("utf-8", "surrogateescape")
        return secrets.compare_digest(given, self.secret_token.encode())


def create_web_app(app: App) -> web.Application:
    """An aiohttp application that feeds Telegram's POSTs to the dispatcher."""
    settings = app.settings
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    web_app = web.Application()
    # Answer Telegram only once the update is handled and committed: a process killed
    # mid-update leaves Telegram without an answer, so it sends the update again (to another
    # process behind the proxy) instead of losing it.
    SecretRequestHandler(
        dispatcher=app.dp, bot=app.bot, secret_token=secret, handle_in_background=False
    ).register(web_app, path=settings.webhook_path)
    setup_application(web_app, app.dp, bot=app.bot)
    add_routes(web_app, app)

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
