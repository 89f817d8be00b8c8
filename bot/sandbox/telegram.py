"""A fake Telegram Bot API server that answers like Telegram does, for end-to-end bot tests.

It speaks HTTP on 127.0.0.1 so the real aiogram session (and a bot in a child process) talks
to it exactly as to api.telegram.org; every parameter is checked against the published
api.json, state (chats, messages, members, invite links, commands) is kept, and Telegram's
refusals and rate limits are reproduced with Telegram's own descriptions.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import functools
import html
import json
import os
import re
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField

# The Bot API definition (MIT, see the LICENSE and README beside it), shipped with the tests.
DEFAULT_API_SPEC = os.environ.get(
    "TELEGRAM_BOT_API_SPEC",
    str(Path(__file__).resolve().parent / "data" / "telegram-bot-api" / "api.json"),
)


def _names(text: str) -> frozenset[str]:
    """A set of names from a whitespace-separated block, to keep long lists compact."""
    return frozenset(text.split())


MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_BUTTONS = 100
MAX_CALLBACK_ANSWER = 200
MAX_UPLOAD = 50 * 1024 * 1024
MAX_DOWNLOAD = 20 * 1024 * 1024

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
# Telegram refuses to edit or delete a message sent more than 48 hours ago.
EDIT_WINDOW = 48 * 3600

# Methods that put a new message into a chat: they count against Telegram's flood limits.
SEND_METHODS = _names(
    """
    sendMessage sendDocument sendPhoto sendVoice sendAudio sendVideo sendAnimation
    sendSticker sendVideoNote sendMediaGroup sendLocation sendVenue sendContact sendPoll
    sendDice sendInvoice sendGame sendPaidMedia sendChecklist sendLivePhoto sendRichMessage
    copyMessage copyMessages forwardMessage forwardMessages
    """
)
CHAT_ACTIONS = _names(
    """
    typing upload_photo record_video upload_video record_voice upload_voice upload_document
    choose_sticker find_location record_video_note upload_video_note
    """
)
# Update types Telegram leaves out when allowed_updates is empty or was never given.
NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
LANGUAGE_RE = re.compile(r"^[a-z]{2}$")


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------


@dataclass
class ApiCall:
    """One request the bot made, with what the fake answered, so tests can assert on it."""

    method: str
    params: dict[str, Any]
    ok: bool
    result: Any
    error: str | None
    at: float
    status: int = 200
    chat_id: int | None = None
    started: float = 0.0


@dataclass
class Upload:
    """A file the bot uploaded in a multipart request, kept so tests can inspect its bytes."""

    field: str
    filename: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        """Byte size, as Telegram reports in file_size."""
        return len(self.data)


@dataclass
class StoredFile:
    """A file known to the fake (uploaded by the bot or "sent" by a user), downloadable."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None
    kind: str = "document"

    @property
    def size(self) -> int:
        """Byte size, as Telegram reports in file_size."""
        return len(self.data)


@dataclass
class _Chat:
    """State of one chat: the Chat object, members, messages and invite links."""

    obj: dict[str, Any]
    members: dict[int, str] = field(default_factory=dict)
    bot_status: str = "member"
    next_message_id: int = 1
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    deleted: list[dict[str, Any]] = field(default_factory=list)
    join_requests: dict[int, dict[str, Any]] = field(default_factory=dict)
    invite_links: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def id(self) -> int:
        """The chat id."""
        return int(self.obj["id"])

    @property
    def type(self) -> str:
        """private, group, supergroup or channel."""
        return str(self.obj["type"])


class TelegramError(Exception):
    """A refusal answered as Telegram's {"ok": false, ...} body."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def bad(detail: str) -> TelegramError:
    """400 Bad Request with Telegram's prefix."""
    return TelegramError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> TelegramError:
    """403 Forbidden with Telegram's prefix."""
    return TelegramError(403, f"Forbidden: {detail}")


def too_many(retry_after: int) -> TelegramError:
    """429 with retry_after, which aiogram turns into TelegramRetryAfter."""
    return TelegramError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


@functools.lru_cache(maxsize=4)
def load_api_spec(path: str) -> dict[str, Any]:
    """Parse api.json once per process: it is large and every fake instance needs it."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


# ---------------------------------------------------------------------------------------------
# Text formatting: HTML / MarkdownV2 / Markdown parsing into plain text + entities
# ---------------------------------------------------------------------------------------------


class EntityParseError(Exception):
    """The detail that follows "can't parse entities: " in Telegram's answer."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets and limits."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _byte_offset(text: str, pos: int) -> int:
    """UTF-8 byte offset of a character position, as Telegram reports in parse errors."""
    return len(text[:pos].encode("utf-8", "surrogatepass"))


_HTML_ALLOWED_TAGS = _names(
    """
    a b strong i em s strike del u ins tg-spoiler tg-emoji span pre code blockquote
    """
)
_SIMPLE_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
}
_HTML_SPECIAL = re.compile(r"[<&]")
_HTML_SPACE = " \t\r\n\v\f\0"
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_URL_SCHEMES = ("http://", "https://", "tg://", "ton://")
_TRIM = " \t\n\r\v\f\u00a0\u2028\u2029"


def _decode_html_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode the entity at `pos` like tdlib does (numeric, or lt/gt/amp/quot; ';' optional)."""
    n = len(text)
    end = pos + 1
    if end < n and text[end] == "#":
        end += 1
        value = 0
        if end < n and text[end] in "xX":
            end += 1
            start = end
            while end < n and text[end] in "0123456789abcdefABCDEF":
                value = value * 16 + int(text[end], 16)
                end += 1
                if value >= 0x10FFFF:
                    return None
        else:
            start = end
            while end < n and text[end].isdigit() and text[end].isascii():
                value = value * 10 + int(text[end])
                end += 1
                if value >= 0x10FFFF:
                    return None
        if end == start or value == 0 or end - pos >= 10:
            return None
        char = chr(value)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        name = text[pos + 1 : end]
        if name not in _NAMED_ENTITIES:
            return None
        char = _NAMED_ENTITIES[name]
    if end < n and text[end] == ";":
        end += 1
    return char, end


@dataclass
class _OpenTag:
    """A start tag awaiting its end tag while parsing HTML."""

    name: str
    argument: str
    offset: int
    chunk_index: int
    expandable: bool = False


def _check_link(url: str) -> str | None:
    """Telegram's link check, simplified: the URL it stores for text_link, or None to drop it."""
    url = url.strip()
    if not url or any(c.isspace() for c in url):
        return None
    lower = url.lower()
    if lower.startswith(_URL_SCHEMES):
        rest = url.split("://", 1)[1]
        return url if rest else None
    if "://" in url or lower.startswith(("javascript:", "data:", "file:")):
        return None
    host = url.split("/", 1)[0]
    if "." not in host:
        return None
    return "http://" + url


def parse_html(
    text: str, *, strict: bool = True, users: dict[int, dict[str, Any]] | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """Turn Telegram-HTML into plain text and entities with UTF-16 offsets, or raise why not."""
    chunks: list[str] = []
    u16 = 0
    entities: list[dict[str, Any]] = []
    stack: list[_OpenTag] = []
    i = 0
    n = len(text)
    while i < n:
        match = _HTML_SPECIAL.search(text, i)
        j = match.start() if match else n
        if j > i:
            chunk = text[i:j]
            chunks.append(chunk)
            u16 += utf16_len(chunk)
            i = j
        if i >= n:
            break
        if text[i] == "&":
            decoded = _decode_html_entity(text, i)
            if decoded is not None:
                char, i = decoded
                chunks.append(char)
                u16 += utf16_len(char)
                continue
            if strict:
                raise EntityParseError(
                    f'Character "&" at byte offset {_byte_offset(text, i)} must be escaped '
                    'as "&amp;" (the fake is stricter than Telegram here)'
                )
            chunks.append("&")
            u16 += 1
            i += 1
            continue
        begin = i
        i += 1
        if i < n and text[i] != "/":
            j = i
            while j < n and text[j] not in _HTML_SPACE and text[j] != ">":
                j += 1
            if j >= n:
                raise EntityParseError(
                    f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
                )
            tag = text[i:j].lower()
            if tag not in _HTML_ALLOWED_TAGS:
                raise EntityParseError(
                    f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
                )
            i = j
            argument = ""
            expandable = False
            while True:
                while i < n and text[i] in _HTML_SPACE:
                    i += 1
                if i >= n:
                    raise EntityParseError(
                        f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
                    )
                if text[i] == ">":
                    i += 1
                    break
                attr_begin = i
                while i < n and text[i] not in _HTML_SPACE and text[i] not in "=>":
                    i += 1
                attr = text[attr_begin:i].lower()
                if not attr:
                    raise EntityParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset '
                        f"{_byte_offset(text, begin)}"
                    )
                while i < n and text[i] in _HTML_SPACE:
                    i += 1
                if i >= n or text[i] != "=":
                    if tag == "blockquote" and attr == "expandable":
                        expandable = True
                        continue
                    raise EntityParseError(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {_byte_offset(text, begin)}'
                    )
                i += 1
                while i < n and text[i] in _HTML_SPACE:
                    i += 1
                if i >= n:
                    raise EntityParseError(
                        f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
                    )
                if text[i] in "'\"":
                    quote = text[i]
                    i += 1
                    value_chars: list[str] = []
                    while i < n and text[i] != quote:
                        if text[i] == "&":
                            decoded = _decode_html_entity(text, i)
                            if decoded is not None:
                                value_chars.append(decoded[0])
                                i = decoded[1]
                                continue
                        value_chars.append(text[i])
                        i += 1
                    if i >= n:
                        raise EntityParseError(
                            f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
                        )
                    i += 1
                    value = "".join(value_chars)
                else:
                    token_begin = i
                    while i < n and (text[i].isalnum() or text[i] in ".-"):
                        i += 1
                    value = text[token_begin:i].lower()
                    if i >= n or (text[i] not in _HTML_SPACE and text[i] != ">"):
                        raise EntityParseError(
                            "Unexpected end of name token at byte offset "
                            f"{_byte_offset(text, token_begin)}"
                        )
                if tag == "a" and attr == "href":
                    argument = value
                elif tag == "code" and attr == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and attr == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and attr == "emoji-id":
                    argument = value
            if tag == "span" and argument != "spoiler":
                raise EntityParseError(
                    'Tag "span" must have class "tg-spoiler" at byte offset '
                    f"{_byte_offset(text, begin)}"
                )
            stack.append(_OpenTag(tag, argument, u16, len(chunks), expandable))
            if len(stack) > 1000:
                raise EntityParseError("Too many nested entities")
            continue
        if i >= n:
            raise EntityParseError(
                f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
            )
        # An end tag.
        if not stack:
            raise EntityParseError(
                f"Unexpected end tag at byte offset {_byte_offset(text, begin)}"
            )
        j = i + 1
        while j < n and text[j] not in _HTML_SPACE and text[j] != ">":
            j += 1
        end_name = text[i + 1 : j].lower()
        while j < n and text[j] in _HTML_SPACE:
            j += 1
        if j >= n or text[j] != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
        top = stack[-1]
        if end_name and end_name != top.name:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, expected "
                f'"</{top.name}>", found "</{end_name}>"'
            )
        i = j + 1
        stack.pop()
        if u16 <= top.offset:
            continue
        entity: dict[str, Any] = {"type": "", "offset": top.offset, "length": u16 - top.offset}
        if top.name in _SIMPLE_TAG_TYPES:
            entity["type"] = _SIMPLE_TAG_TYPES[top.name]
        elif top.name == "span":
            entity["type"] = "spoiler"
        elif top.name == "tg-emoji":
            if not top.argument.isdigit():
                raise EntityParseError("Invalid custom emoji identifier specified")
            entity["type"] = "custom_emoji"
            entity["custom_emoji_id"] = top.argument
        elif top.name == "a":
            url = top.argument or "".join(chunks[top.chunk_index :])
            user_match = re.fullmatch(r"tg://user\?id=(\d+)", url.strip())
            if user_match:
                user_id = int(user_match.group(1))
                entity["type"] = "text_mention"
                entity["user"] = (users or {}).get(
                    user_id, {"id": user_id, "is_bot": False, "first_name": ""}
                )
            else:
                checked = _check_link(url)
                if checked is None:
                    continue
                entity["type"] = "text_link"
                entity["url"] = checked
        elif top.name == "pre":
            last = entities[-1] if entities else None
            if (
                last is not None
                and last["type"] == "code"
                and last["offset"] == entity["offset"]
                and last["length"] == entity["length"]
                and last.get("language")
            ):
                last["type"] = "pre"
                continue
            entity["type"] = "pre"
        elif top.name == "code":
            inside_pre = bool(stack) and stack[-1].name == "pre"
            entity["type"] = "code"
            if inside_pre and top.argument:
                entity["language"] = top.argument
        elif top.name == "blockquote":
            entity["type"] = "expandable_blockquote" if top.expandable else "blockquote"
        entities.append(entity)
    if stack:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"'
        )
    return "".join(chunks), _drop_nested_in_code(entities)


