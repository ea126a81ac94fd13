"""Migrations bring an existing database forward without losing what it holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.model import Session
from bot.storage import rows as row_formats
from bot.storage.cases import CaseStore
from bot.storage.sqlite import SQLiteStorage, connection
from tests.conftest import NOW


async def test_session_facts_are_filled_from_the_sessions_already_there(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    every = row_formats.migrations()
    monkeypatch.setattr(connection, "migrations", lambda: [m for m in every if m[0] < 6])
    old = SQLiteStorage(tmp_path / "old.sqlite3")
    await old.open()
    session = Session(user="test:a", flow="menu", state="main", locale="ps", consent=True,
                      reminders=False).with_slot("api_end", "2026-03-10")
    await old.db.execute(
        "INSERT INTO sessions (user_key, data, version, updated_at) VALUES (?, ?, 1, ?)",
        ("test:a", json.dumps(session.to_json()), NOW.isoformat()))
    await old.close()
    monkeypatch.setattr(connection, "migrations", lambda: every)
    new = SQLiteStorage(tmp_path / "old.sqlite3")
    await new.open()
    assert await new.schema_version() == every[-1][0]
    rows = await new.db.execute_fetchall(
        "SELECT locale, consent, reminders, json_extract(dates, '$.api_end') FROM sessions")
    assert [tuple(r) for r in rows] == [("ps", 1, 0, "2026-03-10")]
    await new.close()


async def test_cases_keep_their_rows_when_they_may_wait_for_an_organisation(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    every = row_formats.migrations()
    monkeypatch.setattr(connection, "migrations", lambda: [m for m in every if m[0] < 7])
    old = SQLiteStorage(tmp_path / "old.sqlite3")
    await old.open()
    await old.db.execute("INSERT INTO organisations (code, name, created_at) "
                         "VALUES ('default', 'default', ?)", (NOW.isoformat(),))
    await old.db.execute(
        "INSERT INTO cases (user_key, org_id, reason, summary, api_end, locale, opened_at) "
        "VALUES ('test:a', 1, 'user_request', 'Résumé', '2026-03-10', 'ps', ?)",
        (NOW.isoformat(),))
    await old.db.execute("INSERT INTO transcript (user_key, direction, at, text) "
                         "VALUES ('test:a', 'in', ?, 'salam')", (NOW.isoformat(),))
    await old.db.commit()
    await old.close()
    monkeypatch.setattr(connection, "migrations", lambda: every)
    new = SQLiteStorage(tmp_path / "old.sqlite3")
    await new.open()
    rows = await new.db.execute_fetchall(
        "SELECT id, org_id, status, api_end, title, outcome, announced_at IS NOT NULL "
        "FROM cases")
    # Kept as it was; already announced (no e-mail for an old case); no title yet (the inbox
    # falls back to the reason's French name).
    assert [tuple(r) for r in rows] == [(1, 1, "open", "2026-03-10", "", None, 1)]
    assert [tuple(r) for r in await new.db.execute_fetchall(
        "SELECT text, understood FROM transcript")] == [("salam", "")]
    await new.db.execute("UPDATE cases SET org_id = NULL")  # a case may now wait
    await new.db.execute("UPDATE cases SET org_id = 1")
    case = await CaseStore(new).case(1, 1)
    assert case is not None
    assert case.title == "Demande à parler à une personne"
    await new.close()
