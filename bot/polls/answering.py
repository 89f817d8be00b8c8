"""The conversation state of a member writing a block's reason or a comment, and its expiry.

On a secret poll the state holds only the poll (and the poll message to refresh): never the
answer chosen. The Block travels in the button that confirms the reason, and the reason in
the member's own message that button replies to, so nothing stored pairs a member with a
choice. Abandoned states end after ANSWER_TTL (the scheduler's hourly housekeeping).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import select

from bot.core.fsm_storage import SqlStorage
from models.fsm import FsmRecord

if TYPE_CHECKING:
    from bot.core.app import App

ANSWER_TTL = timedelta(hours=1)


class PollAnswer(StatesGroup):
    """Waiting for a text or a voice note about a poll."""

    reason = State()  # named polls: the block's reason (the vote is named anyway)
    comment = State()  # named polls: a comment
    writing = State()  # secret polls: a reason or a comment; which answer is never stored
    version = State()  # a reason's version in another language (its language, no answer)


ANSWER_STATES = {
    PollAnswer.reason.state,
    PollAnswer.comment.state,
    PollAnswer.writing.state,
    PollAnswer.version.state,
}
ANSWER_KEYS = ("poll", "choices", "poll_message", "resume", "since", "lang", "reason_message")


def after_answer(data: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """The state and data to go back to once the reason or comment is done (or abandoned)."""
    return data.get("resume"), {k: v for k, v in data.items() if k not in ANSWER_KEYS}


def abandoned(data: dict[str, Any], now: datetime) -> bool:
    """Started longer than ANSWER_TTL ago (or at an unknown time)."""
    since = data.get("since")
    try:
        return since is None or datetime.fromisoformat(since) + ANSWER_TTL <= now
    except (TypeError, ValueError):
        return True


async def expire_answers(app: App) -> int:
    """End every reason or comment abandoned for longer than ANSWER_TTL; returns how many."""
    now = app.clock.now()
    storage = app.dp.storage
    ended = 0
    if isinstance(storage, SqlStorage):
        async with app.sessionmaker() as session, session.begin():
            records = await session.scalars(
                select(FsmRecord).where(FsmRecord.state.in_(ANSWER_STATES)).with_for_update()
            )
            for record in records:
                if abandoned(record.data or {}, now):
                    record.state, record.data = after_answer(dict(record.data or {}))
                    if record.state is None and not record.data:
                        await session.delete(record)
                    ended += 1
        return ended
    redis = getattr(storage, "redis", None)
    if redis is None:
        return 0
    async for raw in redis.scan_iter(match="fsm:*:state"):
        # fsm:[bot:]chat:user:destiny:state (the bot id only when the key builder keeps it)
        parts = (raw.decode() if isinstance(raw, bytes) else str(raw)).split(":")
        if len(parts) not in (5, 6):
            continue
        key = StorageKey(
            bot_id=int(parts[1]) if len(parts) == 6 else app.bot.id,
            chat_id=int(parts[-4]),
            user_id=int(parts[-3]),
            destiny=parts[-2],
        )
        if await storage.get_state(key) not in ANSWER_STATES:
            continue
        data = await storage.get_data(key)
        if abandoned(data, now):
            state, rest = after_answer(data)
            await storage.set_state(key, state)
            await storage.set_data(key, rest)
            ended += 1
    return ended
