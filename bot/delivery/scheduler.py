"""Persistent jobs: scheduled in the caller's transaction, run once each, across restarts.

A job runs inside one transaction together with the row change that marks it done, so its
database effects (typically `enqueue_broadcast`) and "done" commit together or not at all.
A worker that dies mid-job leaves the job `running`; once its lease lapses another worker
(or the restarted one) runs it again, and because the first run's effects were rolled back
with it, the job's effects happen once. Handlers should therefore send through the delivery
engine rather than call Telegram themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.privacy import redact
from models.audit import prune_audit
from models.base import utcnow
from models.job import Job, JobStatus, prune_jobs

if TYPE_CHECKING:
    from bot.core.app import App

log = logging.getLogger(__name__)

WAKE_KEY = "scheduler_wake"
BATCH = 50
PRUNE_EVERY = 3600.0  # seconds between two passes erasing long-finished jobs
MAX_ERROR = 300


@dataclass
class JobContext:
    """What a job handler gets: the app, a session in the job's transaction, and the job."""

    app: App
    session: AsyncSession
    job: Job


JobHandler = Callable[[JobContext], Awaitable[None]]


async def schedule(
    session: AsyncSession,
    *,
    kind: str,
    due_at: datetime,
    payload: dict[str, Any],
    key: str,
    not_after: datetime | None = None,
) -> Job:
    """Schedule a job under `key`; an existing job with that key is replaced (rescheduled)."""
    if due_at.tzinfo is None:
        raise ValueError("due_at must be timezone-aware")
    values = {
        "key": key,
        "kind": kind,
        "payload": payload,
        "due_at": due_at,
        "not_after": not_after,
        "status": JobStatus.PENDING.value,
        "attempts": 0,
        "claimed_by": None,
        "claimed_at": None,
        "last_error": None,
        "finished_at": None,
    }
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        module: Any = postgresql if dialect == "postgresql" else sqlite
        insert = module.insert(Job).values(**values, revision=1, created_at=utcnow())
        changes = {name: insert.excluded[name] for name in values if name != "key"}
        changes["revision"] = Job.revision + 1
        await session.execute(insert.on_conflict_do_update(index_elements=[Job.key], set_=changes))
    else:  # pragma: no cover - only the two supported databases are tested
        job = await session.scalar(select(Job).where(Job.key == key))
        if job is None:
            session.add(Job(**values, revision=1))
        else:
            for name, value in values.items():
                setattr(job, name, value)
            job.revision += 1
    await session.flush()
    job = await session.scalar(
        select(Job).where(Job.key == key).execution_options(populate_existing=True)
    )
    assert job is not None
    _wake_on_commit(session)
    return job


