"""A conversation turn in SQLite: the inbound message's id, the user, the session, the
transcript, the handoff and the case; erasure; what a turn reads before it starts."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.core.model import Session
from bot.core.observation import Observation
from bot.storage import cases, observations
from bot.storage.base import AlreadyAnswered, VersionConflict
from bot.storage.portable import UserReads
from bot.storage.rows import USER_TABLES, inbound_digest, iso, session_columns
from bot.storage.sqlite.connection import Connection, TransactionBase


class TurnWrites(TransactionBase):
    async def touch_user(self, user: str, now: datetime) -> None:
        self.writes.append((
            "INSERT INTO users (user_key, created_at, last_seen_at) VALUES (?, ?, ?) "
            "ON CONFLICT (user_key) DO UPDATE SET last_seen_at = excluded.last_seen_at",
            (user, iso(now), iso(now)), None))

    async def record_inbound(self, user: str, message_id: str, now: datetime) -> bool:
        digest = inbound_digest(user, message_id)
        return bool(await self._call(lambda conn: conn.execute(
            "INSERT OR IGNORE INTO inbound (digest, received_at) VALUES (?, ?)",
            (digest, iso(now))).rowcount == 1))

    async def claim_inbound(self, user: str, message_id: str, now: datetime) -> None:
        self.writes.append(("INSERT OR IGNORE INTO inbound (digest, received_at) VALUES (?, ?)",
                            (inbound_digest(user, message_id), iso(now)), AlreadyAnswered))

    async def load_session(self, user: str) -> Session | None:
        row = await self.one("SELECT data, version FROM sessions WHERE user_key = ?", user)
        if row is None:
            return None
        return Session.from_json(user, json.loads(row[0]), row[1])

    async def save_session(self, session: Session, now: datetime) -> Session:
        """Buffered; a version conflict is raised at the latest by the commit, which then
        rolls the whole turn back."""
        data, *facts = session_columns(session)
        if session.version == 0:
            self.writes.append(("INSERT OR IGNORE INTO sessions (user_key, data, version, "
                                "updated_at, locale, consent, reminders, dates) "
                                "VALUES (?, ?, 1, ?, ?, ?, ?, ?)",
                                (session.user, data, iso(now), *facts), VersionConflict))
        else:
            self.writes.append(("UPDATE sessions SET data = ?, version = version + 1, "
                                "updated_at = ?, locale = ?, consent = ?, reminders = ?, "
                                "dates = ? WHERE user_key = ? AND version = ?",
                                (data, iso(now), *facts, session.user, session.version),
                                VersionConflict))
        stored = session.evolve(version=session.version + 1)
        self.saved[session.user] = stored
        self.erased.discard(session.user)
        return stored

    async def append_transcript(self, user: str, direction: str, text: str,
                                now: datetime, understood: str = "") -> None:
        self.writes.append((
            "INSERT INTO transcript (user_key, direction, at, text, understood) "
            "VALUES (?, ?, ?, ?, ?)", (user, direction, iso(now), text, understood), None))

    async def record_handoff_request(self, user: str, reason: str, now: datetime) -> None:
        self.writes.append((
            "INSERT INTO handoff_requests (user_key, requested_at, reason) VALUES (?, ?, ?)",
            (user, iso(now), reason), None))

    # The case a handoff opens, in the same transaction (the SQL is cases.py's, shared).

    async def open_case(self, user: str, reason: str, summary: str, api_end: str | None,
                        locale: str, now: datetime) -> int:
        return await cases.open_case(self, user, reason, summary, api_end, locale, now,
                                     default_org=self.default_org)

    async def close_cases(self, user: str, now: datetime) -> None:
        await cases.close_cases(self, user, now)

    async def set_organisation(self, user: str, code: str) -> bool:
        return await cases.set_organisation(self, user, code)

    # -- the observatory and documents (bot/storage/observations.py) -------------------------

    async def record_observations(self, user: str, rows: Sequence[Observation]) -> None:
        self.writes.extend((observations.INSERT_OBSERVATION,
                            observations.observation_params(user, o), None) for o in rows)

    async def forget_observations(self, user: str) -> None:
        self.writes.append((observations.FORGET_OBSERVATIONS, (user,), None))

    async def keep_document(self, user: str, token: str, facts: str, now: datetime,
                            expires_at: datetime) -> None:
        self.writes.append((observations.PURGE_DOCUMENTS, (iso(now),), None))
        self.writes.append((observations.INSERT_DOCUMENT, observations.document_params(
            user, token, facts, now, expires_at), None))

    async def reachable(self, user: str) -> bool:
        row = await self.one("SELECT reachable FROM users WHERE user_key = ?", user)
        return bool(row[0]) if row else True

    async def erase_user(self, user: str) -> None:
        self.erased.add(user)
        self.saved.pop(user, None)
        await self.flush()
        for table in USER_TABLES:
            await self.db.execute(f"DELETE FROM {table} WHERE user_key = ?", (user,))


class TurnReads(Connection, UserReads):
    async def load_turn(self, user: str, message_id: str) -> tuple[bool, Session | None]:
        """Outside any transaction: the engine then runs while other turns use the database,
        and the turn's writes are committed together (`claim_inbound` and the session's
        version settle a race). A session in the cache needs no trip at all; a message
        delivered twice is then caught by `claim_inbound` at the commit."""
        cached = self.sessions.get(user)
        if cached is not None:
            return True, cached
        digest = inbound_digest(user, message_id)

        def run(conn: sqlite3.Connection) -> tuple[bool, Any]:
            if conn.execute("SELECT 1 FROM inbound WHERE digest = ?", (digest,)).fetchone():
                return False, None
            return True, conn.execute("SELECT data, version FROM sessions WHERE user_key = ?",
                                      (user,)).fetchone()

        fresh, row = await self.trip(run)
        if row is None:
            return fresh, None
        return fresh, Session.from_json(user, json.loads(row[0]), row[1])

    async def tables_with_user_key(self) -> list[str]:
        tables = await self._all("SELECT name FROM sqlite_master WHERE type = 'table' "
                                 "AND name NOT LIKE 'sqlite_%'")
        found = []
        for (name,) in tables:
            columns = await self._all(f"PRAGMA table_info({name})")
            if any(c[1] == "user_key" for c in columns):
                found.append(name)
        return found
