"""The storage contract. Every backend must pass it: SQLite on disk and in memory, and
PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.model import Choice, MessageKind, Session
from bot.core.observation import Observation
from bot.storage.base import Delivery, VersionConflict
from bot.storage.cases import open_case
from bot.storage.postgres import PostgresStorage
from bot.storage.sqlite import USER_TABLES, SQLiteStorage, migrations
from tests.postgres_server import PostgresServer

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
U1, U2 = "test:1", "test:2"

#: Every backend, each test run once on each. A PostgreSQL test gets a fresh database on the
#: run's server (tests/postgres_server.py).
BACKENDS = ("sqlite-file", "sqlite-memory", "postgres")


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    backend: SQLiteStorage | PostgresStorage
    if request.param == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        backend = PostgresStorage(server.fresh_database())
    else:
        backend = SQLiteStorage(tmp_path / "contract.sqlite3" if request.param == "sqlite-file"
                                else ":memory:")
    await backend.open()
    yield backend
    await backend.close()


def session(user: str = U1, version: int = 0, **kw: object) -> Session:
    return Session(user=user, flow="menu", state="main", version=version, **kw)  # type: ignore[arg-type]


async def test_inbound_ids_are_accepted_once_per_user(store: SQLiteStorage) -> None:
    async with store.transaction() as tx:
        assert await tx.record_inbound(U1, "42", T0)
        assert not await tx.record_inbound(U1, "42", T0)
        assert await tx.record_inbound(U2, "42", T0)  # message ids are per chat


async def test_session_round_trip_and_versions(store: SQLiteStorage) -> None:
    s = session(locale="ps", consent=True, offered=(Choice("a", "الف"),), resume=("menu", "main"))
    s = s.with_slot("api_end", "2026-04-01")
    async with store.transaction() as tx:
        assert await tx.load_session(U1) is None
        saved = await tx.save_session(s, T0)
    assert saved.version == 1
    async with store.transaction() as tx:
        loaded = await tx.load_session(U1)
    assert loaded == saved


async def test_a_stale_version_is_refused(store: SQLiteStorage) -> None:
    async with store.transaction() as tx:
        await tx.save_session(session(), T0)
    with pytest.raises(VersionConflict):
        async with store.transaction() as tx:
            await tx.save_session(session(), T0)  # version 0 again: someone saved meanwhile
    async with store.transaction() as tx:
        loaded = await tx.load_session(U1)
        assert loaded is not None
        await tx.save_session(loaded, T0)
    with pytest.raises(VersionConflict):
        async with store.transaction() as tx:
            await tx.save_session(loaded, T0)


async def test_a_failed_transaction_leaves_nothing(store: SQLiteStorage) -> None:
    async def turn_that_crashes() -> None:
        async with store.transaction() as tx:
            await tx.record_inbound(U1, "1", T0)
            await tx.save_session(session(), T0)
            await tx.enqueue(U1, MessageKind.REPLY, "fr", "bonjour", (), T0)
            raise RuntimeError("crash in the middle of a turn")

    with pytest.raises(RuntimeError):
        await turn_that_crashes()
    async with store.transaction() as tx:
        assert await tx.load_session(U1) is None
        assert await tx.record_inbound(U1, "1", T0)  # the id was not kept either
    assert await store.claim_outbox(T0, 10) == []


async def test_a_claim_may_leave_a_channel_or_take_only_some_people(store: SQLiteStorage
                                                                   ) -> None:
    """The leader's sender leaves the web chat to the instance holding each socket, which
    claims only its people's rows (bot/web/relay.py)."""
    async with store.transaction() as tx:
        for user in ("web:tokenA", "telegram:7", "web:tokenB", "webby:1"):
            await tx.touch_user(user, T0)
            await tx.enqueue(user, MessageKind.REPLY, "fr", f"to {user}", (), T0)
    left = await store.claim_outbox(T0, 10, leave=("web",))
    assert sorted(m.user for m in left) == ["telegram:7", "webby:1"]
    mine = await store.claim_outbox(T0, 10, users=["web:tokenB", "web:nobody"])
    assert [m.user for m in mine] == ["web:tokenB"]
    assert [m.user for m in await store.claim_outbox(T0, 10)] == ["web:tokenA"]


