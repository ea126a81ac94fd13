"""A conversation turn in PostgreSQL: the inbound message's id, the user, the session, the
transcript, the handoff and the case; erasure; what a turn reads before it starts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from bot.core.model import Session
from bot.core.observation import Observation
from bot.storage import cases, observations
from bot.storage.base import AlreadyAnswered, VersionConflict
from bot.storage.portable import UserReads
from bot.storage.postgres.connection import Connection, TransactionBase
from bot.storage.rows import USER_TABLES, inbound_digest, iso, session_columns


class TurnWrites(TransactionBase):
    async def touch_user(self, user: str, now: datetime) -> None:
        await self.pg("INSERT INTO users (user_key, created_at, last_seen_at) "
                      "VALUES (%s, %s, %s) ON CONFLICT (user_key) "
                      "DO UPDATE SET last_seen_at = excluded.last_seen_at",
                      user, iso(now), iso(now))

    async def record_inbound(self, user: str, message_id: str, now: datetime) -> bool:
        # The unique key drops a redelivery, whichever instance received it first.
        cursor = await self.pg("INSERT INTO inbound (digest, received_at) VALUES (%s, %s) "
                               "ON CONFLICT DO NOTHING",
                               inbound_digest(user, message_id), iso(now))
        return bool(cursor.rowcount == 1)

    async def claim_inbound(self, user: str, message_id: str, now: datetime) -> None:
        """Also one turn at a time per user across instances: the user's advisory lock is
        held until this transaction ends, so another instance's turn for the same person
        waits here, then finds the message answered or the session's version moved (and
        runs again on the stored session)."""
        await self.pg("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", user)
        if not await self.record_inbound(user, message_id, now):
            raise AlreadyAnswered("INSERT INTO inbound")

    async def load_session(self, user: str) -> Session | None:
        row = await self.one("SELECT data, version FROM sessions WHERE user_key = ?", user)
        if row is None:
            return None
        return Session.from_json(user, json.loads(row[0]), row[1])

    async def save_session(self, session: Session, now: datetime) -> Session:
        data, *facts = session_columns(session)
        if session.version == 0:
            cursor = await self.pg(
                "INSERT INTO sessions (user_key, data, version, updated_at, locale, consent, "
                "reminders, dates) VALUES (%s, %s, 1, %s, %s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING", session.user, data, iso(now), *facts)
        else:
            cursor = await self.pg(
                "UPDATE sessions SET data = %s, version = version + 1, updated_at = %s, "
                "locale = %s, consent = %s, reminders = %s, dates = %s "
                "WHERE user_key = %s AND version = %s",
                data, iso(now), *facts, session.user, session.version)
        if cursor.rowcount != 1:
            raise VersionConflict("sessions")
        stored = session.evolve(version=session.version + 1)
        self.saved[session.user] = stored
        self.erased.discard(session.user)
        return stored

    async def append_transcript(self, user: str, direction: str, text: str,
                                now: datetime, understood: str = "") -> None:
        await self.pg("INSERT INTO transcript (user_key, direction, at, text, understood) "
                      "VALUES (%s, %s, %s, %s, %s)", user, direction, iso(now), text,
                      understood)

    async def record_handoff_request(self, user: str, reason: str, now: datetime) -> None:
        await self.pg("INSERT INTO handoff_requests (user_key, requested_at, reason) "
                      "VALUES (%s, %s, %s)", user, iso(now), reason)

    async def open_case(self, user: str, reason: str, summary: str, api_end: str | None,
                        locale: str, now: datetime) -> int:
        return await cases.open_case(self, user, reason, summary, api_end, locale, now,
                                     default_org=self.default_org)

    async def close_cases(self, user: str, now: datetime) -> None:
        await cases.close_cases(self, user, now)

    async def set_organisation(self, user: str, code: str) -> bool:
        return await cases.set_organisation(self, user, code)

    async def record_observations(self, user: str, rows: Sequence[Observation]) -> None:
        for o in rows:
            await self.run(observations.INSERT_OBSERVATION,
                           *observations.observation_params(user, o))

    async def forget_observations(self, user: str) -> None:
        await self.run(observations.FORGET_OBSERVATIONS, user)

    async def keep_document(self, user: str, token: str, facts: str, now: datetime,
                            expires_at: datetime) -> None:
        await self.run(observations.PURGE_DOCUMENTS, iso(now))
        await self.run(observations.INSERT_DOCUMENT,
                       *observations.document_params(user, token, facts, now, expires_at))

    async def reachable(self, user: str) -> bool:
        row = await self.one("SELECT reachable FROM users WHERE user_key = ?", user)
        return bool(row[0]) if row else True

    async def erase_user(self, user: str) -> None:
        self.erased.add(user)
        self.saved.pop(user, None)
        for table in USER_TABLES:
            await self.pg(f"DELETE FROM {table} WHERE user_key = %s", user)


class TurnReads(Connection, UserReads):
    async def load_turn(self, user: str, message_id: str) -> tuple[bool, Session | None]:
        """Outside any transaction; the commit settles a race (claim_inbound, version)."""
        digest = inbound_digest(user, message_id)
        async with self.pool.connection() as conn:
            cursor = await conn.execute("SELECT 1 FROM inbound WHERE digest = %s", (digest,))
            if await cursor.fetchone():
                return False, None
            cursor = await conn.execute("SELECT data, version FROM sessions "
                                        "WHERE user_key = %s", (user,))
            row = await cursor.fetchone()
        if row is None:
            return True, None
        return True, Session.from_json(user, json.loads(row[0]), row[1])

    async def tables_with_user_key(self) -> list[str]:
        rows = await self._all(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'user_key' "
            "AND table_schema = current_schema() ORDER BY table_name")
        return [r[0] for r in rows]
