"""A turn reads outside any transaction (from the session cache when it can) and its writes
are committed in one trip; a transaction that reads holds the database alone. Either way it is
all or nothing."""

from __future__ import annotations

import pytest

from bot.core.model import MessageKind, Session
from bot.storage.base import AlreadyAnswered, Delivery, VersionConflict
from bot.storage.sqlite import SQLiteStorage
from tests.conftest import NOW
from tests.storage.conftest import count_rows


class Boom(Exception):
    pass


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
    assert await count_rows(store, "users") == 0
    assert await count_rows(store, "inbound") == 0
    assert not store._gate.held  # the failed transaction let the others in


async def test_a_turn_is_read_then_written_in_one_trip(store: SQLiteStorage) -> None:
    assert await store.load_turn("test:a", "m1") == (True, None)
    async with store.transaction(lazy=True) as tx:
        await tx.claim_inbound("test:a", "m1", NOW)
        await tx.touch_user("test:a", NOW)
        await tx.save_session(Session("test:a", "menu", "main"), NOW)
        assert not tx.holding  # nothing was read: the commit is the only trip
    assert store._group.turns == 1
    # The session as committed is kept in memory: the next turn needs no trip.
    cached = store.sessions.get("test:a")
    assert cached is not None
    assert (cached.flow, cached.state, cached.version) == ("menu", "main", 1)
    assert await store.load_turn("test:a", "m2") == (True, cached)
    # Without the cache, the database answers the same, and knows m1 was answered.
    store.sessions.forget(["test:a"])
    assert (await store.load_turn("test:a", "m1"))[0] is False
    fresh, session = await store.load_turn("test:a", "m2")
    assert fresh is True
    assert session == cached


async def test_a_message_delivered_twice_is_caught_at_the_commit(store: SQLiteStorage) -> None:
    async with store.transaction(lazy=True) as tx:
        await tx.claim_inbound("test:a", "m1", NOW)
        await tx.save_session(Session("test:a", "menu", "main"), NOW)
    fresh, session = await store.load_turn("test:a", "m1")  # from the cache: looks new
    assert fresh is True
    assert session is not None

    async def again() -> None:
        async with store.transaction(lazy=True) as tx:
            await tx.claim_inbound("test:a", "m1", NOW)
            await tx.save_session(session.evolve(state="twice"), NOW)

    with pytest.raises(AlreadyAnswered):
        await again()
    _, stored = await store.load_turn("test:a", "m2")
    assert stored is not None
    assert (stored.state, stored.version) == ("main", 1)


async def test_erasing_a_user_forgets_their_cached_session(store: SQLiteStorage) -> None:
    async with store.transaction(lazy=True) as tx:
        await tx.save_session(Session("test:a", "menu", "main"), NOW)
    assert store.sessions.get("test:a") is not None
    async with store.transaction() as tx:
        await tx.erase_user("test:a")
    assert store.sessions.get("test:a") is None
    assert await store.load_turn("test:a", "m9") == (True, None)


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
    assert await count_rows(store, "users") == 0
    assert await count_rows(store, "sessions") == 0
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
    assert await count_rows(store, "inbound") == 0  # the message may be answered again
    assert store.sessions.get("test:a") is None  # the failed turn's copy is not trusted
    _, now = await store.load_turn("test:a", "m1")
    assert now is not None
    assert (now.state, now.version) == ("other", 2)


async def test_recording_what_went_out_leaves_the_disk_flush_setting_as_it_was(
        store: SQLiteStorage) -> None:
    async with store.transaction(lazy=True) as tx:
        await tx.touch_user("test:a", NOW)
        await tx.enqueue("test:a", MessageKind.REPLY, "fr", "Bonjour", (), NOW)
    (message,) = await store.claim_outbox(NOW, 10)
    await store.mark_sent_many([(message.id, Delivery("1"))], NOW)
    assert await store.outbox_status(message.id) == "sent"
    assert (await store._all("PRAGMA synchronous"))[0][0] == 2  # FULL again for the turns
