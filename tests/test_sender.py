"""The sender: retries, rate-limit hints, blocked users, at-most-once across a crash."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.channels.base import NotConnected, PermanentFailure, RecipientBlocked, TemporaryFailure
from bot.clock import ManualClock, SystemClock
from bot.core.model import MessageKind
from bot.outgoing import Outgoing
from bot.sender import (
    ABANDONED_AFTER,
    CLAIM_HORIZON,
    FAREWELL_WAIT,
    Limiter,
    RateLimit,
    RetryPolicy,
    Sender,
    SendReport,
)
from bot.storage.base import Delivery, OutboxMessage
from bot.storage.sqlite import SQLiteStorage
from tests.conftest import NOW, RecordingChannel


async def _enqueue(storage: SQLiteStorage, user: str, *texts: str) -> None:
    async with storage.transaction() as tx:
        await tx.touch_user(user, NOW)
        for t in texts:
            await tx.enqueue(user, MessageKind.REPLY, "fr", t, (), NOW)


async def _two_messages_to_one_chat(storage: SQLiteStorage, sender: Sender,
                                    channel: RecordingChannel) -> float:
    """Runs the sender's loop (with no idle look meanwhile) on two messages to one chat
    until both went, or 5 s; the seconds it took."""
    await _enqueue(storage, "test:a", "first", "second")
    stop = asyncio.Event()
    started = time.monotonic()
    loop = asyncio.create_task(sender.run(stop, idle_seconds=30))
    try:
        for _ in range(100):
            if len(channel.sent) == 2:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await loop
    return time.monotonic() - started


async def test_retry_after_is_honoured(storage: SQLiteStorage, channel: RecordingChannel
                                       ) -> None:
    clock = ManualClock(NOW)
    sender = Sender(storage, {"test": channel}, clock)
    await _enqueue(storage, "test:a", "one", "two")
    channel.fail_with = [TemporaryFailure("429 Too Many Requests", retry_after=5)]
    report = await sender.drain()
    assert (report.sent, report.retried) == (0, 1)
    clock.set(NOW + timedelta(seconds=4))
    assert (await sender.drain()).sent == 0  # not yet, and "two" waits behind "one"
    clock.set(NOW + timedelta(seconds=5))
    report = await sender.drain()
    assert report.sent == 2
    assert [m.text for m in channel.sent] == ["one", "two"]


async def test_network_errors_back_off_exponentially_then_give_up(
        storage: SQLiteStorage, channel: RecordingChannel) -> None:
    clock = ManualClock(NOW)
    policy = RetryPolicy(base_seconds=1, max_seconds=60, max_attempts=3)
    sender = Sender(storage, {"test": channel}, clock, policy)
    await _enqueue(storage, "test:a", "x")
    channel.fail_with = [OSError("reset"), TemporaryFailure("502"), TemporaryFailure("502")]
    await sender.drain()
    clock.set(NOW + timedelta(seconds=1))
    await sender.drain()
    clock.set(NOW + timedelta(seconds=2))
    assert (await sender.drain()).sent == 0  # second retry waits 2 s (1 + 2 = 3 s in all)
    clock.set(NOW + timedelta(seconds=3))
    report = await sender.drain()
    assert report.failed == 1
    assert channel.sent == []
    assert policy.delay(1, None) == 1
    assert policy.delay(2, None) == 2
    assert policy.delay(10, None) == 60
    assert policy.delay(1, 9999) == 60


async def test_a_blocked_user_is_marked_unreachable(storage: SQLiteStorage,
                                                    channel: RecordingChannel) -> None:
    sender = Sender(storage, {"test": channel}, ManualClock(NOW))
    await _enqueue(storage, "test:a", "one", "two")
    channel.fail_with = [RecipientBlocked("403 bot was blocked by the user")]
    report = await sender.drain()
    assert report.failed == 2
    assert channel.sent == []
    assert not await storage.is_reachable("test:a")


async def test_permanent_failures_and_unknown_channels(storage: SQLiteStorage,
                                                       channel: RecordingChannel) -> None:
    sender = Sender(storage, {"test": channel}, ManualClock(NOW))
    await _enqueue(storage, "test:a", "bad")
    await _enqueue(storage, "nowhere:b", "lost")
    channel.fail_with = [PermanentFailure("400 message is too long")]
    report = await sender.drain()
    assert report.failed == 2


async def test_a_row_in_flight_at_a_crash_is_not_sent_again(
        storage: SQLiteStorage, channel: RecordingChannel) -> None:
    await _enqueue(storage, "test:a", "maybe delivered", "next")
    (row,) = await storage.claim_outbox(NOW, 10)
    await storage.mark_posted(row.claim, [row.id], NOW)  # its request started, then a crash
    assert await storage.recover_in_flight() == (0, 1)
    sender = Sender(storage, {"test": channel}, ManualClock(NOW))
    await sender.drain()
    assert [m.text for m in channel.sent] == ["next"]


async def test_a_row_claimed_but_not_posted_at_a_crash_is_sent_once(
        storage: SQLiteStorage, channel: RecordingChannel) -> None:
    await _enqueue(storage, "test:a", "claimed only", "next")
    await storage.claim_outbox(NOW, 10)  # the process claimed it, then died
    assert await storage.recover_in_flight() == (1, 0)
    sender = Sender(storage, {"test": channel}, ManualClock(NOW))
    await sender.drain()
    assert [m.text for m in channel.sent] == ["claimed only", "next"]


async def test_the_leader_puts_back_what_a_dead_sender_left_claimed(
        storage: SQLiteStorage, channel: RecordingChannel) -> None:
    """A follower's relay claimed a row and died, and no election followed: the leader's look
    puts the row back once ABANDONED_AFTER has passed since the claim, and it goes once."""
    await _enqueue(storage, "test:a", "held by a dead sender", "next")
    await storage.claim_outbox(NOW, 10)
    clock = ManualClock(NOW + ABANDONED_AFTER - timedelta(seconds=1))
    sender = Sender(storage, {"test": channel}, clock)
    stop = asyncio.Event()
    looking = asyncio.create_task(sender.recover_abandoned(stop, every=0.01))
    try:
        await asyncio.sleep(0.05)
        assert await sender.drain() == SendReport()  # too recent: its sender may be alive
        clock.set(NOW + ABANDONED_AFTER + timedelta(seconds=1))
        for _ in range(100):
            if (await sender.drain()).sent:
                break
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        await looking
    await sender.drain()
    assert [m.text for m in channel.sent] == ["held by a dead sender", "next"]


class FirstClaimHangs(SQLiteStorage):
    """The database's answer to the first claim does not come until `answer` is set (as a
    leader's claim once waited for ever under load); every other call is the real one."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.answer = asyncio.Event()
        self.claims = 0

    async def claim_outbox(self, now: datetime, limit: int, **scope: Any
                           ) -> list[OutboxMessage]:
        self.claims += 1
        if self.claims == 1:
            await self.answer.wait()
        return await super().claim_outbox(now, limit, **scope)


