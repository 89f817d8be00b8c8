"""Coordinators' announcements: one text (with versions per language), a document or a voice
note, sent to a working group through the delivery engine and rendered per member.

An `announcement` broadcast carries:
    {"group_id": 3, "main": "en", "texts": {"en": "<html>", "es": "<html>"},
     "document": {"file_id": "...", "name": "report.pdf"} | None, "voice": "file_id" | None,
     "locale": "en"}
Texts are HTML built by Telegram from the coordinator's own formatting (already escaped).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from babel import Locale, UnknownLocaleError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import SUPPORTED_LOCALES
from bot.core.i18n import LANGUAGE_NAMES
from bot.delivery.digest import DigestItem
from bot.delivery.queue import Outgoing, Priority, RenderContext, enqueue_broadcast
from models.delivery import Broadcast
from models.group import WorkingGroup, announcement_audience, get_group, get_membership

KIND = "announcement"
MAX_TEXT = 3500  # leaves room for the heading and the language note within 4096
MAX_CAPTION = 1024
MAX_MESSAGE = 4096
Gettext = Callable[..., str]


@dataclass
class Draft:
    """An announcement being written; lives in the coordinator's FSM data between taps."""

    group_id: int
    token: str
    main: str
    texts: dict[str, str] = field(default_factory=dict)
    document: dict[str, str] | None = None
    voice: str | None = None
    post_in_chat: bool = False

    def to_data(self) -> dict[str, Any]:
        return {
            "group_id": self.group_id,
            "token": self.token,
            "main": self.main,
            "texts": dict(self.texts),
            "document": self.document,
            "voice": self.voice,
            "post_in_chat": self.post_in_chat,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None) -> Draft | None:
        """The draft kept in FSM data, or None if there is none (or it is damaged)."""
        if not data:
            return None
        try:
            return cls(
                group_id=int(data["group_id"]),
                token=str(data["token"]),
                main=str(data["main"]),
                texts={str(k): str(v) for k, v in dict(data.get("texts") or {}).items()},
                document=data.get("document"),
                voice=data.get("voice"),
                post_in_chat=bool(data.get("post_in_chat")),
            )
        except (KeyError, TypeError, ValueError):
            return None

    @property
    def ready(self) -> bool:
        """Something to send: a text or an attachment."""
        return bool(self.texts) or self.document is not None or self.voice is not None

    def payload(self) -> dict[str, Any]:
        """What the broadcast stores for rendering at send time."""
        return {
            "group_id": self.group_id,
            "main": self.main,
            "texts": dict(self.texts),
            "document": self.document,
            "voice": self.voice,
            "locale": self.main,
        }


def preview_languages(draft: Draft) -> list[str]:
    """Whose copy a preview shows: each version's readers, and readers of one language without."""
    readers = [code for code in SUPPORTED_LOCALES if code in draft.texts]
    missing = [code for code in SUPPORTED_LOCALES if code not in draft.texts]
    return readers + missing[:1]


def pick_version(
    texts: Mapping[str, str], locale: str, main: str, default_locale: str
) -> tuple[str | None, str]:
    """The text for `locale`, else the default language's, else the original.

    Returns (language used, text); the language is None when there is no text at all.
    """
    for candidate in (locale, default_locale, main):
        if texts.get(candidate):
            return candidate, texts[candidate]
    for candidate, text in texts.items():
        if text:
            return candidate, text
    return None, ""


def language_name(code: str, reader: str) -> str:
    """A language's name in the reader's language ("inglés", "anglais"), from Babel."""
    try:
        name = Locale.parse(code).get_language_name(reader)
    except (ValueError, UnknownLocaleError):
        name = None
    return name or LANGUAGE_NAMES.get(code, code)


def fallback_note(used: str, reader: str, _: Gettext) -> str:
    """The mark on a version that is not in the reader's language."""
    return _("<i>Not available in your language: this is the version in {language}.</i>").format(
        language=language_name(used, reader)
    )


