"""A turn's transaction begins with its first trip to the database thread (lazy BEGIN), and
is still all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.model import Session
from bot.storage.sqlite import SQLiteStorage
from tests.conftest import NOW


class Boom(Exception):
    pass


async def test_a_lazy_transaction_is_all_or_nothing(tmp_path: Path) -> None:
    store = SQLiteStorage(tmp_path / "t.sqlite3")
    await store.open()
    # Nothing sent yet: leaving with an error needs no rollback and breaks nothing.
    with pytest.raises(Boom):
        async with store.transaction(lazy=True):
            raise Boom
    # Writes sent with the first read, then an error: all of it is rolled back.
    seen: list[tuple[bool, Session | None]] = []

    async def fails_after_writing() -> None:
        async with store.transaction(lazy=True) as tx:
            await tx.touch_user("test:a", NOW)
            seen.append(await tx.accept_inbound("test:a", "m1", NOW))
            await tx.save_session(Session("test:a", "menu", "main"), NOW)
            raise Boom

    with pytest.raises(Boom):
        await fails_after_writing()
    assert seen == [(True, None)]
    assert await store.db.execute_fetchall("SELECT * FROM users") == []
    assert await store.db.execute_fetchall("SELECT * FROM inbound") == []
    # The same message again, committed this time, then refused as a duplicate.
    async with store.transaction(lazy=True) as tx:
        assert (await tx.accept_inbound("test:a", "m1", NOW))[0] is True
        await tx.touch_user("test:a", NOW)
        await tx.save_session(Session("test:a", "menu", "main"), NOW)
    async with store.transaction(lazy=True) as tx:
        fresh, _ = await tx.accept_inbound("test:a", "m1", NOW)
        assert fresh is False
        fresh, session = await tx.accept_inbound("test:a", "m2", NOW)
        assert fresh is True
        assert session is not None
        assert session.version == 1
    await store.close()
