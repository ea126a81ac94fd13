"""Drains the outbox: claims ready rows, hands each to its channel, records the outcome.

At most once: a row is marked 'sending' (committed) before the channel sees it, and a row left
'sending' by a crash is never sent again (`recover_in_flight`). Failures that may pass are
retried with exponential backoff (or the peer's `retry_after`); a user who blocked the
assistant is marked unreachable and their remaining messages are dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from bot.channels.base import (
    Channel,
    PermanentFailure,
    RecipientBlocked,
    TemporaryFailure,
    split_user,
)
from bot.clock import Clock
from bot.storage.base import OutboxMessage, Storage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 2.0
    max_seconds: float = 600.0
    max_attempts: int = 8

    def delay(self, attempts: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_seconds)
        return float(min(self.base_seconds * 2 ** max(attempts - 1, 0), self.max_seconds))


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


class Sender:
    def __init__(self, storage: Storage, channels: Mapping[str, Channel], clock: Clock,
                 policy: RetryPolicy | None = None, batch: int = 50) -> None:
        self.storage = storage
        self.channels = channels
        self.clock = clock
        self.policy = policy or RetryPolicy()
        self.batch = batch
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Called when a turn committed new messages."""
        self._wake.set()

    async def drain(self) -> SendReport:
        """Send everything that is ready now; return what happened."""
        report = SendReport()
        while True:
            claimed = await self.storage.claim_outbox(self.clock.now(), self.batch)
            if not claimed:
                return report
            for message in claimed:
                await self._deliver(message, report)

    async def _deliver(self, message: OutboxMessage, report: SendReport) -> None:
        now = self.clock.now()
        channel_name, _ = split_user(message.user)
        channel = self.channels.get(channel_name)
        try:
            if channel is None:
                raise PermanentFailure(f"no channel {channel_name!r} configured")
            if not await self.storage.is_reachable(message.user):
                raise RecipientBlocked("user marked unreachable")
            ref = await channel.send(message)
        except RecipientBlocked as exc:
            await self.storage.set_reachable(message.user, False)
            await self.storage.mark_failed(message.id, f"blocked: {exc}")
            report.failed += 1
        except PermanentFailure as exc:
            log.warning("message %s failed for good: %s", message.id, type(exc).__name__)
            await self.storage.mark_failed(message.id, str(exc))
            report.failed += 1
        except (TimeoutError, TemporaryFailure, OSError) as exc:
            retry_after = exc.retry_after if isinstance(exc, TemporaryFailure) else None
            if message.attempts >= self.policy.max_attempts:
                await self.storage.mark_failed(message.id, f"gave up: {exc}")
                report.failed += 1
                return
            delay = self.policy.delay(message.attempts, retry_after)
            await self.storage.mark_retry(message.id, now + timedelta(seconds=delay), str(exc))
            report.retried += 1
        else:
            await self.storage.mark_sent(message.id, self.clock.now(), ref)
            report.sent += 1

    async def run(self, stop: asyncio.Event, idle_seconds: float = 1.0) -> None:
        """Drain whenever woken, and at least every `idle_seconds` (for retries)."""
        while not stop.is_set():
            try:
                await self.drain()
            except Exception:  # keep the loop alive; the row stays in the outbox
                log.exception("sender loop error")
            self._wake.clear()
            waiter = asyncio.ensure_future(self._wake.wait())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({waiter, stopper}, timeout=idle_seconds,
                               return_when=asyncio.FIRST_COMPLETED)
            for task in (waiter, stopper):
                task.cancel()