def compose(
    payload: Mapping[str, Any],
    group_name: str,
    locale: str,
    default_locale: str,
    _: Gettext,
    *,
    all_versions: bool = False,
) -> list[Outgoing]:
    """The messages one reader gets: heading, their version (or a marked fallback), attachment.

    `all_versions` (a group chat, read by people of every language): the original first,
    then every other version, as long as it fits in one message.
    """
    texts: Mapping[str, str] = payload.get("texts") or {}
    main = str(payload.get("main") or default_locale)
    heading = _("📣 <b>{group}</b>").format(group=html.escape(group_name))
    parts = [heading]
    if all_versions:
        ordered = sorted(texts.items(), key=lambda item: item[0] != main)
        for code, text in ordered:
            label = f"<b>{LANGUAGE_NAMES.get(code, code)}</b>\n" if len(texts) > 1 else ""
            candidate = "\n\n".join([*parts, label + text])
            if len(candidate) > MAX_MESSAGE and len(parts) > 1:
                break
            parts.append(label + text)
    else:
        used, text = pick_version(texts, locale, main, default_locale)
        if text:
            parts.append(text)
        if used is not None and used != locale:
            parts.append(fallback_note(used, locale, _))
    body = "\n\n".join(parts)
    document = payload.get("document")
    voice = payload.get("voice")
    if document is None and voice is None:
        return [Outgoing(text=body)]
    if len(body) <= MAX_CAPTION:
        if document is not None:
            return [Outgoing(document=str(document["file_id"]), caption=body)]
        return [Outgoing(voice=str(voice), caption=body)]
    attachment = Outgoing(document=str(document["file_id"])) if document else Outgoing(voice=voice)
    return [Outgoing(text=body), attachment]


async def render_announcement(ctx: RenderContext) -> list[Outgoing] | None:
    """One recipient's copy; members who left the group since it was queued get nothing."""
    payload = ctx.broadcast.payload
    group_id = int(payload["group_id"])
    group = ctx.cache.get("group")
    if group is None:
        group = await get_group(ctx.session, group_id)
        if group is None:
            return None
        ctx.cache["group"] = group
    default_locale = ctx.app.settings.default_locale
    if ctx.member is not None:
        link = await get_membership(ctx.session, group_id, ctx.member.id)
        if link is None or not link.is_active or link.muted:
            return None
    name = group.name(ctx.locale, default_locale)
    return compose(
        payload, name, ctx.locale, default_locale, ctx._, all_versions=ctx.member is None
    )


async def digest_announcement(ctx: RenderContext) -> DigestItem | None:
    """An announcement in a member's digest: its text; a file or voice note follows the digest."""
    parts = await render_announcement(ctx)
    if not parts:
        return None
    text = parts[0].text or parts[0].caption or ""
    files = [
        Outgoing(document=part.document, voice=part.voice)
        for part in parts
        if part.document is not None or part.voice is not None
    ]
    return DigestItem(text=text, attachments=files)


async def send_announcement(
    session: AsyncSession,
    draft: Draft,
    group: WorkingGroup,
    *,
    author_id: int,
    author_chat_id: int,
) -> tuple[Broadcast, bool]:
    """Queue the announcement (once per draft); returns the broadcast and whether it is new."""
    key = f"{KIND}:{group.id}:{draft.token}"
    existing = await session.scalar(select(Broadcast).where(Broadcast.dedupe_key == key))
    if existing is not None and existing.total > 0:
        return existing, False
    chat_ids = [group.chat_id] if draft.post_in_chat and group.chat_id is not None else []
    broadcast = await enqueue_broadcast(
        session,
        kind=KIND,
        payload=draft.payload(),
        recipients=announcement_audience(group.id),
        chat_ids=chat_ids,
        priority=Priority.NORMAL,
        created_by_id=author_id,
        progress_chat_id=author_chat_id,
        dedupe_key=key,
    )
    return broadcast, True
