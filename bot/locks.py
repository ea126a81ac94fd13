"""One turn at a time per user, without keeping a lock for every user who ever wrote."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class UserLocks:
    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._holders: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, user: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(user, asyncio.Lock())
        self._holders[user] = self._holders.get(user, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._holders[user] -= 1
            if self._holders[user] == 0:  # nobody waits: forget it (idle locks are evicted)
                del self._holders[user]
                del self._locks[user]

    def __len__(self) -> int:
        return len(self._locks)