async def cancel_jobs(session: AsyncSession, key_prefix: str) -> int:
    """Cancel every pending job whose key starts with `key_prefix`; returns how many."""
    result = await session.execute(
        update(Job)
        .where(
            Job.key.startswith(key_prefix, autoescape=True),
            Job.status.in_((JobStatus.PENDING, JobStatus.RUNNING)),
        )
        .values(status=JobStatus.CANCELLED, revision=Job.revision + 1, finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _wake_on_commit(session: AsyncSession) -> None:
    """A scheduler in this process looks at the new job as soon as it is committed."""
    wake = session.info.get(WAKE_KEY)
    if wake is not None:
        event.listen(session.sync_session, "after_commit", wake, once=True)


async def claim_jobs(
    session: AsyncSession, *, worker: str, now: datetime, lease_at: datetime, limit: int
) -> list[tuple[int, int]]:
    """Expire due jobs past their `not_after`, then claim due ones: (id, revision) pairs."""
    await session.execute(
        update(Job)
        .where(Job.status == JobStatus.PENDING, Job.due_at <= now, Job.not_after < now)
        .values(status=JobStatus.EXPIRED, finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    due = (
        select(Job.id)
        .where(Job.status == JobStatus.PENDING, Job.due_at <= now)
        .order_by(Job.due_at, Job.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    result = await session.execute(
        update(Job)
        .where(Job.id.in_(due.scalar_subquery()))
        .values(
            status=JobStatus.RUNNING,
            claimed_by=worker,
            claimed_at=lease_at,
            attempts=Job.attempts + 1,
        )
        .returning(Job.id, Job.revision, Job.due_at)
        .execution_options(synchronize_session=False)
    )
    return [(row.id, row.revision) for row in sorted(result.all(), key=lambda r: (r.due_at, r.id))]


class Scheduler:
    """Runs due jobs with the handler an area registered for their kind (`Registry.add_job`)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.handlers: dict[str, JobHandler] = dict(app.registry.jobs)
        self.worker_id = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        settings = app.settings
        self.poll = settings.scheduler_poll_seconds
        self.lease = timedelta(seconds=settings.delivery_lease_seconds)
        self.max_attempts = settings.delivery_max_attempts
        self.retry_seconds = settings.delivery_retry_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.ran = 0

    async def start(self) -> None:
        """Hook the wake-up into new sessions and start the loop."""
        self._stopping = False
        info = dict(self.app.sessionmaker.kw.get("info") or {})
        info[WAKE_KEY] = self._on_commit
        self.app.sessionmaker.configure(info=info)
        self.app.metrics.expect("scheduler")
        self._task = asyncio.create_task(self._loop(), name="scheduler")

    async def stop(self) -> None:
        """Let a job that is running finish, then stop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, 30)
            except TimeoutError:
                log.warning("a job did not finish in time; it will run again after its lease")
            self._task = None
        self.app.metrics.forget("scheduler")
        info = dict(self.app.sessionmaker.kw.get("info") or {})
        info.pop(WAKE_KEY, None)
        self.app.sessionmaker.configure(info=info)

    def _on_commit(self, _session: Any) -> None:
        self._wake.set()

    def wake(self) -> None:
        """Look for due jobs now (tests call this after moving the clock)."""
        self._wake.set()

    async def _loop(self) -> None:
        last_reclaim = last_prune = -1e9
        loop = asyncio.get_running_loop()
        while not self._stopping:
            self.app.metrics.beat("scheduler")
            try:
                if loop.time() - last_reclaim > max(self.lease.total_seconds() / 3, 0.2):
                    await self._reclaim()
                    last_reclaim = loop.time()
                ran = await self.run_due()
                if loop.time() - last_prune > PRUNE_EVERY:
                    await self._prune()
                    last_prune = loop.time()
            except Exception:
                log.exception("scheduler pass failed")
                ran = 0
            if ran or self._stopping:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll)

    async def _prune(self) -> None:
        """Erase jobs finished, and audit entries made, longer ago than their retention."""
        settings = self.app.settings
        before = utcnow() - timedelta(days=settings.delivery_retention_days)
        audit_before = utcnow() - timedelta(days=settings.audit_retention_days)
        async with self.app.sessionmaker() as session, session.begin():
            erased = await prune_jobs(session, before)
            entries = await prune_audit(session, audit_before)
        if erased or entries:
            log.info("erased %d finished jobs and %d audit entries", erased, entries)
        for task in self.app.registry.maintenance:
            await task(self.app)

    async def _reclaim(self) -> None:
        """Jobs left `running` by a dead worker are pending again (their effects rolled back)."""
        async with self.app.sessionmaker() as session, session.begin():
            result = await session.execute(
                update(Job)
                .where(
                    Job.status == JobStatus.RUNNING,
                    or_(Job.claimed_by.is_(None), Job.claimed_by != self.worker_id),
                    Job.claimed_at < utcnow() - self.lease,
                )
                .values(status=JobStatus.PENDING, claimed_by=None, claimed_at=None)
                .execution_options(synchronize_session=False)
            )
        if result.rowcount:  # type: ignore[attr-defined]
            log.warning("%d jobs were interrupted by a stop; running them again", result.rowcount)  # type: ignore[attr-defined]

    async def run_due(self) -> int:
        """Claim and run every job due now; returns how many ran."""
        async with self.app.sessionmaker() as session, session.begin():
            claimed = await claim_jobs(
                session,
                worker=self.worker_id,
                now=self.app.clock.now(),
                lease_at=utcnow(),
                limit=BATCH,
            )
        for job_id, revision in claimed:
            if self._stopping:
                await self._release(job_id, revision)
                continue
            await self._run(job_id, revision)
        return len(claimed)

    async def _run(self, job_id: int, revision: int) -> None:
        """Run one job in the transaction that marks it done."""
        error: BaseException | None = None
        try:
            async with self.app.sessionmaker() as session, session.begin():
                mine = await session.execute(
                    update(Job)
                    .where(
                        Job.id == job_id,
                        Job.revision == revision,
                        Job.status == JobStatus.RUNNING,
                        Job.claimed_by == self.worker_id,
                    )
                    .values(status=JobStatus.DONE, finished_at=utcnow(), last_error=None)
                    .execution_options(synchronize_session=False)
                )
                if not mine.rowcount:  # type: ignore[attr-defined]
                    return  # replaced, cancelled or taken over meanwhile
                job = await session.get(Job, job_id)
                assert job is not None
                handler = self.handlers.get(job.kind)
                if handler is None:
                    raise LookupError(f"no job handler for kind {job.kind!r}")
                await handler(JobContext(self.app, session, job))
            self.ran += 1
            self.app.metrics.jobs_run.labels("done").inc()
        except Exception as exc:
            log.exception("job %d failed", job_id)
            self.app.metrics.jobs_run.labels("error").inc()
            error = exc
        if error is not None:
            await self._failed(job_id, revision, error)

    async def _failed(self, job_id: int, revision: int, error: BaseException) -> None:
        """Retry with backoff, or give up after the configured number of attempts."""
        async with self.app.sessionmaker() as session:
            attempts = await session.scalar(select(Job.attempts).where(Job.id == job_id))
        if attempts is None:
            return
        final = attempts >= self.max_attempts or isinstance(error, LookupError)
        token = self.app.settings.bot_token.get_secret_value()
        stored = redact(repr(error), token)[:MAX_ERROR]
        values: dict[str, Any] = {"last_error": stored, "claimed_by": None}
        if final:
            values.update(status=JobStatus.FAILED, finished_at=utcnow())
        else:
            delay = self.retry_seconds * 2 ** (attempts - 1)
            values.update(
                status=JobStatus.PENDING, due_at=self.app.clock.now() + timedelta(seconds=delay)
            )
        async with self.app.sessionmaker() as session, session.begin():
            await session.execute(
                update(Job)
                .where(
                    Job.id == job_id,
                    Job.revision == revision,
                    Job.status == JobStatus.RUNNING,
                    Job.claimed_by == self.worker_id,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )

    async def _release(self, job_id: int, revision: int) -> None:
        """Give back a claimed job we will not run (stopping)."""
        async with self.app.sessionmaker() as session, session.begin():
            await session.execute(
                update(Job)
                .where(
                    Job.id == job_id, Job.revision == revision, Job.claimed_by == self.worker_id
                )
                .values(
                    status=JobStatus.PENDING,
                    claimed_by=None,
                    claimed_at=None,
                    attempts=Job.attempts - 1,
                )
                .execution_options(synchronize_session=False)
            )


def scheduler_of(app: App) -> Scheduler | None:
    """The scheduler running in this process, if any (tests wake it after moving the clock)."""
    return next((s for s in app.services if isinstance(s, Scheduler)), None)
