"""The coordinator's view of a broadcast: one status message edited as it goes, then a summary."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import timedelta
from typing import TYPE_CHECKING

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from babel.dates import format_timedelta
from sqlalchemy import select, update

from bot.core.i18n import format_number
from bot.delivery.ratelimit import ChatLimits, FloodGate
from models.base import utcnow
from models.delivery import (
    Broadcast,
    DeliveryStatus,
    active_broadcasts,
    delivery_counts,
    finish_broadcast,
    has_open_deliveries,
    held_count,
    take_progress_turn,
    take_summary_turn,
    unsent_summaries,
)
from models.member import Member

if TYPE_CHECKING:
    from bot.core.app import App

log = logging.getLogger(__name__)


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated in the coordinator's language."""
    return message


SENDING = N_("📤 <b>Sending your message…</b>")
FINISHED = N_("✅ <b>Your message has been sent</b>")
DELIVERED = N_("Delivered: {sent} of {total}")
PROBLEMS = N_("Unreachable: {unreachable} · Failed: {failed}")
SKIPPED = N_("Not needed: {skipped}")
HELD = N_("🌙 Held until morning (quiet hours): {held}")
DIGESTS = N_("📰 In daily digests: {digest}")
TIME_LEFT = N_("Time left: about {left}")
TOOK = N_("Took {duration}")
SUMMARY_RETRY = timedelta(seconds=5)  # between two attempts at a summary Telegram refused


HELD_KEY = "held"  # in the counts: pending deliveries held for quiet hours


