"""The outbox in SQLite: rows written by turns and reminders, claimed, marked and reported
on by the sender and the channels."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from bot.core.model import Choice, MessageKind
from bot.storage.base import PEER_STATUSES, Delivery, OutboxMessage
from bot.storage.portable import OutboxReads, OutboxRescheduling
from bot.storage.rows import claim_token, claimed, iso
from bot.storage.sqlite.connection import Connection, TransactionBase, all_or_nothing
from bot.user_keys import channel_prefix

T = TypeVar("T")
_INSERT = ("INSERT INTO outbox (user_key, kind, locale, body, created_at, available_at) "
           "VALUES (?, ?, ?, ?, ?, ?)")


class OutboxWrites(TransactionBase):
    async def enqueue(self, user: str, kind: MessageKind, locale: str, text: str,
                      choices: tuple[Choice, ...], now: datetime, template: str = "",
                      template_params: tuple[str, ...] = (), document: str = "") -> None:
        body = OutboxMessage.body(text, choices, template, template_params, document)
        self.writes.append((_INSERT, (user, str(kind), locale, body, iso(now), iso(now)), None))


def _forget_if_erased(conn: sqlite3.Connection, message_id: int) -> bool:
    """The goodbye after /delete is the last row about an erased user: gone once handled."""
    return conn.execute(
        "DELETE FROM outbox WHERE id = ? AND NOT EXISTS "
        "(SELECT 1 FROM users u WHERE u.user_key = outbox.user_key)",
        (message_id,)).rowcount == 1


def _mark_sent(conn: sqlite3.Connection, sent: list[tuple[int, Delivery]],
               now: datetime) -> None:
    """In the database thread. The text is not kept once delivered (the transcript has it,
    with consent only); the goodbye after /delete, the last row about an erased user, goes."""
    conn.execute(
        "DELETE FROM outbox WHERE id IN (SELECT value FROM json_each(?)) AND NOT EXISTS "
        "(SELECT 1 FROM users u WHERE u.user_key = outbox.user_key)",
        (json.dumps([i for i, _ in sent]),))
    conn.executemany(
        "UPDATE outbox SET status = 'sent', sent_at = ?, channel_ref = ?, body = '{}', "
        "sent_as = ?, fallback_from = ? WHERE id = ?",
        [(iso(now), d.ref, d.sent_as, d.fallback_from, i) for i, d in sent])


class OutboxStore(Connection, OutboxReads, OutboxRescheduling):
    """The sender's side of the outbox. Each call is its own transaction."""

    async def claim_outbox(self, now: datetime, limit: int, *, leave: Sequence[str] = (),
                           users: Sequence[str] | None = None) -> list[OutboxMessage]:
        scope = "".join(" AND o.user_key NOT LIKE ?" for _ in leave)
        params: list[Any] = [iso(now), *(channel_prefix(c) + "%" for c in leave)]
        if users is not None:
            scope += " AND o.user_key IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(list(users)))

        def claim(conn: sqlite3.Connection) -> list[Any]:
            # With each row, what a channel may need to choose how to send it: whether the
            # user can be reached, when they last wrote, and their second language.
            rows = conn.execute(
                "SELECT o.id, o.user_key, o.kind, o.locale, o.body, o.created_at, o.attempts, "
                "COALESCE(u.reachable, 1), u.last_seen_at, "
                "json_extract(ses.data, '$.slots.second_locale') "
                "FROM outbox o LEFT JOIN users u ON u.user_key = o.user_key "
                "LEFT JOIN sessions ses ON ses.user_key = o.user_key "
                f"WHERE o.status = 'pending' AND o.available_at <= ?{scope} "
                "AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.user_key = o.user_key "
                "  AND e.id < o.id AND e.status IN ('pending', 'sending')) "
                "ORDER BY o.id LIMIT ?", (*params, limit)).fetchall()
            conn.executemany(
                "UPDATE outbox SET status = 'sending', attempts = attempts + 1, "
                "claim_token = ?, claimed_at = ?, posted_at = NULL WHERE id = ?",
                [(token, iso(now), row[0]) for row in rows])
            return rows

        token = claim_token()
        # Not flushed to the disk on its own: the row's request starts only once it is marked
        # posted (`mark_posted`, flushed, which flushes this claim with it). A claim lost to a
        # power cut before that leaves the row pending, and nothing of it went out.
        return [claimed(row, token) for row in await self._atomic_unflushed(claim)]

    async def mark_posted(self, claim: int, ids: Sequence[int], now: datetime) -> set[int]:
        if not ids:
            return set()

        def mark(conn: sqlite3.Connection) -> set[int]:
            # Flushed to the disk (synchronous as configured, FULL by default): lost to a power
            # cut, the mark would let the restart send again a message that went out.
            rows = conn.execute(
                "UPDATE outbox SET posted_at = ? WHERE id IN (SELECT value FROM json_each(?)) "
                "AND claim_token = ? AND status = 'sending' RETURNING id",
                (iso(now), json.dumps(list(ids)), claim)).fetchall()
            return {int(row[0]) for row in rows}

        return await self._atomic(mark)

    async def mark_sent(self, message_id: int, now: datetime, channel_ref: str | None) -> None:
        # The text is not kept once delivered: the transcript has it, with consent only.
        def mark(conn: sqlite3.Connection) -> None:
            if not _forget_if_erased(conn, message_id):
                conn.execute("UPDATE outbox SET status = 'sent', sent_at = ?, channel_ref = ?, "
                             "body = '{}' WHERE id = ?", (iso(now), channel_ref, message_id))

        await self._atomic(mark)

    async def mark_sent_many(self, sent: list[tuple[int, Delivery]], now: datetime) -> None:
        if not sent:
            return

        # Not flushed to the disk on its own (the next flushed commit carries it): lost to a
        # power cut, these rows would stay 'sending', posted, and be marked uncertain at the
        # restart, never sent again, which is what a crash while sending already does.
        await self._atomic_unflushed(lambda conn: _mark_sent(conn, sent, now))

    async def _atomic_unflushed(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """BEGIN, `fn`, COMMIT in one trip, the commit not waiting for the disk (synchronous
        NORMAL in WAL mode: durable once a later commit is flushed, or a checkpoint runs)."""
        def run(conn: sqlite3.Connection) -> T:
            conn.execute("PRAGMA synchronous = NORMAL")
            try:
                return all_or_nothing(conn, fn)
            finally:
                conn.execute(f"PRAGMA synchronous = {self.synchronous}")

        return await self.trip(run)

    async def record_peer_status(self, channel: str, ref: str, status: str, at: datetime,
                                 error: str | None) -> bool:
        if status not in PEER_STATUSES:
            raise ValueError(f"unknown peer status {status!r}")
        rank = PEER_STATUSES.index(status)
        # The rank of the stored status, computed in SQL: only a later status replaces it.
        stored = ("(CASE peer_status WHEN 'sent' THEN 0 WHEN 'delivered' THEN 1 "
                  "WHEN 'read' THEN 2 WHEN 'failed' THEN 3 ELSE -1 END)")
        failed = status == "failed"
        # A channel's refs are its own: the row is looked for among its users' rows.
        users = channel_prefix(channel) + "%"

        def record(conn: sqlite3.Connection) -> bool:
            if conn.execute("SELECT 1 FROM outbox WHERE channel_ref = ? AND user_key LIKE ? "
                            "LIMIT 1", (ref, users)).fetchone() is None:
                return False
            conn.execute(
                f"UPDATE outbox SET peer_status = ?, peer_status_at = ?, "
                f"status = CASE WHEN ? THEN 'failed' ELSE status END, "
                f"last_error = CASE WHEN ? THEN ? ELSE last_error END "
                f"WHERE channel_ref = ? AND user_key LIKE ? AND {stored} < ?",
                (status, iso(at), failed, failed, (error or "")[:200], ref, users, rank))
            return True

        return await self._atomic(record)

    async def mark_failed(self, message_id: int, error: str) -> None:
        def mark(conn: sqlite3.Connection) -> None:
            if not _forget_if_erased(conn, message_id):
                conn.execute("UPDATE outbox SET status = 'failed', body = '{}', "
                             "last_error = ? WHERE id = ?", (error[:200], message_id))

        await self._atomic(mark)
