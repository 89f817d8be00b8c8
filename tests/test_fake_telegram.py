"""The fake Bot API server answers a real aiogram Bot the way Telegram does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
)

from bot.sandbox.telegram import (
    DEFAULT_API_SPEC,
    FakeTelegram,
    load_api_spec,
    parse_html,
    utf16_len,
)
from tests.botclient import BotClient

USER = 1001
GROUP = -1001234567890


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    """A fresh fake server with one user who started the bot."""
    async with FakeTelegram() as fake:
        fake.add_user(USER, "Ana", username="ana_example")
        yield fake


class QuickCloseSession(AiohttpSession):
    """aiogram sleeps 250 ms on close for TLS shutdown; plain HTTP to 127.0.0.1 needs none."""

    async def close(self) -> None:
        """Close the aiohttp session without the grace sleep."""
        if self._session is not None and not self._session.closed:
            await self._session.close()


@pytest.fixture
async def tg_bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    """A real aiogram Bot pointed at the fake server."""
    bot = Bot(tg.token, session=QuickCloseSession(api=TelegramAPIServer.from_base(tg.base_url)))
    yield bot
    await bot.session.close()


def keyboard(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    """One row of inline buttons."""
    return InlineKeyboardMarkup(inline_keyboard=[list(buttons)])


async def raw_post(tg: FakeTelegram, method: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    """A request without aiogram, to exercise the HTTP layer directly."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{tg.base_url}/bot{tg.token}/{method}", **kwargs) as response,
    ):
        return response.status, await response.json()


# --- messages --------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_send_message_returns_a_real_message(tg: FakeTelegram, tg_bot: Bot) -> None:
    first = await tg_bot.send_message(USER, "<b>Hi</b> 👋 <i>Ana</i> &lt;3", parse_mode="HTML")
    second = await tg_bot.send_message(USER, "again")
    assert isinstance(first, Message)
    assert first.chat.id == USER and first.chat.type == "private"
    assert first.from_user is not None and first.from_user.is_bot
    assert first.text == "Hi 👋 Ana <3"
    assert [(e.type, e.offset, e.length) for e in first.entities or []] == [
        ("bold", 0, 2),
        ("italic", 6, 3),  # the emoji takes two UTF-16 code units
    ]
    assert second.message_id == first.message_id + 1
    stored = tg.last_message(USER)
    assert stored is not None and stored["text"] == "again"
    assert tg.messages(USER)[0]["_html"] == "<b>Hi</b> 👋 <i>Ana</i> &lt;3"


@pytest.mark.asyncio
async def test_text_limits_count_utf16_after_parsing(tg_bot: Bot) -> None:
    await tg_bot.send_message(USER, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    await tg_bot.send_message(USER, "😀" * 2048)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await tg_bot.send_message(USER, "😀" * 2048 + "a")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await tg_bot.send_message(USER, "<b> </b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await tg_bot.send_document(
            USER, BufferedInputFile(b"x", "a.txt"), caption="c" * 1025, parse_mode=None
        )


@pytest.mark.asyncio
async def test_callback_data_over_64_bytes_is_refused(tg_bot: Bot) -> None:
    ok = keyboard(InlineKeyboardButton(text="ok", callback_data="x" * 64))
    await tg_bot.send_message(USER, "fits", reply_markup=ok)
    for data in ("x" * 65, "é" * 33):
        markup = keyboard(InlineKeyboardButton(text="no", callback_data=data))
        with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
            await tg_bot.send_message(USER, "too long", reply_markup=markup)
    many = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=str(i), callback_data=str(i)) for i in range(row, row + 8)]
            for row in range(0, 104, 8)
        ]
    )
    with pytest.raises(TelegramBadRequest, match="reply markup is too long"):
        await tg_bot.send_message(USER, "many", reply_markup=many)
    with pytest.raises(TelegramBadRequest, match="Text buttons are unallowed"):
        await tg_bot.send_message(
            USER, "bare", reply_markup=keyboard(InlineKeyboardButton(text="nothing"))
        )


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "text",
    ["<b>open", "<br>line", "1 < 2", "Tom & Jerry", "<b>x</i>", '<span class="x">s</span>'],
)
async def test_malformed_html_is_refused(tg_bot: Bot, text: str) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await tg_bot.send_message(USER, text, parse_mode="HTML")


