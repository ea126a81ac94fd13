"""Timers in PostgreSQL. The day's date reminders are staged with FOR UPDATE SKIP LOCKED:
several schedulers (one per instance) each take rows the others have not, so a reminder is
staged, and sent, exactly once. The staging is set-based: a batch of 50,000 is claimed,
decided and marked by one statement, and written to the outbox and the transcript by one
more; only the few groups' texts travel between Python and the database."""

from __future__ import annotations

from datetime import datetime

from bot.storage.base import ReminderGroup, StagedText, Timer
from bot.storage.portable import TIMER_COLUMNS, TimerScheduling, reminder_may_go, timer_from_row
from bot.storage.postgres.connection import Connection, TransactionBase
from bot.storage.rows import iso, when
from bot.user_keys import EVERYONE

#: The rule's JSON reads, in PostgreSQL's words (bot.storage.portable.reminder_may_go); the
#: timer's payload is parsed once per row (`p.doc`).
_KEPT_DATE = "(ses.dates::jsonb ->> s.topic)"
_PLANNED_DATE = "(p.doc ->> 'date')"


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
        # Statements over many rows, each well under a second: compiling them to machine code
        # (JIT, which their estimated cost triggers) takes longer than it saves; and the
        # batch's sort fits in memory.
        await self.pg("SET LOCAL jit = off")
        await self.pg("SET LOCAL work_mem = '64MB'")
        await self.pg("DROP TABLE IF EXISTS due_batch")
        await self.pg("CREATE TEMP TABLE due_batch (id BIGINT, user_key TEXT, due_at TEXT, "
                      "topic TEXT, planned TEXT, days_before INTEGER, locale TEXT) "
                      "ON COMMIT DROP")
        # One statement claims the batch (`s`, the rule's name for the timer), decides each
        # row by the rule (one snapshot for every row: a later reminder in this batch still
        # counts as pending) and marks it handled, done if it may go and skipped if not: a
        # row is read once and written once. Another scheduler skips the rows this one
        # locked. The rows that may go are set aside for enqueue_staged.
        cursor = await self.conn.execute(
            "WITH s AS (SELECT id, user_key, due_at, topic, payload FROM scheduled "
            "  WHERE status = 'pending' AND name = 'reminder' AND due_at <= %(until)s "
            "  ORDER BY due_at, id LIMIT %(limit)s FOR UPDATE SKIP LOCKED), "
            "decided AS (SELECT s.id, s.user_key, s.due_at, s.topic, "
            f"  {_PLANNED_DATE} AS planned, (p.doc ->> 'offset')::integer AS days_before, "
            f"  ses.locale, {reminder_may_go(_KEPT_DATE, _PLANNED_DATE, '%(until)s')} AS ok "
            "  FROM s CROSS JOIN LATERAL (SELECT s.payload::jsonb AS doc) p "
            "  LEFT JOIN sessions ses ON ses.user_key = s.user_key "
            "  LEFT JOIN users u ON u.user_key = s.user_key), "
            "kept AS (INSERT INTO due_batch SELECT id, user_key, due_at, topic, planned, "
            "  days_before, locale FROM decided WHERE ok) "
            "UPDATE scheduled t SET done_at = %(until)s, "
            "status = CASE WHEN d.ok THEN 'done' ELSE 'skipped' END "
            "FROM decided d WHERE t.id = d.id", {"until": iso(now), "limit": limit})
        self._staged = cursor.rowcount
        cursor = await self.pg(
            "SELECT topic, planned, days_before, locale, COUNT(*) FROM due_batch "
            "GROUP BY topic, planned, days_before, locale")
        self._groups = [ReminderGroup(r[0], r[1], int(r[2]), r[3], int(r[4]))
                        for r in await cursor.fetchall()]
        return list(self._groups)

    async def enqueue_staged(self, texts: list[StagedText], now: datetime) -> tuple[int, int]:
        stamp = iso(now)
        # The groups' texts travel as arrays (a few hundred at most); each row going takes
        # its group's number n, in due order, and its words from the arrays: the rows are
        # copied into the outbox and the transcript by one statement, and the texts are
        # never joined to 100,000 rows.
        columns = {"topic": [t.slot for t in texts], "planned": [t.planned for t in texts],
                   "days": [t.offset for t in texts], "locale": [t.locale for t in texts],
                   "kind": [str(t.kind) for t in texts],
                   "message_locale": [t.message_locale for t in texts],
                   "text": [t.text for t in texts], "body": [t.body for t in texts],
                   "stamp": stamp}
        cursor = await self.conn.execute(
            "WITH texts AS (SELECT * FROM unnest(%(topic)s::text[], %(planned)s::text[], "
            "  %(days)s::integer[], %(locale)s::text[]) WITH ORDINALITY "
            "  AS t (topic, planned, days_before, locale, n)), "
            "going AS MATERIALIZED (SELECT b.user_key, t.n FROM due_batch b JOIN texts t "
            "  ON t.topic = b.topic AND t.planned = b.planned "
            "  AND t.days_before = b.days_before "
            "  AND COALESCE(t.locale, '') = COALESCE(b.locale, '') "  # hashable, unlike IS
            "  ORDER BY b.due_at, b.id), "
            "said AS (INSERT INTO transcript (user_key, direction, at, text) "
            "  SELECT user_key, 'out', %(stamp)s, (%(text)s::text[])[n] FROM going) "
            "INSERT INTO outbox (user_key, kind, locale, body, created_at, available_at) "
            "SELECT user_key, (%(kind)s::text[])[n], (%(message_locale)s::text[])[n], "
            "(%(body)s::text[])[n], %(stamp)s, %(stamp)s FROM going", columns)
        sent = cursor.rowcount
        if sent and self.live:  # the web chat's people among them: each instance looks
            self.announce.add(EVERYONE)
        written = {(t.slot, t.planned, t.offset, t.locale) for t in texts}
        unsaid = [g for g in self._groups
                  if (g.slot, g.planned, g.offset, g.locale) not in written]
        for group in unsaid:  # the engine had no words for it: its rows did not go
            await self.pg("UPDATE scheduled s SET status = 'skipped' FROM due_batch b "
                          "WHERE s.id = b.id AND b.topic = %s AND b.planned = %s "
                          "AND b.days_before = %s AND b.locale IS NOT DISTINCT FROM %s",
                          group.slot, group.planned, group.offset, group.locale)
        await self.pg("DROP TABLE due_batch")
        staged, self._staged, self._groups = self._staged, 0, []
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
