"""SQLite through aiosqlite: the embedded default (WAL, busy timeout, one writer at a time).

One connection serves the process. aiosqlite runs it on a thread of its own, one function
("trip") after another. A transaction that reads halfway holds that thread alone from its first
trip to its last (gate.py); a turn, which reads its session before it starts (from memory when
it can, session_cache.py) and only writes afterwards, is committed with the turns waiting at
the same moment, each in its own savepoint (group_commit.py). Either way, turns for different
users never interleave inside the database even though they interleave on the event loop.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.core.model import Choice, MessageKind, Session
from bot.core.params import DATE_SLOTS
from bot.observatory.derive import Observation
from bot.storage import observations
from bot.storage.base import (
    PEER_STATUSES,
    AlreadyAnswered,
    Delivery,
    DueReminder,
    OutboxMessage,
    OutboxRow,
    ReminderGroup,
    StagedText,
    StorageError,
    Timer,
    VersionConflict,
)
from bot.storage.gate import Gate
from bot.storage.group_commit import GroupCommit
from bot.storage.session_cache import SessionCache

T = TypeVar("T")

#: Tables that hold rows about a user; `erase_user` clears every one of them.
USER_TABLES = ("sessions", "outbox", "scheduled", "transcript", "handoff_requests",
               "cases", "users", "observations", "documents")


def _iso(moment: datetime) -> str:
    """Times are stored in UTC, so that comparing their text compares the instants."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every time in Relais carries its zone")
    return moment.astimezone(UTC).isoformat()


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def migrations() -> list[tuple[int, str]]:
    folder = resources.files("bot.storage") / "migrations"
    found = []
    for item in folder.iterdir():
        if item.name.endswith(".sql"):
            found.append((int(item.name.split("_", 1)[0]), item.read_text(encoding="utf-8")))
    return sorted(found)


#: A write kept until the next read or the commit: (sql, parameters, and the error to raise
#: if it does not change exactly one row, or None).
Write = tuple[str, tuple[Any, ...], type[StorageError] | None]


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:  # some errors end the transaction on their own
        conn.execute("ROLLBACK")


def _run_writes(conn: sqlite3.Connection, writes: list[Write]) -> None:
    """In the database thread: the buffered writes, in order."""
    for sql, params, unless_one_row in writes:
        cursor = conn.execute(sql, params)
        if unless_one_row is not None and cursor.rowcount != 1:
            raise unless_one_row(sql.split(" (", 1)[0])


