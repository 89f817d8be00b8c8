"""Declarative base, naming convention and portable column types shared by every model."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, DateTime, MetaData, TypeDecorator, inspect, update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute
from sqlalchemy.sql import Executable

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC and hands back aware UTC, the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time as an aware UTC datetime (column defaults use it)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Root of every ORM model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


T = TypeVar("T")
READS = "reads"  # session.info key: answers read once in this transaction, until it writes
KEPT = "kept"  # session.info key: rows this update wrote and will read back
# Execution option: nobody reads this write's result, so SQLite's driver may send it with the
# transaction's next statement or its COMMIT (bot.core.sqlite_driver); elsewhere it runs now.
WRITE_LATER = "write_later"


async def read_once(session: AsyncSession, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
    """`load()`'s answer, asked once per transaction: several parts of one update (the /help
    sections, a screen and its buttons) share it. Forgotten as soon as the transaction writes
    or ends (bot.core.db's session hooks), so nothing is read stale."""
    reads: dict[Hashable, Any] = session.sync_session.info.setdefault(READS, {})
    if key not in reads:
        reads[key] = await load()
    return reads[key]  # type: ignore[no-any-return]


def keep(session: AsyncSession, row: Any) -> None:
    """Hold a row this update wrote and will show again, so it is read from memory."""
    session.info.setdefault(KEPT, []).append(row)


def kept(session: AsyncSession, model: type[T]) -> list[T]:
    """The rows of `model` this update kept (see `keep`)."""
    return [row for row in session.info.get(KEPT, ()) if isinstance(row, model)]


async def write_later(session: AsyncSession, statement: Executable) -> None:
    """Run a write whose result is not needed; an error in it surfaces with the
    transaction's next statement or its commit."""
    await session.execute(statement, execution_options={WRITE_LATER: True})


def remember(session: AsyncSession, key: Hashable, value: Any) -> None:
    """Give `read_once` an answer read along with something else (the member's first read)."""
    session.sync_session.info.setdefault(READS, {})[key] = value


async def hold_if(
    session: AsyncSession,
    column: InstrumentedAttribute[Any],
    row_id: int,
    condition: ColumnElement[bool],
) -> bool:
    """Take the row's write lock and tell whether it still meets `condition` (a poll still
    open, say), checked inside the write.

    `UPDATE … SET column = column WHERE id = … AND condition` rather than a SELECT … FOR
    UPDATE: SQLite has no row locks and a transaction begins at its first write, so a read
    could see a poll open just before a close commits, and a vote would land uncounted in a
    closed poll. The UPDATE waits for the database's writer (SQLite) or the row (PostgreSQL),
    then reads the latest commit. The ORM object is left as it was loaded.
    """
    table = inspect(column.class_).local_table
    key = table.primary_key.columns.values()[0]
    # A plain UPDATE on the table: the ORM's bulk path would look for loaded objects to match.
    held = await session.execute(
        update(table).where(key == row_id, condition).values({column.key: table.c[column.key]})
    )
    return bool(held.rowcount)  # type: ignore[attr-defined]
