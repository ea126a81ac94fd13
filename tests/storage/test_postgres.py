"""PostgreSQL as a peer of SQLite: the runtime on it, several instances on one database
(migrations, outbox claims, reminders, one turn at a time per user), and the move of an
association from SQLite with `python -m bot db copy`."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.core.model import Inbound, MessageKind, Session
from bot.db_cli import copy
from bot.runtime import Runtime
from bot.sender import SenderWakes
from bot.settings import Settings
from bot.storage.base import Delivery
from bot.storage.postgres import PostgresStorage
from bot.storage.postgres.connection import LEADER_KEEPALIVES, leader_options
from bot.storage.rows import migrations
from tests.conftest import NOW, RecordingChannel
from tests.postgres_server import PostgresServer


@pytest.fixture
def url(postgres_server: PostgresServer) -> str:
    return postgres_server.fresh_database()


@pytest.fixture
async def instances(url: str) -> AsyncIterator[tuple[PostgresStorage, PostgresStorage]]:
    """Two instances' stores on one database, opened together (migrations race)."""
    a, b = PostgresStorage(url), PostgresStorage(url)
    await asyncio.gather(a.open(), b.open())
    yield a, b
    await asyncio.gather(a.close(), b.close())


async def test_two_instances_starting_together_migrate_once(
        instances: tuple[PostgresStorage, PostgresStorage]) -> None:
    a, b = instances
    latest = migrations("postgres")[-1][0]
    assert await a.schema_version() == await b.schema_version() == latest
    rows = await a._all("SELECT COUNT(*) FROM schema_version")
    assert rows[0][0] == 1


async def test_a_conversation_runs_on_postgres(settings: Settings, url: str,
                                               channel: RecordingChannel) -> None:
    rt = Runtime.build(settings, ManualClock(NOW), {"test": channel}, url)
    await rt.start()
    try:
        await rt.conversations.handle(Inbound.text_message("test:a", "1", "/start"), NOW)
        again = await rt.conversations.handle(Inbound.text_message("test:a", "1", "/start"), NOW)
        assert again.value == "duplicate"
        await rt.sender.drain()
        assert channel.sent
        assert all(m.user == "test:a" for m in channel.sent)
        assert await rt.storage.pending_count() == 0
    finally:
        await rt.close()


async def test_each_outbox_row_is_claimed_by_one_instance(
        instances: tuple[PostgresStorage, PostgresStorage]) -> None:
    a, b = instances
    async with a.transaction() as tx:
        for n in range(300):
            await tx.enqueue(f"test:{n % 100}", MessageKind.REPLY, "fr", f"m{n}", (), NOW)
    claimed: list[int] = []
    users_in_flight: list[set[str]] = []

    async def drain(store: PostgresStorage) -> None:
        while batch := await store.claim_outbox(NOW, 7):
            users_in_flight.append({m.user for m in batch})
            claimed.extend(m.id for m in batch)
            await store.mark_sent_many([(m.id, _delivery()) for m in batch], NOW)

    await asyncio.gather(drain(a), drain(b), drain(a), drain(b))
    assert len(claimed) == 300 == len(set(claimed))


def _delivery() -> Delivery:
    return Delivery("ref")


async def test_reminders_are_staged_once_by_several_schedulers(
        instances: tuple[PostgresStorage, PostgresStorage]) -> None:
    a, b = instances
    end = (NOW + timedelta(days=7)).date().isoformat()
    async with a.transaction() as tx:
        for n in range(500):
            user = f"test:{n}"
            await tx.touch_user(user, NOW)
            await tx.save_session(Session(user=user, flow="menu", state="main", locale="fr",
                                          consent=True).with_slot("api_end", end), NOW)
            await tx.schedule(user, "reminder", "api_end", NOW - timedelta(minutes=n % 10),
                              {"slot": "api_end", "date": end, "offset": "7"}, NOW)
    from bot.storage.base import StagedText

    async def scheduler(store: PostgresStorage) -> int:
        sent: int = 0
        while True:
            async with store.transaction() as tx:
                groups = await tx.stage_due_reminders(NOW, 60)
                texts = [StagedText(g.slot, g.planned, g.offset, g.locale,
                                    MessageKind.REMINDER, "fr", "rappel",
                                    json.dumps({"text": "rappel", "choices": []}))
                         for g in groups]
                done, staged = await tx.enqueue_staged(texts, NOW)
            sent += int(done)
            if staged == 0:
                return sent

    counts = await asyncio.gather(scheduler(a), scheduler(b), scheduler(a))
    assert sum(counts) == 500
    rows = await a._all("SELECT user_key, COUNT(*) FROM outbox GROUP BY user_key "
                        "HAVING COUNT(*) > 1")
    assert rows == []  # nobody reminded twice


