"""The observatory's rows and the documents waiting for delivery, in SQLite (schema 0008).

Writes are buffered with the turn's other writes (one transaction per turn); reads are the
aggregates the statistics page needs: counts of distinct people, never a row about one person.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.core.observation import Observation

if TYPE_CHECKING:
    from bot.storage.base import Storage

#: Ladder steps beyond the préfecture (flows/knowledge/ladder.yaml): the substitute route,
#: the Défenseur des droits, the court.
BEYOND_PREFECTURE = ("appointment", "defenseur_des_droits", "court")
PROTECTED = ("refugee", "subsidiary")
#: An API renewed for fewer days than this is shorter than 6 months (6 months are 181 days at
#: least, February included).
SIX_MONTHS_DAYS = 181
SHORT_API_PROBLEM = "api_short_validity"

INSERT_OBSERVATION = (
    "INSERT INTO observations (user_key, kind, on_day, value, days, status, request, "
    "departement) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
INSERT_DOCUMENT = (
    "INSERT INTO documents (token, user_key, facts, created_at, expires_at) "
    "VALUES (?, ?, ?, ?, ?)")
PURGE_DOCUMENTS = "DELETE FROM documents WHERE expires_at < ?"
FORGET_OBSERVATIONS = "DELETE FROM observations WHERE user_key = ?"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def observation_params(user: str, o: Observation) -> tuple[Any, ...]:
    return (user, o.kind, o.on_day.isoformat(), o.value, o.days, o.status, o.request,
            o.departement)


def document_params(user: str, token: str, facts: str, now: datetime, expires_at: datetime
                    ) -> tuple[Any, ...]:
    return (token, user, facts, _iso(now), _iso(expires_at))


@dataclass(frozen=True)
class RawFigures:
    """Counts of distinct people (or cases) for a period, before the small-cell rule."""

    start: date
    end: date  # exclusive
    problems_by_week: list[tuple[str, int]]  # (Monday ISO, people)
    problems_by_departement: list[tuple[str, int]]  # (code or "", people)
    problems_by_kind: list[tuple[str, int]]  # (problem id, people)
    ccc_answer_days: list[int]  # one per person: their first CCC answer
    without_document_days: list[int]  # one per person: the longest gap
    protected_renewed: int  # protected persons (first card) with a renewed API seen
    protected_short: int  # ... of whom one shorter than 6 months (or reported 3 months)
    beyond_prefecture: int  # people who went to a step beyond the préfecture
    people: int  # people with any observation
    outcomes: list[tuple[str, int]]  # (outcome, cases closed)


class ObservationStore:
    """The statistics page's queries."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def figures(self, start: date, end: date) -> RawFigures:
        """Portable SQL through the transaction's Sql seam (SQLite and PostgreSQL alike); the
        weeks are counted here, since the two dialects name a date's Monday differently."""
        s, e = start.isoformat(), end.isoformat()
        period = "on_day >= ? AND on_day < ?"
        async with self.storage.transaction() as tx:
            days = await tx.all(
                "SELECT DISTINCT on_day, user_key FROM observations WHERE kind = 'problem' "
                f"AND {period}", s, e)
            by_dep = await tx.all(
                "SELECT COALESCE(departement, ''), COUNT(DISTINCT user_key) FROM observations "
                f"WHERE kind = 'problem' AND {period} GROUP BY 1 ORDER BY 2 DESC, 1", s, e)
            by_kind = await tx.all(
                "SELECT value, COUNT(DISTINCT user_key) FROM observations "
                f"WHERE kind = 'problem' AND {period} GROUP BY 1 ORDER BY 2 DESC, 1", s, e)
            ccc = await tx.all(
                "SELECT MIN(days) FROM observations WHERE kind = 'answer' AND value = 'ccc' "
                f"AND {period} GROUP BY user_key", s, e)
            gaps = await tx.all(
                "SELECT MAX(days) FROM observations WHERE kind = 'without_document' "
                f"AND {period} GROUP BY user_key", s, e)
            protected = ", ".join("?" * len(PROTECTED))
            renewed = await tx.all(
                "SELECT user_key, MAX(CASE WHEN (kind = 'api_renewed' AND days < ?) OR "
                "kind = 'problem' THEN 1 ELSE 0 END) FROM observations "
                f"WHERE status IN ({protected}) AND request = 'first' AND {period} AND "
                "(kind = 'api_renewed' OR (kind = 'problem' AND value = ?)) GROUP BY user_key",
                SIX_MONTHS_DAYS, *PROTECTED, s, e, SHORT_API_PROBLEM)
            beyond = await tx.all(
                "SELECT COUNT(DISTINCT user_key) FROM observations WHERE kind = 'contact' "
                f"AND value IN ({', '.join('?' * len(BEYOND_PREFECTURE))}) AND {period}",
                *BEYOND_PREFECTURE, s, e)
            people = await tx.all(
                f"SELECT COUNT(DISTINCT user_key) FROM observations WHERE {period}", s, e)
            outcomes = await tx.all(
                "SELECT outcome, COUNT(*) FROM cases WHERE status = 'closed' AND "
                "outcome IS NOT NULL AND substr(closed_at, 1, 10) >= ? AND "
                "substr(closed_at, 1, 10) < ? GROUP BY outcome ORDER BY outcome", s, e)
        weeks: dict[str, set[str]] = {}
        for day, user in days:  # distinct people a week, the week named by its Monday
            moment = date.fromisoformat(day)
            monday = (moment - timedelta(days=moment.weekday())).isoformat()
            weeks.setdefault(monday, set()).add(user)
        return RawFigures(
            start, end, sorted((w, len(u)) for w, u in weeks.items()),
            [(r[0], r[1]) for r in by_dep], [(r[0], r[1]) for r in by_kind],
            sorted(r[0] for r in ccc), sorted(r[0] for r in gaps), len(renewed),
            sum(r[1] for r in renewed), beyond[0][0], people[0][0],
            [(r[0], r[1]) for r in outcomes])

    async def slots(self, user: str) -> dict[str, str]:
        """What the person told and let us keep (their session's slots): the caseworker's
        printed note is written from it."""

        async with self.storage.transaction() as tx:
            row = await tx.one("SELECT data FROM sessions WHERE user_key = ?", user)
        if row is None:
            return {}
        kept = json.loads(row[0]).get("slots", {})
        return {k: v for k, v in kept.items() if isinstance(v, str)}

    async def document(self, token: str, now: datetime) -> tuple[str, str] | None:
        """(user, facts JSON) of a document whose link has not expired."""
        async with self.storage.transaction() as tx:
            row = await tx.one("SELECT user_key, facts FROM documents WHERE token = ? AND "
                               "expires_at >= ?", token, _iso(now))
        return (row[0], row[1]) if row else None


def seed_rows(user: str, observations: Sequence[Observation]) -> list[tuple[Any, ...]]:
    """The parameters of INSERT_OBSERVATION for a person's observations (tests, imports)."""
    return [observation_params(user, o) for o in observations]