def _drop_nested_in_code(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Telegram removes formatting inside code/pre, and a plain code block inside pre."""
    code = [e for e in entities if e["type"] in ("code", "pre")]
    if not code:
        return entities
    kept = []
    for entity in entities:
        inside = any(
            c is not entity
            and c["offset"] <= entity["offset"]
            and entity["offset"] + entity["length"] <= c["offset"] + c["length"]
            and not (c["type"] == "code" and entity["type"] == "pre")
            for c in code
        )
        if not inside:
            kept.append(entity)
    return kept


_MD2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MD2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
}


def parse_markdown_v2(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Turn MarkdownV2 into plain text and entities, refusing unescaped reserved characters."""
    out: list[str] = []
    u16 = 0
    entities: list[dict[str, Any]] = []
    stack: list[tuple[str, int, int, str]] = []  # kind, u16 offset, byte offset, language
    quote_start: int | None = None
    i = 0
    n = len(text)
    at_line_start = True

    def add(chunk: str) -> None:
        nonlocal u16
        out.append(chunk)
        u16 += utf16_len(chunk)

    def close(kind: str, extra: dict[str, Any] | None = None) -> None:
        _kind, offset, _byte, language = stack.pop()
        if u16 > offset:
            entity: dict[str, Any] = {"type": kind, "offset": offset, "length": u16 - offset}
            if kind == "pre" and language:
                entity["language"] = language
            if extra:
                entity.update(extra)
            entities.append(entity)

    while i < n:
        c = text[i]
        if at_line_start:
            at_line_start = False
            if c == ">" and not (stack and stack[-1][0] in ("code", "pre")):
                if quote_start is None:
                    quote_start = u16
                i += 1
                continue
            if quote_start is not None:
                # The quote ended on the previous line (without its trailing newline).
                end = u16 - 1 if out and out[-1].endswith("\n") else u16
                if end > quote_start:
                    entities.append(
                        {"type": "blockquote", "offset": quote_start, "length": end - quote_start}
                    )
                quote_start = None
        if c == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            add(text[i + 1])
            i += 2
            continue
        top = stack[-1][0] if stack else None
        if top in ("code", "pre"):
            if top == "code" and c == "`":
                close("code")
                i += 1
            elif top == "pre" and text.startswith("```", i):
                close("pre")
                i += 3
            else:
                add(c)
                i += 1
                if c == "\n":
                    at_line_start = True
            continue
        if c == "\n":
            add(c)
            i += 1
            at_line_start = True
            continue
        if c not in _MD2_RESERVED:
            add(c)
            i += 1
            continue
        byte = _byte_offset(text, i)
        if top == "underline" and text.startswith("__", i):
            close("underline")
            i += 2
            continue
        if top is not None and (top, c) in (
            ("bold", "*"),
            ("italic", "_"),
            ("strikethrough", "~"),
        ):
            close(top)
            i += 1
            continue
        if top == "spoiler" and text.startswith("||", i):
            close("spoiler")
            i += 2
            continue
        if top == "text_link" and c == "]":
            i += 1
            url = ""
            if i < n and text[i] == "(":
                i += 1
                url_chars: list[str] = []
                while i < n and text[i] != ")":
                    if text[i] == "\\" and i + 1 < n:
                        i += 1
                    url_chars.append(text[i])
                    i += 1
                if i >= n:
                    raise EntityParseError(f"Can't find end of a url at byte offset {byte}")
                i += 1
                url = "".join(url_chars)
            checked = _check_link(url) if url else None
            if checked is None:
                stack.pop()
            else:
                close("text_link", {"url": checked})
            continue
        kind = None
        if c == "_":
            kind = "underline" if text.startswith("__", i) else "italic"
        elif c == "*":
            kind = "bold"
        elif c == "~":
            kind = "strikethrough"
        elif c == "|" and text.startswith("||", i):
            kind = "spoiler"
        elif c == "[":
            kind = "text_link"
        elif c == "`":
            if text.startswith("```", i):
                i += 3
                language = ""
                newline = text.find("\n", i)
                if newline != -1 and not any(ch in _MD2_SPACES for ch in text[i:newline]):
                    language = text[i:newline]
                    i = newline + 1
                stack.append(("pre", u16, byte, language))
                continue
            kind = "code"
        if kind is None:
            raise EntityParseError(
                f"Character '{c}' is reserved and must be escaped with the preceding '\\'"
            )
        stack.append((kind, u16, byte, ""))
        i += 2 if kind in ("underline", "spoiler") else 1
    if quote_start is not None and u16 > quote_start:
        entities.append({"type": "blockquote", "offset": quote_start, "length": u16 - quote_start})
    if stack:
        kind, _offset, byte, _language = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_MD2_NAMES[kind]} entity at byte offset {byte}"
        )
    return "".join(out), _drop_nested_in_code(entities)


_MD2_SPACES = " \t\r\v\f"


