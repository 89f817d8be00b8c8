"""The yardstick: a bare aiogram bot (no store, no middlewares) that answers like ours does.

A text message gets one message back; a tap gets its callback answered and the tapped
message edited, the same Bot API calls the real bot makes for a command and for a button
that shows a screen. `python -m bench.echo_bot` reads BOT_TOKEN and TELEGRAM_API_URL.
"""

from __future__ import annotations

import asyncio
import os
import sys

from aiogram import Bot, Dispatcher, F
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import CallbackQuery, Message


def dispatcher() -> Dispatcher:
    dp = Dispatcher()

    @dp.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    @dp.callback_query()
    async def tap(call: CallbackQuery) -> None:
        await call.answer()
        if isinstance(call.message, Message):
            await call.message.edit_text(f"You pressed {call.data}")

    return dp


async def main() -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"]))
    bot = Bot(
        os.environ["BOT_TOKEN"],
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    await dispatcher().start_polling(bot, handle_signals=True)


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
