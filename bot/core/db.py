"""Engine, sessions and migrations: the one place that knows which database we talk to."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from bot.core.sqlite_driver import OneTripCursor, OneTripDBAPI
from models.base import READS, WRITE_LATER

BUSY_TIMEOUT = 30  # seconds a SQLite writer waits for another before "database is locked"
MIGRATIONS = Path(__file__).resolve().parents[2] / "models" / "migrations"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys, a busy timeout so writers wait, and our
    own transaction control (see `take_over_sqlite_transactions`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": BUSY_TIMEOUT})
        kwargs.setdefault("hide_parameters", True)
        if parsed.get_driver_name() == "aiosqlite":
            kwargs.setdefault("module", OneTripDBAPI(BUSY_TIMEOUT))
        engine = create_async_engine(url, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT * 1000}")
            # Deleted rows are overwritten with zeros, not left in free space for a copy of
            # the file to show (erased members, secret ballots moved or re-sealed).
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        take_over_sqlite_transactions(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    # Error messages and SQL logs would otherwise carry the values: names, Telegram ids, texts.
    kwargs.setdefault("hide_parameters", True)
    return create_async_engine(url, **kwargs)


READ_ONLY = ("SELECT", "PRAGMA", "EXPLAIN")


def take_over_sqlite_transactions(engine: AsyncEngine) -> None:
    """Make SQLite transactions what SQLAlchemy's say they are (savepoints included).

    Python's sqlite3 opens a transaction only before INSERT/UPDATE/DELETE. A SAVEPOINT sent
    first (`session.begin_nested()`) then opens the transaction itself, and its RELEASE
    commits everything written so far: a broadcast was committed without its deliveries, a
    secret-ballot participation without its ballot. As SQLAlchemy documents for
    pysqlite/aiosqlite, the driver's own BEGIN is switched off and we emit BEGIN ourselves.

    Unlike the documented recipe, the BEGIN is sent just before the transaction's first
    statement that is not a read (a write, DDL or SAVEPOINT), as BEGIN IMMEDIATE: a deferred
    BEGIN at the first read would hold a WAL snapshot for the whole update, and its later
    write would fail at once ("database is locked", SQLITE_BUSY_SNAPSHOT) whenever another
    connection committed in between. Reads before the first write see the latest commit, as
    under PostgreSQL's READ COMMITTED; everything from the first write on is one transaction.
    """
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _no_driver_begin(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None

    @event.listens_for(sync_engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.info["sqlite_begun"] = False

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _begin_before_write(
        conn: Connection, cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        # (context is None for SQLAlchemy's own statements, which are never held back)
        later = context is not None and context.execution_options.get(WRITE_LATER)
        if later and isinstance(cursor, OneTripCursor):
            cursor.later = True  # goes with the next statement, or the COMMIT
        if conn.info.get("sqlite_begun", True) or not conn.in_transaction():
            return
        if statement.lstrip()[:7].upper().startswith(READ_ONLY):
            return
        conn.info["sqlite_begun"] = True
        cursor.execute("BEGIN IMMEDIATE")

    @event.listens_for(sync_engine, "commit")
    @event.listens_for(sync_engine, "rollback")
    def _end(conn: Connection) -> None:
        conn.info["sqlite_begun"] = True


WROTE = "wrote"  # session.info key: this transaction has written something


class TrackedSession(Session):
    """A Session that notes when its transaction writes, so a handler's reply to Telegram can
    be preceded by the commit of what it reports (bot.core.middlewares.CommitBeforeTelling)."""


def _wrote_by_flush(session: Session, _context: Any) -> None:
    session.info[WROTE] = True
    session.info.pop(READS, None)


def _wrote_by_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[WROTE] = True
        state.session.info.pop(READS, None)


def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(WROTE, None)
        session.info.pop(READS, None)


def has_writes(session: AsyncSession) -> bool:
    """Whether the session holds work that is not committed yet (flushed or not)."""
    sync = session.sync_session
    return bool(sync.info.get(WROTE) or sync.new or sync.dirty or sync.deleted)


def _track_writes() -> None:
    """Hook the write tracking onto TrackedSession once per process."""
    if not event.contains(TrackedSession, "after_flush", _wrote_by_flush):
        event.listen(TrackedSession, "after_flush", _wrote_by_flush)
        event.listen(TrackedSession, "do_orm_execute", _wrote_by_statement)
        event.listen(TrackedSession, "after_transaction_end", _transaction_ended)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit (handlers read them afterwards)."""
    _track_writes()
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=TrackedSession)


def alembic_config(url: str) -> Config:
    """Alembic configuration pointing at our migrations and the given database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _run(fn: Any, url: str, *args: Any) -> None:
    fn(alembic_config(url), *args)


async def migrate(url: str, revision: str = "head") -> None:
    """Bring the schema to `revision`; Alembic's own loop runs in a worker thread."""
    await asyncio.to_thread(_run, command.upgrade, url, revision)


async def downgrade(url: str, revision: str) -> None:
    """Step the schema back (used by the migration test and by operators)."""
    await asyncio.to_thread(_run, command.downgrade, url, revision)