class ProgressReporter:
    """Keeps each coordinator's status message current, no more often than every few seconds."""

    def __init__(self, app: App, gate: FloodGate, chats: ChatLimits) -> None:
        self.app = app
        self.gate = gate
        self.chats = chats
        self.interval = timedelta(seconds=app.settings.delivery_progress_seconds)
        self._seen: dict[int, tuple[float, int]] = {}
        self._shown: dict[int, str] = {}  # the text of each progress message, as last sent

    async def tick(self) -> set[int]:
        """Finish broadcasts with nothing left to send, refresh due progress messages.

        Returns the ids of the broadcasts still active.
        """
        async with self.app.sessionmaker() as session:
            broadcasts = await active_broadcasts(session)
        active = set()
        for broadcast in broadcasts:
            async with self.app.sessionmaker() as session:
                still_open = await has_open_deliveries(session, broadcast.id)
            if not still_open:
                async with self.app.sessionmaker() as session, session.begin():
                    await finish_broadcast(session, broadcast.id, utcnow())
                continue
            active.add(broadcast.id)
            if broadcast.progress_chat_id is None:
                continue
            now = utcnow()
            if broadcast.progress_at is not None and now - broadcast.progress_at < self.interval:
                continue
            async with self.app.sessionmaker() as session, session.begin():
                won = await take_progress_turn(session, broadcast.id, now, now - self.interval)
            if won:
                await self._update(broadcast)
        await self._summaries()
        return active

    async def _summaries(self) -> None:
        """Send the summaries owed (a broadcast just finished, or one whose summary failed or
        was cut off by a restart): the coordinator always learns the real outcome."""
        async with self.app.sessionmaker() as session:
            owed = await unsent_summaries(session)
        for broadcast in owed:
            now = utcnow()
            async with self.app.sessionmaker() as session, session.begin():
                won = await take_summary_turn(session, broadcast.id, now, now - SUMMARY_RETRY)
            if won:
                await self._summary(broadcast)

    async def _locale(self, broadcast: Broadcast) -> str:
        """The coordinator's language."""
        async with self.app.sessionmaker() as session:
            member = None
            if broadcast.progress_chat_id is not None:
                member = await session.scalar(
                    select(Member).where(Member.telegram_id == broadcast.progress_chat_id)
                )
            if member is None and broadcast.created_by_id is not None:
                member = await session.get(Member, broadcast.created_by_id)
        return member.locale if member is not None else self.app.settings.default_locale

    async def _counts(self, broadcast_id: int) -> dict[str, int]:
        """Deliveries per status, and under HELD_KEY those pending until quiet hours end."""
        async with self.app.sessionmaker() as session:
            counts = await delivery_counts(session, broadcast_id)
            held = await held_count(session, broadcast_id, self.app.clock.now())
        if held:
            counts[HELD_KEY] = held
        return counts

    def _lines(self, counts: dict[str, int], locale: str) -> list[str]:
        gettext = self.app.i18n.gettext
        held = counts.pop(HELD_KEY, 0)
        total = sum(counts.values())
        lines = [
            gettext(DELIVERED, locale=locale).format(
                sent=format_number(counts.get(DeliveryStatus.SENT, 0), locale),
                total=format_number(total, locale),
            ),
            gettext(PROBLEMS, locale=locale).format(
                unreachable=format_number(counts.get(DeliveryStatus.UNREACHABLE, 0), locale),
                failed=format_number(counts.get(DeliveryStatus.FAILED, 0), locale),
            ),
        ]
        skipped = counts.get(DeliveryStatus.SKIPPED, 0) + counts.get(DeliveryStatus.CANCELLED, 0)
        if skipped:
            lines.append(
                gettext(SKIPPED, locale=locale).format(skipped=format_number(skipped, locale))
            )
        if held:
            lines.append(gettext(HELD, locale=locale).format(held=format_number(held, locale)))
        digest = counts.get(DeliveryStatus.DIGEST, 0) + counts.get(DeliveryStatus.DIGESTED, 0)
        if digest:
            lines.append(
                gettext(DIGESTS, locale=locale).format(digest=format_number(digest, locale))
            )
        return lines

    def _time_left(self, broadcast_id: int, counts: dict[str, int]) -> float:
        """Seconds left at the rate seen since the last update (else the configured rate), for
        what is due now (not what is held until morning)."""
        remaining = counts.get(DeliveryStatus.PENDING, 0) + counts.get(DeliveryStatus.SENDING, 0)
        done = sum(v for k, v in counts.items() if k != HELD_KEY) - remaining
        remaining -= counts.get(HELD_KEY, 0)
        now = time.monotonic()
        rate = self.app.settings.send_rate_global or 30.0
        previous = self._seen.get(broadcast_id)
        if previous is not None and now > previous[0] and done > previous[1]:
            rate = (done - previous[1]) / (now - previous[0])
        self._seen[broadcast_id] = (now, done)
        return remaining / rate if rate > 0 else 0.0

    async def _update(self, broadcast: Broadcast) -> None:
        assert broadcast.progress_chat_id is not None
        locale = await self._locale(broadcast)
        counts = await self._counts(broadcast.id)
        gettext = self.app.i18n.gettext
        left = self._time_left(broadcast.id, counts)
        duration = format_timedelta(
            timedelta(seconds=max(left, 1)), locale=locale, threshold=1.1, format="long"
        )
        only_held = left <= 0 and counts.get(HELD_KEY, 0) > 0
        text = "\n".join(
            [
                gettext(SENDING, locale=locale),
                *self._lines(counts, locale),
                *([] if only_held else [gettext(TIME_LEFT, locale=locale).format(left=duration)]),
            ]
        )
        chat_id = broadcast.progress_chat_id
        message_id = await self._current_message(broadcast.id)
        if message_id is not None and self._shown.get(broadcast.id) == text:
            return  # nothing changed (everything left is held until morning): no request
        self._shown[broadcast.id] = text
        try:
            await self._turn(chat_id)
            if message_id is None:
                sent = await self.app.bot.send_message(chat_id, text)
                async with self.app.sessionmaker() as session, session.begin():
                    await session.execute(
                        update(Broadcast)
                        .where(Broadcast.id == broadcast.id)
                        .values(progress_message_id=sent.message_id)
                    )
            else:
                await self.app.bot.edit_message_text(
                    text=text, chat_id=chat_id, message_id=message_id
                )
        except TelegramBadRequest as exc:
            if "not modified" not in exc.message:
                self._shown.pop(broadcast.id, None)
                log.info("progress message of broadcast %d: %s", broadcast.id, exc.message)
        except TelegramAPIError as exc:
            self._shown.pop(broadcast.id, None)
            log.info("progress message of broadcast %d: %s", broadcast.id, exc.message)

    async def _current_message(self, broadcast_id: int) -> int | None:
        async with self.app.sessionmaker() as session:
            return await session.scalar(
                select(Broadcast.progress_message_id).where(Broadcast.id == broadcast_id)
            )

    async def _summary(self, broadcast: Broadcast) -> None:
        """The final figures as a new message (it notifies); the status message goes away."""
        self._seen.pop(broadcast.id, None)
        self._shown.pop(broadcast.id, None)
        chat_id = broadcast.progress_chat_id
        if chat_id is None:
            return
        locale = await self._locale(broadcast)
        counts = await self._counts(broadcast.id)
        async with self.app.sessionmaker() as session:
            fresh = await session.get(Broadcast, broadcast.id)
        message_id = fresh.progress_message_id if fresh else None
        started = fresh.created_at if fresh else broadcast.created_at
        took = (fresh.finished_at if fresh and fresh.finished_at else utcnow()) - started
        gettext = self.app.i18n.gettext
        text = "\n".join(
            [
                gettext(FINISHED, locale=locale),
                *self._lines(counts, locale),
                gettext(TOOK, locale=locale).format(
                    duration=format_timedelta(
                        max(took, timedelta(seconds=1)), locale=locale, threshold=1.1
                    )
                ),
            ]
        )
        try:
            if message_id is not None:
                # Too old or already gone: the summary below arrives all the same.
                with contextlib.suppress(TelegramAPIError):
                    await self.app.bot.delete_message(chat_id, message_id)
            await self._turn(chat_id)
            await self.app.bot.send_message(chat_id, text)
        except (TelegramRetryAfter, TelegramServerError, TelegramNetworkError) as exc:
            # Transient: owed still, tried again after SUMMARY_RETRY (or after a restart).
            log.info("summary of broadcast %d not sent yet: %s", broadcast.id, exc.message)
            return
        except TelegramAPIError as exc:
            log.info("summary of broadcast %d not sent: %s", broadcast.id, exc.message)
        async with self.app.sessionmaker() as session, session.begin():
            # The coordinator's chat is personal data: not kept once the summary is out.
            await session.execute(
                update(Broadcast)
                .where(Broadcast.id == broadcast.id)
                .values(progress_chat_id=None, progress_message_id=None)
            )

    async def _turn(self, chat_id: int) -> None:
        """Wait for this chat's and the bot's next send slot and take both."""
        while True:
            now = time.monotonic()
            ready = self.chats.ready_at(chat_id, now)
            if ready > now:
                await asyncio.sleep(ready - now)
                continue
            at = await self.gate.turn()
            if self.chats.ready_at(chat_id, at) <= at:
                self.chats.take(chat_id, at)
                return
