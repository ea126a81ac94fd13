"""Who may send work to the database thread, and when.

aiosqlite runs the one connection on a thread of its own and runs what it is sent in order,
one function ("trip") after another. Two kinds of work share it:

- a transaction of several trips (BEGIN, reads, writes, COMMIT, with the event loop running
  other tasks between them) must not have anybody else's trip in the middle: it holds the
  gate alone from its first trip to its last;
- work that fits in one trip (a read, or BEGIN ... COMMIT inside one function) only waits
  while such a transaction is open, and is otherwise queued at once.

Queued one-trip work then runs back to back on the thread while the event loop goes on with
other turns, instead of each trip waiting for the previous one to come back to the loop (the
cost that kept the thread and the loop taking turns to be idle under load).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import TypeVar

import aiosqlite

T = TypeVar("T")


class Gate:
    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._open = asyncio.Event()  # set while no transaction of several trips is open
        self._open.set()

    @property
    def held(self) -> bool:
        return self._lock.locked()

    async def hold(self) -> None:
        """For a transaction of several trips: wait for the one before it, then keep every
        other trip out until `release`. One-trip work queued before this returns still runs
        before this transaction's first trip (the thread keeps the order)."""
        await self._lock.acquire()
        self._open.clear()

    def release(self) -> None:
        self._open.set()
        self._lock.release()

    async def trip(self, db: aiosqlite.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` with the connection on its thread, as one trip."""
        while not self._open.is_set():
            await self._open.wait()
        # Between the check above and the queueing inside `_execute` nothing else runs on the
        # loop, so no transaction can start in between. aiosqlite's documented API has no way
        # to run a function of ours with the connection, hence its private `_execute`.
        result: T = await db._execute(fn, db._conn)  # type: ignore[no-untyped-call]
        return result
