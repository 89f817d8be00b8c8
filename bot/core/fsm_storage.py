"""aiogram FSM storage in the SQL store: conversations survive restarts without Redis."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from sqlalchemy import BigInteger, Select, String, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.base import remember
from models.fsm import FsmRecord
from models.group import coordinates_clause, coordinates_key
from models.member import Member

UPDATE_SESSION: ContextVar[AsyncSession | None] = ContextVar("update_session", default=None)
# session.info keys: the FSM records this update has read (None: no row), and the members
# read with them (by Telegram id), so that neither is read twice in one update.
FSM_RECORDS = "fsm_records"
PRELOADED_MEMBERS = "preloaded_members"


def preloaded_member(session: AsyncSession, telegram_id: int) -> tuple[bool, Member | None]:
    """(True, member or None) when this update's state read already loaded the member."""
    members: dict[int, Member | None] = session.info.get(PRELOADED_MEMBERS, {})
    if telegram_id in members:
        return True, members[telegram_id]
    return False, None


@functools.cache
def first_read() -> Select[FsmRecord, Member | None, bool]:
    """The update's first statement: its FSM record, its member and whether they coordinate a
    group, by the bound `key` and `user_id`. Built once, so its cache key is computed once."""
    anchor = select(bindparam("key", type_=String).label("key")).subquery()
    return (
        select(FsmRecord, Member, coordinates_clause(Member.id))
        .select_from(anchor)
        .outerjoin(FsmRecord, FsmRecord.key == anchor.c.key)
        .outerjoin(Member, Member.telegram_id == bindparam("user_id", type_=BigInteger))
    )


class SqlStorage(BaseStorage):
    """One row per FSM key; the user id is kept so /forget can erase a member's state."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self.key_builder = DefaultKeyBuilder(with_destiny=True)

    def _key(self, key: StorageKey) -> str:
        return self.key_builder.build(key)

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        """The update's own session when inside one (one transaction, and no second writer
        waiting on SQLite's lock), else a short one of our own."""
        current = UPDATE_SESSION.get()
        if current is not None:
            yield current
            return
        async with self.sessionmaker() as session, session.begin():
            yield session

    async def _read(self, session: AsyncSession, key: StorageKey) -> FsmRecord | None:
        """The record, read once per update: the first read also loads the member behind
        the key in the same statement (the member middleware needs them next), and whether
        they coordinate any group (what /help and the menus ask of their role)."""
        name = self._key(key)
        records: dict[str, FsmRecord | None] = session.info.setdefault(FSM_RECORDS, {})
        if name in records:
            return records[name]
        members: dict[int, Member | None] = session.info.setdefault(PRELOADED_MEMBERS, {})
        if key.user_id in members:
            record = await session.get(FsmRecord, name)
        else:
            found = await session.execute(first_read(), {"key": name, "user_id": key.user_id})
            record, member, coordinates = found.one()
            members[key.user_id] = member
            if member is not None:
                remember(session, coordinates_key(member.id), bool(coordinates))
        records[name] = record
        return record

    async def _upsert(self, key: StorageKey, **values: Any) -> None:
        async with self._session() as session:
            name = self._key(key)
            records: dict[str, FsmRecord | None] = session.info.setdefault(FSM_RECORDS, {})
            if name in records:
                record = records[name]
                if record is None and all(not value for value in values.values()):
                    return  # no row, and nothing to keep: nothing to write
            else:
                record = await session.get(FsmRecord, name, with_for_update=True)
            if record is not None and record.data is not None:
                record.data = dict(record.data)
            if record is None:
                record = FsmRecord(key=name, user_id=key.user_id, state=None, data={})
                session.add(record)
            for field, value in values.items():
                setattr(record, field, value)
            records[name] = record
            if record.state is None and not record.data:
                records[name] = None
                if record in session.new:
                    session.expunge(record)
                else:
                    await session.delete(record)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._upsert(key, state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._session() as session:
            record = await self._read(session, key)
            return record.state if record else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._upsert(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._session() as session:
            record = await self._read(session, key)
            return dict(record.data) if record and record.data else {}

    async def close(self) -> None:
        """Nothing to close: the engine is owned by the application."""


async def forget_user_state(session: AsyncSession, user_id: int) -> None:
    """Erase every conversation state of a Telegram user (part of /forget)."""
    await session.execute(delete(FsmRecord).where(FsmRecord.user_id == user_id))
    session.info.pop(FSM_RECORDS, None)
