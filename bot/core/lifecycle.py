"""What happens when the dispatcher starts and stops: menus, admins, background services."""

from __future__ import annotations

import gc
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand
from sqlalchemy import update

from bot.core.app import App
from bot.core.commands import BOT_DESCRIPTION, BOT_SHORT_DESCRIPTION, MEMBER_COMMANDS
from bot.core.config import SUPPORTED_LOCALES
from models.member import Member, MemberStatus, Role

log = logging.getLogger(__name__)


async def publish_menus(app: App) -> None:
    """Set the command menu and descriptions in every shipped language."""
    bot, i18n = app.bot, app.i18n
    for locale in (None, *SUPPORTED_LOCALES):
        loc = locale or app.settings.default_locale
        commands = [
            BotCommand(command=name, description=i18n.gettext(text, locale=loc).lstrip("\u200f"))
            for name, text in MEMBER_COMMANDS
        ]
        await bot.set_my_commands(commands, language_code=locale)
        await bot.set_my_description(
            i18n.gettext(BOT_DESCRIPTION, locale=loc), language_code=locale
        )
        await bot.set_my_short_description(
            i18n.gettext(BOT_SHORT_DESCRIPTION, locale=loc), language_code=locale
        )


async def bootstrap_admins(app: App) -> None:
    """Members listed in ADMIN_IDS are admins (and approved) whenever the bot starts."""
    if not app.settings.admin_ids:
        return
    async with app.sessionmaker() as session, session.begin():
        await session.execute(
            update(Member)
            .where(Member.telegram_id.in_(app.settings.admin_ids))
            .values(role=Role.ADMIN)
        )
        await session.execute(
            update(Member)
            .where(
                Member.telegram_id.in_(app.settings.admin_ids),
                Member.status == MemberStatus.PENDING,
            )
            .values(status=MemberStatus.ACTIVE)
        )


def settle_memory() -> None:
    """After start-up: what is loaded now (aiogram's types, the ORM, the catalogues) lives as
    long as the process, so move it out of the collector's reach and collect less often.
    Full collections then scan only what updates create, and pause the bot far less."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])


GC_THRESHOLD = 5_000  # allocations between young collections (Python's default: 700)


def register_lifecycle(app: App) -> None:
    """Hook start-up and shut-down work onto the dispatcher."""

    async def on_startup(bot: Bot) -> None:
        await bootstrap_admins(app)
        try:
            await publish_menus(app)
        except TelegramAPIError as exc:
            log.warning("could not publish command menus: %s", exc)
        for service in app.services:
            await service.start()
        settle_memory()

    async def on_shutdown(bot: Bot) -> None:
        for service in reversed(app.services):
            await service.stop()

    app.dp.startup.register(on_startup)
    app.dp.shutdown.register(on_shutdown)
