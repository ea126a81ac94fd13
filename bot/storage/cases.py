"""Cases handed to caseworkers, the organisations they belong to, and the audit log.

Two kinds of callers. The conversation runtime opens and closes cases inside its own turn
transaction (`open_case`, `close_cases`, `set_organisation`, `has_open_case` take that
transaction and never commit). The caseworker inbox uses `CaseStore`, whose every method is
one transaction of its own, always filtered by the caseworker's organisation.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import aiosqlite

from bot.storage.sqlite import SQLiteStorage

#: A case whose API ends within this many days (or has ended) is urgent.
URGENT_DAYS = 15
FILTERS = ("open", "mine", "unassigned", "urgent", "closed")
#: Every action the audit log knows; it holds ids only, never a user's words or address.
AUDIT_ACTIONS = ("view", "assign", "reply", "canned", "close",
                 "staff_add", "staff_reset", "staff_disable", "staff_enable")

_CASE_COLUMNS = ("c.id, c.user_key, c.org_id, c.status, c.reason, c.summary, c.api_end, "
                 "c.locale, c.opened_at, c.closed_at, c.assigned_to, w.email")


class CaseTx(Protocol):
    """What the runtime's turn transaction offers: its connection, and a flush of the writes
    it buffers (so that a user row touched earlier in the turn is visible here)."""

    db: aiosqlite.Connection

    async def flush(self) -> None: ...


class CaseError(Exception):
    """A caseworker or organisation operation that cannot be done; the message says why."""


def iso(moment: datetime) -> str:
    """UTC, as everywhere in the database, so that comparing texts compares instants."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every time in Relais carries its zone")
    return moment.astimezone(UTC).isoformat()


def slug(name: str) -> str:
    """An organisation's code from its name: 'Cimade Lyon' -> 'cimade-lyon'."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:40]


@dataclass(frozen=True)
class Organisation:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class Case:
    id: int
    user_key: str
    org_id: int
    status: str
    reason: str
    summary: str
    api_end: date | None
    locale: str
    opened_at: datetime
    closed_at: datetime | None
    assigned_to: int | None
    assignee: str | None  # the assigned caseworker's email

    def days_left(self, today: date) -> int | None:
        return None if self.api_end is None else (self.api_end - today).days

    def urgent(self, today: date) -> bool:
        left = self.days_left(today)
        return left is not None and left <= URGENT_DAYS


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    caseworker: str
    action: str
    case_id: int | None
    target: str | None


def _case(row: Sequence[Any]) -> Case:
    return Case(id=row[0], user_key=row[1], org_id=row[2], status=row[3], reason=row[4],
                summary=row[5], api_end=date.fromisoformat(row[6]) if row[6] else None,
                locale=row[7], opened_at=datetime.fromisoformat(row[8]),
                closed_at=datetime.fromisoformat(row[9]) if row[9] else None,
                assigned_to=row[10], assignee=row[11])


async def _one(db: aiosqlite.Connection, sql: str, *args: Any) -> Any:
    async with db.execute(sql, args) as cursor:
        return await cursor.fetchone()


async def _all(db: aiosqlite.Connection, sql: str, *args: Any) -> list[Any]:
    async with db.execute(sql, args) as cursor:
        return list(await cursor.fetchall())


# -- called by the conversation runtime, inside its turn transaction -------------------------

async def default_organisation(db: aiosqlite.Connection, code: str | None) -> int | None:
    """The deployment's default organisation: the one named by `code`, else the first made."""
    if code:
        row = await _one(db, "SELECT id FROM organisations WHERE code = ?", code)
        if row:
            return int(row[0])
    row = await _one(db, "SELECT MIN(id) FROM organisations")
    return int(row[0]) if row and row[0] is not None else None


