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


def _statement(
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


def _end(conn: sqlite3.Connection, gate: WriterGate, commit: bool) -> None:
    """In the connection's thread: end the transaction and open the gate to the next writer."""
    try:
        if commit:
            conn.commit()
        else:
            conn.rollback()
    finally:
        gate.leave(conn)


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose statement, rows and counts come back from the thread in one trip."""

    __slots__ = ("_description", "_lastrowid", "_rowcount", "_size")

    def __init__(self, adapt_connection: Any) -> None:  # no trip to open it
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._size = 1

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
        async with adapted._execute_mutex:
            outcome = await connection._execute(
                _statement, connection._conn, adapted.gate, operation, parameters, many
            )
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        await self._run(operation, parameters, False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> None:
        await self._run(operation, seq_of_parameters, True)


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """Commits and rollbacks that skip the trip when no transaction is open."""

    __slots__ = ("gate",)
    _cursor_cls = OneTripCursor

    def __init__(self, dbapi: Any, connection: Any, gate: WriterGate) -> None:
        super().__init__(dbapi, connection)
        self.gate = gate

    def _finish(self, commit: bool) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        raw = connection._connection
        if raw is None or (not raw.in_transaction and self.gate.owner is not raw):
            return
        try:
            await_(connection._execute(_end, raw, self.gate, commit))
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
