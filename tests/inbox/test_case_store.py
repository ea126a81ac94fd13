"""Cases as the conversation opens them, and the list's filters and urgency order."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from aiohttp.test_utils import TestClient

from bot.storage.cases import (
    CaseStore,
    close_cases,
    has_open_case,
    open_case,
    set_organisation,
)
from bot.storage.sqlite import SQLiteStorage
from tests.conftest import NOW
from tests.inbox.conftest import PASSWORD, login, new_case, organisation, worker

TODAY = NOW.date()  # 2026-03-02, in Paris as in UTC at 10:00


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


async def _cases(store: CaseStore) -> dict[str, int]:
    """Users named by their API's end (in days from today), opened in a mixed order."""
    ids = {}
    for name, api_end, opened in (("none-old", None, 30), ("plus40", day(40), 20),
                                  ("plus15", day(15), 5), ("plus16", day(16), 6),
                                  ("plus5-new", day(5), 1), ("plus5-old", day(5), 10),
                                  ("expired", day(-3), 2), ("none-new", None, 3)):
        ids[name] = await new_case(store, f"telegram:{name}", api_end=api_end,
                                   at=NOW - timedelta(days=opened))
    return ids


async def test_open_cases_come_most_urgent_first(store: CaseStore) -> None:
    org = await organisation(store, "Cimade")
    ids = await _cases(store)
    listed = await store.list_cases(org.id, "open", me=0, today=TODAY)
    names = {v: k for k, v in ids.items()}
    assert [names[c.id] for c in listed] == [
        "expired", "plus5-old", "plus5-new", "plus15", "plus16", "plus40", "none-old",
        "none-new"]
    assert [c.urgent(TODAY) for c in listed] == [True, True, True, True, False, False, False,
                                                 False]
    assert listed[0].days_left(TODAY) == -3


async def test_filters(store: CaseStore) -> None:
    org = await organisation(store, "Cimade")
    anne, _ = await worker(store, org, "anne@example.org")
    bob, _ = await worker(store, org, "bob@example.org")
    ids = await _cases(store)
    names = {v: k for k, v in ids.items()}
    assert await store.assign(org.id, ids["plus40"], anne.id, NOW)
    assert await store.assign(org.id, ids["expired"], bob.id, NOW)
    async with store.storage.transaction() as tx:
        await close_cases(tx, "telegram:plus5-new", NOW)

    async def listed(which: str, me: int) -> list[str]:
        return [names[c.id] for c in await store.list_cases(org.id, which, me, TODAY)]

    assert await listed("urgent", anne.id) == ["expired", "plus5-old", "plus15"]
    assert await listed("mine", anne.id) == ["plus40"]
    assert await listed("mine", bob.id) == ["expired"]
    assert await listed("unassigned", anne.id) == ["plus5-old", "plus15", "plus16", "none-old",
                                                   "none-new"]
    assert await listed("closed", anne.id) == ["plus5-new"]
    assert "plus5-new" not in await listed("open", anne.id)
    assert not await store.assign(org.id, ids["plus5-new"], anne.id, NOW)  # closed: no


async def test_the_list_page_shows_the_filter_in_urgency_order(
        client: TestClient, store: CaseStore) -> None:
    org = await organisation(store, "Cimade")
    await worker(store, org, "anne@example.org")
    ids = await _cases(store)
    await login(client, "anne@example.org", PASSWORD)
    page = await (await client.get("/inbox/?filtre=urgent")).text()
    shown = [int(n) for n in re.findall(r'href="/inbox/cases/(\d+)"', page)]
    assert shown == [ids["expired"], ids["plus5-old"], ids["plus5-new"], ids["plus15"]]
    assert "API expirée depuis 3 jours" in page
    assert 'aria-current="page">Urgents' in page
    unknown = await (await client.get("/inbox/?filtre=bogus")).text()
    assert len(re.findall(r'href="/inbox/cases/(\d+)"', unknown)) == len(ids)


async def test_one_open_case_per_user_brought_up_to_date(storage: SQLiteStorage) -> None:
    store = CaseStore(storage)
    await organisation(store, "Cimade")
    async with storage.transaction() as tx:
        await tx.touch_user("telegram:1", NOW)
        assert not await has_open_case(tx, "telegram:1")
        first = await open_case(tx, "telegram:1", "api_expired", "v1", None, "ps", NOW)
        assert await has_open_case(tx, "telegram:1")
    async with storage.transaction() as tx:
        again = await open_case(tx, "telegram:1", "no_answer", "v2", day(3), "ps", NOW)
    assert again == first
    case = await store.case(1, first)
    assert case is not None
    assert (case.summary, case.reason, case.api_end) == ("v2", "no_answer",
                                                         date.fromisoformat(day(3)))
    async with storage.transaction() as tx:
        await close_cases(tx, "telegram:1", NOW)
        assert not await has_open_case(tx, "telegram:1")
        third = await open_case(tx, "telegram:1", "api_expired", "v3", None, "ps", NOW)
    assert third != first
    with pytest.raises(ValueError, match="Invalid isoformat"):
        async with storage.transaction() as tx:
            await open_case(tx, "telegram:2", "api_expired", "s", "12/03/2026", "ps", NOW)


async def test_a_case_goes_to_the_users_organisation_else_the_default(
        storage: SQLiteStorage) -> None:
    first = await organisation(CaseStore(storage), "Cimade")
    second = await organisation(CaseStore(storage), "Secours Lyon")
    by_default = CaseStore(storage, default_org="secours-lyon")
    async with storage.transaction() as tx:
        # The turn touches the user first; that write is buffered and must be seen here.
        await tx.touch_user("telegram:linked", NOW)
        assert await set_organisation(tx, "telegram:linked", "CIMADE")
        assert not await set_organisation(tx, "telegram:linked", "unknown")
        linked = await by_default.open_case(tx, "telegram:linked", "r", "s", None, "fr", NOW)
        await tx.touch_user("telegram:plain", NOW)
        plain = await by_default.open_case(tx, "telegram:plain", "r", "s", None, "fr", NOW)
        fallback = await open_case(tx, "telegram:other", "r", "s", None, "fr", NOW,
                                   default_org="gone")
    assert await by_default.case(first.id, linked) is not None
    assert await by_default.case(second.id, plain) is not None
    assert await by_default.case(first.id, fallback) is not None  # the first created
    assert await by_default.case(second.id, linked) is None


async def test_a_case_opened_before_any_organisation_is_kept(storage: SQLiteStorage) -> None:
    async with storage.transaction() as tx:
        await tx.touch_user("telegram:1", NOW)
        case_id = await open_case(tx, "telegram:1", "r", "s", None, "fr", NOW)
    store = CaseStore(storage)
    org, created = await store.ensure_organisation("default", NOW)
    assert not created
    assert await store.case(org.id, case_id) is not None