async def test_outbox_claims_in_order_and_never_twice(store: SQLiteStorage) -> None:
    async with store.transaction() as tx:
        await tx.touch_user(U1, T0)
        await tx.touch_user(U2, T0)
        for i in range(3):
            await tx.enqueue(U1, MessageKind.REPLY, "ar", f"m{i}", (Choice("x", "X"),), T0)
        await tx.enqueue(U2, MessageKind.REPLY, "fr", "n0", (), T0)
    claimed = await store.claim_outbox(T0, 10)
    # One message per user at a time, oldest first: a user's messages keep their order.
    assert [m.text for m in claimed] == ["m0", "n0"]
    assert claimed[0].choices == (Choice("x", "X"),)
    assert await store.claim_outbox(T0, 10) == []  # m1 waits while m0 is being sent
    await store.mark_sent(claimed[0].id, T0, "ref")
    await store.mark_sent(claimed[1].id, T0, None)
    assert [m.text for m in await store.claim_outbox(T0, 10)] == ["m1"]
    assert await store.outbox_status(claimed[0].id) == "sent"
    assert await store.claim_outbox(T0, 10) == []  # m1 is in flight, m2 behind it


async def test_a_retry_waits_and_holds_back_the_users_later_messages(store: SQLiteStorage
                                                                     ) -> None:
    async with store.transaction() as tx:
        await tx.enqueue(U1, MessageKind.REPLY, "fr", "first", (), T0)
        await tx.enqueue(U1, MessageKind.REPLY, "fr", "second", (), T0)
        await tx.enqueue(U2, MessageKind.REPLY, "fr", "other user", (), T0)
    first = (await store.claim_outbox(T0, 1))[0]
    await store.mark_retry(first.id, T0 + timedelta(seconds=30), "429", first.claim)
    now = T0 + timedelta(seconds=1)
    assert [m.text for m in await store.claim_outbox(now, 10)] == ["other user"]
    later = await store.claim_outbox(T0 + timedelta(seconds=31), 10)
    assert [(m.text, m.attempts) for m in later] == [("first", 2)]


async def test_the_goodbye_to_an_erased_user_leaves_no_row_once_sent(store: SQLiteStorage
                                                                    ) -> None:
    async with store.transaction() as tx:
        await tx.touch_user(U1, T0)
        await tx.erase_user(U1)
        await tx.enqueue(U1, MessageKind.REPLY, "fr", "Tout est effacé.", (), T0)
    (goodbye,) = await store.claim_outbox(T0, 10)
    await store.mark_sent(goodbye.id, T0, None)
    assert set((await store.rows_about(U1)).values()) == {0}


async def test_rows_in_flight_at_a_crash_become_uncertain(store: SQLiteStorage) -> None:
    async with store.transaction() as tx:
        await tx.enqueue(U1, MessageKind.REPLY, "fr", "a", (), T0)
    (claimed,) = await store.claim_outbox(T0, 10)
    assert await store.mark_posted(claimed.claim, [claimed.id], T0) == {claimed.id}
    assert await store.recover_in_flight() == (0, 1)  # its request may have reached the user
    assert await store.outbox_status(claimed.id) == "uncertain"
    assert await store.claim_outbox(T0, 10) == []


async def test_rows_claimed_but_never_posted_are_sent_again_in_order(store: SQLiteStorage
                                                                     ) -> None:
    async with store.transaction() as tx:
        for text in ("a1", "a2"):
            await tx.enqueue(U1, MessageKind.REPLY, "fr", text, (), T0)
        await tx.enqueue(U2, MessageKind.REPLY, "fr", "b1", (), T0)
    _, b1 = await store.claim_outbox(T0, 10)
    assert await store.mark_posted(b1.claim, [b1.id], T0) == {b1.id}
    # The sender died there: a1 never reached the channel, b1 may have.
    assert await store.recover_in_flight() == (1, 1)
    assert await store.outbox_status(b1.id) == "uncertain"
    # a1 goes again, before a2, and the lost claim is not counted as an attempt.
    again = await store.claim_outbox(T0, 10)
    assert [(m.text, m.attempts) for m in again] == [("a1", 1)]
    assert await store.claim_outbox(T0, 10) == []  # a2 still waits behind it


