"""Timers in SQLite: scheduled by turns, taken one at a time by the timers' turns, and the
day's date reminders staged and turned into outbox rows in bulk, inside the database."""

from __future__ import annotations

from datetime import datetime

from bot.storage.base import ReminderGroup, StagedText, Timer
from bot.storage.portable import TIMER_COLUMNS, TimerScheduling, reminder_may_go, timer_from_row
from bot.storage.rows import iso, when
from bot.storage.sqlite.connection import Connection, TransactionBase

#: The rule's JSON reads, in SQLite's words (bot.storage.portable.reminder_may_go).
_KEPT_DATE = "json_extract(ses.dates, '$.' || s.topic)"
_PLANNED_DATE = "json_extract(s.payload, '$.date')"


class TimerWrites(TransactionBase, TimerScheduling):
    async def take_timer(self, timer_id: int, now: datetime) -> Timer | None:
        row = await self.one(f"SELECT {TIMER_COLUMNS} FROM scheduled "
                             "WHERE id = ? AND status = 'pending'", timer_id)
        if row is None:
            return None
        await self.run("UPDATE scheduled SET status = 'done', done_at = ? WHERE id = ?",
                       iso(now), timer_id)
        return timer_from_row(row)

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
        await self.flush()
        until = iso(now)
        await self.db.execute("DROP TABLE IF EXISTS temp.due_batch")
        # Everything is decided inside SQLite: 100,000 rows never travel to Python and back.
        await self.db.execute(
            "CREATE TEMP TABLE due_batch AS SELECT s.id, s.user_key, s.topic, "
            f"{_PLANNED_DATE} AS planned, "
            "CAST(json_extract(s.payload, '$.offset') AS INTEGER) AS days_before, "
            f"ses.locale AS locale, {reminder_may_go(_KEPT_DATE, _PLANNED_DATE, '?')} AS ok "
            "FROM scheduled s LEFT JOIN sessions ses ON ses.user_key = s.user_key "
            "LEFT JOIN users u ON u.user_key = s.user_key "
            "WHERE s.status = 'pending' AND s.name = 'reminder' AND s.due_at <= ? "
            "ORDER BY s.due_at, s.id LIMIT ?", (until, until, limit))
        async with self.db.execute(
                "SELECT topic, planned, days_before, locale, COUNT(*) FROM due_batch "
                "WHERE ok GROUP BY topic, planned, days_before, locale") as cursor:
            groups = [ReminderGroup(r[0], r[1], int(r[2]), r[3], int(r[4]))
                      for r in await cursor.fetchall()]
        async with self.db.execute("SELECT COUNT(*) FROM due_batch") as cursor:
            row = await cursor.fetchone()
        self._staged = int(row[0]) if row else 0
        return groups

    async def enqueue_staged(self, texts: list[StagedText], now: datetime) -> tuple[int, int]:
        await self.flush()
        stamp = iso(now)
        await self.db.execute("DROP TABLE IF EXISTS temp.staged_texts")
        await self.db.execute(
            "CREATE TEMP TABLE staged_texts (topic TEXT, planned TEXT, days_before INTEGER, "
            "locale TEXT, kind TEXT, message_locale TEXT, text TEXT, body TEXT)")
        await self.db.executemany(
            "INSERT INTO staged_texts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(t.slot, t.planned, t.offset, t.locale, str(t.kind), t.message_locale, t.text,
              t.body) for t in texts])
        going = ("FROM due_batch b JOIN staged_texts t ON t.topic = b.topic "
                 "AND t.planned = b.planned AND t.days_before = b.days_before "
                 "AND t.locale IS b.locale WHERE b.ok")
        cursor = await self.db.execute(
            "INSERT INTO outbox (user_key, kind, locale, body, created_at, available_at) "
            f"SELECT b.user_key, t.kind, t.message_locale, t.body, ?, ? {going} "
            "ORDER BY b.rowid", (stamp, stamp))
        sent = cursor.rowcount
        # Reminders go only to consenting users: their transcript is kept.
        await self.db.execute(
            "INSERT INTO transcript (user_key, direction, at, text) "
            f"SELECT b.user_key, 'out', ?, t.text {going} ORDER BY b.rowid", (stamp,))
        await self.db.execute(
            "UPDATE scheduled SET done_at = ?, status = CASE WHEN id IN "
            f"(SELECT b.id {going}) THEN 'done' ELSE 'skipped' END "
            "WHERE id IN (SELECT id FROM due_batch)", (stamp,))
        staged, self._staged = self._staged, 0
        return sent, staged


class TimerStore(Connection):
    """The scheduler's side."""

    async def due_timers(self, now: datetime, limit: int) -> list[Timer]:
        rows = await self._all(
            f"SELECT {TIMER_COLUMNS} FROM scheduled "
            "WHERE status = 'pending' AND name != 'reminder' AND due_at <= ? "
            "ORDER BY due_at, id LIMIT ?",
            iso(now), limit)
        return [timer_from_row(r) for r in rows]

    async def next_due(self) -> datetime | None:
        rows = await self._all("SELECT MIN(due_at) FROM scheduled WHERE status = 'pending'")
        return when(rows[0][0]) if rows and rows[0][0] else None
