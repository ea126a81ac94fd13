"""Leading, supervised (bot/leadership.py): two instances on one real PostgreSQL. A leader whose
duty fails or whose lock connection is cut stops its duties and gives the lock up, and the
work goes on under whichever instance wins it next."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import psycopg
import pytest

from bot.leadership import Duty, Leadership
from bot.storage.postgres import PostgresStorage
from bot.storage.postgres.connection import LEADER_LOCK
from tests.postgres_server import PostgresServer


@dataclass
class Instance:
    """One instance's leadership, with a duty that counts its runs and can be made to fail."""

    name: str
    storage: PostgresStorage
    runs: int = 0
    running: bool = False
    fail_in: float | None = None  # the next run raises after these seconds
    takeovers: int = 0
    retry: float = 0.05  # seconds between two tries to lead, and the first pause after a fall
    leadership: Leadership = field(init=False)

    def __post_init__(self) -> None:
        self.leadership = Leadership(self.storage, self.take_over, retry=self.retry)

    async def take_over(self) -> list[Duty]:
        self.takeovers += 1
        return [self.work]

    async def work(self, ending: asyncio.Event) -> None:
        self.runs += 1
        self.running = True
        try:
            fail_in, self.fail_in = self.fail_in, None
            if fail_in is not None:
                await asyncio.sleep(fail_in)
                raise RuntimeError("the duty broke")
            await ending.wait()
        finally:
            self.running = False


@pytest.fixture
async def pair(postgres_server: PostgresServer) -> AsyncIterator[tuple[Instance, Instance]]:
    url = postgres_server.fresh_database()
    # a pauses longer after a fall than b takes to ask: the lead goes to b, not back to a.
    a = Instance("a", PostgresStorage(url), retry=1.0)
    b = Instance("b", PostgresStorage(url))
    for instance in (a, b):
        await instance.storage.open()
    yield a, b
    for instance in (a, b):
        await instance.storage.close()


async def until(condition: Callable[[], bool], within: float = 10) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < within, "waited too long"
        await asyncio.sleep(0.01)
    return time.monotonic() - started


def lock_holders(url: str) -> list[int]:
    """This database's holders of the leader's lock (the server is shared by the run's
    workers: another test's instances hold the same lock in their own database)."""
    with psycopg.connect(url) as conn:
        return [row[0] for row in conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = %s "
            "AND granted AND database = (SELECT oid FROM pg_database "
            "WHERE datname = current_database())", (LEADER_LOCK,))]


async def test_a_duty_that_fails_hands_the_lead_over_and_the_work_goes_on(
        pair: tuple[Instance, Instance], caplog: pytest.LogCaptureFixture) -> None:
    a, b = pair
    stop = asyncio.Event()
    a.fail_in = 0.3
    tasks = [await a.leadership.start(stop)]
    assert a.takeovers == 1  # elected at start-up, before anything else
    await until(lambda: a.running)
    tasks.append(await b.leadership.start(stop))
    assert b.takeovers == 0
    # a's duty breaks: a stops leading and lets go; b, asking every 0.05 s, takes over.
    with caplog.at_level(logging.ERROR, logger="bot.leadership"):
        await until(lambda: b.running)
    assert not a.running
    assert not a.leadership.leading
    assert b.takeovers == 1
    assert "leading stopped: the lock is given up" in caplog.text
    assert "the duty broke" in caplog.text
    stop.set()
    await asyncio.gather(*tasks)
    assert not a.running
    assert not b.running


async def test_a_leader_whose_lock_connection_is_cut_stops_and_the_lead_moves(
        pair: tuple[Instance, Instance], postgres_server: PostgresServer) -> None:
    a, b = pair
    url = a.storage.url
    stop = asyncio.Event()
    tasks = [await a.leadership.start(stop), await b.leadership.start(stop)]
    await until(lambda: a.running)
    assert not b.running
    (holder,) = await asyncio.to_thread(lock_holders, url)
    with psycopg.connect(url, autocommit=True) as admin:  # as a PostgreSQL restart would
        admin.execute("SELECT pg_terminate_backend(%s)", (holder,))
    # a notices at once (its lock's connection ends) and stops; b, asking all along, or a
    # once it asks again, leads: exactly one works.
    took = await until(lambda: a.runs + b.runs == 2 and a.running != b.running)
    assert took < 1, f"{took:.2f} s to notice and hand over"
    assert len(await asyncio.to_thread(lock_holders, url)) == 1
    stop.set()
    await asyncio.gather(*tasks)


async def test_a_take_over_that_fails_at_start_up_stops_the_server(
        pair: tuple[Instance, Instance]) -> None:
    a, _ = pair

    async def broken() -> list[Duty]:
        raise RuntimeError("the webhook address was refused")

    a.leadership.take_over = broken
    with pytest.raises(RuntimeError, match="refused"):
        await a.leadership.start(asyncio.Event())


async def test_a_take_over_that_fails_later_is_tried_again(
        pair: tuple[Instance, Instance], caplog: pytest.LogCaptureFixture) -> None:
    _, b = pair  # the one quick to ask again
    tries = 0

    async def flaky() -> list[Duty]:  # the second take-over fails (say, Telegram was away)
        nonlocal tries
        tries += 1
        if tries == 2:
            raise ConnectionError("Telegram did not answer")
        return await b.take_over()

    b.leadership.take_over = flaky
    b.fail_in = 0.1  # the first lead ends with its duty
    stop = asyncio.Event()
    with caplog.at_level(logging.ERROR, logger="bot.leadership"):
        task = await b.leadership.start(stop)
        await until(lambda: tries == 3 and b.running)
    assert b.runs == 2
    assert "taking over as leader failed" in caplog.text
    assert "Telegram did not answer" in caplog.text
    stop.set()
    await task
    assert not b.running
