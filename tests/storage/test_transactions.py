"""A turn reads outside any transaction and writes in one trip; a transaction that reads holds
the database alone. Either way it is all or nothing, and nobody reads its half."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.core.model import Session
from bot.storage.base import AlreadyAnswered, VersionConflict
from bot.storage.sqlite import SQLiteStorage
from tests.conftest import NOW


class Boom(Exception):
    pass


@pytest.fixture
async def store(tmp_path: Path) -> SQLiteStorage:
    storage = SQLiteStorage(tmp_path / "t.sqlite3")
    await storage.open()
    yield storage  # type: ignore[misc]
    await storage.close()


async def _count(store: SQLiteStorage, table: str) -> int:
    return int((await store._all(f"SELECT COUNT(*) FROM {table}"))[0][0])


async def test_a_lazy_transaction_that_reads_is_all_or_nothing(store: SQLiteStorage) -> None:
    # Nothing sent yet: leaving with an error needs no rollback and breaks nothing.
    with pytest.raises(Boom):
        async with store.transaction(lazy=True):
            raise Boom
    # Writes sent with a read, then an error: all of it is rolled back.
    held: list[bool] = []

    async def fails_after_reading() -> None:
        async with store.transaction(lazy=True) as tx:
            await tx.touch_user("test:a", NOW)
            await tx.claim_inbound("test:a", "m1", NOW)
            await tx.reachable("test:a")  # a read: the buffered writes go with it
            held.append(tx.holding)
            await tx.save_session(Session("test:a", "menu", "main"), NOW)
            raise Boom

    with pytest.raises(Boom):
        await fails_after_reading()
    assert held == [True]
    assert await _count(store, "users") == 0
    assert await _count(store, "inbound") == 0
    assert not store._gate.held  # the failed transaction let the others in


async def test_a_turn_is_read_then_written_in_one_trip(store: SQLiteStorage) -> None:
    assert await store.load_turn("test:a", "m1") == (True, None)
    async with store.transaction(lazy=True) as tx:
        await tx.claim_inbound("test:a", "m1", NOW)
        await tx.touch_user("test:a", NOW)
        await tx.save_session(Session("test:a", "menu", "main"), NOW)
        assert not tx.holding  # nothing was read: the commit is the only trip
    assert (await store.load_turn("test:a", "m1"))[0] is False  # answered already
    fresh, session = await store.load_turn("test:a", "m2")
    assert fresh is True
    assert session is not None
    assert (session.flow, session.state, session.version) == ("menu", "main", 1)


async def test_a_message_answered_meanwhile_undoes_the_whole_turn(store: SQLiteStorage
                                                                  ) -> None:
    assert (await store.load_turn("test:a", "m1"))[0] is True
    # Another process answers the same message first.
    async with store.transaction(lazy=True) as tx:
        await tx.claim_inbound("test:a", "m1", NOW)

    async def late_turn() -> None:
        async with store.transaction(lazy=True) as tx:
            await tx.touch_user("test:a", NOW)
            await tx.claim_inbound("test:a", "m1", NOW)
            await tx.save_session(Session("test:a", "menu", "main"), NOW)

    with pytest.raises(AlreadyAnswered):
        await late_turn()
    assert await _count(store, "users") == 0
    assert await _count(store, "sessions") == 0
    assert not store._gate.held


async def test_a_session_changed_meanwhile_undoes_the_whole_turn(store: SQLiteStorage) -> None:
    async with store.transaction(lazy=True) as tx:
        await tx.save_session(Session("test:a", "menu", "main"), NOW)
    _, loaded = await store.load_turn("test:a", "m1")
    assert loaded is not None
    async with store.transaction(lazy=True) as tx:  # another turn saves first
        await tx.save_session(loaded.evolve(state="other"), NOW)

    async def late_turn() -> None:
        async with store.transaction(lazy=True) as tx:
            await tx.claim_inbound("test:a", "m1", NOW)
            await tx.save_session(loaded.evolve(state="late"), NOW)

    with pytest.raises(VersionConflict):
        await late_turn()
    assert await _count(store, "inbound") == 0  # the message may be answered again
    _, now = await store.load_turn("test:a", "m1")
    assert now is not None
    assert (now.state, now.version) == ("other", 2)


async def test_one_trip_work_waits_for_an_open_transaction(store: SQLiteStorage) -> None:
    """A read queued while a transaction of several trips is open does not see its half-done
    writes: it runs after the commit."""
    async with store.transaction() as tx:  # not lazy: BEGIN at once, the gate held
        await tx.touch_user("test:a", NOW)
        await tx.flush()  # the user's row is written, not committed
        reader = asyncio.create_task(_count(store, "users"))
        outbox = asyncio.create_task(store.claim_outbox(NOW, 10))
        await asyncio.sleep(0.05)
        assert not reader.done()
        assert not outbox.done()
    assert await reader == 1  # after the commit, it sees the whole of it
    assert await outbox == []


async def test_one_trip_work_queued_first_runs_before_a_transaction(store: SQLiteStorage
                                                                    ) -> None:
    async with store.transaction(lazy=True) as tx:
        await tx.touch_user("test:a", NOW)
    # Queued at once (the gate is open), then a transaction asks for the gate: the read still
    # runs first, and sees the user without the transaction's change.
    reader = asyncio.create_task(store._all("SELECT COUNT(*) FROM users"))
    await asyncio.sleep(0)
    async with store.transaction() as tx:
        await tx.erase_user("test:a")
    assert (await reader)[0][0] == 1
    assert await _count(store, "users") == 0