async def _user_org(db: aiosqlite.Connection, user: str, default_org: str | None,
                    now: datetime) -> int:
    row = await _one(db, "SELECT org_id FROM users WHERE user_key = ?", user)
    if row and row[0] is not None:
        return int(row[0])
    found = await default_organisation(db, default_org)
    if found is not None:
        return found
    # No organisation yet (no caseworker was added): the case must not be lost, so it goes to
    # a default organisation that `python -m bot caseworker add EMAIL --org default` joins.
    code = default_org or "default"
    cursor = await db.execute("INSERT INTO organisations (code, name, created_at) "
                              "VALUES (?, ?, ?)", (code, code, iso(now)))
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def open_case(tx: CaseTx, user: str, reason: str, summary: str, api_end: str | None,
                    locale: str, now: datetime, *, default_org: str | None = None) -> int:
    """The user's open case, brought up to date, or a new one in their organisation."""
    if api_end is not None:
        date.fromisoformat(api_end)  # a malformed date would silently break urgency
    await tx.flush()
    row = await _one(tx.db, "SELECT id FROM cases WHERE user_key = ? AND status = 'open'", user)
    if row:
        await tx.db.execute("UPDATE cases SET reason = ?, summary = ?, api_end = ?, locale = ? "
                            "WHERE id = ?", (reason, summary, api_end, locale, row[0]))
        return int(row[0])
    org_id = await _user_org(tx.db, user, default_org, now)
    cursor = await tx.db.execute(
        "INSERT INTO cases (user_key, org_id, reason, summary, api_end, locale, opened_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)", (user, org_id, reason, summary, api_end, locale,
                                         iso(now)))
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def close_cases(tx: CaseTx, user: str, now: datetime) -> None:
    await tx.flush()
    await tx.db.execute("UPDATE cases SET status = 'closed', closed_at = ? "
                        "WHERE user_key = ? AND status = 'open'", (iso(now), user))


async def set_organisation(tx: CaseTx, user: str, code: str) -> bool:
    """Attach the user to the organisation of a start link; False if the code is unknown.
    The user's row must exist (the turn touches it first)."""
    await tx.flush()
    row = await _one(tx.db, "SELECT id FROM organisations WHERE code = ?", code.strip().lower())
    if row is None:
        return False
    await tx.db.execute("UPDATE users SET org_id = ? WHERE user_key = ?", (row[0], user))
    return True


async def has_open_case(tx: CaseTx, user: str) -> bool:
    await tx.flush()
    row = await _one(tx.db, "SELECT 1 FROM cases WHERE user_key = ? AND status = 'open'", user)
    return row is not None


# -- the inbox's side ------------------------------------------------------------------------

