"""Persistent scheduled jobs: each runs once, at or after its time, across restarts."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class JobStatus(enum.StrEnum):
    """A job is pending until a worker runs it (done) or gives up (failed, expired)."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class Job(Base):
    """One scheduled piece of work, addressed by a unique key so it can be replaced."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    not_after: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.PENDING)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


async def get_job(session: AsyncSession, key: str) -> Job | None:
    """The job with this key, whatever its status."""
    return await session.scalar(select(Job).where(Job.key == key))


FINISHED = (JobStatus.DONE, JobStatus.FAILED, JobStatus.EXPIRED, JobStatus.CANCELLED)


async def prune_jobs(session: AsyncSession, before: datetime) -> int:
    """Erase jobs that finished before `before` (their payloads may name members)."""
    result = await session.execute(
        delete(Job).where(Job.status.in_(FINISHED), Job.finished_at < before)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def due_jobs(session: AsyncSession, now: datetime, late_after: float) -> tuple[int, int]:
    """Pending jobs whose time has come, and those of them waiting over `late_after` seconds."""
    late_at = now - timedelta(seconds=late_after)
    row = (
        await session.execute(
            select(
                func.count(), func.coalesce(func.sum(case((Job.due_at < late_at, 1), else_=0)), 0)
            ).where(Job.status == JobStatus.PENDING, Job.due_at <= now)
        )
    ).one()
    return int(row[0]), int(row[1])


async def scheduler_lag(session: AsyncSession, now: datetime) -> float:
    """Seconds the oldest due job has been waiting (0 when none is due)."""
    oldest = await session.scalar(
        select(func.min(Job.due_at)).where(Job.status == JobStatus.PENDING, Job.due_at <= now)
    )
    if oldest is None:
        return 0.0
    return max(0.0, (now - oldest).total_seconds())


async def recent_job_failures(session: AsyncSession, limit: int) -> list[tuple[str, str]]:
    """The latest jobs given up on: (kind, the error's first words)."""
    rows = await session.execute(
        select(Job.kind, Job.last_error)
        .where(Job.status == JobStatus.FAILED)
        .order_by(Job.finished_at.desc(), Job.id.desc())
        .limit(limit)
    )
    return [(kind, error or "") for kind, error in rows.all()]