def parse_markdown(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); no nesting."""
    out: list[str] = []
    u16 = 0
    entities: list[dict[str, Any]] = []
    i = 0
    n = len(text)
    kinds = {"*": "bold", "_": "italic", "`": "code"}
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.append(text[i + 1])
            u16 += 1
            i += 2
            continue
        if c not in "_*`[":
            out.append(c)
            u16 += utf16_len(c)
            i += 1
            continue
        begin_byte = _byte_offset(text, i)
        error = f"Can't find end of the entity starting at byte offset {begin_byte}"
        if c == "[":
            close = text.find("]", i + 1)
            if close == -1:
                raise EntityParseError(error)
            inner = text[i + 1 : close]
            i = close + 1
            url = ""
            if i < n and text[i] == "(":
                end = text.find(")", i + 1)
                if end == -1:
                    raise EntityParseError(error)
                url = text[i + 1 : end]
                i = end + 1
            out.append(inner)
            length = utf16_len(inner)
            checked = _check_link(url) if url else None
            if checked and length:
                entities.append(
                    {"type": "text_link", "offset": u16, "length": length, "url": checked}
                )
            u16 += length
            continue
        if c == "`" and text.startswith("```", i):
            end = text.find("```", i + 3)
            if end == -1:
                raise EntityParseError(error)
            inner = text[i + 3 : end]
            language = ""
            newline = inner.find("\n")
            if newline > 0 and not any(ch in _MD2_SPACES for ch in inner[:newline]):
                language, inner = inner[:newline], inner[newline + 1 :]
            i = end + 3
            kind = "pre"
        else:
            end = text.find(c, i + 1)
            if end == -1:
                raise EntityParseError(error)
            inner = text[i + 1 : end]
            i = end + 1
            kind = kinds[c]
            language = ""
        out.append(inner)
        length = utf16_len(inner)
        if length:
            entity: dict[str, Any] = {"type": kind, "offset": u16, "length": length}
            if language:
                entity["language"] = language
            entities.append(entity)
        u16 += length
    return "".join(out), entities


_AUTO_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "email",
        re.compile(r"(?<![\w.+@-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
    ),
    ("url", re.compile(r"(?<![\w@/])(?:https?://|tg://)[^\s<>\"]+|(?<![\w@/.])t\.me/[^\s<>\"]+")),
    (
        "bot_command",
        re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])"),
    ),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}(?![\w@])")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
    ("cashtag", re.compile(r"(?<![\w$])\$[A-Z]{3,8}(?![\w$])")),
)
_AUTO_HINT = re.compile(r"[@/#$:.]")


def detect_entities(text: str, existing: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entities Telegram finds by itself (commands, mentions, URLs...), outside code/links."""
    if not _AUTO_HINT.search(text):
        return []
    blocked = [
        (e["offset"], e["offset"] + e["length"])
        for e in existing
        if e["type"] in ("code", "pre", "text_link", "text_mention", "url", "email")
    ]
    bmp = utf16_len(text) == len(text)
    found: list[dict[str, Any]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            value = match.group(0)
            if kind == "url":
                stripped = value.rstrip(".,;:!?)'\"»")
                end -= len(value) - len(stripped)
            if end <= start:
                continue
            if not bmp:
                offset = utf16_len(text[:start])
                stop = offset + utf16_len(text[start:end])
            else:
                offset, stop = start, end
            if any(a < stop and offset < b for a, b in blocked + taken):
                continue
            taken.append((offset, stop))
            found.append({"type": kind, "offset": offset, "length": stop - offset})
    found.sort(key=lambda e: e["offset"])
    return found


def entities_to_html(text: str, entities: list[dict[str, Any]] | None) -> str:
    """Render plain text + entities back to Telegram-HTML (for `_html` of non-HTML messages)."""
    if not entities:
        return html.escape(text, quote=False)
    if utf16_len(text) == len(text):
        to_cp: Callable[[int], int] = lambda offset: offset  # noqa: E731
    else:
        units: list[int] = []
        for index, char in enumerate(text):
            units.append(index)
            if ord(char) > 0xFFFF:
                units.append(index)
        units.append(len(text))
        to_cp = lambda offset: units[min(offset, len(units) - 1)]  # noqa: E731
    spans = sorted(
        (
            (to_cp(e["offset"]), to_cp(e["offset"] + e["length"]), e)
            for e in entities
            if e["type"] not in ("mention", "hashtag", "cashtag", "bot_command", "url", "email")
        ),
        key=lambda span: (span[0], -span[1]),
    )
    points = sorted({0, len(text)} | {s for s, _, _ in spans} | {t for _, t, _ in spans})
    opens: dict[int, list[tuple[int, dict[str, Any]]]] = {}
    for start, end, entity in spans:
        opens.setdefault(start, []).append((end, entity))
    out: list[str] = []
    stack: list[tuple[int, str]] = []
    for index, point in enumerate(points):
        while stack and stack[-1][0] <= point:
            out.append(stack.pop()[1])
        for end, entity in opens.get(point, []):
            opening, closing = _entity_tags(entity)
            out.append(opening)
            stack.append((end, closing))
        if index + 1 < len(points):
            out.append(html.escape(text[point : points[index + 1]], quote=False))
    while stack:
        out.append(stack.pop()[1])
    return "".join(out)


def _entity_tags(entity: dict[str, Any]) -> tuple[str, str]:
    """The opening and closing HTML tag for one entity."""
    kind = entity["type"]
    simple = {
        "bold": "b",
        "italic": "i",
        "underline": "u",
        "strikethrough": "s",
        "spoiler": "tg-spoiler",
        "code": "code",
        "blockquote": "blockquote",
    }
    if kind in simple:
        return f"<{simple[kind]}>", f"</{simple[kind]}>"
    if kind == "expandable_blockquote":
        return "<blockquote expandable>", "</blockquote>"
    if kind == "pre":
        if entity.get("language"):
            return f'<pre><code class="language-{entity["language"]}">', "</code></pre>"
        return "<pre>", "</pre>"
    if kind == "text_link":
        return f'<a href="{html.escape(entity["url"])}">', "</a>"
    if kind == "text_mention":
        return f'<a href="tg://user?id={entity["user"]["id"]}">', "</a>"
    if kind == "custom_emoji":
        return f'<tg-emoji emoji-id="{entity["custom_emoji_id"]}">', "</tg-emoji>"
    return "", ""


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strip surrounding whitespace as Telegram does, shifting and clipping entities."""
    stripped = text.strip(_TRIM)
    if stripped == text:
        return text, entities
    if not stripped:
        return "", []
    lead = utf16_len(text[: len(text) - len(text.lstrip(_TRIM))])
    total = utf16_len(stripped)
    fixed = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            fixed.append({**entity, "offset": start, "length": end - start})
    return stripped, fixed


# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------

Handler = Callable[[dict[str, Any]], Any]


class FakeTelegram:
    """An in-process Telegram Bot API server with Telegram's state, refusals and limits."""

    IMPLEMENTED: frozenset[str] = _names(
        """
    getMe getUpdates deleteWebhook setWebhook getWebhookInfo logOut close sendMessage
    editMessageText editMessageReplyMarkup editMessageCaption deleteMessage sendDocument
    sendPhoto sendVoice sendAudio sendChatAction answerCallbackQuery copyMessage
    forwardMessage setMyCommands getMyCommands deleteMyCommands setMyDescription
    getMyDescription setMyShortDescription getMyShortDescription setChatMenuButton
    getChatMenuButton getChat getChatMember getChatAdministrators getChatMemberCount
    createChatInviteLink revokeChatInviteLink approveChatJoinRequest declineChatJoinRequest
    banChatMember unbanChatMember leaveChat getFile
        """
    )

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        latency: float = 0.0,
        bot_username: str = "participation_bot",
        enforce_limits: bool = False,
        api_spec_path: str | None = None,
    ) -> None:
        self.token = token
        self.latency = latency
        self.enforce_limits = enforce_limits
        self.strict_html = True
        self.spec_path = api_spec_path or DEFAULT_API_SPEC
        self.spec = load_api_spec(self.spec_path)
        self._spec_methods: dict[str, dict[str, Any]] = self.spec["methods"]
        self._method_names = {name.lower(): name for name in self._spec_methods}
        self._fields: dict[str, dict[str, list[str]]] = {
            name: {f["name"]: f["types"] for f in method.get("fields", [])}
            for name, method in self._spec_methods.items()
        }
        self._required: dict[str, list[str]] = {
            name: [f["name"] for f in method.get("fields", []) if f["required"]]
            for name, method in self._spec_methods.items()
        }
        self._handlers: dict[str, Handler] = {
            name: getattr(self, f"_api_{name}") for name in self.IMPLEMENTED
        }
        bot_id = int(token.split(":", 1)[0])
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_username.replace("_bot", "").replace("_", " ").title() + " Bot",
            "username": bot_username,
        }
        self.base_url = ""
        self.calls: list[ApiCall] = []
        self.warnings: list[str] = []
        self.violations: list[str] = []
        self.commands: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
        self.descriptions: dict[str | None, str] = {}
        self.short_descriptions: dict[str | None, str] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.webhook: dict[str, Any] | None = None
        # Set by an in-process harness that reports when each update is fully handled.
        self.tracks_processing = False
        self._processed: set[int] = set()
        self._processed_changed = asyncio.Event()
        self.users: dict[int, dict[str, Any]] = {}
        self.files: dict[str, StoredFile] = {}
        self.uploads: list[Upload] = []
        # Flood-limit thresholds (attributes so tests can shrink the windows).
        self.global_limit = 30
        self.global_window = 1.0
        self.private_interval = 1.0
        self.private_tolerance = 0.05
        self.group_limit = 20
        self.group_window = 60.0
        self.callback_timeout = 15.0
        # Wall clock for message/update dates and link expiry; tests may swap in a fake clock.
        self.clock: Callable[[], float] = time.time
        self._chats: dict[int, _Chat] = {}
        self._blocked: set[int] = set()
        # Users the tests never had start the bot (seen only in groups): the bot can't write
        # to them, except for 5 minutes after they ask to join a chat it administers.
        self._not_started: set[int] = set()
        self._join_request_dm: dict[int, float] = {}
        self._deactivated: set[int] = set()
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_seq = 0
        self._updates: deque[dict[str, Any]] = deque()
        self._next_update_id = 100_000_001
        self._allowed_updates: set[str] | None = None
        self._poll_generation = 0
        self._wakeup: asyncio.Future[None] | None = None
        self._callbacks: dict[str, dict[str, Any]] = {}
        self._callback_seq = 0
        self._inject_429: list[tuple[int, set[str] | None]] = []
        self._fail_next: list[tuple[int, str, set[str] | None]] = []
        self._send_times: list[float] = []
        self._send_times_by_chat: dict[int, list[float]] = {}
        self._global_window_q: deque[float] = deque()
        self._group_window_q: dict[int, deque[float]] = {}
        self._last_private_send: dict[int, float] = {}
        self._inflight: dict[int | None, int] = {}
        self._inflight_total = 0
        self._last_activity: dict[int, float] = {}
        self._last_activity_any = 0.0
        self._call_waiters: list[tuple[Callable[[ApiCall], bool], asyncio.Future[ApiCall]]] = []
        self._push_mark = 0
        self._runner: web.AppRunner | None = None
        self._closing = False

    def _now(self) -> int:
        """Unix time for `date` fields."""
        return int(self.clock())

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on a random free port of 127.0.0.1 and set base_url."""
        app = web.Application(client_max_size=MAX_UPLOAD + 10 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/bot{token}/", self._handle_empty)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        self._closing = False

    async def stop(self) -> None:
        """Release pending long polls and close the server."""
        self._closing = True
        self._wake_pollers()
        for _predicate, future in self._call_waiters:
            if not future.done():
                future.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        """Start on entering `async with`."""
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop on leaving `async with`."""
        await self.stop()

    # --- actors -----------------------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str,
        *,
        language_code: str | None = "en",
        last_name: str | None = None,
        username: str | None = None,
    ) -> dict[str, Any]:
        """A Telegram user who has started the bot, so a private chat with it exists."""
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self.users[user_id] = user
        self._not_started.discard(user_id)
        chat_obj: dict[str, Any] = {"id": user_id, "type": "private", "first_name": first_name}
        if last_name:
            chat_obj["last_name"] = last_name
        if username:
            chat_obj["username"] = username
        existing = self._chats.get(user_id)
        if existing is not None:
            existing.obj = chat_obj
        else:
            self._chats[user_id] = _Chat(obj=chat_obj)
        return user

    def add_group(
        self, chat_id: int, title: str, *, type: str = "supergroup", is_forum: bool = False
    ) -> dict[str, Any]:
        """A group (or supergroup/channel) the bot is a plain member of."""
        obj: dict[str, Any] = {"id": chat_id, "type": type, "title": title}
        if is_forum:
            obj["is_forum"] = True
        self._chats[chat_id] = _Chat(obj=obj)
        return obj

    def set_bot_admin(self, chat_id: int, is_admin: bool = True) -> None:
        """Make the bot an administrator of the group (needed for links, bans, approvals)."""
        self._group(chat_id).bot_status = "administrator" if is_admin else "member"

    def add_chat_member(self, chat_id: int, user_id: int, status: str = "member") -> None:
        """Put a user into a group with a status, silently (no update is sent)."""
        self._ensure_user(user_id)
        self._group(chat_id).members[user_id] = status

    def chat_members(self, chat_id: int) -> dict[int, str]:
        """user_id -> status for a group."""
        return dict(self._group(chat_id).members)

    def bot_status(self, chat_id: int) -> str:
        """The bot's own membership status in a group."""
        return self._group(chat_id).bot_status

    def invite_links(self, chat_id: int) -> list[dict[str, Any]]:
        """Invite links the bot created in a group, current state."""
        return list(self._group(chat_id).invite_links.values())

    def join_requests(self, chat_id: int) -> dict[int, dict[str, Any]]:
        """Pending join requests of a group, by user id."""
        return dict(self._group(chat_id).join_requests)

    # --- incoming updates -------------------------------------------------------------------

    def mark_processed(self, update_id: int) -> None:
        """Called by an in-process bot harness when it has finished handling an update."""
        self.tracks_processing = True
        self._processed.add(update_id)
        self._processed_changed.set()

    async def wait_processed(
        self,
        update_id: int,
        timeout: float = 10.0,  # noqa: ASYNC109 - the public API takes a timeout
    ) -> bool:
        """Wait until the bot finished the update; False when nobody reports processing."""
        if not self.tracks_processing:
            return False
        deadline = time.monotonic() + timeout
        while update_id not in self._processed:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"the bot did not finish update {update_id} within {timeout}s; recent "
                    "calls:\n" + self.format_calls()
                )
            self._processed_changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._processed_changed.wait(), left)
        return True

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates; assigns update_id if missing."""
        self._enqueue(update)
        self._push_mark = len(self.calls)
        return update

    def user_sends(
        self,
        user_id: int,
        text: str | None = None,
        *,
        chat_id: int | None = None,
        sticker: bool = False,
        photo: bool = False,
        voice: bool = False,
        document: bool | bytes = False,
        file_name: str = "document.pdf",
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The user sends a message (text, sticker, photo, voice or document) to the bot."""
        user = self._ensure_user(user_id)
        chat = self._chats.get(chat_id if chat_id is not None else user_id)
        if chat is None:
            raise AssertionError(f"chat {chat_id} does not exist; add_group() it first")
        if chat.type == "private":
            self._blocked.discard(user_id)  # writing to a bot unblocks it
            self._not_started.discard(user_id)  # and starts it
        elif chat.members.get(user_id) in ("left", "kicked"):
            raise AssertionError(f"user {user_id} is not a member of chat {chat.id}")
        else:
            chat.members.setdefault(user_id, "member")
        content: dict[str, Any] = {}
        media = sticker or photo or voice or document is not False
        if sticker:
            stored = self._new_file(b"RIFF....WEBPVP8 fake sticker", "sticker", None, "image/webp")
            content["sticker"] = {
                **self._file_obj(stored),
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "👍",
            }
        elif photo:
            content["photo"] = self._photo_sizes(b"\xff\xd8\xff\xe0 fake jpeg " * 64)
        elif voice:
            stored = self._new_file(b"OggS fake voice" * 32, "voice", None, "audio/ogg")
            content["voice"] = {**self._file_obj(stored), "duration": 3, "mime_type": "audio/ogg"}
        elif document is not False:
            data = document if isinstance(document, bytes) else b"%PDF-1.4 fake document\n"
            stored = self._new_file(data, "document", file_name, _guess_mime(file_name))
            content["document"] = {
                **self._file_obj(stored),
                "file_name": file_name,
                "mime_type": stored.mime_type,
            }
        if text is not None:
            entities = detect_entities(text, [])
            if media:
                content["caption"] = text
                if entities:
                    content["caption_entities"] = entities
            else:
                content["text"] = text
                if entities:
                    content["entities"] = entities
        if reply_to is not None:
            replied = chat.messages.get(int(_get(reply_to, "message_id")))
            if replied is not None:
                content["reply_to_message"] = self._public(replied, nested=True)
        record = self._store_message(chat, user, content, from_bot=False)
        return self.push_update({"message": self._public(record)})

    def age_chat(self, chat_id: int, seconds: float) -> None:
        """Let `seconds` pass for a chat's messages: their dates move into the past, so edits
        and deletions past Telegram's 48 hours are refused."""
        chat = self._chat_or_fail(chat_id)
        for record in chat.messages.values():
            record["date"] = int(record["date"] - seconds)

    def chat_deletes(self, chat_id: int, message_id: int) -> None:
        """The user deletes a message from the chat (Telegram tells the bot nothing)."""
        chat = self._chat_or_fail(chat_id)
        record = chat.messages.pop(message_id, None)
        if record is None:
            raise AssertionError(f"message {message_id} in chat {chat_id} does not exist")
        chat.deleted.append(record)

    def user_presses(
        self,
        user_id: int,
        message: dict[str, Any] | Any,
        callback_data: str,
        *,
        inaccessible: bool = False,
    ) -> dict[str, Any]:
        """The user taps an inline button: a callback_query with the message as stored now,
        or (`inaccessible`, as Telegram does for old or deleted messages) an
        InaccessibleMessage carrying only the chat, the message_id and date 0."""
        user = self._ensure_user(user_id)
        chat = self._chat_or_fail(int(_get(_get(message, "chat"), "id")))
        message_id = int(_get(message, "message_id"))
        record = chat.messages.get(message_id)
        if record is None and not inaccessible:
            raise AssertionError(f"message {message_id} in chat {chat.id} was deleted")
        self._callback_seq += 1
        query_id = f"{4_000_000_000_000_000 + self._callback_seq * 7919}"
        self._callbacks[query_id] = {
            "chat_id": chat.id,
            "user_id": user_id,
            "message_id": message_id,
            "answered": False,
            "at": time.monotonic(),
        }
        query = {
            "id": query_id,
            "from": user,
            "message": (
                {"chat": chat.obj, "message_id": message_id, "date": 0}
                if inaccessible or record is None
                else self._public(record)
            ),
            "chat_instance": self._chat_instance(chat.id),
            "data": callback_data,
        }
        return self.push_update({"callback_query": query})

    def chat_join_request(
        self, chat_id: int, user_id: int, invite_link: dict[str, Any] | str | None = None
    ) -> dict[str, Any]:
        """The user asks to join a group (via a link that creates join requests)."""
        user = self._ensure_user(user_id)
        chat = self._group(chat_id)
        request: dict[str, Any] = {
            "chat": chat.obj,
            "from": user,
            "user_chat_id": user_id,
            "date": self._now(),
        }
        if invite_link is not None:
            link = invite_link if isinstance(invite_link, str) else invite_link["invite_link"]
            stored = chat.invite_links.get(link)
            if stored is not None:
                link_obj: dict[str, Any] = stored
            elif isinstance(invite_link, dict):
                link_obj = invite_link
            else:
                link_obj = {
                    "invite_link": link,
                    "creator": self.bot_user,
                    "creates_join_request": True,
                    "is_primary": False,
                    "is_revoked": False,
                }
            if stored is not None and stored.get("creates_join_request"):
                stored["pending_join_request_count"] = (
                    stored.get("pending_join_request_count", 0) + 1
                )
            request["invite_link"] = {k: v for k, v in link_obj.items() if not k.startswith("_")}
        chat.join_requests[user_id] = request
        self._join_request_dm[user_id] = self.clock() + 300
        return self.push_update({"chat_join_request": request})

    def user_joins(
        self, chat_id: int, user_id: int, invite_link: dict[str, Any] | str | None = None
    ) -> dict[str, Any]:
        """The user joins a group directly (through an invite link if given): chat_member."""
        self._ensure_user(user_id)
        chat = self._group(chat_id)
        if chat.members.get(user_id) == "kicked":
            raise AssertionError(f"user {user_id} is banned from chat {chat_id}")
        link_obj = None
        if invite_link is not None:
            link = invite_link if isinstance(invite_link, str) else invite_link["invite_link"]
            link_obj = chat.invite_links.get(link)
            if link_obj is None or link_obj["is_revoked"]:
                raise AssertionError(f"invite link {link} is not valid")
            if link_obj.get("expire_date") and link_obj["expire_date"] <= self.clock():
                raise AssertionError(f"invite link {link} has expired")
            if link_obj.get("creates_join_request"):
                raise AssertionError(f"invite link {link} requires a join request")
            limit = link_obj.get("member_limit")
            if limit and link_obj.get("_joined", 0) >= limit:
                raise AssertionError(f"invite link {link} reached its member limit")
            link_obj["_joined"] = link_obj.get("_joined", 0) + 1
        update = self._set_member(chat, user_id, "member", by=user_id, link=link_obj)
        self._push_mark = len(self.calls)
        return update

    def member_adds(self, chat_id: int, user_id: int, by: int) -> dict[str, Any]:
        """A member of the group adds someone to it directly: chat_member, from the adder."""
        chat = self._group(chat_id)
        if chat.members.get(by) not in ("member", "administrator", "creator"):
            raise AssertionError(f"user {by} is not in chat {chat_id}")
        if chat.members.get(user_id) == "kicked":
            raise AssertionError(f"user {user_id} is banned from chat {chat_id}")
        update = self._set_member(chat, user_id, "member", by=by)
        self._push_mark = len(self.calls)
        return update

    def user_leaves(self, chat_id: int, user_id: int) -> dict[str, Any]:
        """The user leaves a group: a chat_member update."""
        update = self._set_member(self._group(chat_id), user_id, "left", by=user_id)
        self._push_mark = len(self.calls)
        return update

    def my_chat_member(self, chat_id: int, new_status: str, *, by_user_id: int) -> dict[str, Any]:
        """The bot's own status changes (added, promoted, removed; blocked in a private chat)."""
        by = self._ensure_user(by_user_id)
        chat = self._chat_or_fail(chat_id)
        if chat.type == "private":
            old_status = "kicked" if chat_id in self._blocked else "member"
            if new_status == "kicked":
                self._blocked.add(chat_id)
            else:
                self._blocked.discard(chat_id)
        else:
            old_status = chat.bot_status
            chat.bot_status = new_status
        return self.push_update(
            {
                "my_chat_member": {
                    "chat": chat.obj,
                    "from": by,
                    "date": self._now(),
                    "old_chat_member": self._member_obj(self.bot_user, old_status),
                    "new_chat_member": self._member_obj(self.bot_user, new_status),
                }
            }
        )

    # --- observing --------------------------------------------------------------------------

    def messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The bot's messages in a chat as they are now (edits applied, deleted gone)."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return []
        return [m for m in chat.messages.values() if m["_from_bot"]]

    def all_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """Every message in a chat, the user's too, oldest first."""
        chat = self._chats.get(chat_id)
        return list(chat.messages.values()) if chat else []

    def deleted_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """Messages deleted in a chat, as they were when deleted."""
        chat = self._chats.get(chat_id)
        return list(chat.deleted) if chat else []

    def last_message(self, chat_id: int) -> dict[str, Any] | None:
        """The newest bot message in a chat, or None."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return None
        for message in reversed(chat.messages.values()):
            if message["_from_bot"]:
                return message
        return None

    def callback_answers(self) -> list[dict[str, Any]]:
        """Params of the successful answerCallbackQuery calls, oldest first."""
        return [c.params for c in self.calls if c.method == "answerCallbackQuery" and c.ok]

    def calls_to(self, method: str, chat_id: int | None = None) -> list[ApiCall]:
        """Calls of one method (optionally to one chat)."""
        return [
            c
            for c in self.calls
            if c.method == method and (chat_id is None or c.chat_id == chat_id)
        ]

    def format_calls(self, last: int = 20) -> str:
        """The last calls, one line each, for assertion messages."""
        lines = []
        for call in self.calls[-last:]:
            if call.method == "getUpdates":
                continue
            params = {k: v for k, v in call.params.items() if k != "reply_markup"}
            text = json.dumps(params, default=str, ensure_ascii=False)
            if len(text) > 160:
                text = text[:157] + "..."
            outcome = "ok" if call.ok else f"ERROR {call.error}"
            lines.append(f"  {call.method} {text} -> {outcome}")
        return "\n".join(lines) or "  (no calls)"

    async def wait_for_call(
        self,
        predicate: Callable[[ApiCall], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - the public API takes a timeout
        *,
        since: int | None = None,
    ) -> ApiCall:
        """The first call matching `predicate` made since `since` (default: the last pushed
        update), waiting for it if needed; AssertionError listing recent calls on timeout."""
        start = self._push_mark if since is None else since
        for call in self.calls[start:]:
            if _matches(predicate, call):
                return call
        future: asyncio.Future[ApiCall] = asyncio.get_running_loop().create_future()
        waiter = (predicate, future)
        self._call_waiters.append(waiter)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise AssertionError(
                f"no matching Bot API call within {timeout}s; recent calls:\n"
                + self.format_calls()
            ) from None
        finally:
            if waiter in self._call_waiters:
                self._call_waiters.remove(waiter)

    async def settle(
        self,
        chat_id: int | None = None,
        quiet: float = 0.25,
        timeout: float = 10.0,  # noqa: ASYNC109 - the public API takes a timeout
    ) -> None:
        """Wait until no call (for that chat, if given) is running or was made for `quiet` s."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            busy = self._inflight_total if chat_id is None else self._inflight.get(chat_id, 0)
            if busy:
                wait = 0.01
            else:
                last = (
                    self._last_activity_any
                    if chat_id is None
                    else self._last_activity.get(chat_id, 0.0)
                )
                idle = now - last
                if idle >= quiet:
                    return
                wait = quiet - idle
            if now + wait > deadline:
                where = "" if chat_id is None else f" in chat {chat_id}"
                raise AssertionError(
                    f"the bot did not settle{where} within {timeout}s; recent calls:\n"
                    + self.format_calls()
                )
            await asyncio.sleep(wait)

    # --- faults -----------------------------------------------------------------------------

    def block(self, user_id: int, *, notify: bool = False) -> None:
        """The user blocks the bot: sends to them get 403 (notify=True: my_chat_member too)."""
        if notify:
            self.my_chat_member(user_id, "kicked", by_user_id=user_id)
        self._blocked.add(user_id)

    def unblock(self, user_id: int, *, notify: bool = False) -> None:
        """The user unblocks the bot (notify=True: my_chat_member too)."""
        if notify:
            self.my_chat_member(user_id, "member", by_user_id=user_id)
        self._blocked.discard(user_id)

    def deactivate(self, user_id: int) -> None:
        """The user deleted their account: sends to them get 403 "user is deactivated"."""
        self._deactivated.add(user_id)

    def inject_429(
        self, count: int = 1, retry_after: int = 1, methods: set[str] | None = None
    ) -> None:
        """The next `count` send-type requests (or of `methods`) get 429 retry_after."""
        self._inject_429.extend([(retry_after, methods)] * count)

    def fail_next(
        self,
        count: int,
        status: int = 500,
        description: str = "Internal Server Error",
        methods: set[str] | None = None,
    ) -> None:
        """The next `count` requests (getUpdates excepted, unless in `methods`) fail."""
        self._fail_next.extend([(status, description, methods)] * count)

    # --- limit accounting -------------------------------------------------------------------

    def sends_in_window(
        self, window: float = 1.0, chat_id: int | None = None, end: float | None = None
    ) -> int:
        """Sends (overall or to one chat) in the window (end - window, end]; end: now."""
        times = self._send_times if chat_id is None else self._send_times_by_chat.get(chat_id, [])
        end = time.monotonic() if end is None else end
        return bisect.bisect_right(times, end) - bisect.bisect_right(times, end - window)

    def max_sends_in_window(self, window: float = 1.0, chat_id: int | None = None) -> int:
        """The peak number of sends inside any sliding window of that length."""
        times = self._send_times if chat_id is None else self._send_times_by_chat.get(chat_id, [])
        best = 0
        low = 0
        for high, at in enumerate(times):
            while times[low] <= at - window:
                low += 1
            best = max(best, high - low + 1)
        return best

    @property
    def send_count(self) -> int:
        """How many send-type calls succeeded."""
        return len(self._send_times)

    def _account_send(self, method: str, chat: _Chat) -> None:
        """Count a send against Telegram's limits; refuse it when enforcing and over a limit."""
        now = time.monotonic()
        found: list[str] = []
        queue = self._global_window_q
        while queue and queue[0] <= now - self.global_window:
            queue.popleft()
        if len(queue) + 1 > self.global_limit:
            found.append(
                f"global: {len(queue) + 1} sends within {self.global_window:g}s "
                f"(limit {self.global_limit}); {method} to {chat.id}"
            )
        if chat.type == "private":
            last = self._last_private_send.get(chat.id)
            if last is not None and now - last < self.private_interval - self.private_tolerance:
                found.append(
                    f"private chat {chat.id}: 2 sends {now - last:.3f}s apart "
                    f"(limit 1 per {self.private_interval:g}s); {method}"
                )
        else:
            group_q = self._group_window_q.setdefault(chat.id, deque())
            while group_q and group_q[0] <= now - self.group_window:
                group_q.popleft()
            if len(group_q) + 1 > self.group_limit:
                found.append(
                    f"group chat {chat.id}: {len(group_q) + 1} sends within "
                    f"{self.group_window:g}s (limit {self.group_limit}); {method}"
                )
        if found:
            self.violations.extend(found)
            if self.enforce_limits:
                raise too_many(1)
        queue.append(now)
        if chat.type == "private":
            self._last_private_send[chat.id] = now
        else:
            self._group_window_q[chat.id].append(now)
        self._send_times.append(now)
        self._send_times_by_chat.setdefault(chat.id, []).append(now)

    # --- HTTP -------------------------------------------------------------------------------

    async def _handle_empty(self, request: web.Request) -> web.Response:
        """/bot<token>/ without a method."""
        if request.match_info["token"] != self.token:
            return _error_response(TelegramError(401, "Unauthorized"))
        return _error_response(TelegramError(404, "Not Found"))

    async def _handle(self, request: web.Request) -> web.Response:
        """Answer one Bot API request like Telegram: auth, routing, validation, latency."""
        started = time.monotonic()
        raw_method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            error = TelegramError(401, "Unauthorized")
            self._record(raw_method, {}, started, error=error)
            return _error_response(error)
        method = self._method_names.get(raw_method.lower())
        if method is None:
            error = TelegramError(404, "Not Found")
            self._record(raw_method, {}, started, error=error)
            return _error_response(error)
        try:
            raw, files = await self._read_params(request)
        except TelegramError as error:
            self._record(method, {}, started, error=error)
            return _error_response(error)
        chat_hint = self._chat_hint(method, raw)
        tracked = method != "getUpdates"
        if tracked:
            self._inflight[chat_hint] = self._inflight.get(chat_hint, 0) + 1
            self._inflight_total += 1
            self._touch(chat_hint, started)
        params: dict[str, Any] = raw
        try:
            if self.latency > 0:
                await asyncio.sleep(self.latency)
            params = self._validate(method, raw, files)
            self._injected_fault(method)
            handler = self._handlers.get(method)
            if handler is None:
                result = self._api_default(method, params)
            else:
                result = handler(params)
                if isinstance(result, Awaitable):
                    result = await result
        except TelegramError as error:
            self._record(method, params, started, error=error, chat_id=chat_hint)
            return _error_response(error)
        finally:
            if tracked:
                self._inflight[chat_hint] -= 1
                self._inflight_total -= 1
                self._touch(chat_hint, time.monotonic())
        self._record(method, params, started, result=result, chat_id=chat_hint)
        return web.Response(
            text=json.dumps(
                {"ok": True, "result": result}, ensure_ascii=False, default=_json_default
            ),
            content_type="application/json",
        )

    async def _handle_file(self, request: web.Request) -> web.Response:
        """File downloads: GET /file/bot<token>/<file_path>."""
        if request.match_info["token"] != self.token:
            return _error_response(TelegramError(401, "Unauthorized"))
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return _error_response(TelegramError(404, "Not Found"))
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, Any]]:
        """Query string plus JSON, urlencoded or multipart body; files kept apart by name."""
        params: dict[str, Any] = dict(request.query)
        files: dict[str, Any] = {}
        if request.method != "POST" or not request.can_read_body:
            return params, files
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad("can't parse JSON request body") from None
            if not isinstance(body, dict):
                raise bad("request body must be a JSON object")
            params.update(body)
            return params, files
        try:
            form = await request.post()
        except web.HTTPRequestEntityTooLarge:
            raise TelegramError(413, "Request Entity Too Large") from None
        for key, value in form.items():
            if isinstance(value, FileField):
                data = value.file.read()
                if len(data) > MAX_UPLOAD:
                    raise TelegramError(413, "Request Entity Too Large")
                files[key] = Upload(key, value.filename or key, value.content_type, data)
            elif isinstance(value, bytes):
                params[key] = value.decode("utf-8", "replace")
            else:
                params[key] = value
        return params, files

    def _validate(self, method: str, raw: dict[str, Any], files: dict[str, Any]) -> dict[str, Any]:
        """Check parameters against api.json, decode JSON sub-objects and resolve files."""
        fields = self._fields[method]
        params: dict[str, Any] = {}
        used_files: set[str] = set()
        for name, value in raw.items():
            types = fields.get(name)
            if types is None:
                self.warnings.append(f"{method}: unknown parameter {name!r}")
                params[name] = value
                continue
            params[name] = self._coerce(name, types, value, files, used_files)
        for name, upload in files.items():
            if name in used_files:
                continue
            types = fields.get(name)
            if types is not None and "InputFile" in types:
                params[name] = upload
                used_files.add(name)
            else:
                self.warnings.append(f"{method}: unreferenced file part {name!r}")
        for upload in files.values():
            self.uploads.append(upload)
        for name in self._required[method]:
            value = params.get(name)
            if value is None or value == "":
                if method in ("sendMessage",) and name == "text":
                    raise bad("message text is empty")
                if "InputFile" in fields[name]:
                    raise bad(f"there is no {name} in the request")
                raise bad(f"{name} is empty")
        return params

    def _coerce(
        self,
        name: str,
        types: list[str],
        value: Any,
        files: dict[str, Any],
        used_files: set[str],
    ) -> Any:
        """One parameter from its wire form (strings in forms) to the api.json type."""
        if isinstance(value, Upload):
            return value
        if not isinstance(value, str):
            if "Integer" in types and isinstance(value, float) and value.is_integer():
                return int(value)
            return value
        if "InputFile" in types:
            if value.startswith("attach://"):
                key = value[len("attach://") :]
                if key not in files:
                    raise bad(f"there is no {name} in the request")
                used_files.add(key)
                return files[key]
            return value
        if "Integer" in types:
            try:
                return int(value)
            except ValueError:
                if "String" in types:
                    return value
                raise bad(f"invalid {name} specified") from None
        if types == ["Boolean"]:
            lowered = value.lower()
            if lowered in ("true", "1"):
                return True
            if lowered in ("false", "0", ""):
                return False
            raise bad(f"invalid {name} specified")
        if types == ["Float"]:
            try:
                return float(value)
            except ValueError:
                raise bad(f"invalid {name} specified") from None
        if "String" in types:
            return value
        try:
            return json.loads(value)
        except ValueError:
            if name == "reply_markup":
                raise bad("can't parse reply keyboard markup JSON object") from None
            raise bad(f"can't parse {name} JSON object") from None

    def _chat_hint(self, method: str, raw: dict[str, Any]) -> int | None:
        """Which chat a request concerns, for settle() and BotClient."""
        if method == "answerCallbackQuery":
            query = self._callbacks.get(str(raw.get("callback_query_id")))
            return query["chat_id"] if query else None
        value = raw.get("chat_id")
        if value is None:
            return None
        if isinstance(value, int):
            return value
        text = str(value)
        if text.lstrip("-").isdigit():
            return int(text)
        for chat in self._chats.values():
            if chat.obj.get("username") and "@" + chat.obj["username"] == text:
                return chat.id
        return None

    def _touch(self, chat_id: int | None, at: float) -> None:
        """Note activity for settle()."""
        self._last_activity_any = max(self._last_activity_any, at)
        if chat_id is not None:
            self._last_activity[chat_id] = max(self._last_activity.get(chat_id, 0.0), at)

    def _injected_fault(self, method: str) -> None:
        """Consume a queued fail_next / inject_429 fault that applies to this method."""
        for index, (status, description, methods) in enumerate(self._fail_next):
            if (methods is None and method != "getUpdates") or (
                methods is not None and method in methods
            ):
                del self._fail_next[index]
                raise TelegramError(status, description)
        for index, (retry_after, methods) in enumerate(self._inject_429):
            if (methods is None and method in SEND_METHODS) or (
                methods is not None and method in methods
            ):
                del self._inject_429[index]
                raise too_many(retry_after)

    def _record(
        self,
        method: str,
        params: dict[str, Any],
        started: float,
        *,
        result: Any = None,
        error: TelegramError | None = None,
        chat_id: int | None = None,
    ) -> None:
        """Append to calls and wake wait_for_call() waiters whose predicate matches."""
        call = ApiCall(
            method=method,
            params=params,
            ok=error is None,
            result=result,
            error=None if error is None else error.description,
            at=time.monotonic(),
            status=200 if error is None else error.status,
            chat_id=chat_id,
            started=started,
        )
        self.calls.append(call)
        for predicate, future in self._call_waiters:
            if not future.done() and _matches(predicate, call):
                future.set_result(call)

    # --- update queue -----------------------------------------------------------------------

    def _enqueue(self, update: dict[str, Any]) -> dict[str, Any]:
        """Add to the getUpdates queue without moving the wait_for_call() mark."""
        if "update_id" not in update:
            update["update_id"] = self._next_update_id
        self._next_update_id = max(self._next_update_id, int(update["update_id"]) + 1)
        self._updates.append(update)
        self._wake_pollers()
        return update

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by an offset."""
        return list(self._updates)

    def _wake_pollers(self) -> None:
        """Resolve the future long polls wait on."""
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)
        self._wakeup = None

    def _allowed(self, update: dict[str, Any]) -> bool:
        """Whether allowed_updates lets this update through."""
        kind = next((k for k in update if k != "update_id"), "")
        if self._allowed_updates is None:
            return kind not in NOT_DEFAULT_UPDATES
        return kind in self._allowed_updates

    def _collect(self, limit: int) -> list[dict[str, Any]]:
        """Up to `limit` deliverable updates; disallowed ones are dropped for good."""
        batch: list[dict[str, Any]] = []
        dropped = False
        for update in self._updates:
            if self._allowed(update):
                batch.append(update)
                if len(batch) >= limit:
                    break
            else:
                dropped = True
        if dropped:
            self._updates = deque(u for u in self._updates if self._allowed(u))
        return batch

    # --- API methods: updates and webhook ---------------------------------------------------

    def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        """The bot's User, with the getMe-only flags."""
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Long polling with offset confirmation, limit, timeout and allowed_updates."""
        if self.webhook is not None:
            raise TelegramError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        if "allowed_updates" in params:
            allowed = params["allowed_updates"]
            self._allowed_updates = set(allowed) if allowed else None
        if offset is not None:
            offset = int(offset)
            if offset < 0:
                while len(self._updates) > -offset:
                    self._updates.popleft()
            else:
                while self._updates and self._updates[0]["update_id"] < offset:
                    self._updates.popleft()
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_pollers()  # an older long poll is terminated by this one
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise TelegramError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only "
                    "one bot instance is running",
                )
            batch = self._collect(limit)
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._closing:
                return batch
            if self._wakeup is None or self._wakeup.done():
                self._wakeup = loop.create_future()
            await asyncio.wait([self._wakeup], timeout=remaining)

    def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        """Record the webhook (the fake does not deliver to it)."""
        url = params.get("url") or ""
        if not url:
            self.webhook = None
            return True
        if not url.startswith("https://"):
            raise bad("bad webhook: An HTTPS URL must be provided for webhook")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = {k: v for k, v in params.items() if not isinstance(v, Upload)}
        if "allowed_updates" in params:
            self._allowed_updates = set(params["allowed_updates"]) or None
        return True

    def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        """Remove the webhook; drop pending updates if asked."""
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _api_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        """WebhookInfo for the recorded webhook."""
        info: dict[str, Any] = {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook:
            info["max_connections"] = int(self.webhook.get("max_connections") or 40)
            if self._allowed_updates:
                info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    def _api_logOut(self, params: dict[str, Any]) -> bool:
        """Accepted; nothing to log out of."""
        return True

    def _api_close(self, params: dict[str, Any]) -> bool:
        """Accepted; nothing to close."""
        return True

    def _api_default(self, method: str, params: dict[str, Any]) -> Any:
        """Methods without a model: True for Boolean ones, a loud refusal otherwise."""
        if self._spec_methods[method].get("returns") in (["Boolean"], ["True"]):
            if "chat_id" in params:
                self._resolve_chat(params["chat_id"])
            return True
        raise bad(f"method {method} not supported by the fake")

    # --- chats ------------------------------------------------------------------------------

    def _ensure_user(self, user_id: int) -> dict[str, Any]:
        """A known user, created with a placeholder name if needed."""
        user = self.users.get(user_id)
        if user is None:
            user = self.add_user(user_id, f"User{user_id}")
            self._not_started.add(user_id)
        return user

    def _chat_or_fail(self, chat_id: int) -> _Chat:
        """A chat by id for the test-side helpers."""
        chat = self._chats.get(chat_id)
        if chat is None:
            raise AssertionError(f"chat {chat_id} does not exist")
        return chat

    def _group(self, chat_id: int) -> _Chat:
        """A non-private chat for the test-side helpers."""
        chat = self._chat_or_fail(chat_id)
        if chat.type == "private":
            raise AssertionError(f"chat {chat_id} is a private chat, not a group")
        return chat

    def _resolve_chat(self, value: Any) -> _Chat:
        """A chat by id or @username, or 400 "chat not found" like Telegram."""
        chat: _Chat | None = None
        if isinstance(value, int):
            chat = self._chats.get(value)
        elif isinstance(value, str):
            if value.lstrip("-").isdigit():
                chat = self._chats.get(int(value))
            elif value.startswith("@"):
                for candidate in self._chats.values():
                    if candidate.obj.get("username", "").lower() == value[1:].lower():
                        chat = candidate
                        break
        if chat is None:
            raise bad("chat not found")
        return chat

    def _check_writable(self, chat: _Chat) -> None:
        """403s for blocked/deactivated users and groups the bot is not in."""
        if chat.type == "private":
            if chat.id in self._deactivated:
                raise forbidden("user is deactivated")
            if chat.id in self._blocked:
                raise forbidden("bot was blocked by the user")
            if chat.id in self._not_started:
                deadline = self._join_request_dm.get(chat.id)
                if deadline is None or self.clock() > deadline:
                    raise forbidden("bot can't initiate conversation with a user")
            return
        kind = "channel" if chat.type == "channel" else chat.type
        if chat.bot_status == "kicked":
            raise forbidden(f"bot was kicked from the {kind} chat")
        if chat.bot_status == "left":
            raise forbidden(f"bot is not a member of the {kind} chat")
        if chat.type == "channel" and chat.bot_status not in ("administrator", "creator"):
            raise bad("need administrator rights in the channel chat")

    def _require_admin(self, chat: _Chat, detail: str) -> None:
        """400 "not enough rights ..." unless the bot administers the group."""
        if chat.type == "private":
            raise bad("method is available for supergroup and channel chats only")
        self._check_writable(chat)
        if chat.bot_status not in ("administrator", "creator"):
            raise bad(f"not enough rights to {detail}")

    def _chat_instance(self, chat_id: int) -> str:
        """A stable opaque chat_instance per chat, as Telegram gives in callback queries."""
        return str((chat_id * 2_654_435_761 + int(self.bot_user["id"])) % (1 << 63))

    def _member_obj(self, user: dict[str, Any], status: str) -> dict[str, Any]:
        """A ChatMember of the right subtype with its required fields."""
        if status == "creator":
            return {"status": status, "user": user, "is_anonymous": False}
        if status == "administrator":
            return {
                "status": status,
                "user": user,
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_manage_video_chats": True,
                "can_restrict_members": True,
                "can_promote_members": False,
                "can_change_info": True,
                "can_invite_users": True,
                "can_post_stories": False,
                "can_edit_stories": False,
                "can_delete_stories": False,
                "can_pin_messages": True,
                # Not in api.json 10.1, but aiogram 3.31 requires it to parse the member.
                "can_send_welcome_messages": False,
            }
        if status == "restricted":
            member: dict[str, Any] = {"status": status, "user": user, "is_member": True}
            for name in (
                "can_send_messages",
                "can_send_audios",
                "can_send_documents",
                "can_send_photos",
                "can_send_videos",
                "can_send_video_notes",
                "can_send_voice_notes",
                "can_send_polls",
                "can_send_other_messages",
                "can_add_web_page_previews",
                "can_react_to_messages",
                "can_edit_tag",
                "can_change_info",
                "can_invite_users",
                "can_pin_messages",
                "can_manage_topics",
            ):
                member[name] = False
            member["until_date"] = 0
            return member
        if status == "kicked":
            return {"status": status, "user": user, "until_date": 0}
        return {"status": status, "user": user}

    def _set_member(
        self,
        chat: _Chat,
        user_id: int,
        status: str,
        *,
        by: int,
        link: dict[str, Any] | None = None,
        notify: bool = True,
    ) -> dict[str, Any]:
        """Change a member's status and queue the chat_member update Telegram would send."""
        user = self._ensure_user(user_id)
        old = chat.members.get(user_id, "left")
        chat.members[user_id] = status
        update: dict[str, Any] = {
            "chat_member": {
                "chat": chat.obj,
                "from": self.bot_user if by == self.bot_user["id"] else self._ensure_user(by),
                "date": self._now(),
                "old_chat_member": self._member_obj(user, old),
                "new_chat_member": self._member_obj(user, status),
            }
        }
        if link is not None:
            update["chat_member"]["invite_link"] = {
                k: v for k, v in link.items() if not k.startswith("_")
            }
        if notify:
            self._enqueue(update)
        return update

    def _api_getChat(self, params: dict[str, Any]) -> dict[str, Any]:
        """ChatFullInfo with its required fields."""
        chat = self._resolve_chat(params["chat_id"])
        if chat.type != "private" and chat.bot_status in ("left", "kicked"):
            raise bad("chat not found")
        info: dict[str, Any] = {
            **chat.obj,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }
        if chat.type != "private":
            info["permissions"] = {
                "can_send_messages": True,
                "can_send_audios": True,
                "can_send_documents": True,
                "can_send_photos": True,
                "can_send_videos": True,
                "can_send_video_notes": True,
                "can_send_voice_notes": True,
                "can_send_polls": True,
                "can_send_other_messages": True,
                "can_add_web_page_previews": True,
                "can_change_info": False,
                "can_invite_users": True,
                "can_pin_messages": False,
                "can_manage_topics": False,
            }
        return info

    def _api_getChatMember(self, params: dict[str, Any]) -> dict[str, Any]:
        """The member's status; users never seen are "user not found"."""
        chat = self._resolve_chat(params["chat_id"])
        user_id = int(params["user_id"])
        if user_id == self.bot_user["id"]:
            status = "member" if chat.type == "private" else chat.bot_status
            return self._member_obj(self.bot_user, status)
        user = self.users.get(user_id)
        if user is None:
            raise bad("user not found")
        if chat.type == "private":
            return self._member_obj(user, "member" if user_id == chat.id else "left")
        return self._member_obj(user, chat.members.get(user_id, "left"))

    def _api_getChatAdministrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Owner and administrators, the bot included when it is one."""
        chat = self._resolve_chat(params["chat_id"])
        if chat.type == "private":
            raise bad("there are no administrators in the private chat")
        admins = [
            self._member_obj(self.users[uid], status)
            for uid, status in chat.members.items()
            if status in ("creator", "administrator")
        ]
        if chat.bot_status == "administrator":
            admins.append(self._member_obj(self.bot_user, "administrator"))
        return admins

    def _api_getChatMemberCount(self, params: dict[str, Any]) -> int:
        """Members present (the bot counts when in the group)."""
        chat = self._resolve_chat(params["chat_id"])
        if chat.type == "private":
            return 2
        present = ("creator", "administrator", "member", "restricted")
        count = sum(1 for status in chat.members.values() if status in present)
        return count + (1 if chat.bot_status in present else 0)

    def _api_createChatInviteLink(self, params: dict[str, Any]) -> dict[str, Any]:
        """A new, unique https://t.me/+... link with the requested limits."""
        chat = self._resolve_chat(params["chat_id"])
        self._require_admin(chat, "manage chat invite link")
        member_limit = params.get("member_limit")
        creates_join_request = bool(params.get("creates_join_request"))
        if member_limit is not None and not 1 <= int(member_limit) <= 99_999:
            raise bad("USAGE_LIMIT_INVALID")
        if member_limit is not None and creates_join_request:
            raise bad(
                "member_limit can't be specified for invite links that require "
                "administrator approval"
            )
        expire_date = params.get("expire_date")
        if expire_date is not None and int(expire_date) <= self.clock():
            raise bad("EXPIRE_DATE_INVALID")
        name = params.get("name")
        if name is not None and len(name) > 32:
            raise bad("invite link name is too long")
        link = "https://t.me/+" + secrets.token_urlsafe(12)[:16]
        while link in chat.invite_links:
            link = "https://t.me/+" + secrets.token_urlsafe(12)[:16]
        obj: dict[str, Any] = {
            "invite_link": link,
            "creator": self.bot_user,
            "creates_join_request": creates_join_request,
            "is_primary": False,
            "is_revoked": False,
        }
        if name:
            obj["name"] = name
        if expire_date is not None:
            obj["expire_date"] = int(expire_date)
        if member_limit is not None:
            obj["member_limit"] = int(member_limit)
        if creates_join_request:
            obj["pending_join_request_count"] = 0
        chat.invite_links[link] = obj
        return dict(obj)

    def _api_revokeChatInviteLink(self, params: dict[str, Any]) -> dict[str, Any]:
        """Mark a link revoked and return it."""
        chat = self._resolve_chat(params["chat_id"])
        self._require_admin(chat, "manage chat invite link")
        link = chat.invite_links.get(params["invite_link"])
        if link is None:
            raise bad("INVITE_HASH_EXPIRED")
        link["is_revoked"] = True
        return {k: v for k, v in link.items() if not k.startswith("_")}

    def _join_request(self, params: dict[str, Any]) -> tuple[_Chat, int]:
        """The group and user of a pending join request, or Telegram's refusal."""
        chat = self._resolve_chat(params["chat_id"])
        self._require_admin(chat, "manage join requests")
        user_id = int(params["user_id"])
        if chat.members.get(user_id) in ("creator", "administrator", "member", "restricted"):
            raise bad("USER_ALREADY_PARTICIPANT")
        if user_id not in chat.join_requests:
            raise bad("HIDE_REQUESTER_MISSING")
        return chat, user_id

    def _finish_join_request(self, chat: _Chat, user_id: int) -> dict[str, Any] | None:
        """Remove a pending request and decrement its link's pending counter."""
        request = chat.join_requests.pop(user_id)
        self._join_request_dm.pop(user_id, None)  # the bot may write only until it decides
        link_obj = request.get("invite_link")
        stored = chat.invite_links.get(link_obj["invite_link"]) if link_obj else None
        if stored is not None and stored.get("pending_join_request_count"):
            stored["pending_join_request_count"] -= 1
        return stored

    def _api_approveChatJoinRequest(self, params: dict[str, Any]) -> bool:
        """The user becomes a member (chat_member update queued)."""
        chat, user_id = self._join_request(params)
        stored = self._finish_join_request(chat, user_id)
        if stored is not None:
            stored["_joined"] = stored.get("_joined", 0) + 1
        update = self._set_member(
            chat, user_id, "member", by=self.bot_user["id"], link=stored, notify=False
        )
        if stored is None:
            update["chat_member"]["via_join_request"] = True
        self._enqueue(update)
        return True

    def _api_declineChatJoinRequest(self, params: dict[str, Any]) -> bool:
        """The request is dropped."""
        chat, user_id = self._join_request(params)
        self._finish_join_request(chat, user_id)
        return True

    def _api_banChatMember(self, params: dict[str, Any]) -> bool:
        """Status "kicked"; owners and administrators cannot be banned."""
        chat = self._resolve_chat(params["chat_id"])
        self._require_admin(chat, "restrict/ban chat member")
        user_id = int(params["user_id"])
        if user_id == self.bot_user["id"]:
            raise bad("can't remove self")
        status = chat.members.get(user_id, "left")
        if status == "creator":
            raise bad("can't remove chat owner")
        if status == "administrator":
            raise bad("user is an administrator of the chat")
        if status != "kicked":
            self._set_member(chat, user_id, "kicked", by=self.bot_user["id"])
        chat.join_requests.pop(user_id, None)
        return True

    def _api_unbanChatMember(self, params: dict[str, Any]) -> bool:
        """Kicked -> left; a member is removed too unless only_if_banned."""
        chat = self._resolve_chat(params["chat_id"])
        self._require_admin(chat, "restrict/ban chat member")
        user_id = int(params["user_id"])
        status = chat.members.get(user_id, "left")
        if status in ("creator", "administrator"):
            raise bad("user is an administrator of the chat")
        if status == "kicked" or (
            status in ("member", "restricted") and not params.get("only_if_banned")
        ):
            self._set_member(chat, user_id, "left", by=self.bot_user["id"])
        return True

    def _api_leaveChat(self, params: dict[str, Any]) -> bool:
        """The bot leaves the group (my_chat_member update queued)."""
        chat = self._resolve_chat(params["chat_id"])
        if chat.type == "private":
            raise bad("chat member status can't be changed in private chats")
        self._check_writable(chat)
        old = chat.bot_status
        chat.bot_status = "left"
        self._enqueue(
            {
                "my_chat_member": {
                    "chat": chat.obj,
                    "from": self.bot_user,
                    "date": self._now(),
                    "old_chat_member": self._member_obj(self.bot_user, old),
                    "new_chat_member": self._member_obj(self.bot_user, "left"),
                }
            }
        )
        return True

    # --- messages ---------------------------------------------------------------------------

    def _store_message(
        self,
        chat: _Chat,
        sender: dict[str, Any],
        content: dict[str, Any],
        *,
        from_bot: bool,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Create a message in a chat with the next message_id."""
        message_id = chat.next_message_id
        chat.next_message_id += 1
        record: dict[str, Any] = {
            "message_id": message_id,
            "from": sender,
            "chat": chat.obj,
            "date": self._now(),
            **content,
            "_from_bot": from_bot,
            "_version": 0,
        }
        if extra:
            record.update(extra)
        chat.messages[message_id] = record
        return record

    @staticmethod
    def _public(record: dict[str, Any], *, nested: bool = False) -> dict[str, Any]:
        """The Message object as Telegram serialises it (test-only keys removed)."""
        message = {k: v for k, v in record.items() if not k.startswith("_")}
        if nested:
            message.pop("reply_to_message", None)
        return message

    def _format(
        self,
        text: Any,
        parse_mode: Any,
        entities: Any,
        *,
        limit: int,
        caption: bool,
    ) -> tuple[str, list[dict[str, Any]], str]:
        """Parse text per parse_mode; enforce emptiness and length; returns text, entities,
        and the HTML form (the original for parse_mode HTML)."""
        raw = "" if text is None else str(text)
        raw = raw.replace("\r", "")
        mode = str(parse_mode or "").lower()
        try:
            if mode == "html":
                plain, found = parse_html(raw, strict=self.strict_html, users=self.users)
            elif mode == "markdownv2":
                plain, found = parse_markdown_v2(raw)
            elif mode == "markdown":
                plain, found = parse_markdown(raw)
            elif mode in ("", "none"):
                plain = raw
                found = self._check_entities(raw, entities)
            else:
                raise bad("unsupported parse_mode")
        except EntityParseError as error:
            raise bad(f"can't parse entities: {error}") from None
        plain, found = _trim(plain, found)
        if not plain and not caption:
            raise bad("message text is empty")
        if utf16_len(plain) > limit:
            raise bad("message caption is too long" if caption else "message is too long")
        found = found + detect_entities(plain, found)
        found.sort(key=lambda e: (e["offset"], -e["length"]))
        rendered = raw if mode == "html" else entities_to_html(plain, found)
        return plain, found, rendered

    @staticmethod
    def _check_entities(text: str, entities: Any) -> list[dict[str, Any]]:
        """Explicit entities: a list of MessageEntity inside the text."""
        if not entities:
            return []
        if not isinstance(entities, list):
            raise bad("can't parse entities JSON object")
        total = utf16_len(text)
        kept = []
        for entity in entities:
            if not isinstance(entity, dict) or "type" not in entity:
                raise bad('can\'t parse MessageEntity: field "type" must be of type String')
            offset = int(entity.get("offset", 0))
            length = int(entity.get("length", 0))
            if offset < 0 or length <= 0 or offset >= total:
                continue
            kept.append({**entity, "offset": offset, "length": min(length, total - offset)})
        return kept

    def _check_markup(self, markup: Any, *, inline_only: bool = False) -> dict[str, Any] | None:
        """Validate reply_markup like Telegram; returns it normalised (None when absent)."""
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad('field "inline_keyboard" must be an Array of Arrays')
            count = 0
            clean_rows = []
            for row in rows:
                clean_row = []
                for button in row:
                    count += 1
                    clean_row.append(self._check_inline_button(button))
                if clean_row:
                    clean_rows.append(clean_row)
            if count > MAX_BUTTONS:
                raise bad("reply markup is too long")
            return {"inline_keyboard": clean_rows}
        if inline_only:
            raise bad("inline keyboard expected")
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad('field "keyboard" must be an Array of Arrays')
            if sum(len(r) for r in rows) > 300:
                raise bad("reply markup is too long")
            for row in rows:
                for button in row:
                    text = button if isinstance(button, str) else (button or {}).get("text")
                    if not text:
                        raise bad("can't parse keyboard button: Text must be non-empty")
            return markup
        if markup.get("remove_keyboard") or markup.get("force_reply"):
            return markup
        raise bad("can't parse reply keyboard markup JSON object")

    @staticmethod
    def _check_inline_button(button: Any) -> dict[str, Any]:
        """One InlineKeyboardButton: text, exactly one action, callback_data 1-64 bytes."""
        if not isinstance(button, dict):
            raise bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
        clean = {k: v for k, v in button.items() if v is not None}
        if not clean.get("text"):
            raise bad("can't parse inline keyboard button: Text must be non-empty")
        actions = [name for name in INLINE_BUTTON_ACTIONS if name in clean]
        if not actions:
            raise bad(
                "can't parse inline keyboard button: Text buttons are unallowed in the inline "
                "keyboard"
            )
        if "callback_data" in clean:
            data = clean["callback_data"]
            if (
                not isinstance(data, str)
                or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA
            ):
                raise bad("BUTTON_DATA_INVALID")
        if "url" in clean:
            url = str(clean["url"])
            if _check_link(url) is None:
                raise bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
        return clean

    def _reply_to(self, chat: _Chat, params: dict[str, Any]) -> dict[str, Any]:
        """reply_to_message for reply_parameters (or the legacy reply_to_message_id)."""
        reply = params.get("reply_parameters")
        if not reply and params.get("reply_to_message_id"):
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply"),
            }
        if not reply:
            return {}
        if not isinstance(reply, dict) or "message_id" not in reply:
            raise bad("can't parse reply parameters JSON object")
        source = chat
        if reply.get("chat_id") is not None:
            source = self._resolve_chat(reply["chat_id"])
        replied = source.messages.get(int(reply["message_id"]))
        if replied is None:
            if reply.get("allow_sending_without_reply"):
                return {}
            raise bad("message to be replied not found")
        return {"reply_to_message": self._public(replied, nested=True)}

    def _prepare_send(self, params: dict[str, Any]) -> _Chat:
        """Resolve the target and apply 403 checks, as Telegram does first."""
        chat = self._resolve_chat(params["chat_id"])
        self._check_writable(chat)
        return chat

    def _finish_send(
        self,
        method: str,
        chat: _Chat,
        params: dict[str, Any],
        content: dict[str, Any],
        extra: dict[str, Any],
    ) -> dict[str, Any]:
        """Common tail of send-type methods: markup, reply, limits, storage."""
        markup = self._check_markup(params.get("reply_markup"))
        content.update(self._reply_to(chat, params))
        if markup is not None:
            if "inline_keyboard" in markup:
                content["reply_markup"] = markup
            else:
                extra["_reply_keyboard"] = markup
        if params.get("protect_content") is True:
            content["has_protected_content"] = True
        thread = params.get("message_thread_id")
        if thread and chat.obj.get("is_forum"):
            content["message_thread_id"] = int(thread)
            content["is_topic_message"] = True
        self._account_send(method, chat)
        record = self._store_message(chat, self.bot_user, content, from_bot=True, extra=extra)
        return self._public(record)

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        """A text message."""
        chat = self._prepare_send(params)
        text, entities, rendered = self._format(
            params.get("text"),
            params.get("parse_mode"),
            params.get("entities"),
            limit=MAX_TEXT,
            caption=False,
        )
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        extra = {
            "_html": rendered,
            "_raw": params.get("text"),
            "_parse_mode": params.get("parse_mode"),
        }
        return self._finish_send("sendMessage", chat, params, content, extra)

    def _caption(self, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """caption/caption_entities content and the `_caption_html` extra."""
        if params.get("caption") in (None, ""):
            return {}, {}
        text, entities, rendered = self._format(
            params["caption"],
            params.get("parse_mode"),
            params.get("caption_entities"),
            limit=MAX_CAPTION,
            caption=True,
        )
        if not text:
            return {}, {}
        content: dict[str, Any] = {"caption": text}
        if entities:
            content["caption_entities"] = entities
        return content, {"_caption_html": rendered}

    def _input_file(self, name: str, value: Any, kind: str) -> StoredFile:
        """An uploaded file, a known file_id or an HTTP URL, as a StoredFile."""
        if isinstance(value, Upload):
            if not value.data:
                raise bad("file must be non-empty")
            mime = value.content_type
            if not mime or mime == "application/octet-stream":
                mime = _guess_mime(value.filename)
            return self._new_file(value.data, kind, value.filename, mime)
        if isinstance(value, str):
            stored = self.files.get(value)
            if stored is not None:
                return stored
            if value.startswith(("http://", "https://")):
                file_name = value.rstrip("/").rsplit("/", 1)[-1] or "file"
                return self._new_file(b"", kind, file_name, _guess_mime(file_name))
        raise bad("wrong file identifier/HTTP URL specified")

    def _new_file(
        self, data: bytes, kind: str, file_name: str | None, mime_type: str | None
    ) -> StoredFile:
        """Register a file with realistic ids and a download path."""
        self._file_seq += 1
        prefix = {
            "document": "BQACAgQAAxkBAAI",
            "photo": "AgACAgQAAxkBAAI",
            "voice": "AwACAgQAAxkBAAI",
            "audio": "CQACAgQAAxkBAAI",
            "sticker": "CAACAgQAAxkBAAI",
        }.get(kind, "BQACAgQAAxkBAAI")
        file_id = f"{prefix}{self._file_seq:06d}{secrets.token_urlsafe(12)}"
        unique = f"AgAD{self._file_seq:06d}{secrets.token_hex(3)}"
        folder = {"photo": "photos", "voice": "voice", "audio": "music", "sticker": "stickers"}
        extension = os.path.splitext(file_name or "")[1] or {
            "photo": ".jpg",
            "voice": ".oga",
            "audio": ".mp3",
            "sticker": ".webp",
        }.get(kind, ".bin")
        path = f"{folder.get(kind, 'documents')}/file_{self._file_seq}{extension}"
        stored = StoredFile(file_id, unique, path, data, file_name, mime_type, kind)
        self.files[file_id] = stored
        self._files_by_path[path] = stored
        return stored

    @staticmethod
    def _file_obj(stored: StoredFile) -> dict[str, Any]:
        """file_id, file_unique_id and file_size."""
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
        }

    def _photo_sizes(self, data: bytes, source: StoredFile | None = None) -> list[dict[str, Any]]:
        """Three PhotoSize entries, the largest being the file itself."""
        sizes = []
        for index, (side, part) in enumerate(((90, 16), (320, 4), (800, 1))):
            if index == 2 and source is not None:
                stored = source
            else:
                stored = self._new_file(
                    data[: max(len(data) // part, 1)], "photo", None, "image/jpeg"
                )
            sizes.append({**self._file_obj(stored), "width": side, "height": side})
        return sizes

    def _api_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        """A document; an upload keeps its name, size and bytes."""
        chat = self._prepare_send(params)
        stored = self._input_file("document", params["document"], "document")
        content, extra = self._caption(params)
        document = {**self._file_obj(stored)}
        if stored.file_name:
            document["file_name"] = stored.file_name
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        content["document"] = document
        extra["_file"] = stored
        return self._finish_send("sendDocument", chat, params, content, extra)

    def _api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        """A photo, returned as three PhotoSize entries."""
        chat = self._prepare_send(params)
        value = params["photo"]
        stored = self._input_file("photo", value, "photo")
        if isinstance(value, Upload) and len(value.data) > 10 * 1024 * 1024:
            raise bad("PHOTO_INVALID_DIMENSIONS")
        content, extra = self._caption(params)
        content["photo"] = self._photo_sizes(stored.data, stored)
        extra["_file"] = stored
        return self._finish_send("sendPhoto", chat, params, content, extra)

    def _api_sendVoice(self, params: dict[str, Any]) -> dict[str, Any]:
        """A voice note."""
        chat = self._prepare_send(params)
        stored = self._input_file("voice", params["voice"], "voice")
        content, extra = self._caption(params)
        content["voice"] = {
            **self._file_obj(stored),
            "duration": int(params.get("duration") or 1),
            "mime_type": "audio/ogg",
        }
        extra["_file"] = stored
        return self._finish_send("sendVoice", chat, params, content, extra)

    def _api_sendAudio(self, params: dict[str, Any]) -> dict[str, Any]:
        """An audio file."""
        chat = self._prepare_send(params)
        stored = self._input_file("audio", params["audio"], "audio")
        content, extra = self._caption(params)
        audio: dict[str, Any] = {
            **self._file_obj(stored),
            "duration": int(params.get("duration") or 1),
            "mime_type": stored.mime_type or "audio/mpeg",
        }
        if stored.file_name:
            audio["file_name"] = stored.file_name
        for key in ("performer", "title"):
            if params.get(key):
                audio[key] = params[key]
        content["audio"] = audio
        extra["_file"] = stored
        return self._finish_send("sendAudio", chat, params, content, extra)

    def _api_sendChatAction(self, params: dict[str, Any]) -> bool:
        """Validated and accepted; not a message."""
        chat = self._prepare_send(params)
        if params["action"] not in CHAT_ACTIONS:
            raise bad("wrong parameter action in request")
        del chat
        return True

    def _api_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        """File with a file_path downloadable from /file/bot<token>/."""
        stored = self.files.get(str(params["file_id"]))
        if stored is None:
            raise bad("invalid file_id")
        if stored.size > MAX_DOWNLOAD:
            raise bad("file is too big")
        return {**self._file_obj(stored), "file_path": stored.file_path}

    def _source_message(self, params: dict[str, Any], action: str) -> dict[str, Any]:
        """The message to copy/forward, or "message to <action> not found"."""
        source = self._resolve_chat(params["from_chat_id"])
        record = source.messages.get(int(params["message_id"]))
        if record is None:
            raise bad(f"message to {action} not found")
        return record

    def _api_copyMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        """A copy without a link to the original; returns MessageId."""
        chat = self._prepare_send(params)
        record = self._source_message(params, "copy")
        content: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        media_keys = ("document", "photo", "voice", "audio", "sticker", "video", "animation")
        for key in ("text", "entities", *media_keys):
            if key in record:
                content[key] = record[key]
        for key in ("_html", "_file"):
            if key in record:
                extra[key] = record[key]
        if any(key in record for key in media_keys if key != "sticker"):
            if params.get("caption") not in (None, ""):
                caption, caption_extra = self._caption(params)
                content.update(caption)
                extra.update(caption_extra)
            else:
                for key in ("caption", "caption_entities", "_caption_html"):
                    if key in record:
                        (extra if key.startswith("_") else content)[key] = record[key]
        message = self._finish_send("copyMessage", chat, params, content, extra)
        return {"message_id": message["message_id"]}

    def _api_forwardMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        """A forward carrying forward_origin."""
        chat = self._prepare_send(params)
        record = self._source_message(params, "forward")
        content = {
            k: v
            for k, v in record.items()
            if k not in ("message_id", "from", "chat", "date", "reply_markup", "edit_date")
            and k != "reply_to_message"
            and not k.startswith("_")
        }
        sender = record.get("from") or self.bot_user
        content["forward_origin"] = {"type": "user", "sender_user": sender, "date": record["date"]}
        extra: dict[str, Any] = {
            k: record[k] for k in ("_html", "_file", "_caption_html") if k in record
        }
        return self._finish_send("forwardMessage", chat, params, content, extra)

    def _editable(self, params: dict[str, Any]) -> tuple[_Chat, dict[str, Any]]:
        """The bot message an edit targets, or Telegram's refusal."""
        if params.get("inline_message_id"):
            raise bad("MESSAGE_ID_INVALID")
        if params.get("chat_id") is None:
            raise bad("chat_id is empty")
        if params.get("message_id") is None:
            raise bad("message identifier is not specified")
        chat = self._resolve_chat(params["chat_id"])
        self._check_writable(chat)
        record = chat.messages.get(int(params["message_id"]))
        if record is None:
            raise bad("message to edit not found")
        if not record["_from_bot"] or self._too_old(record):
            raise bad("message can't be edited")
        return chat, record

    def _too_old(self, record: dict[str, Any]) -> bool:
        """Sent more than 48 hours ago: Telegram no longer edits or deletes it."""
        return self._now() - int(record["date"]) > EDIT_WINDOW

    def _apply_edit(
        self, chat: _Chat, old: dict[str, Any], new: dict[str, Any], keys: Iterable[str]
    ) -> dict[str, Any]:
        """Refuse an edit that changes nothing; otherwise store the new version."""
        if all(old.get(key) == new.get(key) for key in keys):
            raise bad(NOT_MODIFIED)
        for key in keys:
            if new.get(key) is None:
                new.pop(key, None)
        new["edit_date"] = self._now()
        new["_version"] = old["_version"] + 1
        chat.messages[old["message_id"]] = new
        return self._public(new)

    def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        """New text (and markup: omitting it removes the keyboard)."""
        chat, record = self._editable(params)
        if "text" not in record:
            raise bad("there is no text in the message to edit")
        text, entities, rendered = self._format(
            params.get("text"),
            params.get("parse_mode"),
            params.get("entities"),
            limit=MAX_TEXT,
            caption=False,
        )
        markup = self._check_markup(params.get("reply_markup"), inline_only=True)
        new = {
            **record,
            "text": text,
            "entities": entities or None,
            "reply_markup": markup,
            "_html": rendered,
            "_raw": params.get("text"),
            "_parse_mode": params.get("parse_mode"),
        }
        return self._apply_edit(chat, record, new, ("text", "entities", "reply_markup"))

    def _api_editMessageCaption(self, params: dict[str, Any]) -> dict[str, Any]:
        """New caption of a media message."""
        chat, record = self._editable(params)
        if "text" in record:
            raise bad("there is no caption in the message to edit")
        content, extra = self._caption(params)
        markup = self._check_markup(params.get("reply_markup"), inline_only=True)
        new = {
            **record,
            "caption": content.get("caption"),
            "caption_entities": content.get("caption_entities"),
            "reply_markup": markup,
            **extra,
        }
        return self._apply_edit(chat, record, new, ("caption", "caption_entities", "reply_markup"))

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        """New inline keyboard (none removes it)."""
        chat, record = self._editable(params)
        markup = self._check_markup(params.get("reply_markup"), inline_only=True)
        new = {**record, "reply_markup": markup}
        return self._apply_edit(chat, record, new, ("reply_markup",))

    def _api_deleteMessage(self, params: dict[str, Any]) -> bool:
        """Remove a message; others' messages in groups need admin rights."""
        chat = self._resolve_chat(params["chat_id"])
        record = chat.messages.get(int(params["message_id"]))
        if record is None:
            raise bad("message to delete not found")
        if self._too_old(record) or (
            chat.type != "private"
            and not record["_from_bot"]
            and chat.bot_status not in ("administrator", "creator")
        ):
            raise bad("message can't be deleted")
        del chat.messages[record["message_id"]]
        chat.deleted.append(record)
        return True

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        """Each query can be answered once, within the timeout, with up to 200 characters."""
        query = self._callbacks.get(str(params["callback_query_id"]))
        if (
            query is None
            or query["answered"]
            or time.monotonic() - query["at"] > self.callback_timeout
        ):
            raise bad(QUERY_TOO_OLD)
        text = params.get("text")
        if text is not None and utf16_len(str(text)) > MAX_CALLBACK_ANSWER:
            raise bad("MESSAGE_TOO_LONG")
        url = params.get("url")
        if url and not str(url).startswith(("https://t.me/", "t.me/", "tg://")):
            raise bad("URL_INVALID")
        query["answered"] = True
        return True

    # --- bot profile ------------------------------------------------------------------------

    @staticmethod
    def _language(params: dict[str, Any]) -> str | None:
        """language_code, "" and absent meaning all languages."""
        code = params.get("language_code") or None
        if code is not None and not LANGUAGE_RE.match(code):
            raise bad("invalid language code specified")
        return code

    def _scope_key(self, params: dict[str, Any]) -> str:
        """The scope part of a commands key: the type, with chat/user for chat scopes."""
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or "type" not in scope:
            raise bad("can't parse BotCommandScope JSON object")
        kind = scope["type"]
        valid = (
            "default",
            "all_private_chats",
            "all_group_chats",
            "all_chat_administrators",
            "chat",
            "chat_administrators",
            "chat_member",
        )
        if kind not in valid:
            raise bad("wrong BotCommandScope type specified")
        if kind in ("chat", "chat_administrators", "chat_member"):
            chat = self._resolve_chat(scope.get("chat_id"))
            kind = f"{kind}:{chat.id}"
            if scope["type"] == "chat_member":
                kind += f":{int(scope.get('user_id', 0))}"
        return kind

    def _api_setMyCommands(self, params: dict[str, Any]) -> bool:
        """Validate and store a command list for (scope, language)."""
        commands = params["commands"]
        if not isinstance(commands, list):
            raise bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad("too many commands specified")
        clean = []
        for command in commands:
            name = str((command or {}).get("command", ""))
            description = str((command or {}).get("description", ""))
            if not COMMAND_RE.match(name):
                raise bad("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name, "description": description})
        key = (self._scope_key(params), self._language(params))
        if clean:
            self.commands[key] = clean
        else:
            self.commands.pop(key, None)
        return True

    def _api_getMyCommands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """The list stored for exactly that (scope, language)."""
        return list(self.commands.get((self._scope_key(params), self._language(params)), []))

    def _api_deleteMyCommands(self, params: dict[str, Any]) -> bool:
        """Forget the list for (scope, language)."""
        self.commands.pop((self._scope_key(params), self._language(params)), None)
        return True

    def _api_setMyDescription(self, params: dict[str, Any]) -> bool:
        """Up to 512 characters; empty removes it."""
        text = params.get("description") or ""
        if len(text) > 512:
            raise bad("description is too long")
        language = self._language(params)
        if text:
            self.descriptions[language] = text
        else:
            self.descriptions.pop(language, None)
        return True

    def _api_getMyDescription(self, params: dict[str, Any]) -> dict[str, Any]:
        """BotDescription for that language ("" when unset)."""
        return {"description": self.descriptions.get(self._language(params), "")}

    def _api_setMyShortDescription(self, params: dict[str, Any]) -> bool:
        """Up to 120 characters; empty removes it."""
        text = params.get("short_description") or ""
        if len(text) > 120:
            raise bad("short description is too long")
        language = self._language(params)
        if text:
            self.short_descriptions[language] = text
        else:
            self.short_descriptions.pop(language, None)
        return True

    def _api_getMyShortDescription(self, params: dict[str, Any]) -> dict[str, Any]:
        """BotShortDescription for that language ("" when unset)."""
        return {"short_description": self.short_descriptions.get(self._language(params), "")}

    def _api_setChatMenuButton(self, params: dict[str, Any]) -> bool:
        """Record the menu button (per private chat, or the default)."""
        chat_id = params.get("chat_id")
        key = None if chat_id is None else self._resolve_chat(chat_id).id
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in (
            "default",
            "commands",
            "web_app",
        ):
            raise bad("can't parse menu button JSON object")
        self.menu_buttons[key] = button
        return True

    def _api_getChatMenuButton(self, params: dict[str, Any]) -> dict[str, Any]:
        """The recorded menu button, or the default one."""
        chat_id = params.get("chat_id")
        key = None if chat_id is None else self._resolve_chat(chat_id).id
        return self.menu_buttons.get(key) or self.menu_buttons.get(None) or {"type": "default"}


def _get(obj: Any, key: str) -> Any:
    """Read a field from a dict or an aiogram object alike."""
    if isinstance(obj, dict):
        return obj[key]
    return getattr(obj, key if key != "from" else "from_user")


def _matches(predicate: Callable[[ApiCall], bool], call: ApiCall) -> bool:
    """A predicate that raises (e.g. KeyError on other methods' params) does not match."""
    try:
        return bool(predicate(call))
    except Exception:
        return False


def _guess_mime(file_name: str) -> str:
    """A MIME type from the file extension."""
    extension = os.path.splitext(file_name)[1].lower()
    return {
        ".pdf": "application/pdf",
        ".txt": "text/plain",
        ".csv": "text/csv",
        ".ics": "text/calendar",
        ".json": "application/json",
        ".zip": "application/zip",
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
        ".png": "image/png",
        ".ogg": "audio/ogg",
        ".oga": "audio/ogg",
        ".mp3": "audio/mpeg",
        ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }.get(extension, "application/octet-stream")


def _json_default(value: Any) -> Any:
    """Encode what tests may put into pushed updates: datetimes, aiogram objects, files."""
    if isinstance(value, datetime):
        return int(value.timestamp())
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_none=True, by_alias=True)
    if isinstance(value, (Upload, StoredFile)):
        return value.file_id if isinstance(value, StoredFile) else value.filename
    raise TypeError(f"cannot encode {type(value).__name__} in a Bot API response")


def _error_response(error: TelegramError) -> web.Response:
    """Telegram's error body with its HTTP status."""
    body: dict[str, Any] = {
        "ok": False,
        "error_code": error.status,
        "description": error.description,
    }
    if error.parameters:
        body["parameters"] = error.parameters
    return web.Response(
        text=json.dumps(body, ensure_ascii=False),
        status=error.status,
        content_type="application/json",
    )
