"""The gate: one-trip work waits while a transaction of several trips is open, and work
queued before a transaction runs before it; nobody reads a transaction's half."""

from __future__ import annotations

import asyncio

from bot.storage.sqlite import SQLiteStorage
from tests.conftest import NOW
from tests.storage.conftest import count_rows


async def test_one_trip_work_waits_for_an_open_transaction(store: SQLiteStorage) -> None:
    """A read queued while a transaction of several trips is open does not see its half-done
    writes: it runs after the commit."""
    async with store.transaction() as tx:  # not lazy: BEGIN at once, the gate held
        await tx.touch_user("test:a", NOW)
        await tx.flush()  # the user's row is written, not committed
        reader = asyncio.create_task(count_rows(store, "users"))
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
    assert await count_rows(store, "users") == 0
