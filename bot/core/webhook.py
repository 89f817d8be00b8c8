"""Webhook mode: Telegram pushes updates to our aiohttp server instead of long polling."""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
from typing import Any

from aiogram import Bot
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.core.app import App
from bot.core.inbox import Inbox
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


class InboxRequestHandler(SecretRequestHandler):
    """Keep the update in the inbox (one committed INSERT), answer 200 at once, handle it in
    the background. Should the process die before the update's work is committed, the row
    stays and another process (or this one, restarted) handles it (bot.core.inbox). The
    same update sent again (Telegram not having seen our answer) is ignored."""

    def __init__(self, inbox: Inbox, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.inbox = inbox

    async def handle(self, request: web.Request) -> web.Response:
        bot = await self.resolve_bot(request)
        if not self.verify_secret(request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""), bot):
            return web.Response(body="Unauthorized", status=401)
        try:
            body = await request.json(loads=bot.session.json_loads)
            update_id = int(body["update_id"])
        except (ValueError, TypeError, KeyError):
            return web.Response(body="Bad Request", status=400)
        # An error here (the database away) answers 500: Telegram sends the update again.
        if await self.inbox.accept(body):
            self.inbox.dispatch(update_id, body)
        return web.json_response({}, dumps=bot.session.json_dumps)

    async def close(self) -> None:
        await self.inbox.stop()
        await super().close()


def create_web_app(app: App) -> web.Application:
    """An aiohttp application that feeds Telegram's POSTs to the dispatcher."""
    settings = app.settings
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    web_app = web.Application()
    inbox = Inbox(app)
    InboxRequestHandler(inbox, dispatcher=app.dp, bot=app.bot, secret_token=secret).register(
        web_app, path=settings.webhook_path
    )
    setup_application(web_app, app.dp, bot=app.bot)
    add_routes(web_app, app)

    async def register(_: web.Application) -> None:
        assert settings.webhook_url
        # Updates left in the inbox by a process that stopped are taken over from now on.
        inbox.start()
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
