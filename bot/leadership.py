"""Leading, supervised. On several instances sharing PostgreSQL, one of them, elected, does the
work that must happen in one place: it sends the outbox (so Telegram's and WhatsApp's rate
limits are counted once), runs the scheduler, announces new cases and polls Telegram. With
SQLite the one process always leads.

Holding the lock is not enough: the leader must also be doing the work. A leader whose duty
died (an error while taking over, a loop that ended) or whose lock connection was lost would
otherwise keep the others waiting for ever while nothing is sent. So every duty runs under
watch: when one ends before the server stops, or the lock is found lost, every duty is
stopped, the lock is given up, and this instance asks again, like any other, after a pause
that grows while the failures repeat. Another instance can take over meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from bot.core.exceptions import RelaisError
from bot.storage.base import Storage

log = logging.getLogger(__name__)

#: A duty of the leader: runs until its event is set, then returns.
Duty = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
#: Takes over (what a new leader does first, e.g. recover the rows a dead one left 'sending'
#: and set the Telegram webhook) and names the duties to run.
TakeOver = Callable[[], Awaitable[Sequence[Duty]]]

#: The longest pause between two tries after failures that repeat.
MAX_BACKOFF = 30.0


class LeadershipLost(RelaisError, RuntimeError):
    """The leader's lock is gone, or one of its duties stopped on its own."""


class Leadership:
    def __init__(self, storage: Storage, take_over: TakeOver, *, retry: float) -> None:
        self.storage = storage
        self.take_over = take_over
        #: Seconds between two tries to lead, for an instance that does not lead.
        self.retry = retry
        self.leading = False

    async def start(self, stop: asyncio.Event) -> asyncio.Task[None]:
        """Lead at once if elected, so that a take-over that fails at start-up (a wrong
        webhook address, a refused token) stops the server with its error; then watch and
        ask again for as long as the server runs."""
        duties = await self.take_over() if await self.storage.lead() else None
        return asyncio.create_task(self.run(stop, duties))

    async def run(self, stop: asyncio.Event, duties: Sequence[Duty] | None = None) -> None:
        pause = self.retry
        while not stop.is_set():
            if duties is None:
                if not await self.storage.lead():
                    await _wait(stop, self.retry)
                    continue
                try:
                    duties = await self.take_over()
                except Exception:
                    log.exception("taking over as leader failed: the lock is given up")
            if duties is not None:
                try:
                    await self._lead(stop, duties)
                    pause = self.retry
                except Exception:
                    log.exception("leading stopped: the lock is given up, asked again in "
                                  "%.1f s", pause)
            duties = None
            await self.storage.resign()
            if not stop.is_set():
                await _wait(stop, pause)
                pause = min(pause * 2, MAX_BACKOFF)

    async def _lead(self, stop: asyncio.Event, duties: Sequence[Duty]) -> None:
        """Run the duties until the server stops (return) or leading fails (raise)."""
        ending = asyncio.Event()
        tasks = [asyncio.create_task(duty(ending)) for duty in duties]
        tasks.append(asyncio.create_task(self._watch_lock(ending)))
        stopping = asyncio.create_task(stop.wait())
        self.leading = True
        try:
            await asyncio.wait([*tasks, stopping], return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.leading = False
            ending.set()  # each duty finishes what it holds (a batch being sent) and returns
            stopping.cancel()
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        if stop.is_set():
            return
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        raise LeadershipLost("a duty of the leader ended on its own")

    async def _watch_lock(self, ending: asyncio.Event) -> None:
        lost = asyncio.ensure_future(self.storage.lead_lost())
        ended = asyncio.ensure_future(ending.wait())
        await asyncio.wait({lost, ended}, return_when=asyncio.FIRST_COMPLETED)
        for waiter in (lost, ended):
            waiter.cancel()
        await asyncio.gather(lost, ended, return_exceptions=True)
        if not ending.is_set():
            raise LeadershipLost("the connection holding the leader's lock is gone")


async def _wait(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
