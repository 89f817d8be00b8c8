"""The chat page's JSON API and static files: people, chats, messages, taps, clock, reset."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField

from bot.core import geo
from bot.core.config import SUPPORTED_LOCALES
from bot.sandbox.run import Sandbox
from bot.sandbox.telegram import entities_to_html

STATIC = Path(__file__).resolve().parent / "static"
SANDBOX_KEY = web.AppKey("sandbox", Sandbox)
MAX_TEXT = 4096
MAX_NAME = 64
MAX_HOURS = 24 * 366
MAX_FILE = 20 * 1024 * 1024  # what a bot may download from Telegram
JOINED = ("member", "administrator", "creator", "restricted")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def create_web_app(sandbox: Sandbox) -> web.Application:
    """The page's routes; the sandbox object is looked up on each request (reset replaces
    the stand-in and the bot inside it)."""
    app = web.Application(client_max_size=25 * 1024 * 1024)
    app[SANDBOX_KEY] = sandbox
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC)
    app.router.add_get("/api/state", state)
    app.router.add_post("/api/people", create_person)
    app.router.add_get("/api/chats", chats)
    app.router.add_get("/api/messages", messages)
    app.router.add_post("/api/send", send)
    app.router.add_post("/api/upload", upload)
    app.router.add_post("/api/press", press)
    app.router.add_get("/api/answer", answer)
    app.router.add_post("/api/join", join)
    app.router.add_get("/api/file/{file_id}", download)
    app.router.add_post("/api/clock", clock)
    app.router.add_post("/api/next", next_event)
    app.router.add_post("/api/reset", reset)
    return app


def bad_input(handler: Handler) -> Handler:
    """A missing or malformed field is a 400 with the reason, never a 500."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except (KeyError, ValueError, TypeError) as exc:
            return web.json_response({"ok": False, "error": f"bad request: {exc}"}, status=400)

    return wrapped


def _sandbox(request: web.Request) -> Sandbox:
    return request.app[SANDBOX_KEY]


def _int(value: Any, low: int = -(2**52), high: int = 2**52) -> int:
    """An integer within bounds (ids in the page are never larger)."""
    number = int(value)
    if not low <= number <= high:
        raise ValueError(f"{number} is out of range")
    return number


async def _body(request: web.Request) -> dict[str, Any]:
    data = await request.json()
    if not isinstance(data, dict):
        raise ValueError("a JSON object is expected")
    return data


def _person_id(sandbox: Sandbox, value: Any) -> int:
    user_id = _int(value)
    if all(p.user_id != user_id for p in sandbox.people):
        raise ValueError(f"no person {user_id}")
    return user_id


def _chat_of(sandbox: Sandbox, user_id: int, value: Any) -> int:
    """The chat, which must be this person's private chat or a group they are in."""
    chat_id = _int(value)
    if chat_id == user_id:
        return chat_id
    chat = sandbox.fake._chats.get(chat_id)
    if chat is None or chat.type == "private" or chat.members.get(user_id) not in JOINED:
        raise ValueError(f"person {user_id} is not in chat {chat_id}")
    return chat_id


async def index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "index.html")


async def state(request: web.Request) -> web.Response:
    """Who can be chosen, the languages, and the bot's time."""
    sandbox = _sandbox(request)
    return web.json_response(
        {
            "people": [p.to_json() for p in sandbox.people],
            "locales": list(SUPPORTED_LOCALES),
            "now": sandbox.clock.now().isoformat(timespec="seconds"),
        }
    )


@bad_input
async def create_person(request: web.Request) -> web.Response:
    """A new person (name, language, country); their zone is the country's first."""
    data = await _body(request)
    name = str(data["name"]).strip()[:MAX_NAME]
    locale = str(data["locale"])
    country = str(data["country"]).strip().upper()
    if not name or locale not in SUPPORTED_LOCALES:
        raise ValueError("a name and a shipped language are needed")
    zones = geo.timezones_for(country) if country in geo.country_codes() else []
    if not zones:
        raise ValueError(f"unknown country {country!r}")
    person = _sandbox(request).add_person(name, locale, country, zones[0])
    return web.json_response(person.to_json())


