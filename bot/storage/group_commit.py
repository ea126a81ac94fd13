"""Group commit: the turns that finish while the database thread is busy are committed
together, each inside a savepoint of one transaction.

Each turn stays all or nothing: a turn whose write fails (its session changed meanwhile, its
message was answered by another process) is rolled back to its savepoint alone and told so,
and the others go on. Each turn learns it is durable only once the COMMIT that holds it has
returned; if the COMMIT fails, every turn of the group is told and none of it is kept.

Under load this is what lets one small server keep up: the database thread pays BEGIN, COMMIT
and the disk's flush once for many turns instead of once each, and the event loop waits for
one trip where it waited for many.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

import aiosqlite

from bot.storage.gate import Gate

#: The writes of one turn, run in the database thread by the function given to GroupCommit.
W = TypeVar("W")
Outcome = tuple["asyncio.Future[None]", BaseException | None]


class GroupCommit(Generic[W]):
    def __init__(self, gate: Gate, run: Callable[[sqlite3.Connection, W], None]) -> None:
        self.gate = gate
        self.run = run
        # Filled on the event loop, emptied by the database thread (deque's append and popleft
        # are atomic, so neither side needs a lock).
        self._waiting: deque[tuple[W, asyncio.Future[None]]] = deque()
        self._flusher: asyncio.Task[None] | None = None
        self.groups = 0  # how many COMMITs, for tests and figures
        self.turns = 0

    async def commit(self, db: aiosqlite.Connection, writes: W) -> None:
        """Commit `writes` with whatever else is waiting; raises what made them fail."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((writes, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.ensure_future(self._flush(db))
        await done

    async def _flush(self, db: aiosqlite.Connection) -> None:
        # A group is whatever is waiting when the thread comes to it; what arrives while it
        # runs goes with the next one.
        while self._waiting:
            try:
                outcomes: list[Outcome] = await self.gate.trip(db, self._run_group)
            except BaseException as exc:  # the trip itself failed: nobody's turn is kept
                failed: list[Outcome] = []
                while self._waiting:
                    failed.append((self._waiting.popleft()[1], exc))
                _tell(failed)
                if isinstance(exc, Exception):  # told to every turn: nobody else to tell
                    continue
                raise  # cancelled: the turns were told first
            _tell(outcomes)

    def _run_group(self, conn: sqlite3.Connection) -> list[Outcome]:
        """In the database thread."""
        group = []
        while self._waiting:
            group.append(self._waiting.popleft())
        if not group:
            return []
        outcomes: list[Outcome] = []
        try:  # BEGIN too: another process may hold the database past the busy timeout
            conn.execute("BEGIN IMMEDIATE")
            for writes, done in group:
                conn.execute("SAVEPOINT turn")
                try:
                    self.run(conn, writes)
                except Exception as exc:  # this turn alone is undone
                    conn.execute("ROLLBACK TO turn")
                    outcomes.append((done, exc))
                else:
                    outcomes.append((done, None))
                conn.execute("RELEASE turn")
            conn.execute("COMMIT")
        except BaseException as exc:  # BEGIN, COMMIT or the disk: nothing of the group is kept
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):  # every turn must still be told
                    conn.execute("ROLLBACK")
            return [(done, exc) for _, done in group]
        self.groups += 1
        self.turns += len(group)
        return outcomes


def _tell(outcomes: list[Outcome]) -> None:
    for done, error in outcomes:
        if done.done():  # the turn was cancelled while waiting
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)