def test_html_parser_matches_telegram() -> None:
    text, entities = parse_html(
        '<a href="https://example.org/?a=1&b=2">link</a> &#x27;q&#39; '
        '<pre><code class="language-python">x = 1</code></pre>'
        "<blockquote expandable>quote</blockquote> <tg-spoiler>s</tg-spoiler>"
    )
    assert text == "link 'q' x = 1quote s"
    assert entities == [
        {"type": "text_link", "offset": 0, "length": 4, "url": "https://example.org/?a=1&b=2"},
        {"type": "pre", "offset": 9, "length": 5, "language": "python"},
        {"type": "expandable_blockquote", "offset": 14, "length": 5},
        {"type": "spoiler", "offset": 20, "length": 1},
    ]
    assert utf16_len("a😀") == 3


@pytest.mark.asyncio
async def test_markdown_v2_reserved_characters(tg_bot: Bot) -> None:
    sent = await tg_bot.send_message(USER, "*bold* and \\.", parse_mode="MarkdownV2")
    assert sent.text == "bold and ."
    with pytest.raises(TelegramBadRequest, match="reserved and must be escaped"):
        await tg_bot.send_message(USER, "end.", parse_mode="MarkdownV2")


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_blocked_and_deactivated_users_are_forbidden(tg: FakeTelegram, tg_bot: Bot) -> None:
    tg.block(USER)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await tg_bot.send_message(USER, "hello?")
    tg.unblock(USER)
    await tg_bot.send_message(USER, "hello again")
    tg.deactivate(USER)
    with pytest.raises(TelegramForbiddenError, match="user is deactivated"):
        await tg_bot.send_message(USER, "gone?")


@pytest.mark.asyncio
async def test_injected_429_and_failures(tg: FakeTelegram, tg_bot: Bot) -> None:
    tg.inject_429(count=1, retry_after=3)
    with pytest.raises(TelegramRetryAfter) as caught:
        await tg_bot.send_message(USER, "flood")
    assert caught.value.retry_after == 3
    assert tg.calls[-1].status == 429
    await tg_bot.send_message(USER, "fine now")
    tg.fail_next(1)
    with pytest.raises(TelegramServerError):
        await tg_bot.get_me()
    assert (await tg_bot.get_me()).username == "participation_bot"


@pytest.mark.asyncio
async def test_unknown_chat_is_not_found(tg_bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await tg_bot.send_message(999_999, "anyone?")


@pytest.mark.asyncio
async def test_http_layer(tg: FakeTelegram) -> None:
    status, body = await raw_post(tg, "sendMessage", data={"text": "no chat"})
    assert (status, body["description"]) == (400, "Bad Request: chat_id is empty")
    status, body = await raw_post(tg, "sendMessage", data={"chat_id": str(USER)})
    assert body["description"] == "Bad Request: message text is empty"
    status, body = await raw_post(tg, "SENDMESSAGE", json={"chat_id": USER, "text": "json"})
    assert status == 200 and body["result"]["text"] == "json"
    status, body = await raw_post(tg, "noSuchMethod", data={})
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{tg.base_url}/bot1:wrong/getMe") as response,
    ):
        assert response.status == 401
        assert (await response.json())["description"] == "Unauthorized"
    status, body = await raw_post(
        tg, "sendMessage", data={"chat_id": str(USER), "text": "x", "brand_new_param": "1"}
    )
    assert status == 200
    assert any("brand_new_param" in warning for warning in tg.warnings)


def test_every_implemented_method_exists_in_api_json() -> None:
    methods = load_api_spec(DEFAULT_API_SPEC)["methods"]
    assert set(FakeTelegram.IMPLEMENTED) <= set(methods)


# --- edits, callbacks, files -----------------------------------------------------------------