async def test_a_recovery_of_abandoned_rows_leaves_the_recent_claims(store: SQLiteStorage
                                                                     ) -> None:
    """The leader's look for what a dead follower left 'sending' (bot/sender.py,
    recover_abandoned) takes only the rows claimed before its moment."""
    async with store.transaction() as tx:
        for user in (U1, U2):
            await tx.enqueue(user, MessageKind.REPLY, "fr", "a", (), T0)
    old, = await store.claim_outbox(T0, 1)
    await store.mark_posted(old.claim, [old.id], T0)
    recent, = await store.claim_outbox(T0 + timedelta(minutes=10), 1)
    assert await store.recover_in_flight(T0) == (0, 0)  # nothing claimed before T0
    assert await store.recover_in_flight(T0 + timedelta(minutes=5)) == (0, 1)
    assert await store.outbox_status(old.id) == "uncertain"
    assert await store.outbox_status(recent.id) == "sending"  # its sender may be alive
    assert await store.mark_posted(recent.claim, [recent.id], T0) == {recent.id}


async def test_a_claim_a_recovery_took_back_is_not_posted(store: SQLiteStorage) -> None:
    """Another instance, elected meanwhile, recovered the row: the first claim may not post
    it, even once a new claim holds it; nor put it back for later."""
    async with store.transaction() as tx:
        await tx.enqueue(U1, MessageKind.REPLY, "fr", "a", (), T0)
    (old,) = await store.claim_outbox(T0, 10)
    assert await store.recover_in_flight() == (1, 0)
    assert await store.mark_posted(old.claim, [old.id], T0) == set()
    (new,) = await store.claim_outbox(T0, 10)
    assert new.id == old.id
    assert new.claim != old.claim
    assert await store.mark_posted(old.claim, [old.id], T0) == set()
    await store.defer(old.id, T0 + timedelta(hours=1), old.claim)
    await store.mark_retry(old.id, T0 + timedelta(hours=1), "late", old.claim)
    assert await store.outbox_status(new.id) == "sending"
    assert await store.mark_posted(new.claim, [new.id], T0) == {new.id}


async def test_a_retry_does_not_revive_a_row_a_recovery_left_uncertain(store: SQLiteStorage
                                                                       ) -> None:
    async with store.transaction() as tx:
        await tx.enqueue(U1, MessageKind.REPLY, "fr", "a", (), T0)
    (claimed,) = await store.claim_outbox(T0, 10)
    await store.mark_posted(claimed.claim, [claimed.id], T0)
    await store.recover_in_flight()  # another instance elected while the request was out
    await store.mark_retry(claimed.id, T0, "502", claimed.claim)
    assert await store.outbox_status(claimed.id) == "uncertain"
    assert await store.claim_outbox(T0, 10) == []


async def test_timers_due_in_order_taken_once(store: SQLiteStorage) -> None:
    async with store.transaction() as tx:
        late = await tx.schedule(U1, "api", "api_end", T0 + timedelta(days=2), {"k": "v"}, T0)
        early = await tx.schedule(U2, "api", "api_end", T0 + timedelta(days=1), {}, T0)
    assert await store.next_due() == T0 + timedelta(days=1)
    due = await store.due_timers(T0 + timedelta(days=3), 10)
    assert [t.id for t in due] == [early, late]
    assert due[1].payload == {"k": "v"}
    async with store.transaction() as tx:
        assert await tx.take_timer(early, T0) is not None
        assert await tx.take_timer(early, T0) is None
    assert [t.id for t in await store.due_timers(T0 + timedelta(days=3), 10)] == [late]


