"""Timers in PostgreSQL. The day's date reminders are staged with FOR UPDATE SKIP LOCKED:
several schedulers (one per instance) each take rows the others have not, so a reminder is
staged, and sent, exactly once."""

from __future__ import annotations

from datetime import datetime

from bot.storage.base import ReminderGroup, StagedText, Timer
from bot.storage.portable import TIMER_COLUMNS, TimerScheduling, timer_from_row
from bot.storage.postgres.connection import Connection, TransactionBase
from bot.storage.rows import iso, when


class TimerWrites(TransactionBase, TimerScheduling):
    async def take_timer(self, timer_id: int, now: datetime) -> Timer | None:
        # The row lock makes a second instance firing the same timer wait, then find it done.
        row = await self.one(f"UPDATE scheduled SET status = 'done', done_at = ? "
                             f"WHERE id = ? AND status = 'pending' RETURNING {TIMER_COLUMNS}",
                             iso(now), timer_id)
        return None if row is None else timer_from_row(row)

    async def superseded(self, timer: Timer, now: datetime) -> bool:
        row = await self.one(
            "SELECT 1 FROM scheduled WHERE user_key = ? AND topic = ? AND status = 'pending' "
            "AND id != ? AND due_at > ? AND due_at <= ?",
            timer.user, timer.topic, timer.id, iso(timer.due_at), iso(now))
        return row is not None

    async def skip_timer(self, timer_id: int, now: datetime) -> None:
        await self.run("UPDATE scheduled SET status = 'skipped', done_at = ? WHERE id = ?",
                       iso(now), timer_id)

    async def stage_due_reminders(self, now: datetime, limit: int) -> list[ReminderGroup]:
        until = iso(now)
        # The rule, as in SQLite's staging (the one place it is written per dialect): who may
        # still be reminded of what. The rows are locked for this transaction; another
        # scheduler skips them.
        await self.pg("DROP TABLE IF EXISTS due_batch")
        await self.pg(
            "CREATE TEMP TABLE due_batch ON COMMIT DROP AS "
            "WITH taken AS (SELECT s.id FROM scheduled s WHERE s.status = 'pending' "
            "  AND s.name = 'reminder' AND s.due_at <= %s ORDER BY s.due_at, s.id LIMIT %s "
            "  FOR UPDATE SKIP LOCKED) "
            "SELECT s.id, s.user_key, s.topic, s.due_at, "
            "s.payload::jsonb ->> 'date' AS planned, "
            "(s.payload::jsonb ->> 'offset')::integer AS days_before, "
            "ses.locale AS locale, "
            "(ses.user_key IS NOT NULL AND ses.consent = 1 AND ses.reminders = 1 "
            " AND ses.dates::jsonb ->> s.topic = s.payload::jsonb ->> 'date' "
            " AND COALESCE(u.reachable, 1) = 1 "
            " AND NOT EXISTS (SELECT 1 FROM scheduled l WHERE l.user_key = s.user_key "
            "   AND l.topic = s.topic AND l.status = 'pending' AND l.id != s.id "
            "   AND l.due_at > s.due_at AND l.due_at <= %s)) AS ok "
            "FROM taken JOIN scheduled s ON s.id = taken.id "
            "LEFT JOIN sessions ses ON ses.user_key = s.user_key "
            "LEFT JOIN users u ON u.user_key = s.user_key", until, limit, until)
        await self.pg("ANALYZE due_batch")  # temporary tables have no statistics otherwise
        cursor = await self.pg(
            "SELECT topic, planned, days_before, locale, COUNT(*) FROM due_batch "
            "WHERE ok GROUP BY topic, planned, days_before, locale")
        groups = [ReminderGroup(r[0], r[1], int(r[2]), r[3], int(r[4]))
                  for r in await cursor.fetchall()]
        cursor = await self.pg("SELECT COUNT(*) FROM due_batch")
        row = await cursor.fetchone()
        self._staged = int(row[0]) if row else 0
        return groups

    async def enqueue_staged(self, texts: list[StagedText], now: datetime) -> tuple[int, int]:
        stamp = iso(now)
        await self.pg("DROP TABLE IF EXISTS staged_texts")
        await self.pg("CREATE TEMP TABLE staged_texts (topic TEXT, planned TEXT, "
                      "days_before INTEGER, locale TEXT, kind TEXT, message_locale TEXT, "
                      "text TEXT, body TEXT) ON COMMIT DROP")
        async with self.conn.cursor() as cursor:
            await cursor.executemany(
                "INSERT INTO staged_texts VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                [(t.slot, t.planned, t.offset, t.locale, str(t.kind), t.message_locale,
                  t.text, t.body) for t in texts])
        await self.pg("ANALYZE staged_texts")
        # The rows that go, joined once; then copied into the outbox and the transcript.
        await self.pg(
            "CREATE TEMP TABLE going ON COMMIT DROP AS SELECT b.id, b.user_key, b.due_at, "
            "t.kind, t.message_locale, t.text, t.body FROM due_batch b JOIN staged_texts t "
            "ON t.topic = b.topic AND t.planned = b.planned AND t.days_before = b.days_before "
            "AND t.locale IS NOT DISTINCT FROM b.locale WHERE b.ok")
        cursor = await self.pg(
            "INSERT INTO outbox (user_key, kind, locale, body, created_at, available_at) "
            "SELECT user_key, kind, message_locale, body, %s, %s FROM going "
            "ORDER BY due_at, id", stamp, stamp)
        sent = cursor.rowcount
        await self.pg("INSERT INTO transcript (user_key, direction, at, text) "
                      "SELECT user_key, 'out', %s, text FROM going ORDER BY due_at, id", stamp)
        await self.pg("UPDATE scheduled s SET done_at = %s, status = CASE WHEN g.id IS NULL "
                      "THEN 'skipped' ELSE 'done' END FROM due_batch b "
                      "LEFT JOIN going g ON g.id = b.id WHERE s.id = b.id", stamp)
        await self.pg("DROP TABLE going")
        await self.pg("DROP TABLE due_batch")
        await self.pg("DROP TABLE staged_texts")
        staged, self._staged = self._staged, 0
        return sent, staged


class TimerStore(Connection):
    async def due_timers(self, now: datetime, limit: int) -> list[Timer]:
        rows = await self._all(
            f"SELECT {TIMER_COLUMNS} FROM scheduled "
            "WHERE status = 'pending' AND name != 'reminder' AND due_at <= ? "
            "ORDER BY due_at, id LIMIT ?", iso(now), limit)
        return [timer_from_row(r) for r in rows]

    async def next_due(self) -> datetime | None:
        rows = await self._all("SELECT MIN(due_at) FROM scheduled WHERE status = 'pending'")
        return when(rows[0][0]) if rows and rows[0][0] else None
