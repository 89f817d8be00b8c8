"""The daily digest: what waited for a member's digest hour, gathered in one message.

At each digest time the scheduler runs the `digest` job (planned by bot/delivery/attention.py
when something was held for it): it marks the waiting deliveries `digested` and queues one
`digest` broadcast to their members, listing per member the broadcasts to gather. The digest
is rendered at send time, like any message: each kind's part comes from the function its area
registered with `Registry.add_digest_item` (the text, and buttons to act on it), so a poll
already answered or closed, or an announcement of a group left, drops out.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.delivery.queue import Outgoing, Priority, RenderContext, enqueue_broadcast
from bot.delivery.scheduler import JobContext
from models.delivery import Broadcast, BroadcastStatus, take_digest_items

KIND = "digest"
MAX_TEXT = 4096  # Telegram's limit for one message


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated in the member's language."""
    return message


HEADER = N_("📰 <b>Your daily digest</b>")


@dataclass
class DigestItem:
    """One broadcast's part of a digest: its text and the buttons to act on it."""

    text: str
    buttons: list[InlineKeyboardButton] = field(default_factory=list)
    attachments: list[Outgoing] = field(default_factory=list)  # files sent after the digest


async def run_digest_job(ctx: JobContext) -> None:
    """A digest time came: gather what waited for it into one message per member."""
    items = await take_digest_items(ctx.session, ctx.app.clock.now())
    if not items:
        return
    await enqueue_broadcast(
        ctx.session,
        kind=KIND,
        payload={"items": {str(member): ids for member, ids in items.items()}},
        recipients=list(items),
        # The member chose this hour: not held for quiet hours, and ahead of bulk sends.
        priority=Priority.HIGH,
        dedupe_key=f"job:{ctx.job.key}:{ctx.job.revision}",
    )


async def render_digest(ctx: RenderContext) -> list[Outgoing] | None:
    """The member's digest: each item still relevant, one message (more only past the limit)."""
    if ctx.member is None:
        return None
    ids = ctx.broadcast.payload.get("items", {}).get(str(ctx.member.id), [])
    found: list[DigestItem] = []
    for broadcast_id in ids:
        item = await _item(ctx, int(broadcast_id))
        if item is not None:
            found.append(item)
    if not found:
        return None
    files = [file for item in found for file in item.attachments]
    return _messages(ctx._(HEADER), found) + files


async def _item(ctx: RenderContext, broadcast_id: int) -> DigestItem | None:
    """One gathered broadcast rendered for the member by its area, if still relevant."""
    original = await ctx.session.get(Broadcast, broadcast_id)
    if original is None or original.status == BroadcastStatus.CANCELLED:
        return None
    make = ctx.app.registry.digest_items.get(original.kind)
    if make is None:
        return None
    cache = ctx.cache.setdefault(f"broadcast:{broadcast_id}", {})
    item: DigestItem | None = await make(dataclasses.replace(ctx, broadcast=original, cache=cache))
    return item


def _messages(header: str, items: list[DigestItem]) -> list[Outgoing]:
    """Items joined under the header; split into more messages only past Telegram's limit."""
    out: list[Outgoing] = []
    text, buttons = header, list[InlineKeyboardButton]()
    for item in items:
        if len(text) + 2 + len(item.text) > MAX_TEXT and text != header:
            out.append(_message(text, buttons))
            text, buttons = "", list[InlineKeyboardButton]()
        text = (text + "\n\n" + item.text).strip()[:MAX_TEXT]
        buttons.extend(item.buttons)
    out.append(_message(text, buttons))
    return out


def _message(text: str, buttons: list[InlineKeyboardButton]) -> Outgoing:
    markup = InlineKeyboardMarkup(inline_keyboard=[[b] for b in buttons]) if buttons else None
    return Outgoing(text=text, reply_markup=markup)
