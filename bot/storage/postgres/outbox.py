"""The outbox in PostgreSQL. Several instances drain it at once: a row is claimed with
FOR UPDATE SKIP LOCKED, so two senders never take the same row, and a user's later message
never overtakes an earlier one still pending or being sent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.model import Choice, MessageKind
from bot.storage.base import PEER_STATUSES, Delivery, OutboxMessage
from bot.storage.portable import OutboxReads, OutboxRescheduling
from bot.storage.postgres.connection import Connection, TransactionBase
from bot.storage.rows import claim_token, claimed, iso
from bot.user_keys import channel_of, channel_prefix, notice_key

_FORGET_IF_ERASED = ("DELETE FROM outbox WHERE id = %s AND NOT EXISTS "
                     "(SELECT 1 FROM users u WHERE u.user_key = outbox.user_key)")


class OutboxWrites(TransactionBase):
    async def enqueue(self, user: str, kind: MessageKind, locale: str, text: str,
                      choices: tuple[Choice, ...], now: datetime, template: str = "",
                      template_params: tuple[str, ...] = (), document: str = "") -> None:
        body = OutboxMessage.body(text, choices, template, template_params, document)
        if channel_of(user) in self.live:
            self.announce.add(notice_key(user))
        else:
            self.for_sender = True
        await self.pg("INSERT INTO outbox (user_key, kind, locale, body, created_at, "
                      "available_at) VALUES (%s, %s, %s, %s, %s, %s)",
                      user, str(kind), locale, body, iso(now), iso(now))


class OutboxStore(Connection, OutboxReads, OutboxRescheduling):
    async def claim_outbox(self, now: datetime, limit: int, *, leave: Sequence[str] = (),
                           users: Sequence[str] | None = None) -> list[OutboxMessage]:
        scope = ""
        if leave:
            scope += " AND NOT (o.user_key LIKE ANY(%(leave)s))"
        if users is not None:
            scope += " AND o.user_key = ANY(%(users)s)"
        params = {"now": iso(now), "limit": limit, "users": list(users or ()),
                  "leave": [channel_prefix(c) + "%" for c in leave]}
        async with self.pool.connection() as conn, conn.transaction():
            # The commit does not wait for the disk: the rows' requests start only once they
            # are marked posted (`mark_posted`, whose commit flushes the log up to it, this
            # claim included). A claim lost to a database crash before that leaves the rows
            # pending, and nothing of them went out.
            await conn.execute("SET LOCAL synchronous_commit = off")
            cursor = await conn.execute(
                "SELECT o.id, o.user_key, o.kind, o.locale, o.body, o.created_at, o.attempts, "
                "COALESCE(u.reachable, 1), u.last_seen_at, "
                "(ses.data::jsonb -> 'slots' ->> 'second_locale') "
                "FROM outbox o LEFT JOIN users u ON u.user_key = o.user_key "
                "LEFT JOIN sessions ses ON ses.user_key = o.user_key "
                f"WHERE o.status = 'pending' AND o.available_at <= %(now)s{scope} "
                "AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.user_key = o.user_key "
                "  AND e.id < o.id AND e.status IN ('pending', 'sending')) "
                "ORDER BY o.id LIMIT %(limit)s FOR UPDATE OF o SKIP LOCKED", params)
            rows = list(await cursor.fetchall())
            token = claim_token()
            if rows:
                await conn.execute("UPDATE outbox SET status = 'sending', "
                                   "attempts = attempts + 1, claim_token = %s, claimed_at = %s, "
                                   "posted_at = NULL WHERE id = ANY(%s)",
                                   (token, iso(now), [r[0] for r in rows]))
        return [claimed(row, token) for row in rows]

    async def mark_posted(self, claim: int, ids: Sequence[int], now: datetime) -> set[int]:
        if not ids:
            return set()
        # One statement, committed on its own: a recovery on another instance that put a row
        # back to 'pending' waits for it or wins over it, row by row (the row's lock), never
        # both; a later claim of the row wrote another token.
        async with self.pool.connection() as conn:
            cursor = await conn.execute(
                "UPDATE outbox SET posted_at = %s WHERE id = ANY(%s) AND claim_token = %s "
                "AND status = 'sending' RETURNING id", (iso(now), list(ids), claim))
            return {int(row[0]) for row in await cursor.fetchall()}

    async def mark_sent(self, message_id: int, now: datetime, channel_ref: str | None) -> None:
        await self.mark_sent_many([(message_id, Delivery(channel_ref))], now)

    async def mark_sent_many(self, sent: list[tuple[int, Delivery]], now: datetime) -> None:
        if not sent:
            return
        async with self.pool.connection() as conn, conn.transaction():
            # The text is not kept once delivered; the goodbye after /delete goes.
            await conn.execute("DELETE FROM outbox WHERE id = ANY(%s) AND NOT EXISTS "
                               "(SELECT 1 FROM users u WHERE u.user_key = outbox.user_key)",
                               ([i for i, _ in sent],))
            async with conn.cursor() as cursor:
                await cursor.executemany(
                    "UPDATE outbox SET status = 'sent', sent_at = %s, channel_ref = %s, "
                    "body = '{}', sent_as = %s, fallback_from = %s WHERE id = %s",
                    [(iso(now), d.ref, d.sent_as, d.fallback_from, i) for i, d in sent])

    async def record_peer_status(self, channel: str, ref: str, status: str, at: datetime,
                                 error: str | None) -> bool:
        if status not in PEER_STATUSES:
            raise ValueError(f"unknown peer status {status!r}")
        rank = PEER_STATUSES.index(status)
        stored = ("(CASE peer_status WHEN 'sent' THEN 0 WHEN 'delivered' THEN 1 "
                  "WHEN 'read' THEN 2 WHEN 'failed' THEN 3 ELSE -1 END)")
        failed = status == "failed"
        users = channel_prefix(channel) + "%"  # a channel's refs are its own
        async with self.pool.connection() as conn, conn.transaction():
            cursor = await conn.execute("SELECT 1 FROM outbox WHERE channel_ref = %s "
                                        "AND user_key LIKE %s LIMIT 1", (ref, users))
            if await cursor.fetchone() is None:
                return False
            await conn.execute(
                f"UPDATE outbox SET peer_status = %s, peer_status_at = %s, "
                f"status = CASE WHEN %s THEN 'failed' ELSE status END, "
                f"last_error = CASE WHEN %s THEN %s ELSE last_error END "
                f"WHERE channel_ref = %s AND user_key LIKE %s AND {stored} < %s",
                (status, iso(at), failed, failed, (error or "")[:200], ref, users, rank))
        return True

    async def mark_failed(self, message_id: int, error: str) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            cursor = await conn.execute(_FORGET_IF_ERASED, (message_id,))
            if cursor.rowcount != 1:
                await conn.execute("UPDATE outbox SET status = 'failed', body = '{}', "
                                   "last_error = %s WHERE id = %s", (error[:200], message_id))