async def test_one_turn_at_a_time_per_user_across_instances(
        settings: Settings, url: str) -> None:
    channels = [RecordingChannel(), RecordingChannel()]
    runtimes = [Runtime.build(settings, ManualClock(NOW), {"test": c}, url) for c in channels]
    for rt in runtimes:
        await rt.start()
    try:
        user = "test:both"
        await runtimes[0].conversations.handle(Inbound.text_message(user, "0", "/start"), NOW)
        # The same person's messages reach both instances at once (a load balancer).
        turns = [runtimes[n % 2].conversations.handle(
            Inbound.text_message(user, str(n), "/menu"), NOW) for n in range(1, 21)]
        outcomes = await asyncio.gather(*turns)
        assert all(o.value == "accepted" for o in outcomes)
        async with runtimes[0].storage.transaction() as tx:
            session = await tx.load_session(user)
        assert session is not None
        assert session.version == 21
        assert isinstance(runtimes[0].storage, PostgresStorage)
        rows = await runtimes[0].storage._all("SELECT COUNT(*) FROM inbound")
        assert rows[0][0] == 21  # each message accepted once
    finally:
        for rt in runtimes:
            await rt.close()


async def test_db_copy_moves_every_conversation_from_sqlite(
        settings: Settings, url: str, tmp_path: Path, channel: RecordingChannel) -> None:
    lite = tmp_path / "old.sqlite3"
    rt = Runtime.build(settings, ManualClock(NOW), {"test": channel}, lite)
    await rt.start()
    for n, user in enumerate(("test:a", "test:b")):
        await rt.conversations.handle(Inbound.text_message(user, str(n), "/start"), NOW)
    await rt.sender.drain()
    before = await rt.storage.stats()
    await rt.close()

    report = await asyncio.to_thread(copy, f"sqlite:{lite}", url)
    assert "conversations" in report
    assert "@" in report

    pg = Runtime.build(settings, ManualClock(NOW), {"test": channel}, url)
    await pg.start()
    try:
        assert await pg.storage.stats() == before
        async with pg.storage.transaction() as tx:
            kept = await tx.load_session("test:a")
        assert kept is not None
        assert kept.version >= 1
        # The copied inbound ids still drop a redelivery; new rows continue the ids.
        again = await pg.conversations.handle(Inbound.text_message("test:a", "0", "/start"),
                                              NOW)
        assert again.value == "duplicate"
        sent = len(channel.sent)
        await pg.conversations.handle(Inbound.text_message("test:a", "9", "/menu"), NOW)
        await pg.sender.drain()
        assert len(channel.sent) > sent
        with pytest.raises(ValueError, match="already holds data"):
            await asyncio.to_thread(copy, f"sqlite:{lite}", url)
    finally:
        await pg.close()


async def test_one_instance_leads_and_another_takes_over_when_it_stops(url: str) -> None:
    a, b = PostgresStorage(url), PostgresStorage(url)
    await a.open()
    await b.open()
    try:
        assert await a.lead()
        assert await a.lead()  # still, for as long as it runs
        assert not await b.lead()
        await a.close()  # the leader stops (or dies: its session ends the same way)
        # The server lets the lock go when the session's process ends, a moment later;
        # the server retries every LEAD_RETRY seconds, the test a little more often.
        for _ in range(50):
            if await b.lead():
                break
            await asyncio.sleep(0.1)
        assert await b.lead()
    finally:
        await a.close()
        await b.close()


def test_db_migrate_and_backup_from_the_command_line(url: str, tmp_path: Path) -> None:
    import sqlite3
    import subprocess

    from tests.conftest import run_command

    def bot(*args: str) -> subprocess.CompletedProcess[str]:
        return run_command(["db", *args])

    done = bot("migrate", "--url", url)
    assert done.returncode == 0, done.stderr
    latest = migrations("postgres")[-1][0]
    assert done.stdout.strip() == f"schema version {latest}"
    lite = tmp_path / "live.sqlite3"
    assert bot("migrate", "--url", str(lite)).returncode == 0
    with sqlite3.connect(lite) as conn:
        conn.execute("INSERT INTO deployment (key, value) VALUES ('k', 'v')")
    copy_to = tmp_path / "copy.sqlite3"
    done = bot("backup", "--url", str(lite), "--to", str(copy_to))
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(copy_to) as conn:
        assert conn.execute("SELECT value FROM deployment").fetchall() == [("v",)]
    assert "pg_dump" in bot("backup", "--url", url).stdout
    refused = bot("copy", "--from", f"sqlite:{tmp_path / 'none.sqlite3'}", "--to", url)
    assert refused.returncode == 1
    assert "no SQLite database" in refused.stderr


