"""Turns due timers into turns (and so into outbox messages), and keeps the database lean.

A timer that fell due while the process was down is handled on restart, in due order, unless
a later timer of the same user and topic is also due: then only the later one is handled
(a reminder superseded by a newer one is not sent late).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.conversations import Conversations, Outcome
from bot.storage.base import Storage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retention:
    #: A user who has not written for this long is erased entirely.
    inactive_days: int = 365
    #: Channel message ids are remembered this long, to drop redeliveries.
    inbound_ids_days: int = 30


class Scheduler:
    def __init__(self, storage: Storage, conversations: Conversations, clock: Clock,
                 retention: Retention | None = None) -> None:
        self.storage = storage
        self.conversations = conversations
        self.clock = clock
        self.retention = retention or Retention()

    async def run_due(self, until: datetime, *, at_due_time: bool = False) -> int:
        """Handle every timer due by `until`, oldest first. With `at_due_time` each turn runs
        at its own due time (the simulator, replaying a stretch of time); otherwise at now."""
        handled = 0
        while True:
            due = await self.storage.due_timers(until, limit=100)
            if not due:
                return handled
            for timer in due:
                now = timer.due_at if at_due_time else self.clock.now()
                outcome = await self.conversations.fire_timer(timer, now)
                handled += outcome is Outcome.ACCEPTED

    async def housekeeping(self, now: datetime) -> tuple[int, int]:
        """Erase users inactive past the retention period; forget old message ids."""
        erased = 0
        cutoff = now - timedelta(days=self.retention.inactive_days)
        for user in await self.storage.inactive_users(cutoff):
            async with self.conversations.locks.hold(user), self.storage.transaction() as tx:
                await tx.erase_user(user)
            erased += 1
        pruned = await self.storage.prune_inbound(
            now - timedelta(days=self.retention.inbound_ids_days))
        if erased:
            log.info("retention: erased %d inactive users", erased)
        return erased, pruned

    async def run(self, stop: asyncio.Event, tick_seconds: float = 30.0) -> None:
        last_housekeeping: datetime | None = None
        while not stop.is_set():
            now = self.clock.now()
            try:
                await self.run_due(now)
                if last_housekeeping is None or now - last_housekeeping > timedelta(hours=6):
                    await self.housekeeping(now)
                    last_housekeeping = now
            except Exception:  # keep the loop alive; due rows stay due
                log.exception("scheduler loop error")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=tick_seconds)
