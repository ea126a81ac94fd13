"""Cases handed to caseworkers, the organisations they belong to, and the audit log.

Two kinds of callers. The conversation runtime opens and closes cases inside its own turn
transaction (`open_case`, `close_cases`, `set_organisation`, `has_open_case` take that
transaction and never commit). The caseworker inbox uses `CaseStore`, whose every method is
one transaction of its own, always filtered by the caseworker's organisation.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bot.core.exceptions import RelaisError
from bot.core.model import LOCALES
from bot.core.summary import title_of
from bot.storage import organisations
from bot.storage.base import Sql, Storage
from bot.storage.rows import iso

#: A case whose API ends within this many days (or has ended) is urgent.
URGENT_DAYS = 15
FILTERS = ("open", "mine", "unassigned", "urgent", "closed")
#: Every action the audit log knows; it holds ids only, never a user's words or address.
AUDIT_ACTIONS = ("view", "assign", "reply", "canned", "ready", "close", "move",
                 "staff_add", "staff_reset", "staff_disable", "staff_enable", "ready_add")
#: How a case ended, asked when closing it (for the association's statistics).
OUTCOMES = {"solved": "Résolu", "redirected": "Orienté ailleurs",
            "no_answer": "Sans réponse de la personne"}
#: The languages a ready reply must be written in before it can be used.
READY_LOCALES = LOCALES
#: Replies that answer the person: after one, the case is not waiting any more.
ANSWERS = ("reply", "canned", "ready")

_CASE_COLUMNS = ("c.id, c.user_key, c.org_id, c.status, c.reason, c.summary, c.api_end, "
                 "c.locale, c.opened_at, c.closed_at, c.assigned_to, w.email, c.title, "
                 "c.outcome")
#: The person's messages after the turn that opened the case (its "yes, share" is not one)
#: that this caseworker has not seen yet.
_UNREAD = ("(SELECT COUNT(*) FROM transcript t WHERE t.user_key = c.user_key "
           "AND t.direction = 'in' AND t.at > c.opened_at AND t.id > COALESCE("
           "(SELECT r.seen_id FROM case_reads r WHERE r.case_id = c.id "
           "AND r.caseworker_id = ?), 0))")  # the caseworker's id
#: Since when the person waits for an answer: the opening, or their first message after the
#: last answer; NULL when they were answered and wrote nothing since.
_LAST_ANSWER = ("(SELECT MAX(a.at) FROM audit a WHERE a.case_id = c.id "
                "AND a.action IN ('reply', 'canned', 'ready'))")
_WAITING = (f"(CASE WHEN {_LAST_ANSWER} IS NULL THEN c.opened_at ELSE "
            "(SELECT MIN(t.at) FROM transcript t WHERE t.user_key = c.user_key "
            f"AND t.direction = 'in' AND t.at > {_LAST_ANSWER}) END)")


class CaseError(RelaisError):
    """A caseworker or organisation operation that cannot be done; the message says why."""


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
    org_id: int | None  # None: waiting for an organisation (none had anybody yet)
    status: str
    reason: str
    summary: str
    api_end: date | None
    locale: str
    opened_at: datetime
    closed_at: datetime | None
    assigned_to: int | None
    assignee: str | None  # the assigned caseworker's email
    title: str = ""  # French: what the case is about
    outcome: str | None = None  # OUTCOMES, once closed
    unread: int = 0  # the person's messages this caseworker has not seen (in lists)
    waiting_since: datetime | None = None  # the person waits for an answer since then

    @property
    def outcome_label(self) -> str:
        return OUTCOMES.get(self.outcome or "", "")

    def days_left(self, today: date) -> int | None:
        return None if self.api_end is None else (self.api_end - today).days

    def urgent(self, today: date) -> bool:
        left = self.days_left(today)
        return left is not None and left <= URGENT_DAYS


@dataclass(frozen=True)
class Line:
    """One transcript row as the caseworker reads it."""

    id: int
    direction: str  # "in": the person; "out": the assistant or a caseworker
    at: datetime
    text: str
    understood: str  # French, for the person's messages (may be empty)
    new: bool = False  # arrived since this caseworker last looked


@dataclass(frozen=True)
class CaseLine:
    """An open case as the command line lists it."""

    id: int
    organisation: str
    title: str
    opened_at: datetime
    api_end: date | None
    assignee: str | None


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
                assigned_to=row[10], assignee=row[11],
                title=row[12] or title_of(row[5], row[4]),  # cases older than titles
                outcome=row[13],
                unread=int(row[14]) if len(row) > 14 else 0,
                waiting_since=datetime.fromisoformat(row[15]) if len(row) > 15 and row[15]
                else None)


# -- called by the conversation runtime, inside its turn transaction -------------------------

async def open_case(tx: Sql, user: str, reason: str, summary: str, api_end: str | None,
                    locale: str, now: datetime, *, default_org: str | None = None) -> int:
    """The user's open case, brought up to date, or a new one in their organisation."""
    if api_end is not None:
        date.fromisoformat(api_end)  # a malformed date would silently break urgency
    row = await tx.one("SELECT id FROM cases WHERE user_key = ? AND status = 'open'", user)
    if row:
        await tx.run("UPDATE cases SET reason = ?, title = ?, summary = ?, api_end = ?, "
                     "locale = ? WHERE id = ?",
                     reason, title_of(summary, reason), summary, api_end, locale, row[0])
        return int(row[0])
    linked = await tx.one("SELECT org_id FROM users WHERE user_key = ?", user)
    org_id = await organisations.route(tx, linked[0] if linked else None, default_org)
    return await tx.insert(
        "INSERT INTO cases (user_key, org_id, reason, title, summary, api_end, locale, "
        "opened_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        user, org_id, reason, title_of(summary, reason), summary, api_end, locale, iso(now))


async def close_cases(tx: Sql, user: str, now: datetime) -> None:
    await tx.run("UPDATE cases SET status = 'closed', closed_at = ? "
                 "WHERE user_key = ? AND status = 'open'", iso(now), user)


async def set_organisation(tx: Sql, user: str, code: str) -> bool:
    """Attach the user to the organisation of a start link; False if the code is unknown.
    The user's row must exist (the turn touches it first)."""
    row = await tx.one("SELECT id FROM organisations WHERE code = ?", code.strip().lower())
    if row is None:
        return False
    await tx.run("UPDATE users SET org_id = ? WHERE user_key = ?", row[0], user)
    return True


async def has_open_case(tx: Sql, user: str) -> bool:
    row = await tx.one("SELECT 1 FROM cases WHERE user_key = ? AND status = 'open'", user)
    return row is not None


# -- the inbox's side ------------------------------------------------------------------------

class CaseStore:
    def __init__(self, storage: Storage, default_org: str | None = None) -> None:
        self.storage = storage
        self.default_org = default_org

    # The runtime's functions, with this deployment's default organisation.
    async def open_case(self, tx: Sql, user: str, reason: str, summary: str,
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
            row = await tx.one("SELECT id, code, name FROM organisations "
                               "WHERE code = ? OR name = ? ORDER BY id", code, name.strip())
            if row:
                return Organisation(*row), False
            org_id = await tx.insert("INSERT INTO organisations (code, name, created_at) "
                                     "VALUES (?, ?, ?)", code, name.strip(), iso(now))
            return Organisation(org_id, code, name.strip()), True

    async def organisation(self, org_id: int) -> Organisation:
        async with self.storage.transaction() as tx:
            row = await tx.one("SELECT id, code, name FROM organisations WHERE id = ?",
                               org_id)
        if row is None:
            raise CaseError(f"no organisation {org_id}")
        return Organisation(*row)

    async def organisations(self) -> list[tuple[Organisation, int, int, bool]]:
        """Every organisation with its active caseworkers, its open cases, and whether it is
        the deployment's default."""
        async with self.storage.transaction() as tx:
            default = await organisations.default_organisation(tx, self.default_org)
            rows = await tx.all(
                "SELECT o.id, o.code, o.name, (SELECT COUNT(*) FROM caseworkers w "
                "WHERE w.org_id = o.id AND w.active = 1), (SELECT COUNT(*) FROM cases c "
                "WHERE c.org_id = o.id AND c.status = 'open') FROM organisations o ORDER BY o.id")
        return [(Organisation(r[0], r[1], r[2]), r[3], r[4], r[0] == default) for r in rows]

    async def default_organisation(self) -> Organisation | None:
        async with self.storage.transaction() as tx:
            found = await organisations.default_organisation(tx, self.default_org)
        return None if found is None else await self.organisation(found)

    async def make_default(self, org_id: int) -> int:
        """Store `org_id` as the deployment's default and give it the cases nobody can see;
        their number."""
        async with self.storage.transaction() as tx:
            await organisations.store_default(tx, org_id)
            if await organisations.default_organisation(tx, self.default_org) != org_id:
                return 0  # DEFAULT_ORGANISATION names another one: it wins
            return await organisations.adopt_waiting(tx, org_id)

    async def welcome_admin(self, org_id: int) -> int:
        """After an admin account was created (organisations.welcome_admin)."""
        async with self.storage.transaction() as tx:
            return await organisations.welcome_admin(tx, org_id, self.default_org)

    async def waiting_cases(self) -> int:
        """Open cases nobody can see yet: no organisation, or one nobody belongs to."""
        async with self.storage.transaction() as tx:
            row = await tx.one("SELECT COUNT(*) FROM cases c WHERE c.status = 'open' AND "
                               "(c.org_id IS NULL OR NOT EXISTS (SELECT 1 FROM caseworkers w "
                               "WHERE w.org_id = c.org_id AND w.active = 1))")
        return int(row[0])

    async def open_cases(self) -> list[CaseLine]:
        """Every open case of the deployment, for the command line (no personal data)."""
        async with self.storage.transaction() as tx:
            rows = await tx.all(
                "SELECT c.id, COALESCE(o.code, '(en attente)'), c.title, c.opened_at, "
                "c.api_end, w.email FROM cases c LEFT JOIN organisations o ON o.id = c.org_id "
                "LEFT JOIN caseworkers w ON w.id = c.assigned_to WHERE c.status = 'open' "
                "ORDER BY c.id")
        return [CaseLine(r[0], r[1], r[2] or "", datetime.fromisoformat(r[3]),
                         date.fromisoformat(r[4]) if r[4] else None, r[5]) for r in rows]

    async def list_cases(self, org_id: int, which: str, me: int, today: date) -> list[Case]:
        """Open cases: the most urgent first (API ended, then ending within URGENT_DAYS), then
        the person waiting longest for an answer, then the soonest-ending API. Closed cases: the
        latest closed first. Each with the messages `me` has not seen."""
        limit = (today + timedelta(days=URGENT_DAYS)).isoformat()
        # Each filter with its parameters, in the order of their places.
        where, where_args = {
            "open": ("c.status = 'open'", ()),
            "mine": ("c.status = 'open' AND c.assigned_to = ?", (me,)),
            "unassigned": ("c.status = 'open' AND c.assigned_to IS NULL", ()),
            "urgent": ("c.status = 'open' AND c.api_end <= ?", (limit,)),
            "closed": ("c.status = 'closed'", ())}[which]
        # Urgency in three levels (API ended; ending within URGENT_DAYS; the rest), then
        # the longest wait, then the soonest end.
        order, order_args = (
            ("c.closed_at DESC, c.id DESC", ()) if which == "closed"
            else ("CASE WHEN c.api_end < ? THEN 0 WHEN c.api_end <= ? THEN 1 ELSE 2 END, "
                  "waiting IS NULL, waiting, c.api_end IS NULL, c.api_end, c.id",
                  (today.isoformat(), limit)))
        async with self.storage.transaction() as tx:
            rows = await tx.all(
                f"SELECT {_CASE_COLUMNS}, {_UNREAD}, {_WAITING} AS waiting FROM cases c "
                f"LEFT JOIN caseworkers w ON w.id = c.assigned_to WHERE c.org_id = ? "
                f"AND {where} ORDER BY {order} LIMIT 500",
                me, org_id, *where_args, *order_args)
        return [_case(r) for r in rows]

    async def view_case(self, org_id: int, case_id: int, caseworker_id: int, now: datetime
                        ) -> tuple[Case, list[Line]] | None:
        """The case and the user's transcript, the rows that arrived since this caseworker
        last looked marked new; the viewing is written to the audit log and the read mark
        moved in the same transaction. None if the case is not this organisation's."""
        async with self.storage.transaction() as tx:
            case = await self._case(tx, org_id, case_id)
            if case is None:
                return None
            lines = await self._lines(tx, case, caseworker_id, 0)
            await self._audit(tx, org_id, caseworker_id, "view", now, case_id)
        return case, lines

    async def new_lines(self, org_id: int, case_id: int, caseworker_id: int, after: int
                        ) -> list[Line] | None:
        """The transcript rows after `after` (the page shows the rest), read mark moved."""
        async with self.storage.transaction() as tx:
            case = await self._case(tx, org_id, case_id)
            if case is None:
                return None
            return await self._lines(tx, case, caseworker_id, after)

    async def _lines(self, db: Sql, case: Case, caseworker_id: int,
                     after: int) -> list[Line]:
        seen_row = await db.one("SELECT seen_id FROM case_reads WHERE case_id = ? "
                                "AND caseworker_id = ?", case.id, caseworker_id)
        seen = int(seen_row[0]) if seen_row else 0
        rows = await db.all("SELECT id, direction, at, text, understood FROM transcript "
                            "WHERE user_key = ? AND id > ? ORDER BY id", case.user_key, after)
        opened = iso(case.opened_at)
        lines = [Line(r[0], r[1], datetime.fromisoformat(r[2]), r[3], r[4],
                      new=r[1] == "in" and r[0] > seen and r[2] > opened) for r in rows]
        if lines and lines[-1].id > seen:
            # The mark only moves forward (another tab may have read further meanwhile).
            await db.run("INSERT INTO case_reads (case_id, caseworker_id, seen_id) "
                         "VALUES (?, ?, ?) ON CONFLICT (case_id, caseworker_id) "
                         "DO UPDATE SET seen_id = excluded.seen_id "
                         "WHERE case_reads.seen_id < excluded.seen_id",
                         case.id, caseworker_id, lines[-1].id)
        return lines

    async def case(self, org_id: int, case_id: int) -> Case | None:
        async with self.storage.transaction() as tx:
            return await self._case(tx, org_id, case_id)

    async def assign(self, org_id: int, case_id: int, caseworker_id: int, now: datetime
                     ) -> bool:
        async with self.storage.transaction() as tx:
            if await tx.run("UPDATE cases SET assigned_to = ? WHERE id = ? AND org_id = ? "
                            "AND status = 'open'", caseworker_id, case_id, org_id) != 1:
                return False
            await self._audit(tx, org_id, caseworker_id, "assign", now, case_id)
            return True

    async def move(self, org_id: int, case_id: int, to_org: int, caseworker_id: int,
                   now: datetime) -> bool:
        """An admin hands an open case to another organisation (its assignment dropped: the
        other team decides; it is told as of a new case); False if the case or the
        organisation does not exist."""
        async with self.storage.transaction() as tx:
            if await tx.one("SELECT 1 FROM organisations WHERE id = ?", to_org) is None:
                return False
            if await tx.run(f"UPDATE cases SET org_id = ?, assigned_to = NULL, "
                            f"{organisations.ANNOUNCE_AGAIN} WHERE id = ? AND org_id = ? "
                            "AND status = 'open' AND org_id != ?",
                            to_org, case_id, org_id, to_org) != 1:
                return False
            await self._audit(tx, org_id, caseworker_id, "move", now, case_id)
            return True

    async def close(self, org_id: int, case_id: int, caseworker_id: int, now: datetime,
                    outcome: str | None = None) -> None:
        """Closed (the conversation may have closed it already) with its outcome, and written
        to the log."""
        if outcome is not None and outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        async with self.storage.transaction() as tx:
            await tx.run("UPDATE cases SET status = 'closed', closed_at = "
                         "COALESCE(closed_at, ?), outcome = COALESCE(?, outcome) "
                         "WHERE id = ? AND org_id = ? AND outcome IS NULL",
                         iso(now), outcome, case_id, org_id)
            await self._audit(tx, org_id, caseworker_id, "close", now, case_id)

    async def outcomes(self, org_id: int) -> dict[str, int]:
        """Closed cases by outcome (for the association's statistics)."""
        async with self.storage.transaction() as tx:
            rows = await tx.all("SELECT COALESCE(outcome, ''), COUNT(*) FROM cases "
                                "WHERE org_id = ? AND status = 'closed' GROUP BY 1", org_id)
        return {r[0]: int(r[1]) for r in rows}

    async def changes(self, org_id: int) -> tuple[int, int, int]:
        """What the live page compares: the last case, the open cases, the last transcript
        row of an open case, all of this organisation."""
        async with self.storage.transaction() as tx:
            row = await tx.one(
                "SELECT (SELECT COALESCE(MAX(id), 0) FROM cases WHERE org_id = ?), "
                "(SELECT COUNT(*) FROM cases WHERE org_id = ? AND status = 'open'), "
                "(SELECT COALESCE(MAX(t.id), 0) FROM cases c JOIN transcript t "
                "ON t.user_key = c.user_key WHERE c.org_id = ? AND c.status = 'open')",
                org_id, org_id, org_id)
        return int(row[0]), int(row[1]), int(row[2])

    async def record(self, org_id: int, caseworker_id: int, action: str, now: datetime,
                     case_id: int | None = None, target_id: int | None = None) -> None:
        async with self.storage.transaction() as tx:
            await self._audit(tx, org_id, caseworker_id, action, now, case_id, target_id)

    async def audit_log(self, org_id: int, limit: int = 300) -> list[AuditRow]:
        async with self.storage.transaction() as tx:
            rows = await tx.all("SELECT a.at, w.email, a.action, a.case_id, t.email FROM audit a "
                                "JOIN caseworkers w ON w.id = a.caseworker_id "
                                "LEFT JOIN caseworkers t ON t.id = a.target_id "
                                "WHERE a.org_id = ? ORDER BY a.id DESC LIMIT ?", org_id, limit)
        return [AuditRow(datetime.fromisoformat(r[0]), r[1], r[2], r[3], r[4]) for r in rows]

    @staticmethod
    async def _case(db: Sql, org_id: int, case_id: int) -> Case | None:
        row = await db.one(f"SELECT {_CASE_COLUMNS} FROM cases c LEFT JOIN caseworkers w "
                         "ON w.id = c.assigned_to WHERE c.id = ? AND c.org_id = ?",
                         case_id, org_id)
        return _case(row) if row else None

    @staticmethod
    async def _audit(db: Sql, org_id: int, caseworker_id: int, action: str,
                     now: datetime, case_id: int | None = None,
                     target_id: int | None = None) -> None:
        if action not in AUDIT_ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        await db.run("INSERT INTO audit (at, org_id, caseworker_id, action, case_id, "
                     "target_id) VALUES (?, ?, ?, ?, ?, ?)",
                     iso(now), org_id, caseworker_id, action, case_id, target_id)

    # -- announcing new cases to the team (bot/inbox/announce.py) ----------------------------

    async def unannounced(self, now: datetime, limit: int = 50
                          ) -> list[tuple[int, int | None, str, date | None, int,
                                          tuple[str, ...]]]:
        """Cases not announced yet whose next try is due: (id, organisation id, its name, API
        end, tries so far, the addresses of its active caseworkers)."""
        async with self.storage.transaction() as tx:
            rows = await tx.all(
                "SELECT c.id, c.org_id, COALESCE(o.name, ''), c.api_end, c.announce_tries "
                "FROM cases c LEFT JOIN organisations o ON o.id = c.org_id "
                "WHERE c.announced_at IS NULL AND (c.announce_after IS NULL "
                "OR c.announce_after <= ?) ORDER BY c.id LIMIT ?", iso(now), limit)
            found = []
            for r in rows:
                emails = await tx.all("SELECT email FROM caseworkers WHERE org_id = ? "
                                      "AND active = 1 ORDER BY email", r[1])
                found.append((r[0], r[1], r[2], date.fromisoformat(r[3]) if r[3] else None,
                              r[4], tuple(e[0] for e in emails)))
        return found

    async def mark_announced(self, case_id: int, now: datetime) -> None:
        async with self.storage.transaction() as tx:
            await tx.run("UPDATE cases SET announced_at = ? WHERE id = ?", iso(now), case_id)

    async def announce_later(self, case_id: int, tries: int, after: datetime) -> None:
        async with self.storage.transaction() as tx:
            await tx.run("UPDATE cases SET announce_tries = ?, announce_after = ? WHERE id = ?",
                         tries, iso(after), case_id)

    # -- the association's own ready replies, in the five languages ------------------------

    async def ready_replies(self, org_id: int) -> list[tuple[int, dict[str, str]]]:
        async with self.storage.transaction() as tx:
            rows = await tx.all("SELECT id, texts FROM ready_replies WHERE org_id = ? "
                                "ORDER BY id", org_id)
        return [(r[0], json.loads(r[1])) for r in rows]

    async def ready_reply(self, org_id: int, reply_id: int) -> dict[str, str] | None:
        async with self.storage.transaction() as tx:
            row = await tx.one("SELECT texts FROM ready_replies WHERE id = ? "
                               "AND org_id = ?", reply_id, org_id)
        return json.loads(row[0]) if row else None

    async def add_ready_reply(self, org_id: int, texts: dict[str, str], caseworker_id: int,
                              now: datetime) -> int:
        """Only with a text in every language: a ready reply is sent translated."""
        missing = [locale for locale in READY_LOCALES if not texts.get(locale, "").strip()]
        if missing:
            raise CaseError(f"a ready reply needs a text in every language: {missing}")
        clean = {locale: texts[locale].strip() for locale in READY_LOCALES}
        async with self.storage.transaction() as tx:
            reply_id = await tx.insert(
                "INSERT INTO ready_replies (org_id, texts, created_by, created_at) "
                "VALUES (?, ?, ?, ?)", org_id, json.dumps(clean, ensure_ascii=False),
                caseworker_id, iso(now))
            await self._audit(tx, org_id, caseworker_id, "ready_add", now)
            return reply_id
