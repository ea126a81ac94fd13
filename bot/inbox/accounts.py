"""Caseworker accounts, logins with lockout, and server-side sessions.

A session's token lives only in the caseworker's cookie; the database keeps its SHA-256, so
a copy of the database opens no session. Password hashing (tens of milliseconds) runs off the
event loop and outside any transaction, so a login never holds up the conversations.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.inbox.passwords import (
    DUMMY_HASH,
    hash_password,
    one_time_password,
    verify_password,
    weakness,
)
from bot.storage.cases import CaseError, iso
from bot.storage.sqlite import SQLiteStorage

LOCK_AFTER = 5  # failed logins in a row...
LOCK_FOR = timedelta(minutes=15)  # ...lock the address for this long
SESSION_IDLE = timedelta(hours=2)  # a session unused this long is over
SESSION_MAX = timedelta(hours=12)  # and none outlives a working day

_COLUMNS = "w.id, w.org_id, w.email, w.is_admin, w.must_change_password, w.active"


class Login(enum.Enum):
    OK = "ok"
    WRONG = "wrong"  # the address or the password (never said which)
    LOCKED = "locked"


@dataclass(frozen=True)
class Caseworker:
    id: int
    org_id: int
    email: str
    is_admin: bool
    must_change_password: bool
    active: bool


@dataclass(frozen=True)
class StaffSession:
    caseworker: Caseworker
    csrf: str
    token_hash: str


def normalise_email(email: str) -> str:
    return email.strip().lower()


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _worker(row: Any) -> Caseworker:
    return Caseworker(id=row[0], org_id=row[1], email=row[2], is_admin=bool(row[3]),
                      must_change_password=bool(row[4]), active=bool(row[5]))


async def _row(tx: Any, sql: str, *args: Any) -> Any:
    async with tx.db.execute(sql, args) as cursor:
        return await cursor.fetchone()


class Accounts:
    def __init__(self, storage: SQLiteStorage) -> None:
        self.storage = storage

    async def create(self, org_id: int, email: str, is_admin: bool, now: datetime
                     ) -> tuple[Caseworker, str]:
        """A new account and its one-time password, to be changed at first login."""
        email = normalise_email(email)
        if "@" not in email.strip("@") or any(c.isspace() for c in email):
            raise CaseError(f"not an email address: {email!r}")
        password = one_time_password()
        hashed = await asyncio.to_thread(hash_password, password)
        async with self.storage.transaction() as tx:
            if await _row(tx, "SELECT 1 FROM caseworkers WHERE email = ?", email):
                raise CaseError(f"{email} already has an account")
            cursor = await tx.db.execute(
                "INSERT INTO caseworkers (org_id, email, password_hash, is_admin, created_at) "
                "VALUES (?, ?, ?, ?, ?)", (org_id, email, hashed, int(is_admin), iso(now)))
            assert cursor.lastrowid is not None
        return Caseworker(cursor.lastrowid, org_id, email, is_admin, True, True), password

    async def find(self, email: str) -> Caseworker | None:
        async with self.storage.transaction() as tx:
            row = await _row(tx, f"SELECT {_COLUMNS} FROM caseworkers w WHERE email = ?",
                             normalise_email(email))
        return _worker(row) if row else None

    async def reset(self, org_id: int, caseworker_id: int) -> str | None:
        """A new one-time password (sessions closed); None if not in this organisation."""
        password = one_time_password()
        hashed = await asyncio.to_thread(hash_password, password)
        async with self.storage.transaction() as tx:
            cursor = await tx.db.execute(
                "UPDATE caseworkers SET password_hash = ?, must_change_password = 1 "
                "WHERE id = ? AND org_id = ?", (hashed, caseworker_id, org_id))
            if cursor.rowcount != 1:
                return None
            await tx.db.execute("DELETE FROM staff_sessions WHERE caseworker_id = ?",
                                (caseworker_id,))
        return password

    async def authenticate(self, email: str, password: str, now: datetime
                           ) -> tuple[Login, Caseworker | None]:
        email = normalise_email(email)
        key = digest(email)
        async with self.storage.transaction() as tx:
            lock = await _row(tx, "SELECT locked_until FROM login_failures WHERE email_hash = ?",
                              key)
            if lock and lock[0] and lock[0] > iso(now):
                return Login.LOCKED, None  # even the right password waits for the lock's end
            row = await _row(tx, f"SELECT {_COLUMNS}, w.password_hash FROM caseworkers w "
                             "WHERE email = ?", email)
        stored = row[6] if row else DUMMY_HASH
        good = await asyncio.to_thread(verify_password, password, stored)
        async with self.storage.transaction() as tx:
            if good and row is not None and row[5]:
                await tx.db.execute("DELETE FROM login_failures WHERE email_hash = ?", (key,))
                return Login.OK, _worker(row)
            return await self._failed(tx, key, now), None

    @staticmethod
    async def _failed(tx: Any, key: str, now: datetime) -> Login:
        await tx.db.execute(
            "INSERT INTO login_failures (email_hash, failures) VALUES (?, 1) "
            "ON CONFLICT (email_hash) DO UPDATE SET failures = failures + 1", (key,))
        count = await _row(tx, "SELECT failures FROM login_failures WHERE email_hash = ?", key)
        if count[0] < LOCK_AFTER:
            return Login.WRONG
        await tx.db.execute("UPDATE login_failures SET failures = 0, locked_until = ? "
                            "WHERE email_hash = ?", (iso(now + LOCK_FOR), key))
        return Login.LOCKED

    async def change_password(self, session: StaffSession, current: str, new: str) -> str | None:
        """None once changed (other sessions closed), else why not, in French."""
        worker = session.caseworker
        async with self.storage.transaction() as tx:
            row = await _row(tx, "SELECT password_hash FROM caseworkers WHERE id = ?", worker.id)
        if not await asyncio.to_thread(verify_password, current, row[0]):
            return "Le mot de passe actuel est incorrect."
        if new == current:
            return "Le nouveau mot de passe doit être différent de l'actuel."
        problem = weakness(new, worker.email)
        if problem:
            return problem
        hashed = await asyncio.to_thread(hash_password, new)
        async with self.storage.transaction() as tx:
            await tx.db.execute("UPDATE caseworkers SET password_hash = ?, "
                                "must_change_password = 0 WHERE id = ?", (hashed, worker.id))
            await tx.db.execute("DELETE FROM staff_sessions WHERE caseworker_id = ? "
                                "AND token_hash != ?", (worker.id, session.token_hash))
        return None

    async def start_session(self, caseworker_id: int, now: datetime) -> str:
        token = secrets.token_urlsafe(32)
        async with self.storage.transaction() as tx:
            # Sessions nobody came back to are dropped here rather than by a timer.
            await tx.db.execute("DELETE FROM staff_sessions WHERE last_seen_at < ? "
                                "OR created_at < ?",
                                (iso(now - SESSION_IDLE), iso(now - SESSION_MAX)))
            await tx.db.execute(
                "INSERT INTO staff_sessions (token_hash, caseworker_id, csrf, created_at, "
                "last_seen_at) VALUES (?, ?, ?, ?, ?)",
                (digest(token), caseworker_id, secrets.token_urlsafe(32), iso(now), iso(now)))
        return token

    async def session(self, token: str, now: datetime) -> StaffSession | None:
        """The live session of this cookie token, its use recorded; None if none or over."""
        key = digest(token)
        async with self.storage.transaction() as tx:
            row = await _row(tx, f"SELECT {_COLUMNS}, s.csrf, s.created_at, s.last_seen_at "
                             "FROM staff_sessions s JOIN caseworkers w "
                             "ON w.id = s.caseworker_id WHERE s.token_hash = ?", key)
            if row is None:
                return None
            created, seen = datetime.fromisoformat(row[7]), datetime.fromisoformat(row[8])
            if not row[5] or now - seen >= SESSION_IDLE or now - created >= SESSION_MAX:
                await tx.db.execute("DELETE FROM staff_sessions WHERE token_hash = ?", (key,))
                return None
            await tx.db.execute("UPDATE staff_sessions SET last_seen_at = ? "
                                "WHERE token_hash = ?", (iso(now), key))
        return StaffSession(_worker(row), row[6], key)

    async def end_session(self, session: StaffSession) -> None:
        async with self.storage.transaction() as tx:
            await tx.db.execute("DELETE FROM staff_sessions WHERE token_hash = ?",
                                (session.token_hash,))

    async def staff(self, org_id: int) -> list[Caseworker]:
        async with self.storage.transaction() as tx, tx.db.execute(
                f"SELECT {_COLUMNS} FROM caseworkers w WHERE org_id = ? ORDER BY email",
                (org_id,)) as cursor:
            return [_worker(r) for r in await cursor.fetchall()]

    async def set_active(self, org_id: int, caseworker_id: int, active: bool) -> bool:
        async with self.storage.transaction() as tx:
            cursor = await tx.db.execute("UPDATE caseworkers SET active = ? "
                                         "WHERE id = ? AND org_id = ?",
                                         (int(active), caseworker_id, org_id))
            if cursor.rowcount == 1 and not active:
                await tx.db.execute("DELETE FROM staff_sessions WHERE caseworker_id = ?",
                                    (caseworker_id,))
            return cursor.rowcount == 1
