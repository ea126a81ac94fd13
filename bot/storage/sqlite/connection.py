"""The SQLite connection and its transactions: WAL, busy timeout, one writer at a time.

One connection serves the process. aiosqlite runs it on a thread of its own, one function
("trip") after another. A transaction that reads halfway holds that thread alone from its first
trip to its last (gate.py); a turn, which reads its session before it starts (from memory when
it can, session_cache.py) and only writes afterwards, is committed with the turns waiting at
the same moment, each in its own savepoint (group_commit.py). Either way, turns for different
users never interleave inside the database even though they interleave on the event loop.

What is written and read lives in the role modules beside this one (turn.py, outbox.py,
reminders.py); the SQL shared with other backends (cases, organisations, staff) speaks
through the `Sql` seam this transaction offers (`one`, `all`, `run`, `insert`).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import aiosqlite

from bot.core.model import Session
from bot.storage.base import StorageError
from bot.storage.gate import Gate
from bot.storage.group_commit import GroupCommit
from bot.storage.rows import migrations
from bot.storage.session_cache import SessionCache

T = TypeVar("T")

#: A write kept until the next read or the commit: (sql, parameters, and the error to raise
#: if it does not change exactly one row, or None).
Write = tuple[str, tuple[Any, ...], type[StorageError] | None]


def rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:  # some errors end the transaction on their own
        conn.execute("ROLLBACK")


def run_writes(conn: sqlite3.Connection, writes: list[Write]) -> None:
    """In the database thread: the buffered writes, in order."""
    for sql, params, unless_one_row in writes:
        cursor = conn.execute(sql, params)
        if unless_one_row is not None and cursor.rowcount != 1:
            raise unless_one_row(sql.split(" (", 1)[0])


def all_or_nothing(conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    """In the database thread: BEGIN, `fn`, COMMIT; ROLLBACK if any of it fails."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn)
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise
    return result


