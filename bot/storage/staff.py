"""Caseworker accounts, failed logins and staff sessions, as stored (the same SQL in every
backend, through the `Sql` seam). The policy (hashing, lockout, session lifetimes) is the
inbox's (bot/inbox/accounts.py); each method here is one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.storage.base import Storage
from bot.storage.rows import iso, when

_COLUMNS = "w.id, w.org_id, w.email, w.is_admin, w.must_change_password, w.active"


@dataclass(frozen=True)
class Caseworker:
    id: int
    org_id: int
    email: str
    is_admin: bool
    must_change_password: bool
    active: bool


def _worker(row: Any) -> Caseworker:
    return Caseworker(id=row[0], org_id=row[1], email=row[2], is_admin=bool(row[3]),
                      must_change_password=bool(row[4]), active=bool(row[5]))


class StaffStore:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def add(self, org_id: int, email: str, password_hash: str, is_admin: bool,
                  now: datetime) -> Caseworker | None:
        """The new account, to change its password at first login; None if the address
        already has one."""
        async with self.storage.transaction() as tx:
            if await tx.one("SELECT 1 FROM caseworkers WHERE email = ?", email):
                return None
            worker_id = await tx.insert(
                "INSERT INTO caseworkers (org_id, email, password_hash, is_admin, created_at) "
                "VALUES (?, ?, ?, ?, ?)", org_id, email, password_hash, int(is_admin), iso(now))
        return Caseworker(worker_id, org_id, email, is_admin, True, True)

    async def find(self, email: str) -> Caseworker | None:
        async with self.storage.transaction() as tx:
            row = await tx.one(f"SELECT {_COLUMNS} FROM caseworkers w WHERE email = ?", email)
        return _worker(row) if row else None

    async def with_password(self, email: str) -> tuple[Caseworker, str] | None:
        """The account of this address and its password hash."""
        async with self.storage.transaction() as tx:
            row = await tx.one(f"SELECT {_COLUMNS}, w.password_hash FROM caseworkers w "
                               "WHERE email = ?", email)
        return (_worker(row), row[6]) if row else None

    async def password_hash(self, caseworker_id: int) -> str:
        async with self.storage.transaction() as tx:
            row = await tx.one("SELECT password_hash FROM caseworkers WHERE id = ?",
                               caseworker_id)
        return str(row[0])

    async def reset(self, org_id: int, caseworker_id: int, password_hash: str) -> bool:
        """A one-time password (to change at next login), the sessions closed; False if the
        account is not in this organisation."""
        async with self.storage.transaction() as tx:
            if await tx.run("UPDATE caseworkers SET password_hash = ?, must_change_password = 1 "
                            "WHERE id = ? AND org_id = ?", password_hash, caseworker_id,
                            org_id) != 1:
                return False
            await tx.run("DELETE FROM staff_sessions WHERE caseworker_id = ?", caseworker_id)
        return True

    async def change_password(self, caseworker_id: int, password_hash: str,
                              keep_session: str) -> None:
        """The new password; every other session of the account closed."""
        async with self.storage.transaction() as tx:
            await tx.run("UPDATE caseworkers SET password_hash = ?, must_change_password = 0 "
                         "WHERE id = ?", password_hash, caseworker_id)
            await tx.run("DELETE FROM staff_sessions WHERE caseworker_id = ? "
                         "AND token_hash != ?", caseworker_id, keep_session)

    async def locked(self, email_hash: str, now: datetime) -> bool:
        async with self.storage.transaction() as tx:
            row = await tx.one("SELECT locked_until FROM login_failures WHERE email_hash = ?",
                               email_hash)
        return bool(row and row[0] and row[0] > iso(now))

    async def login_succeeded(self, email_hash: str) -> None:
        async with self.storage.transaction() as tx:
            await tx.run("DELETE FROM login_failures WHERE email_hash = ?", email_hash)

    async def login_failed(self, email_hash: str, lock_after: int, locked_until: datetime
                           ) -> bool:
        """One more failure in a row; at `lock_after` the address is locked until
        `locked_until` (and the count starts again). True if it is now locked."""
        async with self.storage.transaction() as tx:
            await tx.run("INSERT INTO login_failures (email_hash, failures) VALUES (?, 1) "
                         "ON CONFLICT (email_hash) DO UPDATE SET "
                         "failures = login_failures.failures + 1", email_hash)
            count = await tx.one("SELECT failures FROM login_failures WHERE email_hash = ?",
                                 email_hash)
            if count[0] < lock_after:
                return False
            await tx.run("UPDATE login_failures SET failures = 0, locked_until = ? "
                         "WHERE email_hash = ?", iso(locked_until), email_hash)
        return True

    async def start_session(self, token_hash: str, caseworker_id: int, csrf: str,
                            now: datetime, unused_since: datetime, created_before: datetime
                            ) -> None:
        async with self.storage.transaction() as tx:
            # Sessions nobody came back to are dropped here rather than by a timer.
            await tx.run("DELETE FROM staff_sessions WHERE last_seen_at < ? OR created_at < ?",
                         iso(unused_since), iso(created_before))
            await tx.run("INSERT INTO staff_sessions (token_hash, caseworker_id, csrf, "
                         "created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)",
                         token_hash, caseworker_id, csrf, iso(now), iso(now))

    async def use_session(self, token_hash: str, now: datetime, idle: timedelta, longest: timedelta
                          ) -> tuple[Caseworker, str] | None:
        """The account and CSRF token of a live session, its use recorded; a session idle
        for `idle` or older than `longest` (timedeltas), or of a disabled account, is
        ended."""
        async with self.storage.transaction() as tx:
            row = await tx.one(f"SELECT {_COLUMNS}, s.csrf, s.created_at, s.last_seen_at "
                               "FROM staff_sessions s JOIN caseworkers w "
                               "ON w.id = s.caseworker_id WHERE s.token_hash = ?", token_hash)
            if row is None:
                return None
            created, seen = when(row[7]), when(row[8])
            if not row[5] or now - seen >= idle or now - created >= longest:
                await tx.run("DELETE FROM staff_sessions WHERE token_hash = ?", token_hash)
                return None
            await tx.run("UPDATE staff_sessions SET last_seen_at = ? WHERE token_hash = ?",
                         iso(now), token_hash)
        return _worker(row), row[6]

    async def end_session(self, token_hash: str) -> None:
        async with self.storage.transaction() as tx:
            await tx.run("DELETE FROM staff_sessions WHERE token_hash = ?", token_hash)

    async def of_organisation(self, org_id: int) -> list[Caseworker]:
        async with self.storage.transaction() as tx:
            rows = await tx.all(f"SELECT {_COLUMNS} FROM caseworkers w WHERE org_id = ? "
                                "ORDER BY email", org_id)
        return [_worker(r) for r in rows]

    async def set_active(self, org_id: int, caseworker_id: int, active: bool) -> bool:
        """False if the account is not in this organisation; disabling ends its sessions."""
        async with self.storage.transaction() as tx:
            if await tx.run("UPDATE caseworkers SET active = ? WHERE id = ? AND org_id = ?",
                            int(active), caseworker_id, org_id) != 1:
                return False
            if not active:
                await tx.run("DELETE FROM staff_sessions WHERE caseworker_id = ?",
                             caseworker_id)
        return True
