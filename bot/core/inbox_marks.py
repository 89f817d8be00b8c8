"""Marking a webhook update's inbox row done in the commit of the update's own work.

Kept apart from the inbox's runtime (bot.core.inbox) so the session middlewares can bind an
update's session to its row without importing the application.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import null, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from models.inbox import InboxUpdate


@dataclass
class Entry:
    """The inbox row of the update this task handles."""

    update_id: int
    marking: bool = False  # marked in the transaction being committed
    done: bool = False  # marked and committed


ENTRY: ContextVar[Entry | None] = ContextVar("inbox_entry", default=None)
INFO_KEY = "inbox_entry"


def bind(session: AsyncSession) -> None:
    """Mark the update's inbox row done in the first commit of its session (if it has one)."""
    entry = ENTRY.get()
    if entry is None:
        return
    session.sync_session.info[INFO_KEY] = entry


def pending(session: AsyncSession) -> bool:
    """Whether the session's next commit marks its update's inbox row done."""
    entry: Entry | None = session.sync_session.info.get(INFO_KEY)
    return entry is not None and not entry.done


def _before_commit(session: Session) -> None:
    entry: Entry | None = session.info.get(INFO_KEY)
    if entry is None or entry.done:
        return
    session.execute(
        update(InboxUpdate).where(InboxUpdate.update_id == entry.update_id).values(body=null())
    )
    entry.marking = True


def _after_commit(session: Session) -> None:
    entry: Entry | None = session.info.get(INFO_KEY)
    if entry is not None and entry.marking:
        entry.marking, entry.done = False, True


def _after_rollback(session: Session) -> None:
    entry: Entry | None = session.info.get(INFO_KEY)
    if entry is not None:
        entry.marking = False


def install() -> None:
    """Hook the marking onto every session once per process."""
    from sqlalchemy import event

    if not event.contains(Session, "before_commit", _before_commit):
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
