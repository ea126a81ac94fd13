"""Drains the outbox: claims ready rows, hands each to its channel, records the outcome.

At most once: a row is marked 'sending' (committed) when claimed, and marked posted (its own
commit, `Storage.mark_posted`) just before its request to the channel starts. After a crash,
`recover_in_flight` sends again the rows claimed but never posted (the channel never saw
them), and never the rows posted: their request may have reached the user, and a double
message is worse than a rare gap ('uncertain'). Failures that may pass are retried with
exponential backoff (or the peer's `retry_after`); a user who blocked the assistant is marked
unreachable and their remaining messages are dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from bot.channels.base import (
    Channel,
    NotConnected,
    PermanentFailure,
    RecipientBlocked,
    TemporaryFailure,
    split_user,
)
from bot.clock import Clock
from bot.core.model import MessageKind
from bot.documents.delivery import DocumentSource
from bot.stacks import awaiting
from bot.storage.base import Delivery, OutboxMessage, Storage

log = logging.getLogger(__name__)
#: At most this many seconds of sending are claimed at once. A claimed row is 'sending': after
#: a crash it is never sent again, even if it was only waiting for its turn under the rate
#: limit. A claim of 50 at Telegram's 30 a second held rows up to 1.6 s before their request;
#: a leader killed meanwhile lost the ones not yet gone.
CLAIM_HORIZON = 0.2

#: How long the goodbye after /delete waits for the web page to come back (it then deletes the
#: browser's copy of the conversation). Past this, the row, the last one about an erased user,
#: is dropped: a page closed for a week is unlikely to reopen, and nothing about the person
#: should wait on the server for ever.
FAREWELL_WAIT = timedelta(days=7)

#: Seconds after which a call of the sender to the database that has not answered is left for
#: stuck. They answer in milliseconds, a second or two under heavy load; but the two-instance
#: crash test saw a leader's claim wait for ever for an answer its database session had no
#: longer to give (the session idle, the client still waiting), and nothing went out. The
#: sender then leaves that call and carries on with another connection of the pool; what the
#: call took, if it ever ends, is put back (a claim) or recovered later (`recover_abandoned`):
#: never sent twice.
STUCK_AFTER = 20.0

#: A row still 'sending' this long after its claim was taken by a sender that died with no
#: election following: the web chat's relay on an instance that does not lead (a leader's death
#: elects another, which recovers its rows at once). A live sender holds a row for the time of
#: one request; this is far longer, so a slow request is never taken for a dead one.
ABANDONED_AFTER = timedelta(minutes=5)


@runtime_checkable
class SenderWakes(Protocol):
    """A storage shared by several instances, which tells the elected sender of messages
    the others committed for it."""

    def sender_wakes(self) -> AsyncIterator[None]: ...


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
class RateLimit:
    """A channel's limits: messages per second overall, and seconds between two messages to
    the same chat (Telegram: 30/s and about 1/s per chat). `group_per_minute`: for group chats
    (Telegram gives them negative ids), at most this many a minute (Telegram: 20), spread
    evenly."""

    per_second: float
    chat_interval: float
    group_per_minute: float | None = None

    def interval(self, chat: str) -> float:
        if self.group_per_minute and chat.startswith("-"):
            return max(self.chat_interval, 60 / self.group_per_minute)
        return self.chat_interval


class Limiter:
    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self._next_any = 0.0
        self._next_chat: dict[str, float] = {}

    def reserve(self, chat: str, now: float) -> float:
        """0 and the slot is taken, or how many seconds until this chat may be sent to."""
        wait_chat = self._next_chat.get(chat, 0.0) - now
        if wait_chat > 0:
            return wait_chat
        start = max(now, self._next_any)
        self._next_any = start + 1 / self.limit.per_second
        self._next_chat[chat] = start + self.limit.interval(chat)
        if len(self._next_chat) > 10_000:  # forget chats whose interval has passed
            self._next_chat = {c: t for c, t in self._next_chat.items() if t > now}
        return 0.0 if start <= now else -(start - now)  # negative: wait, but the slot is ours


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


class Sender:
    def __init__(self, storage: Storage, channels: Mapping[str, Channel], clock: Clock,
                 policy: RetryPolicy | None = None, batch: int = 50,
                 limits: Mapping[str, RateLimit] | None = None,
                 documents: DocumentSource | None = None, leave: Sequence[str] = ()) -> None:
        self.storage = storage
        #: Channels whose messages another sender delivers (the web chat on several
        #: instances: the one holding the person's socket, bot/web/relay.py).
        self.leave = tuple(leave)
        self.documents = documents  # renders a message's document (the note) as a PDF
        self.limiters = {name: Limiter(limit) for name, limit in (limits or {}).items()}
        self.channels = channels
        self.clock = clock
        self.policy = policy or RetryPolicy()
        self.batch = batch
        self._wake = asyncio.Event()
        #: Database calls left for stuck (STUCK_AFTER), kept until they end.
        self._stuck: set[asyncio.Future[Any]] = set()
        self._soonest: float | None = None  # when a message a rate limit deferred is ready

    def wake(self) -> None:
        """Called when a turn committed new messages."""
        self._wake.set()

    async def follow(self, wakes: AsyncIterator[None], stop: asyncio.Event) -> None:
        """Wake at each item of `wakes` (another instance committed messages for this
        sender: SenderWakes), until `stop`."""
        async def listen() -> None:
            async for _ in wakes:
                self.wake()

        listening = asyncio.create_task(listen())
        try:
            await stop.wait()
        finally:
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening

    async def recover_abandoned(self, stop: asyncio.Event, every: float = 60.0) -> None:
        """The leader's look, every `every` seconds until `stop`, for rows claimed more than
        ABANDONED_AFTER ago and still 'sending': put back if never posted, else uncertain
        (`Storage.recover_in_flight`). Without it, a person whose web chat rows a dying
        follower held would get nothing more until the next election."""
        while not stop.is_set():
            try:
                found = await self.storage.recover_in_flight(self.clock.now() - ABANDONED_AFTER)
                if found.resent or found.uncertain:
                    log.warning("%d messages a sender had claimed and left: %d put back to be "
                                "sent, %d left uncertain", sum(found), *found)
            except Exception:  # the next look tries again
                log.exception("looking for abandoned messages failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)

    async def drain(self, users: Sequence[str] | None = None,
                    stop: asyncio.Event | None = None) -> SendReport:
        """Send everything that is ready now (only these `users`' messages, if given), or
        until `stop` is set (between two batches: leading ends, or the server stops); return
        what happened."""
        report = SendReport()
        while stop is None or not stop.is_set():
            claiming = asyncio.ensure_future(self.storage.claim_outbox(
                self.clock.now(), self._claim_size(), leave=self.leave, users=users))
            if not await self._answered(claiming, "claiming the outbox"):
                claiming.add_done_callback(self._put_back)
                self._wake.set()  # the loop drains again at once, on another connection
                return report
            claimed = claiming.result()
            if not claimed:
                return report
            # A batch holds at most one message per user (claim_outbox), so its messages can
            # travel side by side without overtaking each other within a conversation; what
            # went out is recorded in one transaction.
            sent: list[tuple[int, Delivery]] = []
            await self._post(claimed, report, sent)
            # Left unanswered, the rows stay 'sending', posted: never sent again.
            await self._answered(asyncio.ensure_future(
                self.storage.mark_sent_many(sent, self.clock.now())), "recording what was sent")
        return report

    async def _answered(self, call: asyncio.Future[Any], what: str) -> bool:
        """Whether the database `call` ended within STUCK_AFTER (its error raised); if not, it
        is left running, logged with where it waits, and False."""
        done, _ = await asyncio.wait({call}, timeout=STUCK_AFTER)
        if call in done:
            call.result()
            return True
        self._stuck.add(call)
        call.add_done_callback(self._stuck.discard)
        where = " > ".join(awaiting(call.get_coro())) if isinstance(call, asyncio.Task) else ""
        log.warning("%s took more than %g s: left, the sender goes on (%s)", what,
                    STUCK_AFTER, where)
        return False

    def _put_back(self, claiming: asyncio.Future[list[OutboxMessage]]) -> None:
        """A claim left for stuck that ended after all: its rows go back to the queue."""
        if claiming.cancelled() or claiming.exception() is not None:
            return
        for message in claiming.result():
            task = asyncio.ensure_future(self.storage.defer(message.id, self.clock.now(),
                                                            message.claim))
            self._stuck.add(task)
            task.add_done_callback(self._stuck.discard)

    async def _post(self, claimed: list[OutboxMessage], report: SendReport,
                    sent: list[tuple[int, Delivery]]) -> None:
        """Each message's slot under its channel's rate first (a chat that must wait is put
        back for later); then, wave after wave (the messages whose slot has come), the wave is
        marked posted in one write and its requests start, while the next wave waits for its
        moment. Marked any earlier, a message a crash caught waiting for its slot would count
        as possibly delivered and never go; so unthrottled, a batch is one wave, one write."""
        started = time.monotonic()
        slots = [(offset, m) for m in claimed
                 if (offset := await self._slot(m, started)) is not None]
        slots.sort(key=lambda slot: slot[0])  # two channels' rates interleave
        requests: list[asyncio.Task[None]] = []
        try:
            while slots:
                pause = started + slots[0][0] - time.monotonic()
                if pause > 0:
                    await asyncio.sleep(pause)
                elapsed = time.monotonic() - started
                wave = [m for offset, m in slots if offset <= elapsed]
                slots = [(offset, m) for offset, m in slots if offset > elapsed]
                marking = asyncio.ensure_future(self.storage.mark_posted(
                    wave[0].claim, [m.id for m in wave], self.clock.now()))
                # Unanswered, the wave is not posted: its rows are recovered later, put back if
                # the mark never committed, uncertain if it did.
                ours = marking.result() if await self._answered(marking, "marking rows "
                                                                "posted") else set()
                # A message missing from `ours` was put back by a recovery (another instance
                # was elected meanwhile): it is sent from the queue again, not from here.
                requests += [asyncio.create_task(self._deliver(m, report, sent))
                             for m in wave if m.id in ours]
        finally:
            await asyncio.gather(*requests)

    async def _slot(self, message: OutboxMessage, started: float) -> float | None:
        """When, in seconds after `started`, this message may go under its channel's rate
        limit (the slot is then reserved); None if its chat must wait longer: it is put back
        for later and the others go on meanwhile."""
        channel, chat = split_user(message.user)
        limiter = self.limiters.get(channel)
        if limiter is None:
            return 0.0
        wait = limiter.reserve(chat, started)
        if wait > 0:
            await self.storage.defer(message.id, self.clock.now() + timedelta(seconds=wait),
                                     message.claim)
            ready = started + wait
            self._soonest = ready if self._soonest is None else min(self._soonest, ready)
            return None
        return -wait  # 0: at once; more: the overall rate, the slot ours

    def _claim_size(self) -> int:
        """As many rows as the slowest channel's rate lets out within CLAIM_HORIZON (one at
        least), and no more than `batch`. Only the channels this sender has count: the limits
        of one not configured (WhatsApp, on a Telegram-only server) held every claim to its
        4 rows a fifth of a second."""
        rates = [limiter.limit.per_second for name, limiter in self.limiters.items()
                 if name in self.channels]
        if not rates:
            return self.batch
        return max(1, min(self.batch, int(min(rates) * CLAIM_HORIZON)))

    async def _deliver(self, message: OutboxMessage, report: SendReport,
                       sent: list[tuple[int, Delivery]]) -> None:
        now = self.clock.now()
        channel_name, _ = split_user(message.user)
        channel = self.channels.get(channel_name)
        try:
            if channel is None:
                raise PermanentFailure(f"no channel {channel_name!r} configured")
            if not message.reachable:
                raise RecipientBlocked("user marked unreachable")
            ref = await self._send(channel, message, now)
        except NotConnected:
            if message.kind is MessageKind.FAREWELL and now - message.created_at > FAREWELL_WAIT:
                # The user is erased: failing the row deletes it (see `mark_failed`).
                await self.storage.mark_failed(message.id, "the page did not come back")
                report.failed += 1
            else:  # looked at again in an hour, or at once when the user connects
                await self.storage.defer(message.id, now + timedelta(hours=1), message.claim)
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
            await self.storage.mark_retry(message.id, now + timedelta(seconds=delay), str(exc),
                                          message.claim)
            report.retried += 1
        else:
            sent.append((message.id, ref if isinstance(ref, Delivery) else Delivery(ref)))
            report.sent += 1

    async def _send(self, channel: Channel, message: OutboxMessage, now: datetime
                    ) -> str | Delivery | None:
        """A message carrying a document goes as a file where the channel sends files
        (Telegram, WhatsApp), rendered from its facts now; elsewhere (the web chat) the
        channel gives a download link."""
        send_document = getattr(channel, "send_document", None)
        if message.document and send_document is not None and self.documents is not None:
            found = await self.documents.pdf(message.document, now)
            if found is None:
                raise PermanentFailure("the document expired or was erased")
            name, pdf = found
            result: str | Delivery | None = await send_document(message, name, pdf)
            return result
        return await channel.send(message)

    async def run(self, stop: asyncio.Event, idle_seconds: float = 1.0) -> None:
        """Drain whenever woken, and at least every `idle_seconds` (for retries)."""
        while not stop.is_set():
            # Cleared before draining: a turn that commits during the drain sets it again,
            # and its messages go out at once rather than after the idle wait.
            self._wake.clear()
            # A message a rate limit held is ready once its moment has passed: this drain takes
            # it. Until then the moment is kept, even when a wake starts this drain early (a
            # turn committed meanwhile), or the message would wait for the idle look.
            if self._soonest is not None and self._soonest <= time.monotonic():
                self._soonest = None
            try:
                await self.drain(stop=stop)
            except Exception:  # keep the loop alive; the row stays in the outbox
                log.exception("sender loop error")
            # A turn's second message, held a moment by the per-chat limit, goes as soon as
            # the limit allows rather than at the next idle look.
            timeout = idle_seconds
            if self._soonest is not None:
                timeout = min(timeout, max(self._soonest - time.monotonic(), 0.0))
            waiter = asyncio.ensure_future(self._wake.wait())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({waiter, stopper}, timeout=timeout,
                               return_when=asyncio.FIRST_COMPLETED)
            for task in (waiter, stopper):
                task.cancel()