@pytest.mark.asyncio
async def test_edit_and_delete_keep_state(tg: FakeTelegram, tg_bot: Bot) -> None:
    sent = await tg_bot.send_message(
        USER, "v1", reply_markup=keyboard(InlineKeyboardButton(text="a", callback_data="a"))
    )
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await tg_bot.edit_message_text(
            text="v1",
            chat_id=USER,
            message_id=sent.message_id,
            reply_markup=keyboard(InlineKeyboardButton(text="a", callback_data="a")),
        )
    await tg_bot.edit_message_text(text="v2", chat_id=USER, message_id=sent.message_id)
    current = tg.last_message(USER)
    assert current is not None and current["text"] == "v2" and "reply_markup" not in current
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await tg_bot.edit_message_text(text="x", chat_id=USER, message_id=9999)
    await tg_bot.delete_message(USER, sent.message_id)
    assert tg.messages(USER) == []
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await tg_bot.delete_message(USER, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await tg_bot.send_message(USER, "re", reply_parameters=ReplyParameters(message_id=777))


@pytest.mark.asyncio
async def test_callback_answers(tg: FakeTelegram, tg_bot: Bot) -> None:
    sent = await tg_bot.send_message(
        USER, "pick", reply_markup=keyboard(InlineKeyboardButton(text="a", callback_data="a"))
    )
    update = tg.user_presses(USER, tg.messages(USER)[0], "a")
    query_id = update["callback_query"]["id"]
    assert update["callback_query"]["message"]["message_id"] == sent.message_id
    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await tg_bot.answer_callback_query(query_id, text="x" * 201)
    await tg_bot.answer_callback_query(query_id, text="done")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await tg_bot.answer_callback_query(query_id)
    assert tg.callback_answers() == [{"callback_query_id": query_id, "text": "done"}]


@pytest.mark.asyncio
async def test_multipart_document_keeps_bytes(tg: FakeTelegram, tg_bot: Bot) -> None:
    payload = bytes(range(256)) * 4
    sent = await tg_bot.send_document(
        USER, BufferedInputFile(payload, "report.csv"), caption="<b>CSV</b>", parse_mode="HTML"
    )
    assert sent.document is not None and sent.document.file_name == "report.csv"
    assert sent.document.file_size == len(payload) and sent.caption == "CSV"
    stored = tg.last_message(USER)
    assert stored is not None and stored["_file"].data == payload
    assert tg.uploads[-1].filename == "report.csv" and tg.uploads[-1].data == payload
    downloaded = await tg_bot.download(sent.document.file_id)
    assert downloaded is not None and downloaded.read() == payload
    again = await tg_bot.send_document(USER, sent.document.file_id)
    assert again.document is not None and again.document.file_id == sent.document.file_id


# --- updates ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_get_updates_long_poll_offset_and_timeout(tg: FakeTelegram, tg_bot: Bot) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(tg_bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    pushed = tg.user_sends(USER, "/start")
    updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 1
    assert [u.update_id for u in updates] == [pushed["update_id"]]
    message = updates[0].message
    assert message is not None and message.text == "/start"
    assert [(e.type, e.offset, e.length) for e in message.entities or []] == [
        ("bot_command", 0, 6)
    ]
    # Not confirmed yet: delivered again; confirmed by offset: gone for good.
    assert len(await tg_bot.get_updates()) == 1
    assert await tg_bot.get_updates(offset=pushed["update_id"] + 1) == []
    assert await tg_bot.get_updates() == []
    started = time.monotonic()
    assert await tg_bot.get_updates(timeout=1) == []
    assert 0.9 < time.monotonic() - started < 2


@pytest.mark.asyncio
async def test_allowed_updates_filter(tg: FakeTelegram, tg_bot: Bot) -> None:
    tg.add_group(GROUP, "Local group")
    tg.chat_join_request(GROUP, USER)
    tg.user_sends(USER, "hi")
    updates = await tg_bot.get_updates(allowed_updates=["message"])
    assert [u.message is not None for u in updates] == [True]


# --- groups ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_invite_links_join_requests_and_bans(tg: FakeTelegram, tg_bot: Bot) -> None:
    tg.add_group(GROUP, "Local group")
    with pytest.raises(TelegramBadRequest, match="not enough rights"):
        await tg_bot.create_chat_invite_link(GROUP, member_limit=1)
    tg.set_bot_admin(GROUP)
    first = await tg_bot.create_chat_invite_link(GROUP, creates_join_request=True)
    second = await tg_bot.create_chat_invite_link(GROUP, member_limit=1)
    assert first.invite_link.startswith("https://t.me/+")
    assert first.invite_link != second.invite_link and second.member_limit == 1
    tg.chat_join_request(GROUP, USER, first.model_dump())
    with pytest.raises(TelegramBadRequest, match="HIDE_REQUESTER_MISSING"):
        await tg_bot.approve_chat_join_request(GROUP, 4242)
    assert await tg_bot.approve_chat_join_request(GROUP, USER)
    assert tg.chat_members(GROUP) == {USER: "member"}
    member = await tg_bot.get_chat_member(GROUP, USER)
    assert member.status == "member"
    assert await tg_bot.ban_chat_member(GROUP, USER)
    assert tg.chat_members(GROUP)[USER] == "kicked"
    assert await tg_bot.unban_chat_member(GROUP, USER, only_if_banned=True)
    assert tg.chat_members(GROUP)[USER] == "left"
    revoked = await tg_bot.revoke_chat_invite_link(GROUP, second.invite_link)
    assert revoked.is_revoked


@pytest.mark.asyncio
async def test_commands_and_descriptions(tg: FakeTelegram, tg_bot: Bot) -> None:
    await tg_bot.set_my_commands([BotCommand(command="start", description="Start")])
    await tg_bot.set_my_commands(
        [BotCommand(command="inicio", description="Empezar")], language_code="es"
    )
    assert tg.commands[("default", None)] == [{"command": "start", "description": "Start"}]
    assert [c.command for c in await tg_bot.get_my_commands(language_code="es")] == ["inicio"]
    with pytest.raises(TelegramBadRequest):
        await tg_bot.set_my_commands([BotCommand(command="Bad-Name", description="x")])
    with pytest.raises(TelegramBadRequest):
        await tg_bot.set_my_commands([BotCommand(command="ok", description="d" * 257)])
    await tg_bot.set_my_description("A bot", language_code="en")
    await tg_bot.set_my_short_description("Short")
    assert tg.descriptions == {"en": "A bot"} and tg.short_descriptions == {None: "Short"}
    assert (await tg_bot.get_my_description(language_code="en")).description == "A bot"


# --- rate limits -----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_global_limit_31_sends_in_a_second(tg: FakeTelegram, tg_bot: Bot) -> None:
    for user_id in range(2000, 2031):
        tg.add_user(user_id, "U")
    await asyncio.gather(*(tg_bot.send_message(u, "news") for u in range(2000, 2031)))
    assert len(tg.violations) == 1 and tg.violations[0].startswith("global")
    assert tg.max_sends_in_window(1.0) == 31


@pytest.mark.asyncio
async def test_private_chat_limit(tg: FakeTelegram, tg_bot: Bot) -> None:
    await tg_bot.send_message(USER, "one")
    await asyncio.sleep(0.1)
    await tg_bot.send_message(USER, "two")
    assert len(tg.violations) == 1 and tg.violations[0].startswith(f"private chat {USER}")
    tg.violations.clear()
    await asyncio.sleep(1.05)
    await tg_bot.send_message(USER, "three")
    assert tg.violations == []


@pytest.mark.asyncio
async def test_group_limit_and_enforcement(tg: FakeTelegram, tg_bot: Bot) -> None:
    tg.add_group(GROUP, "Local group")
    tg.group_window = 0.5  # 20 per window, shrunk from a minute to keep the test fast
    for _ in range(20):
        await tg_bot.send_message(GROUP, "post")
    assert tg.violations == []
    tg.enforce_limits = True
    with pytest.raises(TelegramRetryAfter) as caught:
        await tg_bot.send_message(GROUP, "one too many")
    assert caught.value.retry_after == 1
    assert len(tg.violations) == 1 and tg.violations[0].startswith(f"group chat {GROUP}")
    assert len(tg.messages(GROUP)) == 20


# --- BotClient -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_bot_client_round_trip(tg: FakeTelegram, tg_bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer(
            "<b>Welcome</b>",
            reply_markup=keyboard(
                InlineKeyboardButton(text="Continue ▶", callback_data="go"),
                InlineKeyboardButton(text="Help", url="https://example.org/help"),
            ),
        )

    @dp.callback_query(F.data == "go")
    async def go(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.message.edit_text("Done")
        await query.answer("ok")

    @dp.callback_query()
    async def other(query: CallbackQuery) -> None:
        await query.answer("unknown button", show_alert=True)

    tg_bot.default = DefaultBotProperties(parse_mode="HTML")
    polling = asyncio.create_task(
        dp.start_polling(tg_bot, handle_signals=False, close_bot_session=False, polling_timeout=1)
    )
    try:
        ana = BotClient(tg, 3001, "Ana")
        ana.quiet = 0.1
        shown = await ana.send("/start")
        assert [m["text"] for m in shown] == ["Welcome"]
        assert ana.buttons() == ["Continue ▶", "Help"]
        with pytest.raises(AssertionError, match="available"):
            await ana.click("Nope")
        edited = await ana.click("Continue")
        assert [m["text"] for m in edited] == ["Done"]
        assert ana.callback_answer() == {
            "callback_query_id": ana._query_ids[-1],
            "text": "ok",
        }
        await ana.press_data("forged", message=ana.last())
        answer = ana.callback_answer()
        assert answer is not None and answer["show_alert"] is True
        assert ana.texts() == ["Done"]
    finally:
        await dp.stop_polling()
        await polling
