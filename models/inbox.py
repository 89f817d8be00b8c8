"""The webhook inbox: each update Telegram POSTs, kept until it is handled.

The webhook answers Telegram as soon as the update is in this table; the row is marked done
(its body erased) in the transaction that commits the update's own work, so a process killed
in between leaves the row for another process (or itself, restarted) to handle. A done row
keeps only its update id, for a while, so that Telegram sending the same update again is
recognised and ignored; it holds no message text nor name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class InboxUpdate(Base):
    """One update received by the webhook: pending while `body` is set, done once erased."""

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_taken_at", "taken_at"),)

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    body: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When a process last said it is handling the update; an old one means that process died.
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