async def test_a_later_due_timer_of_the_same_topic_supersedes(store: SQLiteStorage) -> None:
    async with store.transaction() as tx:
        a = await tx.schedule(U1, "api", "api_end", T0, {}, T0)
        await tx.schedule(U1, "api", "api_end", T0 + timedelta(days=1), {}, T0)
        await tx.schedule(U1, "card", "card_end", T0 + timedelta(days=1), {}, T0)
    async with store.transaction() as tx:
        timer = await tx.take_timer(a, T0)
        assert timer is not None
        assert not await tx.superseded(timer, T0)  # the later one is not due yet
        assert await tx.superseded(timer, T0 + timedelta(days=2))


async def test_cancel_timers_by_topic_or_all(store: SQLiteStorage) -> None:
    async with store.transaction() as tx:
        await tx.schedule(U1, "api", "api_end", T0, {}, T0)
        await tx.schedule(U1, "card", "card_end", T0, {}, T0)
        await tx.schedule(U2, "api", "api_end", T0, {}, T0)
        assert await tx.cancel_timers(U1, "api_end") == 1
        assert await tx.cancel_timers(U1, None) == 1
    assert [t.user for t in await store.due_timers(T0, 10)] == [U2]


async def test_erase_user_leaves_no_row_in_any_table(store: SQLiteStorage) -> None:
    async with store.transaction() as tx:
        for user in (U1, U2):
            await tx.touch_user(user, T0)
            await tx.record_inbound(user, "1", T0)
            await tx.save_session(session(user), T0)
            await tx.enqueue(user, MessageKind.REPLY, "fr", "x", (), T0)
            await tx.append_transcript(user, "in", "mon histoire", T0)
            await tx.schedule(user, "api", "api_end", T0, {}, T0)
            await tx.record_handoff_request(user, "user_request", T0)
            await open_case(tx, user, "user_request", "Demande d'aide", None, "fr", T0)
            await tx.record_observations(user, [Observation("problem", T0.date(), "scam")])
            await tx.keep_document(user, f"tok-{user}", "{}", T0, T0 + timedelta(days=1))
    tables = await store.tables_with_user_key()
    assert set(tables) >= {"sessions", "outbox", "transcript", "scheduled", "users"}
    assert set(tables) == set(USER_TABLES)  # a new table with user data must be erased too
    assert all(n > 0 for n in (await store.rows_about(U1)).values())
    async with store.transaction() as tx:
        await tx.erase_user(U1)
    assert set((await store.rows_about(U1)).values()) == {0}
    assert all(n > 0 for n in (await store.rows_about(U2)).values())


async def test_reachability(store: SQLiteStorage) -> None:
    async with store.transaction() as tx:
        await tx.touch_user(U1, T0)
    assert await store.is_reachable(U1)
    await store.set_reachable(U1, False)
    assert not await store.is_reachable(U1)


async def test_inactive_users_and_inbound_pruning(store: SQLiteStorage) -> None:
    async with store.transaction() as tx:
        await tx.touch_user(U1, T0)
        await tx.touch_user(U2, T0 + timedelta(days=300))
        await tx.record_inbound(U1, "1", T0)
    assert await store.inactive_users(T0 + timedelta(days=1)) == [U1]
    assert await store.prune_inbound(T0 + timedelta(days=1)) == 1


async def test_naive_times_are_refused(store: SQLiteStorage) -> None:
    with pytest.raises(ValueError, match="naive"):
        async with store.transaction() as tx:
            await tx.touch_user(U1, datetime(2026, 1, 1))


async def test_migrations_are_versioned_and_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    for _ in range(2):
        s = SQLiteStorage(path)
        await s.open()
        assert await s.schema_version() == max(v for v, _ in migrations()) >= 3
        await s.close()