def _all_or_nothing(conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    """In the database thread: BEGIN, `fn`, COMMIT; ROLLBACK if any of it fails."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn)
        conn.execute("COMMIT")
    except BaseException:
        _rollback(conn)
        raise
    return result


class SQLiteTransaction:
    """Writes whose result nobody needs are buffered and sent to the database thread with the
    next read or with the commit. A transaction that needs no read before its commit (most
    turns) is then committed with the others waiting at that moment (group_commit.py); one
    that reads holds the gate (gate.py) from its first trip to its commit."""

    def __init__(self, db: aiosqlite.Connection, group: GroupCommit[list[Write]],
                 default_org: str | None = None) -> None:
        self.db = db
        self.group = group
        self.gate = group.gate
        self.default_org = default_org  # the organisation of users who came through no link
        self.writes: list[Write] = []
        self._staged = 0  # reminders set aside by stage_due_reminders, not yet finished
        self.holding = False  # whether this transaction holds the gate
        self.saved: dict[str, Session] = {}  # the sessions as this transaction stores them
        self.erased: set[str] = set()
        # BEGIN travels with the first trip to the database thread, not on a trip of its own.
        self.begun = False

    async def _call(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        """Run BEGIN (the first time), the buffered writes, then `fn`, in one trip to the
        database thread."""
        if not self.holding:
            await self.gate.hold()
            self.holding = True
        writes, self.writes = self.writes, []
        begin = not self.begun
        began: list[bool] = []

        def run(conn: sqlite3.Connection) -> Any:
            if begin:
                conn.execute("BEGIN IMMEDIATE")
                began.append(True)
            _run_writes(conn, writes)
            return fn(conn)

        try:
            # aiosqlite runs `run` on its own thread with the connection: its documented API
            # has no way to send a batch of statements with parameters in one trip.
            return await self.db._execute(run, self.db._conn)  # type: ignore[no-untyped-call]
        finally:
            self.begun = self.begun or bool(began)

    async def commit(self) -> None:
        if self.holding:
            if self.begun or self.writes:
                await self._call(lambda conn: conn.execute("COMMIT"))
            return
        if self.writes:
            writes, self.writes = self.writes, []
            await self.group.commit(self.db, writes)

    async def rollback(self) -> None:
        """After a failure; a one-trip commit that failed has rolled itself back."""
        self.writes = []
        if self.holding and self.begun:
            await self.db._execute(_rollback, self.db._conn)  # type: ignore[no-untyped-call]

    def release(self) -> None:
        if self.holding:
            self.holding = False
            self.gate.release()

    async def flush(self) -> None:
        """Send what is buffered; afterwards the transaction has begun, so statements sent
        straight to `db` are part of it."""
        if self.writes or not self.begun:
            await self._call(lambda conn: None)

    async def _one(self, sql: str, *args: Any) -> Any:
        return await self._call(lambda conn: conn.execute(sql, args).fetchone())

    async def touch_user(self, user: str, now: datetime) -> None:
        self.writes.append((
            "INSERT INTO users (user_key, created_at, last_seen_at) VALUES (?, ?, ?) "
            "ON CONFLICT (user_key) DO UPDATE SET last_seen_at = excluded.last_seen_at",
            (user, _iso(now), _iso(now)), None))

    async def record_inbound(self, user: str, message_id: str, now: datetime) -> bool:
        digest = inbound_digest(user, message_id)
        return bool(await self._call(lambda conn: conn.execute(
            "INSERT OR IGNORE INTO inbound (digest, received_at) VALUES (?, ?)",
            (digest, _iso(now))).rowcount == 1))

    async def claim_inbound(self, user: str, message_id: str, now: datetime) -> None:
        self.writes.append(("INSERT OR IGNORE INTO inbound (digest, received_at) VALUES (?, ?)",
                            (inbound_digest(user, message_id), _iso(now)), AlreadyAnswered))

    async def load_session(self, user: str) -> Session | None:
        row = await self._one("SELECT data, version FROM sessions WHERE user_key = ?", user)
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
                                (session.user, data, _iso(now), *facts), VersionConflict))
        else:
            self.writes.append(("UPDATE sessions SET data = ?, version = version + 1, "
                                "updated_at = ?, locale = ?, consent = ?, reminders = ?, "
                                "dates = ? WHERE user_key = ? AND version = ?",
                                (data, _iso(now), *facts, session.user, session.version),
                                VersionConflict))
        stored = session.evolve(version=session.version + 1)
        self.saved[session.user] = stored
        self.erased.discard(session.user)
        return stored

    async def enqueue(self, user: str, kind: MessageKind, locale: str, text: str,
                      choices: tuple[Choice, ...], now: datetime, template: str = "",
                      template_params: tuple[str, ...] = (), document: str = "") -> None:
        body = OutboxMessage.body(text, choices, template, template_params, document)
        self.writes.append((
            "INSERT INTO outbox (user_key, kind, locale, body, created_at, available_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (user, str(kind), locale, body, _iso(now), _iso(now)), None))

    async def append_transcript(self, user: str, direction: str, text: str,
                                now: datetime, understood: str = "") -> None:
        self.writes.append((
            "INSERT INTO transcript (user_key, direction, at, text, understood) "
            "VALUES (?, ?, ?, ?, ?)", (user, direction, _iso(now), text, understood), None))

    async def schedule(self, user: str, name: str, topic: str, due_at: datetime,
                       payload: Mapping[str, str], now: datetime) -> int:
        await self.flush()
        cursor = await self.db.execute(
            "INSERT INTO scheduled (user_key, name, topic, due_at, payload, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (user, name, topic, _iso(due_at), json.dumps(dict(payload)), _iso(now)))
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    async def cancel_timers(self, user: str, topic: str | None) -> int:
        await self.flush()
        if topic is None:
            cursor = await self.db.execute(
                "UPDATE scheduled SET status = 'cancelled' WHERE user_key = ? "
                "AND status = 'pending'", (user,))
        else:
            cursor = await self.db.execute(
                "UPDATE scheduled SET status = 'cancelled' WHERE user_key = ? AND topic = ? "
                "AND status = 'pending'", (user, topic))
        return cursor.rowcount

    async def take_timer(self, timer_id: int, now: datetime) -> Timer | None:
        await self.flush()
        row = await self._one(
            "SELECT id, user_key, name, topic, due_at, payload FROM scheduled "
            "WHERE id = ? AND status = 'pending'", timer_id)
        if row is None:
            return None
        await self.db.execute("UPDATE scheduled SET status = 'done', done_at = ? WHERE id = ?",
                              (_iso(now), timer_id))
        return _timer(row)

    async def superseded(self, timer: Timer, now: datetime) -> bool:
        row = await self._one(
            "SELECT 1 FROM scheduled WHERE user_key = ? AND topic = ? AND status = 'pending' "
            "AND id != ? AND due_at > ? AND due_at <= ?",
            timer.user, timer.topic, timer.id, _iso(timer.due_at), _iso(now))
        return row is not None

    async def skip_timer(self, timer_id: int, now: datetime) -> None:
        await self.flush()
        await self.db.execute("UPDATE scheduled SET status = 'skipped', done_at = ? WHERE id = ?",
                              (_iso(now), timer_id))

    async def due_reminders(self, now: datetime, limit: int) -> list[DueReminder]:
        await self.flush()
        # The few session fields a reminder depends on are read by SQLite itself
        # (json_extract): parsing 100,000 whole sessions in Python would dominate the run.
        async with self.db.execute(
            "SELECT s.id, s.user_key, s.name, s.topic, s.due_at, "
            "json_extract(s.payload, '$.date'), json_extract(s.payload, '$.offset'), "
            "ses.user_key IS NOT NULL, ses.locale, ses.consent, ses.reminders, "
            "json_extract(ses.dates, '$.' || s.topic), "
            "COALESCE(u.reachable, 1), EXISTS (SELECT 1 FROM scheduled l "
            "  WHERE l.user_key = s.user_key AND l.topic = s.topic AND l.status = 'pending' "
            "  AND l.id != s.id AND l.due_at > s.due_at AND l.due_at <= ?) "
            "FROM scheduled s LEFT JOIN sessions ses ON ses.user_key = s.user_key "
            "LEFT JOIN users u ON u.user_key = s.user_key "
            "WHERE s.status = 'pending' AND s.name = 'reminder' AND s.due_at <= ? "
            "ORDER BY s.due_at, s.id LIMIT ?", (_iso(now), _iso(now), limit)) as cursor:
            rows = list(await cursor.fetchall())
        return [DueReminder(id=r[0], user=r[1], slot=r[3], due_at=r[4], planned=r[5] or "",
                            offset=int(r[6] or 0), known_user=bool(r[7]), locale=r[8],
                            consent=None if r[9] is None else bool(r[9]),
                            reminders=bool(r[10]), kept=r[11], reachable=bool(r[12]),
                            superseded=bool(r[13])) for r in rows]

    async def stage_due_reminders(self, now: datetime, limit: int) -> list[ReminderGroup]:
        await self.flush()
        until = _iso(now)
        await self.db.execute("DROP TABLE IF EXISTS temp.due_batch")
        # Everything is decided inside SQLite: 100,000 rows never travel to Python and back.
        # The rules are Engine.reminder's; tests/test_scheduler.py checks both paths agree.
        await self.db.execute(
            "CREATE TEMP TABLE due_batch AS SELECT s.id, s.user_key, s.topic, "
            "json_extract(s.payload, '$.date') AS planned, "
            "CAST(json_extract(s.payload, '$.offset') AS INTEGER) AS days_before, "
            "ses.locale AS locale, "
            "(ses.user_key IS NOT NULL AND ses.consent = 1 AND ses.reminders = 1 "
            " AND json_extract(ses.dates, '$.' || s.topic) = json_extract(s.payload, '$.date') "
            " AND COALESCE(u.reachable, 1) = 1 "
            " AND NOT EXISTS (SELECT 1 FROM scheduled l WHERE l.user_key = s.user_key "
            "   AND l.topic = s.topic AND l.status = 'pending' AND l.id != s.id "
            "   AND l.due_at > s.due_at AND l.due_at <= ?)) AS ok "
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
        stamp = _iso(now)
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

    async def finish_timers(self, done: list[int], skipped: list[int], now: datetime) -> None:
        await self.flush()
        # One statement per outcome, the ids passed as a JSON array: far cheaper than a row
        # at a time for a day's reminders.
        for status, ids in (("done", done), ("skipped", skipped)):
            if ids:
                await self.db.execute(
                    "UPDATE scheduled SET status = ?, done_at = ? WHERE id IN "
                    "(SELECT value FROM json_each(?))", (status, _iso(now), json.dumps(ids)))

    async def enqueue_many(self, messages: list[OutboxRow]) -> None:
        await self.flush()
        bodies: dict[tuple[str, tuple[Choice, ...], str, tuple[str, ...]], str] = {}
        stamps: dict[datetime, str] = {}
        rows = []
        for m in messages:  # many users, few texts: each body is encoded once
            key = (m.text, m.choices, m.template, m.template_params)
            body = bodies.get(key)
            if body is None:
                body = bodies[key] = OutboxMessage.body(*key)
            at = m.created_at
            stamp = stamps.get(at) or stamps.setdefault(at, _iso(at))
            rows.append((m.user, str(m.kind), m.locale, body, stamp, stamp))
        await self.db.executemany(
            "INSERT INTO outbox (user_key, kind, locale, body, created_at, available_at) "
            "VALUES (?, ?, ?, ?, ?, ?)", rows)

    async def append_transcripts(self, rows: list[tuple[str, str, str, datetime]]) -> None:
        await self.flush()
        stamps: dict[datetime, str] = {}
        await self.db.executemany(
            "INSERT INTO transcript (user_key, direction, at, text) VALUES (?, ?, ?, ?)",
            [(user, direction, stamps.get(at) or stamps.setdefault(at, _iso(at)), text)
             for user, direction, text, at in rows])

    # -- cases (the caseworker inbox: bot/storage/cases.py) ---------------------------------

    async def open_case(self, user: str, reason: str, summary: str, api_end: str | None,
                        locale: str, now: datetime) -> int:
        from bot.storage import cases  # cases.py builds on this module

        return await cases.open_case(self, user, reason, summary, api_end, locale, now,
                                     default_org=self.default_org)

    async def close_cases(self, user: str, now: datetime) -> None:
        from bot.storage import cases

        await cases.close_cases(self, user, now)

    async def set_organisation(self, user: str, code: str) -> bool:
        from bot.storage import cases

        return await cases.set_organisation(self, user, code)

    async def record_handoff_request(self, user: str, reason: str, now: datetime) -> None:
        await self.flush()
        await self.db.execute(
            "INSERT INTO handoff_requests (user_key, requested_at, reason) VALUES (?, ?, ?)",
            (user, _iso(now), reason))

    async def reachable(self, user: str) -> bool:
        row = await self._one("SELECT reachable FROM users WHERE user_key = ?", user)
        return bool(row[0]) if row else True

    # -- the observatory and documents (bot/storage/observations.py) -------------------------

    async def record_observations(self, user: str, rows: Sequence[Observation]) -> None:
        self.writes.extend((observations.INSERT_OBSERVATION,
                            observations.observation_params(user, o), None) for o in rows)

    async def keep_document(self, user: str, token: str, facts: str, now: datetime,
                            expires_at: datetime) -> None:
        self.writes.append((observations.PURGE_DOCUMENTS, (_iso(now),), None))
        self.writes.append((observations.INSERT_DOCUMENT, observations.document_params(
            user, token, facts, now, expires_at), None))

    async def erase_user(self, user: str) -> None:
        self.erased.add(user)
        self.saved.pop(user, None)
        await self.flush()
        for table in USER_TABLES:
            await self.db.execute(f"DELETE FROM {table} WHERE user_key = ?", (user,))


def session_columns(session: Session) -> tuple[str, str | None, int | None, int, str]:
    """A session as stored: its JSON, and beside it the facts a due reminder depends on (read
    in bulk by SQLite without parsing the JSON)."""
    dates = {slot: session.slots.get(slot) for slot in DATE_SLOTS}
    consent = None if session.consent is None else int(session.consent)
    return (json.dumps(session.to_json(), ensure_ascii=False), session.locale, consent,
            int(session.reminders), json.dumps(dates))


def inbound_digest(user: str, message_id: str) -> str:
    return hashlib.sha256(f"{user}\x00{message_id}".encode()).hexdigest()


def _claimed(row: Any) -> OutboxMessage:
    body = json.loads(row[4])
    return OutboxMessage(
        id=row[0], user=row[1], kind=MessageKind(row[2]), locale=row[3], text=body["text"],
        choices=tuple(Choice(c["id"], c["label"]) for c in body["choices"]),
        created_at=_when(row[5]), attempts=row[6] + 1, reachable=bool(row[7]),
        template=body.get("template", ""), template_params=tuple(body.get("params", ())),
        last_inbound_at=_when(row[8]) if row[8] else None,
        second_locale=row[9] if isinstance(row[9], str) else None,
        document=body.get("document", ""))


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
        [(_iso(now), d.ref, d.sent_as, d.fallback_from, i) for i, d in sent])


def _timer(row: Any) -> Timer:
    return Timer(id=row[0], user=row[1], name=row[2], topic=row[3], due_at=_when(row[4]),
                 payload=json.loads(row[5]))


class SQLiteStorage:
    def __init__(self, path: str | Path, *, synchronous: str = "FULL",
                 default_org: str | None = None) -> None:
        self.path = str(path)
        self.synchronous = synchronous
        self.default_org = default_org or None
        self._db: aiosqlite.Connection | None = None
        self._gate = Gate()
        self.sessions = SessionCache()
        self._group = GroupCommit(self._gate, _run_writes)

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StorageError("storage is not open")
        return self._db

    async def open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self.path, isolation_level=None)
        for pragma in ("journal_mode = WAL", "busy_timeout = 5000", "foreign_keys = ON",
                       f"synchronous = {self.synchronous}"):
            await self.db.execute(f"PRAGMA {pragma}")
        await self._migrate()

    async def _migrate(self) -> None:
        async with self.db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        current = row[0] if row else 0
        for version, script in migrations():
            if version <= current:
                continue
            # executescript commits on its own; the version bump is part of the same script.
            await self.db.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;")

    async def schema_version(self) -> int:
        async with self.db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    @asynccontextmanager
    async def transaction(self, *, lazy: bool = False) -> AsyncIterator[SQLiteTransaction]:
        """One transaction, alone in the database. `lazy`: BEGIN waits for the first trip to
        the database thread, and a transaction that reads nothing before its commit is one
        trip; only for code that goes through the transaction's methods, never straight to
        `tx.db` before a `flush()`."""
        tx = SQLiteTransaction(self.db, self._group, self.default_org)
        try:
            if not lazy:
                await tx.flush()
            yield tx
            await tx.commit()
        except BaseException:
            self.sessions.forget([*tx.saved, *tx.erased])
            await tx.rollback()
            raise
        finally:
            tx.release()
        self.sessions.committed(tx.saved.values(), tx.erased)

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

        fresh, row = await self._gate.trip(self.db, run)
        if row is None:
            return fresh, None
        return fresh, Session.from_json(user, json.loads(row[0]), row[1])

    async def _atomic(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """BEGIN, `fn`, COMMIT in one trip to the database thread (ROLLBACK if `fn` raises)."""
        return await self._gate.trip(self.db, lambda conn: _all_or_nothing(conn, fn))

    async def _write(self, sql: str, *args: Any) -> int:
        return await self._atomic(lambda conn: conn.execute(sql, args).rowcount)

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn` in the database thread, outside any transaction (reads only)."""
        return await self._gate.trip(self.db, fn)

    async def _all(self, sql: str, *args: Any) -> list[Any]:
        return await self._gate.trip(self.db, lambda conn: conn.execute(sql, args).fetchall())

    # -- outbox -------------------------------------------------------------------------------

    async def claim_outbox(self, now: datetime, limit: int) -> list[OutboxMessage]:
        def claim(conn: sqlite3.Connection) -> list[Any]:
            # With each row, what a channel may need to choose how to send it: whether the
            # user can be reached, when they last wrote, and their second language.
            rows = conn.execute(
                "SELECT o.id, o.user_key, o.kind, o.locale, o.body, o.created_at, o.attempts, "
                "COALESCE(u.reachable, 1), u.last_seen_at, "
                "json_extract(ses.data, '$.slots.second_locale') "
                "FROM outbox o LEFT JOIN users u ON u.user_key = o.user_key "
                "LEFT JOIN sessions ses ON ses.user_key = o.user_key "
                "WHERE o.status = 'pending' AND o.available_at <= ? "
                "AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.user_key = o.user_key "
                "  AND e.id < o.id AND e.status IN ('pending', 'sending')) "
                "ORDER BY o.id LIMIT ?", (_iso(now), limit)).fetchall()
            conn.executemany(
                "UPDATE outbox SET status = 'sending', attempts = attempts + 1 WHERE id = ?",
                [(row[0],) for row in rows])
            return rows

        return [_claimed(row) for row in await self._atomic(claim)]

    async def _forget_if_erased(self, tx: SQLiteTransaction, message_id: int) -> bool:
        """The goodbye after /delete is the last row about an erased user: gone once handled."""
        cursor = await tx.db.execute(
            "DELETE FROM outbox WHERE id = ? AND NOT EXISTS "
            "(SELECT 1 FROM users u WHERE u.user_key = outbox.user_key)", (message_id,))
        return cursor.rowcount == 1

    async def mark_sent(self, message_id: int, now: datetime, channel_ref: str | None) -> None:
        # The text is not kept once delivered: the transcript has it, with consent only.
        async with self.transaction() as tx:
            if not await self._forget_if_erased(tx, message_id):
                await tx.db.execute(
                    "UPDATE outbox SET status = 'sent', sent_at = ?, channel_ref = ?, "
                    "body = '{}' WHERE id = ?", (_iso(now), channel_ref, message_id))

    async def mark_sent_many(self, sent: list[tuple[int, Delivery]], now: datetime) -> None:
        if not sent:
            return

        def mark(conn: sqlite3.Connection) -> None:
            # Not flushed to the disk on its own (the next turn's commit carries it): lost to a
            # power cut, these rows would stay 'sending' and be marked uncertain at the
            # restart, never sent again, which is what a crash while sending already does.
            conn.execute("PRAGMA synchronous = NORMAL")
            try:
                _all_or_nothing(conn, lambda c: _mark_sent(c, sent, now))
            finally:
                conn.execute(f"PRAGMA synchronous = {self.synchronous}")

        await self._gate.trip(self.db, mark)

    async def record_peer_status(self, channel: str, ref: str, status: str, at: datetime,
                                 error: str | None) -> bool:
        if status not in PEER_STATUSES:
            raise ValueError(f"unknown peer status {status!r}")
        rank = PEER_STATUSES.index(status)
        # The rank of the stored status, computed in SQL: only a later status replaces it.
        stored = ("(CASE peer_status WHEN 'sent' THEN 0 WHEN 'delivered' THEN 1 "
                  "WHEN 'read' THEN 2 WHEN 'failed' THEN 3 ELSE -1 END)")
        failed = status == "failed"
        async with self.transaction() as tx:
            cursor = await tx.db.execute(
                "SELECT 1 FROM outbox WHERE channel_ref = ? AND user_key LIKE ? LIMIT 1",
                (ref, f"{channel}:%"))
            if await cursor.fetchone() is None:
                return False
            await tx.db.execute(
                f"UPDATE outbox SET peer_status = ?, peer_status_at = ?, "
                f"status = CASE WHEN ? THEN 'failed' ELSE status END, "
                f"last_error = CASE WHEN ? THEN ? ELSE last_error END "
                f"WHERE channel_ref = ? AND user_key LIKE ? AND {stored} < ?",
                (status, _iso(at), failed, failed, (error or "")[:200], ref, f"{channel}:%",
                 rank))
            return True

    async def mark_retry(self, message_id: int, available_at: datetime, error: str) -> None:
        await self._write("UPDATE outbox SET status = 'pending', available_at = ?, "
                          "last_error = ? WHERE id = ?", _iso(available_at), error[:200],
                          message_id)

    async def defer(self, message_id: int, available_at: datetime) -> None:
        """Back to pending, later, without counting an attempt (a rate limit, not a fault)."""
        await self._write("UPDATE outbox SET status = 'pending', available_at = ?, "
                          "attempts = attempts - 1 WHERE id = ?", _iso(available_at), message_id)

    async def release_waiting(self, user: str, now: datetime) -> int:
        """The user is back: their waiting messages are ready now."""
        return await self._write("UPDATE outbox SET available_at = ? WHERE user_key = ? "
                                 "AND status = 'pending' AND available_at > ?",
                                 _iso(now), user, _iso(now))

    async def mark_failed(self, message_id: int, error: str) -> None:
        async with self.transaction() as tx:
            if not await self._forget_if_erased(tx, message_id):
                await tx.db.execute("UPDATE outbox SET status = 'failed', body = '{}', "
                                    "last_error = ? WHERE id = ?", (error[:200], message_id))

    async def recover_in_flight(self) -> int:
        return await self._write(
            "UPDATE outbox SET status = 'uncertain', body = '{}' WHERE status = 'sending'")

    async def set_reachable(self, user: str, reachable: bool) -> None:
        await self._write("UPDATE users SET reachable = ? WHERE user_key = ?", int(reachable),
                          user)

    async def is_reachable(self, user: str) -> bool:
        rows = await self._all("SELECT reachable FROM users WHERE user_key = ?", user)
        return bool(rows[0][0]) if rows else True

    async def outbox_status(self, message_id: int) -> str | None:
        rows = await self._all("SELECT status FROM outbox WHERE id = ?", message_id)
        return str(rows[0][0]) if rows else None

    # -- timers -------------------------------------------------------------------------------

    async def due_timers(self, now: datetime, limit: int) -> list[Timer]:
        rows = await self._all(
            "SELECT id, user_key, name, topic, due_at, payload FROM scheduled "
            "WHERE status = 'pending' AND name != 'reminder' AND due_at <= ? "
            "ORDER BY due_at, id LIMIT ?",
            _iso(now), limit)
        return [_timer(r) for r in rows]

    async def next_due(self) -> datetime | None:
        rows = await self._all("SELECT MIN(due_at) FROM scheduled WHERE status = 'pending'")
        return _when(rows[0][0]) if rows and rows[0][0] else None

    # -- housekeeping -------------------------------------------------------------------------

    async def inactive_users(self, before: datetime) -> list[str]:
        rows = await self._all("SELECT user_key FROM users WHERE last_seen_at < ?", _iso(before))
        return [r[0] for r in rows]

    async def prune_inbound(self, before: datetime) -> int:
        return await self._write("DELETE FROM inbound WHERE received_at < ?", _iso(before))

    async def pending_count(self) -> int:
        rows = await self._all("SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')")
        return int(rows[0][0])

    async def transcript(self, user: str) -> list[tuple[str, str, str]]:
        rows = await self._all(
            "SELECT direction, at, text FROM transcript WHERE user_key = ? ORDER BY id", user)
        return [(r[0], r[1], r[2]) for r in rows]

    async def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for table in USER_TABLES:
            rows = await self._all(f"SELECT COUNT(*) FROM {table}")
            out[table] = rows[0][0]
        # Messages sent as another language's template because the user's had none approved.
        rows = await self._all("SELECT COUNT(*) FROM outbox WHERE fallback_from IS NOT NULL")
        out["template_fallbacks"] = rows[0][0]
        return out

    async def delivery(self, message_id: int) -> dict[str, Any] | None:
        """How an outbox row went out, as the channel reported it (for tests and admins)."""
        rows = await self._all(
            "SELECT status, channel_ref, peer_status, peer_status_at, sent_as, fallback_from, "
            "last_error FROM outbox WHERE id = ?", message_id)
        if not rows:
            return None
        keys = ("status", "channel_ref", "peer_status", "peer_status_at", "sent_as",
                "fallback_from", "last_error")
        return dict(zip(keys, rows[0], strict=True))

    async def rows_about(self, user: str) -> dict[str, int]:
        """How many rows each table holds about a user (used to prove erasure)."""
        out = {}
        for table in await self.tables_with_user_key():
            rows = await self._all(f"SELECT COUNT(*) FROM {table} WHERE user_key = ?", user)
            out[table] = int(rows[0][0])
        return out

    async def tables_with_user_key(self) -> list[str]:
        tables = await self._all("SELECT name FROM sqlite_master WHERE type = 'table' "
                                 "AND name NOT LIKE 'sqlite_%'")
        found = []
        for (name,) in tables:
            columns = await self._all(f"PRAGMA table_info({name})")
            if any(c[1] == "user_key" for c in columns):
                found.append(name)
        return found