async def test_the_observatory_counts_people_on_postgres(url: str) -> None:
    from datetime import date

    from bot.core.observation import Observation
    from bot.storage.observations import ObservationStore

    store = PostgresStorage(url)
    await store.open()
    try:
        async with store.transaction() as tx:
            for n in range(6):  # six people, one of them twice the same week
                rows = [Observation("problem", date(2026, 11, 3 + n % 2), "login_loop",
                                    departement="69")]
                if n == 0:
                    rows.append(Observation("problem", date(2026, 11, 10), "login_loop"))
                await tx.record_observations(f"test:{n}", rows)
        raw = await ObservationStore(store).figures(date(2026, 11, 1), date(2026, 12, 1))
        assert raw.problems_by_week == [("2026-11-02", 6), ("2026-11-09", 1)]
        assert raw.problems_by_kind == [("login_loop", 6)]
        assert raw.people == 6
    finally:
        await store.close()


async def test_a_commit_names_the_web_chat_people_it_wrote_to_and_nothing_more(
        url: str) -> None:
    """The notice another instance's web chat relay listens for: the digest of the key of
    each person of a live channel who got a message, at commit only; never a text, never a
    key (a web chat token is the person's credential), nothing for other channels."""
    from bot.user_keys import EVERYONE, notice_key

    writer, listener = PostgresStorage(url, live=frozenset({"web"})), PostgresStorage(url)
    await writer.open()
    await listener.open()
    notices = listener.outbox_notices()
    try:
        assert await anext(notices) == EVERYONE  # listening: anything earlier was missed

        async def failed_turn() -> None:
            async with writer.transaction() as tx:
                await tx.enqueue("web:rolled-back-token", MessageKind.REPLY, "fr", "x", (), NOW)
                raise RuntimeError("the turn failed")

        with pytest.raises(RuntimeError):
            await failed_turn()
        async with writer.transaction() as tx:
            await tx.enqueue("telegram:42", MessageKind.REPLY, "fr", "secret words", (), NOW)
            for _ in range(2):  # two messages, one notice
                await tx.enqueue("web:the-token-itself", MessageKind.REPLY, "fr",
                                 "secret words", (), NOW)
        heard = [await asyncio.wait_for(anext(notices), 5)]
        with pytest.raises(TimeoutError):
            heard.append(await asyncio.wait_for(anext(notices), 1))
        assert heard == [notice_key("web:the-token-itself")]
        assert "token" not in heard[0]
        assert "secret" not in heard[0]
    finally:
        await notices.aclose()
        await writer.close()
        await listener.close()


def test_the_leaders_keepalives_are_added_to_the_operators_options() -> None:
    given = "postgresql://relais@db/relais?options=-c%20search_path%3Drelais"
    assert leader_options(given, {}) == f"-c search_path=relais {LEADER_KEEPALIVES}"
    bare = "postgresql://relais@db/relais"
    # Without options in the URL, libpq reads PGOPTIONS; the URL's win over it.
    assert leader_options(bare, {"PGOPTIONS": "-c work_mem=8MB"}) == (
        f"-c work_mem=8MB {LEADER_KEEPALIVES}")
    assert leader_options(given, {"PGOPTIONS": "-c work_mem=8MB"}) == (
        f"-c search_path=relais {LEADER_KEEPALIVES}")
    assert leader_options(bare, {}) == LEADER_KEEPALIVES


async def test_the_leaders_session_keeps_the_options_of_the_database_url(url: str) -> None:
    store = PostgresStorage(f"{url}?options=-c%20statement_timeout%3D4321")
    await store.open()
    try:
        assert await store.lead()
        assert store._leader is not None
        cursor = await store._leader.execute(
            "SELECT current_setting('statement_timeout'), source FROM pg_settings "
            "WHERE name = 'tcp_keepalives_idle'")
        assert await cursor.fetchone() == ("4321ms", "client")
    finally:
        await store.close()


async def test_a_turn_on_another_instance_wakes_the_leaders_sender(
        settings: Settings, url: str) -> None:
    """The instance that does not lead says at commit that it wrote messages to send; the
    leader's sender, which would otherwise look again only after its idle wait (30 s here),
    sends them at once."""
    sent = RecordingChannel()
    leader = Runtime.build(settings, ManualClock(NOW), {"test": sent}, url)
    other = Runtime.build(settings, ManualClock(NOW), {"test": RecordingChannel()}, url)
    await leader.start()
    await other.start()
    assert await leader.storage.lead()
    assert not await other.storage.lead()
    assert isinstance(leader.storage, SenderWakes)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(leader.sender.run(stop, idle_seconds=30)),
             asyncio.create_task(leader.sender.follow(leader.storage.sender_wakes(), stop))]
    try:
        await asyncio.sleep(0.5)  # the first look found nothing; the next is in 30 s
        started = time.monotonic()
        await other.conversations.handle(Inbound.text_message("test:a", "1", "/start"), NOW)
        async with asyncio.timeout(5):
            while True:
                if sent.sent:
                    break
                await asyncio.sleep(0.01)
        assert time.monotonic() - started < 5
        assert {m.user for m in sent.sent} == {"test:a"}
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        await other.close()
        await leader.close()