@bad_input
async def chats(request: web.Request) -> web.Response:
    """The person's private chat with the bot and the groups they are in."""
    sandbox = _sandbox(request)
    user_id = _person_id(sandbox, request.query["user"])
    found = [{"id": user_id, "title": sandbox.fake.bot_user["first_name"], "type": "private"}]
    for chat in sandbox.fake._chats.values():
        if chat.type != "private" and chat.members.get(user_id) in JOINED:
            found.append({"id": chat.id, "title": chat.obj.get("title", ""), "type": chat.type})
    return web.json_response(found)


def message_json(record: dict[str, Any]) -> dict[str, Any]:
    """A stored message as the page draws it: HTML of the text, buttons, files."""
    text = record.get("text")
    entities = record.get("entities")
    if text is None:
        text, entities = record.get("caption"), record.get("caption_entities")
    out: dict[str, Any] = {
        "id": record["message_id"],
        "version": record.get("_version", 0),
        "from_bot": bool(record.get("_from_bot")),
        "sender": record.get("from", {}).get("first_name", ""),
        "date": record.get("date"),
        "html": entities_to_html(str(text), entities) if text else "",
    }
    markup = record.get("reply_markup") or {}
    if markup.get("inline_keyboard"):
        out["buttons"] = [
            [{k: b[k] for k in ("text", "callback_data", "url") if k in b} for b in row]
            for row in markup["inline_keyboard"]
        ]
    if "document" in record:
        doc = record["document"]
        out["file"] = {
            "id": doc["file_id"],
            "name": doc.get("file_name", "file"),
            "mime": doc.get("mime_type", ""),
        }
    elif "photo" in record:
        out["file"] = {
            "id": record["photo"][-1]["file_id"],
            "name": "photo.jpg",
            "mime": "image/jpeg",
        }
    elif "voice" in record:
        out["file"] = {"id": record["voice"]["file_id"], "name": "voice.ogg", "mime": "audio/ogg"}
    return out


@bad_input
async def messages(request: web.Request) -> web.Response:
    """Every message of a chat as it is now (the page redraws what changed)."""
    sandbox = _sandbox(request)
    user_id = _person_id(sandbox, request.query["user"])
    chat_id = _chat_of(sandbox, user_id, request.query["chat"])
    records = sandbox.fake.all_messages(chat_id)
    sandbox.scan_keyboards()
    return web.json_response(
        {
            "messages": [message_json(r) for r in records[-300:]],
            "keyboard": sandbox.keyboards.get(chat_id),
            "now": sandbox.clock.now().isoformat(timespec="seconds"),
        }
    )


@bad_input
async def send(request: web.Request) -> web.Response:
    """The person writes in a chat (text or a command), as a Telegram user would."""
    sandbox = _sandbox(request)
    data = await _body(request)
    user_id = _person_id(sandbox, data["user"])
    chat_id = _chat_of(sandbox, user_id, data.get("chat", user_id))
    text = str(data["text"])
    if not text.strip() or len(text) > MAX_TEXT:
        raise ValueError("text must be 1 to 4096 characters")
    update = sandbox.fake.user_sends(user_id, text, chat_id=chat_id)
    return web.json_response({"ok": True, "message_id": update["message"]["message_id"]})


@bad_input
async def upload(request: web.Request) -> web.Response:
    """The person sends a file: audio as a voice note, anything else as a document."""
    sandbox = _sandbox(request)
    form = await request.post()
    user_id = _person_id(sandbox, form["user"])
    chat_id = _chat_of(sandbox, user_id, form.get("chat", user_id))
    sent = form["file"]
    if not isinstance(sent, FileField):
        raise ValueError("a file is expected")
    data = sent.file.read(MAX_FILE + 1)
    if not data or len(data) > MAX_FILE:
        raise ValueError("the file must be 1 byte to 20 MB")
    caption = str(form.get("caption") or "").strip() or None
    if (sent.content_type or "").startswith("audio/"):
        update = sandbox.fake.user_sends(user_id, caption, chat_id=chat_id, voice=True)
        sandbox.fake.files[update["message"]["voice"]["file_id"]].data = data
    else:
        name = (sent.filename or "file").rsplit("/", 1)[-1][:128]
        update = sandbox.fake.user_sends(
            user_id, caption, chat_id=chat_id, document=data, file_name=name
        )
    return web.json_response({"ok": True, "message_id": update["message"]["message_id"]})


