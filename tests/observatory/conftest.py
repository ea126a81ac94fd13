"""A database seeded with observations whose figures are known (November 2026)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.core.observation import Observation
from bot.storage.sqlite import SQLiteStorage

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
NOVEMBER = (date(2026, 11, 1), date(2026, 12, 1))
EXPIRED = "api_expired_not_renewed"


def _p(n: int) -> str:
    return f"telegram:{1000 + n}"


async def seed(store: SQLiteStorage) -> None:
    """What the tests' known answers come from:
    - problems: 7 people the week of Monday 2 Nov (6 in 06, 1 with no département; person 0
      twice), 3 people the week of 9 Nov (75), 1 person in October (outside the period);
    - CCC answers: 6 people after 2, 4, 6, 8, 10, 30 days (person 20 also after 50 days, a
      later answer: their first counts) -> median 7;
    - without a valid document: 3 people -> median hidden;
    - renewed APIs of protected persons (first card): 6 of 91 days, 6 of 183 days -> 50 %;
      2 stateless people and 1 renewal with 90 days are not counted;
    - beyond the préfecture: 5 people (appointment, Défenseur des droits, court);
    - closed cases: 5 solved, 2 without an answer from the person."""
    rows: dict[str, list[Observation]] = {}

    def add(n: int, o: Observation) -> None:
        rows.setdefault(_p(n), []).append(o)

    for n in range(6):
        add(n, Observation("problem", date(2026, 11, 3 + n % 4), EXPIRED, departement="06"))
    add(0, Observation("problem", date(2026, 11, 4), EXPIRED, departement="06"))
    add(6, Observation("problem", date(2026, 11, 8), "scam"))
    for n in range(7, 10):
        add(n, Observation("problem", date(2026, 11, 10), "login_loop", departement="75"))
    add(10, Observation("problem", date(2026, 10, 20), EXPIRED, departement="06"))
    for i, days in enumerate((2, 4, 6, 8, 10, 30)):
        add(20 + i, Observation("answer", date(2026, 11, 12), "ccc", days))
    add(20, Observation("answer", date(2026, 11, 20), "ccc", 50))
    add(21, Observation("answer", date(2026, 11, 20), "prefecture", 1))
    for n in range(30, 33):
        add(n, Observation("without_document", date(2026, 11, 5), "", 12 + n))
    for n in range(40, 52):
        add(n, Observation("api_renewed", date(2026, 11, 15), "", 91 if n < 46 else 183,
                           status="refugee" if n % 2 else "subsidiary", request="first"))
    for n in (52, 53):
        add(n, Observation("api_renewed", date(2026, 11, 15), "", 90, status="stateless",
                           request="first"))
    add(54, Observation("api_renewed", date(2026, 11, 15), "", 90, status="refugee",
                        request="renewal"))
    for n, step in zip(range(60, 65), ("appointment", "defenseur_des_droits", "court",
                                        "appointment", "court"), strict=True):
        add(n, Observation("contact", date(2026, 11, 18), step))
    add(65, Observation("contact", date(2026, 11, 18), "prefecture"))
    async with store.transaction() as tx:
        for user, observations in rows.items():
            await tx.record_observations(user, observations)
        for i, outcome in enumerate(["solved"] * 5 + ["no_answer"] * 2):
            await tx.db.execute(
                "INSERT INTO cases (user_key, status, reason, summary, locale, opened_at, "
                "closed_at, outcome) VALUES (?, 'closed', 'user_request', '', 'fr', ?, ?, ?)",
                (_p(70 + i), "2026-11-02T09:00:00+00:00", f"2026-11-{10 + i}T09:00:00+00:00",
                 outcome))


@pytest.fixture
async def seeded(tmp_path: Path) -> AsyncIterator[SQLiteStorage]:
    store = SQLiteStorage(tmp_path / "observatory.sqlite3")
    await store.open()
    await seed(store)
    yield store
    await store.close()


def person(n: int) -> str:
    return _p(n)
