"""The web chat across instances (PostgreSQL): a person's socket is held by one instance, and
their messages go out from that one, whichever instance wrote them.

A reply may be written anywhere: by the instance that ran the person's turn, by the one where
a caseworker answered in the inbox, by the leader's scheduler (a reminder). The outbox row is
the message; the transaction that wrote it names the person, at commit, on a PostgreSQL
notification channel, by a digest of their key (bot.user_keys.notice_key: never the key,
never a text). Every instance listens; the one holding the person's socket claims their
ready rows (FOR UPDATE SKIP LOCKED, like any sender) and delivers them through its own
`WebChatChannel`, with the sender's usual at-most-once bookkeeping. The leader's sender
leaves the web chat's rows alone (`Sender.leave`).

A notice can be missed (the listening connection dropped): a reconnected listener looks at
every person it holds, and so does each idle look, which also sends what a failed attempt put
back for later. On SQLite, one process holds every socket and its sender sends them all: no
relay.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Protocol, runtime_checkable

from bot.channels.webchat import NAME, WebChatChannel
from bot.clock import Clock
from bot.sender import Sender
from bot.storage.base import Storage
from bot.user_keys import EVERYONE, notice_key, user_key

log = logging.getLogger(__name__)


@runtime_checkable
class OutboxNotices(Protocol):
    """A storage shared by several instances, which tells each of them of new messages."""

    def outbox_notices(self) -> AsyncIterator[str]: ...


class WebChatRelay:
    def __init__(self, storage: Storage, notices: OutboxNotices, channel: WebChatChannel,
                 clock: Clock, idle_seconds: float = 5.0) -> None:
        self.storage = storage
        self.notices = notices
        self.channel = channel
        self.clock = clock
        self.idle_seconds = idle_seconds
        # Its own sender, for the web chat only; the instance's main sender leaves these.
        self.sender = Sender(storage, {NAME: channel}, clock)
        self._held: dict[str, str] = {}  # notice key -> user, for sockets opened here
        self._due: set[str] = set()  # people whose messages may be waiting now
        self._wake = asyncio.Event()

    def connected(self, user: str) -> None:
        """A socket opened here: what waited for this person goes out now."""
        self._held[notice_key(user)] = user
        self._mark({user})

    def notice(self, key: str) -> None:
        """A transaction somewhere committed messages for this person (or for everyone)."""
        if key == EVERYONE:
            self._mark(set(self._held.values()))
        elif key in self._held:
            self._mark({self._held[key]})

    def _mark(self, users: set[str]) -> None:
        self._due |= users
        self._wake.set()

    def _holding(self, users: Sequence[str]) -> list[str]:
        """Those of `users` with a socket open here; the others are forgotten (their next
        socket, here or on another instance, sends what waits)."""
        open_ = {user_key(NAME, token) for token, sockets in self.channel.sockets.items()
                 if any(not ws.closed for ws in sockets)}
        for user in set(users) - open_:
            self._held.pop(notice_key(user), None)
        return [u for u in users if u in open_]

    async def deliver(self) -> int:
        """Send what is ready for the people marked due and held here; how many went."""
        due, self._due = self._due, set()
        users = self._holding(sorted(due))
        if not users:
            return 0
        report = await self.sender.drain(users)
        return report.sent

    async def run(self, stop: asyncio.Event) -> None:
        listening = asyncio.create_task(self._listen())
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    await self.deliver()
                except Exception:  # keep the loop alive; the rows stay in the outbox
                    log.exception("web chat relay error")
                waiter = asyncio.ensure_future(self._wake.wait())
                stopper = asyncio.ensure_future(stop.wait())
                done, _ = await asyncio.wait({waiter, stopper}, timeout=self.idle_seconds,
                                             return_when=asyncio.FIRST_COMPLETED)
                for task in (waiter, stopper):
                    task.cancel()
                if not done:  # an idle look: retries, and any notice that was missed
                    self._mark(set(self._held.values()))
        finally:
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening

    async def _listen(self) -> None:
        while True:  # the storage reconnects by itself; this is for anything else
            try:
                async for key in self.notices.outbox_notices():
                    self.notice(key)
            except Exception:
                log.exception("web chat relay: listening failed; again in 1 s")
            await asyncio.sleep(1)