async def test_a_reminder_keeps_its_template_and_the_claim_says_when_the_user_wrote(
        store: SQLiteStorage) -> None:
    async with store.transaction() as tx:
        await tx.touch_user(U1, T0)
        await tx.save_session(session(U1, consent=True).with_slot("second_locale", "fr"), T0)
        await tx.enqueue(U1, MessageKind.REMINDER, "ps", "یادونه", (Choice("stop", "بس"),),
                         T0, "api_end:30", ("12/03/2026 (۲۱ کب ۱۴۰۴)",))
        await tx.enqueue(U2, MessageKind.REMINDER, "fr", "Rappel", (), T0, "card_end:120",
                         ("12/03/2026",))
        await tx.enqueue(U2, MessageKind.REPLY, "fr", "plain", (), T0)
    first, other = await store.claim_outbox(T0, 10)
    assert (first.template, first.template_params) == ("api_end:30",
                                                        ("12/03/2026 (۲۱ کب ۱۴۰۴)",))
    assert first.last_inbound_at == T0
    assert first.second_locale == "fr"
    assert (other.template, other.template_params) == ("card_end:120", ("12/03/2026",))
    assert other.last_inbound_at is None  # U2 never wrote
    assert other.second_locale is None
    await store.mark_sent_many([(first.id, Delivery("wamid.1")), (other.id, Delivery())], T0)
    (plain,) = await store.claim_outbox(T0, 10)  # U2's second, once its first went out
    assert (plain.template, plain.template_params) == ("", ())
    assert await store.outbox_status(first.id) == "sent"
    assert await store.outbox_status(other.id) is None  # U2 has no user row: not kept


async def test_how_a_message_went_out_is_recorded_and_fallbacks_counted(
        store: SQLiteStorage) -> None:
    async with store.transaction() as tx:
        for user in (U1, U2):
            await tx.touch_user(user, T0)
            await tx.enqueue(user, MessageKind.REMINDER, "ps", "x", (), T0, "api_end:7", ())
    a, b = await store.claim_outbox(T0, 10)
    await store.mark_sent_many([
        (a.id, Delivery("wamid.a", "template:relais_api_end_7:fr", fallback_from="ps")),
        (b.id, Delivery("wamid.b", "template:relais_api_end_7:ps_AF"))], T0)
    assert (await store.stats())["template_fallbacks"] == 1
    row = await store.delivery(a.id)
    assert row is not None
    assert (row["status"], row["channel_ref"], row["sent_as"], row["fallback_from"]) == (
        "sent", "wamid.a", "template:relais_api_end_7:fr", "ps")


async def test_peer_statuses_move_forward_only_and_a_failure_fails_the_row(
        store: SQLiteStorage) -> None:
    async with store.transaction() as tx:
        for user in ("wa:331", "telegram:9"):
            await tx.touch_user(user, T0)
        await tx.enqueue("wa:331", MessageKind.REPLY, "fr", "x", (), T0)
        await tx.enqueue("telegram:9", MessageKind.REPLY, "fr", "y", (), T0)
    wa, tg = await store.claim_outbox(T0, 10)
    await store.mark_sent_many([(wa.id, Delivery("same-ref")), (tg.id, Delivery("same-ref"))],
                               T0)
    assert not await store.record_peer_status("wa", "wamid.unknown", "read", T0, None)
    assert await store.record_peer_status("wa", "same-ref", "read", T0, None)
    assert await store.record_peer_status("wa", "same-ref", "delivered", T0, None)  # late
    row = await store.delivery(wa.id)
    assert row is not None
    assert (row["status"], row["peer_status"]) == ("sent", "read")
    later = T0 + timedelta(minutes=1)
    assert await store.record_peer_status("wa", "same-ref", "failed", later,
                                          "whatsapp 131026: Message undeliverable")
    row = await store.delivery(wa.id)
    assert row is not None
    assert (row["status"], row["peer_status"], row["last_error"]) == (
        "failed", "failed", "whatsapp 131026: Message undeliverable")
    assert row["peer_status_at"] == later.isoformat()
    untouched = await store.delivery(tg.id)  # another channel's row with the same ref
    assert untouched is not None
    assert (untouched["status"], untouched["peer_status"]) == ("sent", None)
    with pytest.raises(ValueError, match="unknown peer status"):
        await store.record_peer_status("wa", "same-ref", "deleted", T0, None)
