"""Cases as the conversation opens them, and the list's filters and urgency order."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from bot.storage.cases import (
    CaseStore,
    close_cases,
    has_open_case,
    open_case,
    set_organisation,
)
from bot.storage.sqlite import SQLiteStorage
from tests.clients import WebClient
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


async def test_open_cases_come_by_urgency_then_waiting_time(store: CaseStore) -> None:
    org = await organisation(store, "Cimade")
    await worker(store, org, "anne@example.org")
    ids = await _cases(store)
    listed = await store.list_cases(org.id, "open", me=0, today=TODAY)
    names = {v: k for k, v in ids.items()}
    # Ended API; then ending within 15 days, longest wait first; then the rest, likewise.
    assert [names[c.id] for c in listed] == [
        "expired", "plus5-old", "plus15", "plus5-new", "none-old", "plus40", "plus16",
        "none-new"]
    assert [c.urgent(TODAY) for c in listed] == [True, True, True, True, False, False, False,
                                                 False]
    assert listed[0].days_left(TODAY) == -3


async def test_an_answered_case_waits_again_from_the_persons_next_message(
        store: CaseStore) -> None:
    org = await organisation(store, "Cimade")
    anne, _ = await worker(store, org, "anne@example.org")
    old = await new_case(store, "telegram:old", at=NOW - timedelta(days=5))
    recent = await new_case(store, "telegram:recent", at=NOW - timedelta(days=1))
    await store.record(org.id, anne.id, "reply", NOW - timedelta(days=4), old)

    async def order() -> list[int]:
        return [c.id for c in await store.list_cases(org.id, "open", anne.id, TODAY)]

    assert await order() == [recent, old]  # answered, nothing since: not waiting
    async with store.storage.transaction() as tx:
        await tx.append_transcript("telegram:old", "in", "merci, et ensuite ?",
                                   NOW - timedelta(hours=30))
    assert await order() == [old, recent]  # waits since 30 hours, the other since a day
    waiting = {c.id: c.waiting_since for c in await store.list_cases(org.id, "open", anne.id,
                                                                      TODAY)}
    assert waiting[old] == NOW - timedelta(hours=30)


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
    assert await listed("unassigned", anne.id) == ["plus5-old", "plus15", "none-old", "plus16",
                                                   "none-new"]
    assert await listed("closed", anne.id) == ["plus5-new"]
    assert "plus5-new" not in await listed("open", anne.id)
    assert not await store.assign(org.id, ids["plus5-new"], anne.id, NOW)  # closed: no


async def test_the_list_page_shows_the_filter_in_urgency_order(
        client: WebClient, store: CaseStore) -> None:
    org = await organisation(store, "Cimade")
    await worker(store, org, "anne@example.org")
    ids = await _cases(store)
    await login(client, "anne@example.org", PASSWORD)
    page = await (await client.get("/inbox/?filtre=urgent")).text()
    shown = [int(n) for n in re.findall(r'href="/inbox/cases/(\d+)"', page)]
    assert shown == [ids["expired"], ids["plus5-old"], ids["plus15"], ids["plus5-new"]]
    assert "API expirée depuis 3 jours" in page
    assert 'aria-current="page">Urgents' in page
    unknown = await (await client.get("/inbox/?filtre=bogus")).text()
    assert len(re.findall(r'href="/inbox/cases/(\d+)"', unknown)) == len(ids)


async def test_one_open_case_per_user_brought_up_to_date(storage: SQLiteStorage) -> None:
    store = CaseStore(storage)
    await worker(store, await organisation(store, "Cimade"), "anne@example.org")
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


async def _org_of(storage: SQLiteStorage, case_id: int) -> int | None:
    async with storage.transaction() as tx, tx.db.execute(
            "SELECT org_id FROM cases WHERE id = ?", (case_id,)) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    org: int | None = row[0]
    return org


async def test_a_case_goes_to_the_users_organisation_else_the_default(
        storage: SQLiteStorage) -> None:
    first = await organisation(CaseStore(storage), "Cimade")
    second = await organisation(CaseStore(storage), "Secours Lyon")
    for org, email in ((first, "a@cimade.org"), (second, "b@secours.org")):
        await worker(CaseStore(storage), org, email)
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
    assert await by_default.case(first.id, fallback) is not None  # somebody works there
    assert await by_default.case(second.id, linked) is None


async def test_an_unknown_start_code_goes_to_the_stored_default(storage: SQLiteStorage) -> None:
    store = CaseStore(storage)
    cimade = await organisation(store, "Cimade")
    secours = await organisation(store, "Secours Lyon")
    await worker(store, cimade, "a@cimade.org")
    await worker(store, secours, "b@secours.org")
    assert await store.make_default(secours.id) == 0
    async with storage.transaction() as tx:
        await tx.touch_user("web:x", NOW)
        assert not await set_organisation(tx, "web:x", "nobody-knows")
        case_id = await store.open_case(tx, "web:x", "r", "s", None, "fr", NOW)
    assert await _org_of(storage, case_id) == secours.id  # not the oldest: the default


async def test_the_environment_default_wins_over_the_stored_one(storage: SQLiteStorage) -> None:
    store = CaseStore(storage, default_org="cimade")
    cimade = await organisation(store, "Cimade")
    secours = await organisation(store, "Secours Lyon")
    await worker(store, cimade, "a@cimade.org")
    await worker(store, secours, "b@secours.org")
    await store.make_default(secours.id)
    assert (await store.default_organisation()) == cimade
    async with storage.transaction() as tx:
        await tx.touch_user("web:y", NOW)
        case_id = await store.open_case(tx, "web:y", "r", "s", None, "fr", NOW)
    assert await _org_of(storage, case_id) == cimade.id


async def test_a_link_to_an_organisation_nobody_belongs_to_goes_to_the_default(
        storage: SQLiteStorage) -> None:
    store = CaseStore(storage)
    empty = await organisation(store, "Antenne sans personne")
    staffed = await organisation(store, "Cimade")
    await worker(store, staffed, "a@cimade.org")
    await store.make_default(staffed.id)
    async with storage.transaction() as tx:
        await tx.touch_user("telegram:z", NOW)
        assert await set_organisation(tx, "telegram:z", "antenne-sans-personne")
        case_id = await store.open_case(tx, "telegram:z", "r", "s", None, "fr", NOW)
    assert await _org_of(storage, case_id) == staffed.id
    assert empty.id != staffed.id


async def test_a_case_opened_before_any_account_waits_for_the_first_admin(
        storage: SQLiteStorage) -> None:
    store = CaseStore(storage)
    async with storage.transaction() as tx:
        await tx.touch_user("telegram:1", NOW)
        case_id = await open_case(tx, "telegram:1", "r", "s", None, "fr", NOW)
    assert await _org_of(storage, case_id) is None  # kept, in no organisation yet
    assert await store.waiting_cases() == 1
    org = await organisation(store, "Cimade Nice")
    await worker(store, org, "anne@example.org", admin=True)
    assert await store.welcome_admin(org.id) == 1
    assert await store.case(org.id, case_id) is not None
    assert await store.waiting_cases() == 0
    assert (await store.default_organisation()) == org


async def test_cases_left_in_an_organisation_nobody_belongs_to_reach_the_first_admin(
        storage: SQLiteStorage) -> None:
    """What an older version did: a `default` organisation created on the fly."""
    store = CaseStore(storage)
    stray, _ = await store.ensure_organisation("default", NOW)
    async with storage.transaction() as tx:
        await tx.touch_user("web:early", NOW)
        case_id = await open_case(tx, "web:early", "r", "s", None, "fr", NOW)
        await tx.db.execute("UPDATE cases SET org_id = ? WHERE id = ?", (stray.id, case_id))
    org = await organisation(store, "Cimade Nice")
    await worker(store, org, "anne@example.org", admin=True)
    assert await store.welcome_admin(org.id) == 1
    assert await store.case(org.id, case_id) is not None
    # A second admin elsewhere takes nothing from the default organisation.
    other = await organisation(store, "Autre")
    await worker(store, other, "bob@autre.org", admin=True)
    assert await store.welcome_admin(other.id) == 0


async def test_an_admin_moves_a_case_to_another_organisation(storage: SQLiteStorage) -> None:
    store = CaseStore(storage)
    cimade = await organisation(store, "Cimade")
    secours = await organisation(store, "Secours Lyon")
    anne, _ = await worker(store, cimade, "a@cimade.org", admin=True)
    await worker(store, secours, "b@secours.org")
    case_id = await new_case(store, "telegram:m", org_code="cimade")
    assert await store.assign(cimade.id, case_id, anne.id, NOW)
    assert not await store.move(secours.id, case_id, cimade.id, anne.id, NOW)  # not theirs
    assert not await store.move(cimade.id, case_id, 999, anne.id, NOW)
    assert await store.move(cimade.id, case_id, secours.id, anne.id, NOW)
    moved = await store.case(secours.id, case_id)
    assert moved is not None
    assert moved.assigned_to is None
    assert await store.case(cimade.id, case_id) is None
    assert (await store.audit_log(cimade.id))[0].action == "move"
