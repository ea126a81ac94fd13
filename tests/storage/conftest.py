"""A SQLite storage on disk, opened for one test (test_contract.py has its own, over every
backend), and a row count read through the storage's own gate."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage.sqlite import SQLiteStorage


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStorage]:
    storage = SQLiteStorage(tmp_path / "t.sqlite3")
    await storage.open()
    yield storage
    await storage.close()


async def count_rows(store: SQLiteStorage, table: str) -> int:
    return int((await store._all(f"SELECT COUNT(*) FROM {table}"))[0][0])
