"""Notices: a short text written by an admin in several languages, each member gets theirs.

A `notice` broadcast carries its texts in the payload ({"texts": {"en": ..., "es": ...}});
the renderer picks the member's language, else the default language, else the first given.
Texts are plain text unless the payload says `"html": true`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.queue import Outgoing, Priority, RenderContext, enqueue_broadcast
from bot.delivery.scheduler import JobContext, schedule
from models.delivery import Broadcast
from models.job import Job
from models.member import Member, MemberStatus

KIND = "notice"


def notice_payload(texts: Mapping[str, str], *, as_html: bool = False) -> dict[str, Any]:
    """The payload of a notice; refuses an empty one."""
    clean = {locale: text for locale, text in texts.items() if text and text.strip()}
    if not clean:
        raise ValueError("a notice needs a text in at least one language")
    return {"texts": clean, "html": as_html}


def pick_text(payload: Mapping[str, Any], locale: str, default_locale: str) -> str | None:
    """The text for `locale`, else the default language's, else the first one given."""
    texts: Mapping[str, str] = payload.get("texts") or {}
    if not texts:
        return None
    return texts.get(locale) or texts.get(default_locale) or next(iter(texts.values()))


async def render_notice(ctx: RenderContext) -> list[Outgoing] | None:
    """The notice in the recipient's language (escaped unless written as HTML)."""
    payload = ctx.broadcast.payload
    text = pick_text(payload, ctx.locale, ctx.app.settings.default_locale)
    if text is None:
        return None
    if not payload.get("html"):
        text = html.escape(text)
    return [Outgoing(text=text)]


def active_members() -> Select[Any]:
    """Every active member (the default audience of a notice)."""
    return select(Member.id).where(Member.status == MemberStatus.ACTIVE)


async def enqueue_notice(
    session: AsyncSession,
    texts: Mapping[str, str],
    *,
    recipients: Select[Any] | Sequence[int] | None = None,
    chat_ids: Sequence[int] = (),
    priority: Priority = Priority.NORMAL,
    created_by_id: int | None = None,
    progress_chat_id: int | None = None,
    dedupe_key: str | None = None,
    as_html: bool = False,
) -> Broadcast:
    """Queue a notice to `recipients` (default: every active member)."""
    return await enqueue_broadcast(
        session,
        kind=KIND,
        payload=notice_payload(texts, as_html=as_html),
        recipients=active_members() if recipients is None else recipients,
        chat_ids=chat_ids,
        priority=priority,
        created_by_id=created_by_id,
        progress_chat_id=progress_chat_id,
        dedupe_key=dedupe_key,
    )


async def schedule_notice(
    session: AsyncSession,
    texts: Mapping[str, str],
    *,
    key: str,
    due_at: datetime,
    not_after: datetime | None = None,
    priority: Priority = Priority.NORMAL,
) -> Job:
    """A notice to every active member at `due_at` (replacing any notice under `key`)."""
    payload = {"notice": notice_payload(texts), "priority": int(priority)}
    return await schedule(
        session, kind=KIND, due_at=due_at, payload=payload, key=key, not_after=not_after
    )


async def run_notice_job(ctx: JobContext) -> None:
    """A scheduled notice is due: queue it to the active members (once, keyed by the job)."""
    payload = ctx.job.payload
    await enqueue_broadcast(
        ctx.session,
        kind=KIND,
        payload=payload["notice"],
        recipients=active_members(),
        priority=Priority(int(payload.get("priority", Priority.NORMAL))),
        dedupe_key=f"job:{ctx.job.key}:{ctx.job.revision}",
    )
