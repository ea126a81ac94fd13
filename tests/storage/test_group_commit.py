"""Group commit: turns that wait together share one COMMIT, and each is still all or nothing."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest

from bot.storage.gate import Gate
from bot.storage.group_commit import GroupCommit

#: A turn's writes here: rows for `turn`, then whether to fail after writing them.
Writes = tuple[list[tuple[str, int]], bool]


class Refused(Exception):
    pass


def run(conn: sqlite3.Connection, writes: Writes) -> None:
    rows, fail = writes
    conn.executemany("INSERT INTO turn (user_key, n) VALUES (?, ?)", rows)
    if fail:
        raise Refused("this turn is refused after writing")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    connection = await aiosqlite.connect(tmp_path / "g.sqlite3", isolation_level=None)
    await connection.execute("PRAGMA foreign_keys = ON")
    await connection.executescript(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY);"
        "CREATE TABLE turn (user_key TEXT, n INTEGER);"
        "CREATE TABLE child (parent_id INTEGER REFERENCES parent (id) "
        "  DEFERRABLE INITIALLY DEFERRED);")
    yield connection
    await connection.close()


async def _rows(db: aiosqlite.Connection) -> list[tuple[str, int]]:
    return [(r[0], r[1]) for r in await db.execute_fetchall(
        "SELECT user_key, n FROM turn ORDER BY user_key, n")]


async def test_turns_waiting_together_share_a_commit(db: aiosqlite.Connection) -> None:
    group: GroupCommit[Writes] = GroupCommit(Gate(), run)
    await asyncio.gather(*(group.commit(db, ([(f"u{i}", 1), (f"u{i}", 2)], False))
                           for i in range(50)))
    assert group.turns == 50
    assert group.groups < 50  # fewer COMMITs than turns
    rows = await _rows(db)
    assert len(rows) == 100
    assert ("u7", 1) in rows
    assert ("u7", 2) in rows


async def test_a_refused_turn_is_undone_alone(db: aiosqlite.Connection) -> None:
    group: GroupCommit[Writes] = GroupCommit(Gate(), run)
    outcomes = await asyncio.gather(
        group.commit(db, ([("a", 1), ("a", 2)], False)),
        group.commit(db, ([("b", 1), ("b", 2)], True)),  # writes two rows, then is refused
        group.commit(db, ([("c", 1)], False)),
        return_exceptions=True)
    assert outcomes[0] is None
    assert isinstance(outcomes[1], Refused)
    assert outcomes[2] is None
    assert await _rows(db) == [("a", 1), ("a", 2), ("c", 1)]  # nothing of b, even half


async def test_a_failed_commit_keeps_nothing_and_tells_every_turn(db: aiosqlite.Connection
                                                                   ) -> None:
    def orphan(conn: sqlite3.Connection, writes: Writes) -> None:
        run(conn, writes)
        if writes[0][0][0] == "bad":  # a deferred constraint: only the COMMIT fails
            conn.execute("INSERT INTO child (parent_id) VALUES (999)")

    group: GroupCommit[Writes] = GroupCommit(Gate(), orphan)
    outcomes = await asyncio.gather(
        group.commit(db, ([("a", 1)], False)),
        group.commit(db, ([("bad", 1)], False)),
        return_exceptions=True)
    assert all(isinstance(o, sqlite3.IntegrityError) for o in outcomes)
    assert await _rows(db) == []
    # The connection is usable again: the next group commits.
    await group.commit(db, ([("later", 1)], False))
    assert await _rows(db) == [("later", 1)]


async def test_a_cancelled_turn_does_not_hold_up_the_others(db: aiosqlite.Connection) -> None:
    group: GroupCommit[Writes] = GroupCommit(Gate(), run)
    first = asyncio.ensure_future(group.commit(db, ([("a", 1)], False)))
    second = asyncio.ensure_future(group.commit(db, ([("b", 1)], False)))
    await asyncio.sleep(0)
    second.cancel()
    await first
    with pytest.raises(asyncio.CancelledError):
        await second
    await group.commit(db, ([("c", 1)], False))
    assert ("a", 1) in await _rows(db)
    assert ("c", 1) in await _rows(db)


async def test_a_group_waits_for_a_transaction_that_holds_the_gate(db: aiosqlite.Connection
                                                                   ) -> None:
    gate = Gate()
    group: GroupCommit[Writes] = GroupCommit(gate, run)
    await gate.hold()
    await db.execute("BEGIN IMMEDIATE")
    await db.execute("INSERT INTO parent (id) VALUES (1)")
    waiting = asyncio.ensure_future(group.commit(db, ([("a", 1)], False)))
    await asyncio.sleep(0.05)
    assert not waiting.done()  # its BEGIN would have failed inside the open transaction
    await db.execute("COMMIT")
    gate.release()
    await waiting
    assert await _rows(db) == [("a", 1)]


async def test_a_database_held_by_another_process_fails_the_group_and_tells_it(
        db: aiosqlite.Connection, tmp_path: Path) -> None:
    await db.execute("PRAGMA busy_timeout = 100")
    other = sqlite3.connect(tmp_path / "g.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process is writing, past our busy timeout
    group: GroupCommit[Writes] = GroupCommit(Gate(), run)
    outcomes = await asyncio.gather(group.commit(db, ([("a", 1)], False)),
                                    group.commit(db, ([("b", 1)], False)),
                                    return_exceptions=True)
    assert all(isinstance(o, sqlite3.OperationalError) for o in outcomes)
    other.execute("COMMIT")
    other.close()
    await group.commit(db, ([("c", 1)], False))
    assert await _rows(db) == [("c", 1)]


async def test_a_closed_database_fails_every_waiting_turn(tmp_path: Path) -> None:
    db = await aiosqlite.connect(tmp_path / "closed.sqlite3", isolation_level=None)
    await db.close()
    group: GroupCommit[Writes] = GroupCommit(Gate(), run)
    outcomes = await asyncio.gather(group.commit(db, ([("a", 1)], False)),
                                    group.commit(db, ([("b", 1)], False)),
                                    return_exceptions=True)
    assert all(isinstance(o, ValueError) for o in outcomes)  # told, not left waiting
