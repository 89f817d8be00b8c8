"""One update at a time per user, across processes, with waits that do not poll.

aiogram's Redis isolation takes a redis-py lock, which retries every 100 ms: a user who taps
twice waits in 100 ms steps, and every retry takes a pooled connection. Here, updates of one
user queue on an asyncio lock inside the process; only the one at the front talks to Redis.
It takes the Redis lock with SET NX PX and, when another process holds it, blocks on a list
the holder pushes to as it lets go (BLPOP), so it wakes as soon as the lock is free.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

from aiogram.fsm.storage.base import BaseEventIsolation, KeyBuilder, StorageKey

# Delete the lock if it is still ours, and wake one process waiting for it.
RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('del', KEYS[1])
  redis.call('lpush', KEYS[2], '1')
  redis.call('pexpire', KEYS[2], ARGV[2])
  return 1
end
return 0
"""
LEASE_MS = 60_000  # a process that dies holding a lock blocks that user this long at most
SIGNAL_MS = 5_000  # a wake-up nobody took is dropped after this
MAX_WAIT = 1.0  # seconds one BLPOP blocks before the lock is tried again


class RedisEventLocks(BaseEventIsolation):
    """Per-user event isolation shared by every process using the same Redis."""

    def __init__(self, redis: Any, key_builder: KeyBuilder) -> None:
        self.redis = redis
        self.key_builder = key_builder
        self._local: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}
        self._release = redis.register_script(RELEASE)

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        name = self.key_builder.build(key, "lock")
        local = self._local.setdefault(name, asyncio.Lock())
        self._users[name] = self._users.get(name, 0) + 1
        try:
            async with local:
                token = await self._acquire(name)
                try:
                    yield None
                finally:
                    await self._release(keys=[name, name + ":free"], args=[token, SIGNAL_MS])
        finally:
            self._users[name] -= 1
            if not self._users[name]:
                del self._users[name]
                del self._local[name]

    async def _acquire(self, name: str) -> str:
        """Take the Redis lock, waiting for its release signal while another process has it."""
        token = uuid.uuid4().hex
        while not await self.redis.set(name, token, nx=True, px=LEASE_MS):
            left = await self.redis.pttl(name)
            if left == -2:
                continue  # let go between our two commands: try again at once
            wait = MAX_WAIT if left < 0 else min(MAX_WAIT, max(left, 10) / 1000)
            await self.redis.blpop([name + ":free"], timeout=wait)
        return token

    async def close(self) -> None:
        """The Redis client belongs to the storage, which closes it."""