async def test_a_claim_that_never_answers_is_left_and_nothing_is_sent_twice(
        tmp_path: Path, channel: RecordingChannel, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr("bot.sender.STUCK_AFTER", 0.2)
    storage = FirstClaimHangs(str(tmp_path / "stuck.sqlite3"))
    await storage.open()
    try:
        await _enqueue(storage, "test:a", "first")
        sender = Sender(storage, {"test": channel}, ManualClock(NOW))
        stop = asyncio.Event()
        loop = asyncio.create_task(sender.run(stop, idle_seconds=30))
        for _ in range(200):  # left after 0.2 s; the loop drains again at once
            if channel.sent:
                break
            await asyncio.sleep(0.01)
        assert [m.text for m in channel.sent] == ["first"]
        assert "claiming the outbox took more than 0.2 s: left" in caplog.text
        # The stuck claim ends after all, and takes a message written meanwhile: it is put
        # back to the queue and sent once, by the loop.
        await _enqueue(storage, "test:b", "second")
        storage.answer.set()
        for _ in range(200):
            if len(channel.sent) == 2:
                break
            await asyncio.sleep(0.01)
            sender.wake()
        stop.set()
        await loop
        assert [m.text for m in channel.sent] == ["first", "second"]
        assert await storage.pending_count() == 0
    finally:
        await storage.close()


async def test_rate_limits_space_one_chat_without_holding_others(
        storage: SQLiteStorage, channel: RecordingChannel) -> None:
    clock = ManualClock(NOW)
    sender = Sender(storage, {"test": channel}, clock,
                    limits={"test": RateLimit(per_second=1000, chat_interval=0.2)})
    await _enqueue(storage, "test:a", "a1", "a2")
    await _enqueue(storage, "test:b", "b1")
    await sender.drain()
    assert sorted(m.text for m in channel.sent) == ["a1", "b1"]  # a2 waits, b1 did not
    await asyncio.sleep(0.25)
    clock.set(NOW + timedelta(seconds=1))
    await sender.drain()
    assert [m.text for m in channel.sent][-1] == "a2"
    row = await storage._all("SELECT attempts FROM outbox WHERE body = '{}' ORDER BY id")
    assert [r[0] for r in row] == [1, 1, 1]  # waiting for the rate limit is no attempt


class _TemplateChannel:
    """A channel that reports more than an id, as WhatsApp does for a template."""

    name = "wa"

    async def send(self, message: Outgoing) -> Delivery:
        return Delivery(f"wamid.{message.id}", sent_as="template:relais_api_end_7:fr",
                        fallback_from="ps")


async def test_what_a_channel_reports_is_recorded_with_the_row(storage: SQLiteStorage) -> None:
    await _enqueue(storage, "wa:33600000001", "rappel")
    report = await Sender(storage, {"wa": _TemplateChannel()}, ManualClock(NOW)).drain()
    assert report.sent == 1
    (row,) = await storage._all("SELECT id FROM outbox")
    delivery = await storage.delivery(row[0])
    assert delivery is not None
    assert (delivery["channel_ref"], delivery["sent_as"], delivery["fallback_from"]) == (
        f"wamid.{row[0]}", "template:relais_api_end_7:fr", "ps")
    assert (await storage.stats())["template_fallbacks"] == 1


async def test_a_message_held_by_the_chat_limit_goes_when_the_limit_allows(
        storage: SQLiteStorage, channel: RecordingChannel) -> None:
    sender = Sender(storage, {"test": channel}, SystemClock(),
                    limits={"test": RateLimit(per_second=1000, chat_interval=0.3)})
    elapsed = await _two_messages_to_one_chat(storage, sender, channel)
    assert [m.text for m in channel.sent] == ["first", "second"]
    assert 0.25 < elapsed < 2  # the interval, not the idle wait


async def test_a_wake_during_a_drain_does_not_forget_a_held_message(
        storage: SQLiteStorage) -> None:
    """A turn that commits while the sender drains wakes it again at once; the message the
    chat limit held in that drain still goes when the limit allows, not at the idle look."""

    class Busy(RecordingChannel):
        async def send(self, message: Outgoing) -> str | None:
            sender.wake()  # as a turn committing during this send would
            return await super().send(message)

    channel = Busy()
    sender = Sender(storage, {"test": channel}, SystemClock(),
                    limits={"test": RateLimit(per_second=1000, chat_interval=0.3)})
    elapsed = await _two_messages_to_one_chat(storage, sender, channel)
    assert [m.text for m in channel.sent] == ["first", "second"]
    assert elapsed < 2  # the interval, not the idle wait


class _WatchingChannel(RecordingChannel):
    """Counts, at each message it is given, the rows the database holds as being sent."""

    def __init__(self, storage: SQLiteStorage) -> None:
        super().__init__()
        self.storage = storage
        self.in_flight: list[int] = []

    async def send(self, message: Outgoing) -> str | None:
        rows = await self.storage._all("SELECT COUNT(*) FROM outbox WHERE status = 'sending'")
        self.in_flight.append(int(rows[0][0]))
        return await super().send(message)


async def test_rows_are_claimed_only_as_fast_as_the_rate_lets_them_out(
        storage: SQLiteStorage) -> None:
    """A claimed row is never sent again after a crash: at Telegram's 30 a second, rows are
    claimed a few at a time, not 50 that would wait claimed for more than a second."""
    channel = _WatchingChannel(storage)
    sender = Sender(storage, {"test": channel}, SystemClock(),
                    limits={"test": RateLimit(per_second=30, chat_interval=1)})
    for n in range(40):
        await _enqueue(storage, f"test:{n}", f"hello {n}")
    while len(channel.sent) < 40:
        await sender.drain()
    assert sorted(m.text for m in channel.sent) == sorted(f"hello {n}" for n in range(40))
    assert max(channel.in_flight) <= 30 * CLAIM_HORIZON  # 6, where 40 were claimed at once


async def test_a_channel_not_configured_does_not_slow_the_claims(
        storage: SQLiteStorage) -> None:
    """The server has limits for every channel it knows; only the ones it sends on count."""
    channel = _WatchingChannel(storage)
    sender = Sender(storage, {"test": channel}, SystemClock(),
                    limits={"test": RateLimit(per_second=1000, chat_interval=0.01),
                            "whatsapp": RateLimit(per_second=20, chat_interval=1)})
    for n in range(40):
        await _enqueue(storage, f"test:{n}", f"hello {n}")
    await sender.drain()
    assert len(channel.sent) == 40
    assert max(channel.in_flight) > 20 * CLAIM_HORIZON  # 40 in one claim, not 4 at a time


def test_a_telegram_group_gets_at_most_twenty_messages_a_minute() -> None:
    limiter = Limiter(RateLimit(per_second=30, chat_interval=1, group_per_minute=20))
    assert limiter.reserve("-100123", 0.0) == 0.0
    # A group waits 3 s between two messages (20 a minute); a person waits 1 s.
    assert limiter.reserve("-100123", 1.5) == pytest.approx(1.5)
    assert limiter.reserve("-100123", 3.0) == 0.0
    assert limiter.reserve("4242", 10.0) == 0.0
    assert limiter.reserve("4242", 10.5) == pytest.approx(0.5)
    assert limiter.reserve("4242", 11.0) == 0.0
    fresh = Limiter(RateLimit(per_second=30, chat_interval=1, group_per_minute=20))
    sent = [t for t in range(0, 60) if fresh.reserve("-100999", float(t)) == 0.0]
    assert len(sent) == 20


async def _outbox(storage: SQLiteStorage) -> list[tuple[str, str]]:
    rows = await storage._all("SELECT user_key, status FROM outbox ORDER BY id")
    return [(r[0], r[1]) for r in rows]


async def test_the_goodbye_after_delete_waits_for_the_page_a_week_then_goes(
        storage: SQLiteStorage, channel: RecordingChannel) -> None:
    clock = ManualClock(NOW)
    sender = Sender(storage, {"test": channel}, clock)
    async with storage.transaction() as tx:  # what /delete leaves: the goodbye alone
        await tx.touch_user("test:gone", NOW)
        await tx.erase_user("test:gone")
        await tx.enqueue("test:gone", MessageKind.FAREWELL, "fa_AF", "خدا حافظ", (), NOW)
    async with storage.transaction() as tx:  # and a reply to someone who is still here
        await tx.touch_user("test:away", NOW)
        await tx.enqueue("test:away", MessageKind.REPLY, "fr", "bonjour", (), NOW)
    for day in (1, 7):  # the page is closed: both wait
        clock.set(NOW + timedelta(days=day))
        channel.fail_with = [NotConnected("gone"), NotConnected("away")]
        assert (await sender.drain()).failed == 0
        assert await _outbox(storage) == [("test:gone", "pending"), ("test:away", "pending")]
    clock.set(NOW + FAREWELL_WAIT + timedelta(hours=2))
    channel.fail_with = [NotConnected("gone"), NotConnected("away")]
    assert (await sender.drain()).failed == 1
    # Nothing about the erased user is left; the other reply still waits.
    assert await _outbox(storage) == [("test:away", "pending")]
    assert channel.sent == []


async def test_a_message_waiting_for_its_slot_when_the_sender_dies_goes_again(
        storage: SQLiteStorage, channel: RecordingChannel) -> None:
    """Under a rate of 10 a second a claim takes two messages, the second's slot 0.1 s after
    the first's. Each is marked posted only when its slot comes: stopped in between, the
    first may have reached the user (uncertain), the second never left and goes again."""
    limits = {"test": RateLimit(per_second=10, chat_interval=0)}
    await _enqueue(storage, "test:a", "first")
    await _enqueue(storage, "test:b", "second")
    drain = asyncio.create_task(Sender(storage, {"test": channel}, ManualClock(NOW),
                                       limits=limits).drain())
    await asyncio.sleep(0.05)  # "first" went at once; "second" waits until 0.1 s
    assert [m.text for m in channel.sent] == ["first"]
    drain.cancel()  # the process dies while "second" waits for its slot
    with contextlib.suppress(asyncio.CancelledError):
        await drain
    assert await storage.recover_in_flight() == (1, 1)
    await Sender(storage, {"test": channel}, ManualClock(NOW), limits=limits).drain()
    assert [m.text for m in channel.sent] == ["first", "second"]


async def test_two_channels_rates_interleave_without_holding_each_other(
        storage: SQLiteStorage) -> None:
    """One claim takes four messages (the slower rate, 20 a second, lets four out in 0.2 s):
    "test" may send at 0 and 0.05 s, "other" at 0 and 0.01 s. The second "other" message goes
    at its own moment, not with the second "test" one."""
    first, second = RecordingChannel("test"), RecordingChannel("other")
    second.sent = first.sent  # one record of what went, in order
    limits = {"test": RateLimit(per_second=20, chat_interval=0),
              "other": RateLimit(per_second=100, chat_interval=0)}
    for user in ("test:a", "test:b", "other:c", "other:d"):
        await _enqueue(storage, user, user)
    sender = Sender(storage, {"test": first, "other": second}, ManualClock(NOW), limits=limits)
    assert (await sender.drain()).sent == 4
    assert [m.text for m in first.sent] == ["test:a", "other:c", "other:d", "test:b"]