@bad_input
async def press(request: web.Request) -> web.Response:
    """The person taps an inline button of a message in their chat."""
    sandbox = _sandbox(request)
    data = await _body(request)
    user_id = _person_id(sandbox, data["user"])
    chat_id = _chat_of(sandbox, user_id, data.get("chat", user_id))
    message = next(
        (
            m
            for m in sandbox.fake.all_messages(chat_id)
            if m["message_id"] == _int(data["message_id"])
        ),
        None,
    )
    if message is None:
        raise ValueError("no such message")
    callback = str(data["data"])
    update = sandbox.fake.user_presses(user_id, message, callback)
    return web.json_response({"ok": True, "query_id": update["callback_query"]["id"]})


@bad_input
async def join(request: web.Request) -> web.Response:
    """The person opens an invite link the bot gave: they join the chat, or ask to join when
    the link creates join requests (the bot then approves or declines, as in Telegram)."""
    sandbox = _sandbox(request)
    data = await _body(request)
    user_id = _person_id(sandbox, data["user"])
    link = str(data["link"])
    chat = next((c for c in sandbox.fake._chats.values() if link in c.invite_links), None)
    if chat is None:
        raise ValueError("this invite link is not valid")
    try:
        if chat.invite_links[link].get("creates_join_request"):
            sandbox.fake.chat_join_request(chat.id, user_id, link)
            return web.json_response({"ok": True, "chat": chat.id, "requested": True})
        sandbox.fake.user_joins(chat.id, user_id, link)
    except AssertionError as refused:  # expired, revoked, used up, banned
        raise ValueError(str(refused)) from None
    return web.json_response({"ok": True, "chat": chat.id, "requested": False})


@bad_input
async def answer(request: web.Request) -> web.Response:
    """What the bot answered to a tap (a toast or an alert), once it has."""
    query_id = str(request.query["id"])
    for params in reversed(_sandbox(request).fake.callback_answers()):
        if str(params.get("callback_query_id")) == query_id:
            return web.json_response(
                {
                    "answered": True,
                    "text": params.get("text") or "",
                    "alert": bool(params.get("show_alert")),
                }
            )
    return web.json_response({"answered": False})


async def download(request: web.Request) -> web.StreamResponse:
    """A file the bot sent: images shown inline, the rest downloaded under their name."""
    stored = _sandbox(request).fake.files.get(request.match_info["file_id"])
    if stored is None:
        raise web.HTTPNotFound()
    mime = stored.mime_type or "application/octet-stream"
    headers = {}
    if not mime.startswith(("image/", "audio/")):
        name = (stored.file_name or "file").replace('"', "")
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return web.Response(body=stored.data, content_type=mime, headers=headers)


@bad_input
async def clock(request: web.Request) -> web.Response:
    """Move the bot's time forward: reminders, closings and escalations follow."""
    sandbox = _sandbox(request)
    data = await _body(request)
    hours = _int(data["hours"], 1, MAX_HOURS)
    sandbox.advance(timedelta(hours=hours))
    return web.json_response({"now": sandbox.clock.now().isoformat(timespec="seconds")})


async def next_event(request: web.Request) -> web.Response:
    """Jump to the next scheduled event (the page's "next event" button)."""
    sandbox = _sandbox(request)
    kind = await sandbox.to_next_event()
    return web.json_response(
        {"kind": kind, "now": sandbox.clock.now().isoformat(timespec="seconds")}
    )


async def reset(request: web.Request) -> web.Response:
    """Start over with the ready-made content."""
    sandbox = _sandbox(request)
    await sandbox.reset()
    return web.json_response({"ok": True})