class CaseStore:
    def __init__(self, storage: SQLiteStorage, default_org: str | None = None) -> None:
        self.storage = storage
        self.default_org = default_org

    # The runtime's functions, with this deployment's default organisation.
    async def open_case(self, tx: CaseTx, user: str, reason: str, summary: str,
                        api_end: str | None, locale: str, now: datetime) -> int:
        return await open_case(tx, user, reason, summary, api_end, locale, now,
                               default_org=self.default_org)

    close_cases = staticmethod(close_cases)
    set_organisation = staticmethod(set_organisation)
    has_open_case = staticmethod(has_open_case)

    async def ensure_organisation(self, name: str, now: datetime) -> tuple[Organisation, bool]:
        """The organisation of that name (or code), created if needed; True if created."""
        code = slug(name)
        if not code:
            raise CaseError("an organisation name needs at least one letter or digit")
        async with self.storage.transaction() as tx:
            row = await _one(tx.db, "SELECT id, code, name FROM organisations "
                             "WHERE code = ? OR name = ? ORDER BY id", code, name.strip())
            if row:
                return Organisation(*row), False
            cursor = await tx.db.execute("INSERT INTO organisations (code, name, created_at) "
                                         "VALUES (?, ?, ?)", (code, name.strip(), iso(now)))
            assert cursor.lastrowid is not None
            return Organisation(cursor.lastrowid, code, name.strip()), True

    async def organisation(self, org_id: int) -> Organisation:
        async with self.storage.transaction() as tx:
            row = await _one(tx.db, "SELECT id, code, name FROM organisations WHERE id = ?",
                             org_id)
        if row is None:
            raise CaseError(f"no organisation {org_id}")
        return Organisation(*row)

    async def list_cases(self, org_id: int, which: str, me: int, today: date) -> list[Case]:
        """Most urgent first: an ended or soonest-ending API, then the oldest open case."""
        where = {"open": "c.status = 'open'",
                 "mine": "c.status = 'open' AND c.assigned_to = :me",
                 "unassigned": "c.status = 'open' AND c.assigned_to IS NULL",
                 "urgent": "c.status = 'open' AND c.api_end <= :limit",
                 "closed": "c.status = 'closed'"}[which]
        order = ("c.closed_at DESC, c.id DESC" if which == "closed"
                 else "c.api_end IS NULL, c.api_end, c.opened_at, c.id")
        params = {"org": org_id, "me": me,
                  "limit": (today + timedelta(days=URGENT_DAYS)).isoformat()}
        async with self.storage.transaction() as tx, tx.db.execute(
                f"SELECT {_CASE_COLUMNS} FROM cases c LEFT JOIN caseworkers w "
                f"ON w.id = c.assigned_to WHERE c.org_id = :org AND {where} "
                f"ORDER BY {order} LIMIT 500", params) as cursor:
            return [_case(r) for r in await cursor.fetchall()]

    async def view_case(self, org_id: int, case_id: int, caseworker_id: int, now: datetime
                        ) -> tuple[Case, list[tuple[str, datetime, str]]] | None:
        """The case and the user's transcript, the viewing written to the audit log in the
        same transaction; None if the case is not this organisation's."""
        async with self.storage.transaction() as tx:
            case = await self._case(tx.db, org_id, case_id)
            if case is None:
                return None
            rows = await _all(tx.db, "SELECT direction, at, text FROM transcript "
                              "WHERE user_key = ? ORDER BY id", case.user_key)
            await self._audit(tx.db, org_id, caseworker_id, "view", now, case_id)
        return case, [(r[0], datetime.fromisoformat(r[1]), r[2]) for r in rows]

    async def case(self, org_id: int, case_id: int) -> Case | None:
        async with self.storage.transaction() as tx:
            return await self._case(tx.db, org_id, case_id)

    async def assign(self, org_id: int, case_id: int, caseworker_id: int, now: datetime
                     ) -> bool:
        async with self.storage.transaction() as tx:
            cursor = await tx.db.execute(
                "UPDATE cases SET assigned_to = ? WHERE id = ? AND org_id = ? "
                "AND status = 'open'", (caseworker_id, case_id, org_id))
            if cursor.rowcount != 1:
                return False
            await self._audit(tx.db, org_id, caseworker_id, "assign", now, case_id)
            return True

    async def close(self, org_id: int, case_id: int, caseworker_id: int, now: datetime) -> None:
        """Closed (the conversation may have closed it already) and written to the log."""
        async with self.storage.transaction() as tx:
            await tx.db.execute("UPDATE cases SET status = 'closed', closed_at = ? "
                                "WHERE id = ? AND org_id = ? AND status = 'open'",
                                (iso(now), case_id, org_id))
            await self._audit(tx.db, org_id, caseworker_id, "close", now, case_id)

    async def record(self, org_id: int, caseworker_id: int, action: str, now: datetime,
                     case_id: int | None = None, target_id: int | None = None) -> None:
        async with self.storage.transaction() as tx:
            await self._audit(tx.db, org_id, caseworker_id, action, now, case_id, target_id)

    async def audit_log(self, org_id: int, limit: int = 300) -> list[AuditRow]:
        async with self.storage.transaction() as tx:
            rows = await _all(
                tx.db, "SELECT a.at, w.email, a.action, a.case_id, t.email FROM audit a "
                "JOIN caseworkers w ON w.id = a.caseworker_id "
                "LEFT JOIN caseworkers t ON t.id = a.target_id "
                "WHERE a.org_id = ? ORDER BY a.id DESC LIMIT ?", org_id, limit)
        return [AuditRow(datetime.fromisoformat(r[0]), r[1], r[2], r[3], r[4]) for r in rows]

    @staticmethod
    async def _case(db: aiosqlite.Connection, org_id: int, case_id: int) -> Case | None:
        row = await _one(db, f"SELECT {_CASE_COLUMNS} FROM cases c LEFT JOIN caseworkers w "
                         "ON w.id = c.assigned_to WHERE c.id = ? AND c.org_id = ?",
                         case_id, org_id)
        return _case(row) if row else None

    @staticmethod
    async def _audit(db: aiosqlite.Connection, org_id: int, caseworker_id: int, action: str,
                     now: datetime, case_id: int | None = None,
                     target_id: int | None = None) -> None:
        if action not in AUDIT_ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        await db.execute("INSERT INTO audit (at, org_id, caseworker_id, action, case_id, "
                         "target_id) VALUES (?, ?, ?, ?, ?, ?)",
                         (iso(now), org_id, caseworker_id, action, case_id, target_id))
