"""SQLite through aiosqlite with one thread hop per statement and one writer at a time.

SQLAlchemy's aiosqlite adapter makes four trips to the connection's thread for each statement
(open a cursor, execute, fetch, close) and two more per transaction (commit, and the pool's
rollback when the connection is handed back), even for a transaction that only read. Each
trip is a queue hand-off and an event-loop wake-up: on the handler path they cost more than
SQLite itself. Here a statement is one trip (execute, fetch and close together, in the
thread), and a commit or rollback with no transaction open costs none.

Writers: SQLite has one writer at a time. Without help, concurrent writers of one process
meet in SQLite's busy handler, which sleeps in growing steps (up to 100 ms) before trying
again; a burst of votes then spends most of its time asleep. Here writers of one engine queue
on a lock taken just before `BEGIN IMMEDIATE` and let go right after COMMIT or ROLLBACK, so
the next one starts at once. Other processes on the same file still meet in the busy handler.

Held writers: each trip while the writer is held is a wait for the event loop, which under load
is busy with other updates, and every other writer waits meanwhile. So `BEGIN IMMEDIATE` goes
with the transaction's first statement, and a write whose result nobody reads (executed with
`models.base.write_later`) goes with the next statement or the COMMIT: a first named
vote holds the writer for one trip (its participation's insert) instead of four. The
statements run in the same order in the same transaction; an error in a later write surfaces
at the statement it went with.
"""

from __future__ import annotations

import collections
import sqlite3
import threading
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

BEGIN_WRITE = "BEGIN IMMEDIATE"


class WriterGate:
    """One writing transaction at a time among an engine's connections, handed over at once."""

    def __init__(self, timeout: float) -> None:
        self.lock = threading.Lock()
        self.timeout = timeout
        self.owner: sqlite3.Connection | None = None

    def enter(self, conn: sqlite3.Connection) -> None:
        """Called in the connection's thread before BEGIN IMMEDIATE."""
        if not self.lock.acquire(timeout=self.timeout):
            raise sqlite3.OperationalError("database is locked")
        self.owner = conn

    def leave(self, conn: sqlite3.Connection) -> None:
        """Called in the connection's thread once its transaction ended (or never began)."""
        if self.owner is conn and not conn.in_transaction:
            self.owner = None
            self.lock.release()


Outcome = tuple[Any, list[Any], int, int | None]


def _one(
    conn: sqlite3.Connection, gate: WriterGate, operation: str, parameters: Any, many: bool
) -> Outcome:
    """In the connection's thread: run one statement and collect all it returns."""
    writing = operation == BEGIN_WRITE
    if writing:
        gate.enter(conn)
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()
        if writing:
            gate.leave(conn)  # only if BEGIN failed: a begun transaction keeps the gate


Pending = list[tuple[str, Any, bool]]  # statements held back for the next trip, in order


def _statement(
    conn: sqlite3.Connection,
    gate: WriterGate,
    pending: Pending,
    operation: str,
    parameters: Any,
    many: bool,
) -> Outcome:
    """In the connection's thread: the statements held back, then this one (its outcome)."""
    for held in pending:
        _one(conn, gate, *held)
    return _one(conn, gate, operation, parameters, many)


def _end(conn: sqlite3.Connection, gate: WriterGate, commit: bool, pending: Pending) -> None:
    """In the connection's thread: the statements held back, then end the transaction and
    open the gate to the next writer (a failed held statement rolls it all back)."""
    try:
        if commit:
            for held in pending:
                _one(conn, gate, *held)
            conn.commit()
        elif conn.in_transaction:
            conn.rollback()
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise
    finally:
        gate.leave(conn)


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose statement, rows and counts come back from the thread in one trip."""

    __slots__ = ("_description", "_lastrowid", "_rowcount", "_size", "later")

    def __init__(self, adapt_connection: Any) -> None:  # no trip to open it
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._size = 1
        self.later = False  # set for one statement run with `write_later`

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return self._size

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._size = value

    async def _async_soft_close(self) -> None:
        """Nothing is left open in the thread."""

    def close(self) -> None:
        self._rows.clear()

    async def _run(self, operation: Any, parameters: Any, many: bool) -> None:
        adapted: OneTripConnection = self._adapt_connection  # type: ignore[assignment]
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        if operation == BEGIN_WRITE or self.later:
            self.later = self.later and operation == BEGIN_WRITE  # BEGIN comes first
            adapted.pending.append((operation, parameters, many))
            self._description, self._rowcount, self._lastrowid = None, -1, None
            self._rows = collections.deque()
            return
        async with adapted._execute_mutex:
            pending, adapted.pending = adapted.pending, []
            outcome = await connection._execute(
                _statement, connection._conn, adapted.gate, pending, operation, parameters, many
            )
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        await self._run(operation, parameters, False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> None:
        await self._run(operation, seq_of_parameters, True)


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """Commits and rollbacks that skip the trip when no transaction is open, and statements
    held back (`BEGIN IMMEDIATE`, writes run with `write_later`) until the next trip."""

    __slots__ = ("gate", "pending")
    _cursor_cls = OneTripCursor

    def __init__(self, dbapi: Any, connection: Any, gate: WriterGate) -> None:
        super().__init__(dbapi, connection)
        self.gate = gate
        self.pending: Pending = []

    def _finish(self, commit: bool) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        raw = connection._connection
        pending, self.pending = self.pending, []
        if not commit:
            pending = []  # what never reached SQLite has nothing to roll back
        if raw is None or (not pending and not raw.in_transaction and self.gate.owner is not raw):
            return
        try:
            await_(connection._execute(_end, raw, self.gate, commit, pending))
        except Exception as error:
            self._handle_exception(error)

    def commit(self) -> None:
        self._finish(True)

    def rollback(self) -> None:
        self._finish(False)

    def close(self) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        raw = connection._connection
        if raw is not None and self.gate.owner is raw:  # closed mid-transaction
            self._finish(False)
        super().close()


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DB-API module SQLAlchemy's aiosqlite dialect is given (`module=`) for one engine."""

    def __init__(self, busy_timeout: float) -> None:
        super().__init__(aiosqlite, sqlite3)
        self.gate = WriterGate(busy_timeout)

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection, self.gate)