class TransactionBase:
    """Writes whose result nobody needs are buffered and sent to the database thread with the
    next read or with the commit. A transaction that needs no read before its commit (most
    turns) is then committed with the others waiting at that moment (group_commit.py); one
    that reads holds the gate (gate.py) from its first trip to its commit."""

    def __init__(self, db: aiosqlite.Connection, group: GroupCommit[list[Write]],
                 default_org: str | None = None) -> None:
        self.db = db
        self.group = group
        self.gate = group.gate
        self.default_org = default_org  # the organisation of users who came through no link
        self.writes: list[Write] = []
        self._staged = 0  # reminders set aside by stage_due_reminders, not yet finished
        self.holding = False  # whether this transaction holds the gate
        self.saved: dict[str, Session] = {}  # the sessions as this transaction stores them
        self.erased: set[str] = set()
        # BEGIN travels with the first trip to the database thread, not on a trip of its own.
        self.begun = False

    async def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run BEGIN (the first time), the buffered writes, then `fn`, in one trip to the
        database thread."""
        if not self.holding:
            await self.gate.hold()
            self.holding = True
        writes, self.writes = self.writes, []
        begin = not self.begun
        began: list[bool] = []

        def run(conn: sqlite3.Connection) -> T:
            if begin:
                conn.execute("BEGIN IMMEDIATE")
                began.append(True)
            run_writes(conn, writes)
            return fn(conn)

        try:
            # aiosqlite runs `run` on its own thread with the connection: its documented API
            # has no way to send a batch of statements with parameters in one trip.
            result: T = await self.db._execute(run, self.db._conn)  # type: ignore[no-untyped-call]
            return result
        finally:
            self.begun = self.begun or bool(began)

    async def commit(self) -> None:
        if self.holding:
            if self.begun or self.writes:
                await self._call(lambda conn: conn.execute("COMMIT"))
            return
        if self.writes:
            writes, self.writes = self.writes, []
            await self.group.commit(self.db, writes)

    async def rollback(self) -> None:
        """After a failure; a one-trip commit that failed has rolled itself back. While the
        gate is held, whatever is open on the connection is this transaction's, even a BEGIN
        whose trip was cancelled on the loop after the thread had taken it: the ROLLBACK is
        queued behind it."""
        self.writes = []
        if self.holding:
            await self.db._execute(rollback, self.db._conn)  # type: ignore[no-untyped-call]

    def release(self) -> None:
        if self.holding:
            self.holding = False
            self.gate.release()

    async def flush(self) -> None:
        """Send what is buffered; afterwards the transaction has begun, so statements sent
        straight to `db` are part of it."""
        if self.writes or not self.begun:
            await self._call(lambda conn: None)

    # -- the Sql seam (bot.storage.base.Sql): one trip each, after what is buffered ----------

    async def one(self, sql: str, *args: Any) -> Any:
        return await self._call(lambda conn: conn.execute(sql, args).fetchone())

    async def all(self, sql: str, *args: Any) -> list[Any]:
        return await self._call(lambda conn: conn.execute(sql, args).fetchall())

    async def run(self, sql: str, *args: Any) -> int:
        return await self._call(lambda conn: conn.execute(sql, args).rowcount)

    async def insert(self, sql: str, *args: Any) -> int:
        def run(conn: sqlite3.Connection) -> int:
            row_id = conn.execute(sql, args).lastrowid
            assert row_id is not None
            return row_id

        return await self._call(run)


class Connection:
    """The process's one connection: opening, migrating, transactions, one-trip work."""

    #: The transaction class the role modules compose (bot.storage.sqlite.SQLiteTransaction).
    transaction_class: ClassVar[type[TransactionBase]] = TransactionBase
    #: One process: its in-memory user locks are enough (bot.storage.base.Storage).
    locks_users: ClassVar[bool] = False

    def __init__(self, path: str | Path, *, synchronous: str = "FULL",
                 default_org: str | None = None) -> None:
        self.path = str(path)
        self.synchronous = synchronous
        self.default_org = default_org or None
        self._db: aiosqlite.Connection | None = None
        self._gate = Gate()
        self.sessions = SessionCache()
        self._group = GroupCommit(self._gate, run_writes)

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StorageError("storage is not open")
        return self._db

    async def open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self.path, isolation_level=None)
        for pragma in ("journal_mode = WAL", "busy_timeout = 5000", "foreign_keys = ON",
                       f"synchronous = {self.synchronous}"):
            await self.db.execute(f"PRAGMA {pragma}")
        await self._migrate()

    async def _migrate(self) -> None:
        async with self.db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        current = row[0] if row else 0
        for version, script in migrations():
            if version <= current:
                continue
            # executescript commits on its own; the version bump is part of the same script.
            await self.db.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;")

    async def lead(self) -> bool:
        """One process: it leads (bot.storage.base.Storage.lead)."""
        return True

    async def lead_lost(self) -> None:
        await asyncio.Event().wait()  # one process: the lead is never lost

    async def resign(self) -> None:
        """Nothing to give up: the one process leads again at its next try."""

    async def schema_version(self) -> int:
        async with self.db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    @asynccontextmanager
    async def transaction(self, *, lazy: bool = False) -> AsyncIterator[Any]:
        """One transaction, alone in the database. `lazy`: BEGIN waits for the first trip to
        the database thread, and a transaction that reads nothing before its commit is one
        trip; only for code that goes through the transaction's methods, never straight to
        `tx.db` before a `flush()`."""
        tx = self.transaction_class(self.db, self._group, self.default_org)
        try:
            if not lazy:
                await tx.flush()
            yield tx
            await tx.commit()
        except BaseException:
            self.sessions.forget([*tx.saved, *tx.erased])
            await tx.rollback()
            raise
        finally:
            tx.release()
        self.sessions.committed(tx.saved.values(), tx.erased)

    async def trip(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn` with the connection, as one trip to the database thread."""
        return await self._gate.trip(self.db, fn)

    async def _atomic(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """BEGIN, `fn`, COMMIT in one trip to the database thread (ROLLBACK if `fn` raises)."""
        return await self._gate.trip(self.db, lambda conn: all_or_nothing(conn, fn))

    async def _write(self, sql: str, *args: Any) -> int:
        return await self._atomic(lambda conn: conn.execute(sql, args).rowcount)

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn` in the database thread, outside any transaction (reads only)."""
        return await self._gate.trip(self.db, fn)

    async def _all(self, sql: str, *args: Any) -> list[Any]:
        return await self._gate.trip(self.db, lambda conn: conn.execute(sql, args).fetchall())
