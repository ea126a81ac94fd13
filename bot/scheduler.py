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
from bot.storage.base import OutboxMessage, StagedText, Storage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retention:
    #: A user who has not written for this long is erased entirely.
    inactive_days: int = 365
    #: Digests of channel message ids are remembered this long, to drop redeliveries and
    #: replays (a digest names no one, so keeping it as long as the data costs nothing).
    inbound_ids_days: int = 365


class Scheduler:
    def __init__(self, storage: Storage, conversations: Conversations, clock: Clock,
                 retention: Retention | None = None, bulk_batch: int = 50_000) -> None:
        self.storage = storage
        # The bulk path copies rows inside SQLite: a bigger batch costs fewer commits, and
        # 50,000 reminders hold the database for well under a second, once a day.
        self.bulk_batch = bulk_batch
        self.conversations = conversations
        self.clock = clock
        self.retention = retention or Retention()

    async def run_due(self, until: datetime, *, at_due_time: bool = False) -> int:
        """Handle every timer due by `until`, oldest first. Date reminders go through the one
        bulk path, at the clock's present moment; with `at_due_time` each other timer's turn
        runs at its own due time (the simulator, replaying a stretch of time moment by
        moment, sets the clock to each due moment first), otherwise at now."""
        handled = await self._reminders(until)
        if handled:
            self.conversations.committed()
        while True:
            due = await self.storage.due_timers(until, limit=100)
            if not due:
                return handled
            for timer in due:
                now = timer.due_at if at_due_time else self.clock.now()
                outcome = await self.conversations.fire_timer(timer, now)
                handled += outcome is Outcome.ACCEPTED

    async def _reminders(self, until: datetime) -> int:
        """Date reminders, in bulk: each batch of due reminders is staged, decided and turned
        into outbox rows in ONE transaction, so a crash neither loses nor doubles one. The
        database decides, for each staged row, whether it may still go (the rule is written
        once, in the store's staging); the engine writes the text once per group (kind, date,
        language); the rows are copied inside the database. Reminders change no conversation
        state, so they need no turn of their own."""
        speaker = self.conversations.engine.speaker
        sent = 0
        while True:
            async with self.storage.transaction() as tx:
                now = self.clock.now()
                groups = await tx.stage_due_reminders(until, self.bulk_batch)
                texts = []
                for group in groups:
                    message = speaker.reminder(group, now)
                    if message is not None:
                        texts.append(StagedText(
                            group.slot, group.planned, group.offset, group.locale, message.kind,
                            message.locale, message.text,
                            OutboxMessage.body(message.text, message.choices, message.template,
                                               message.template_params)))
                done, staged = await tx.enqueue_staged(texts, now)
            sent += done
            if staged == 0:
                return sent

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

    async def run(self, stop: asyncio.Event, look_seconds: float = 2.0,
                  retry_seconds: float = 30.0) -> None:
        """Every `look_seconds`, one indexed read of the earliest pending timer; the due work
        runs when one has fallen due. So a reminder set for 10:00 goes out at 10:00, not up
        to a long tick later, and a timer written by another instance (PostgreSQL) is seen as
        soon. After an error, the next look waits `retry_seconds`."""
        last_housekeeping: datetime | None = None
        while not stop.is_set():
            now = self.clock.now()
            wait = look_seconds
            try:
                due = await self.storage.next_due()
                if due is not None and due <= now:
                    await self.run_due(now)
                if last_housekeeping is None or now - last_housekeeping > timedelta(hours=6):
                    await self.housekeeping(now)
                    last_housekeeping = now
            except Exception:  # keep the loop alive; due rows stay due
                log.exception("scheduler loop error")
                wait = retry_seconds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)
