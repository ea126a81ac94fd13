"""Migrations bring an existing database forward without losing what it holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.model import Session
from bot.storage import sqlite
from bot.storage.sqlite import SQLiteStorage
from tests.conftest import NOW


async def test_session_facts_are_filled_from_the_sessions_already_there(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    every = sqlite.migrations()
    monkeypatch.setattr(sqlite, "migrations", lambda: [m for m in every if m[0] < 6])
    old = SQLiteStorage(tmp_path / "old.sqlite3")
    await old.open()
    session = Session(user="test:a", flow="menu", state="main", locale="ps", consent=True,
                      reminders=False).with_slot("api_end", "2026-03-10")
    await old.db.execute(
        "INSERT INTO sessions (user_key, data, version, updated_at) VALUES (?, ?, 1, ?)",
        ("test:a", json.dumps(session.to_json()), NOW.isoformat()))
    await old.close()
    monkeypatch.setattr(sqlite, "migrations", lambda: every)
    new = SQLiteStorage(tmp_path / "old.sqlite3")
    await new.open()
    assert await new.schema_version() == every[-1][0]
    rows = await new.db.execute_fetchall(
        "SELECT locale, consent, reminders, json_extract(dates, '$.api_end') FROM sessions")
    assert [tuple(r) for r in rows] == [("ps", 1, 0, "2026-03-10")]
    await new.close()
