"""What makes the inbox live: a signal raised after every committed turn (and by the inbox's
own changes), and the Server-Sent Events stream each open inbox page listens to.

A page is told only *that* something changed in its organisation (never what): it then
fetches the part it shows, through the same guarded pages as a reload would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable

from aiohttp import web

#: A changed database is noticed at the latest after this long, even when the change came
#: from elsewhere (the command line, another process); it also keeps proxies from closing an
#: idle stream.
POLL_SECONDS = 2.0
#: Changes closer than this are told together: under load every committed turn raises the
#: signal, and each look is a read of the database.
GAP = 0.5


class Live:
    """A broadcast without payload: `changed()` wakes every waiter once."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.closing = False

    def changed(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait(self, seconds: float) -> None:
        """Until the next change, or `seconds` at most."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), seconds)

    def close(self) -> None:
        """The server stops: every stream ends (a graceful shutdown waits for open ones)."""
        self.closing = True
        self.changed()


async def stream(request: web.Request, live: Live, org_id: int,
                 changes: Callable[[int], Awaitable[tuple[int, int, int]]]) -> web.StreamResponse:
    """`text/event-stream`: an event `change` each time the organisation's cases or their
    messages change."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-store",
                                           "X-Accel-Buffering": "no"})
    await response.prepare(request)
    last = await changes(org_id)
    try:
        await response.write(b"retry: 3000\nevent: ready\ndata: {}\n\n")
        while not live.closing:
            await live.wait(POLL_SECONDS)
            if live.closing:
                break
            await asyncio.sleep(GAP)
            now = await changes(org_id)
            if now != last:
                last = now
                data = json.dumps({"cases": now[0], "open": now[1], "last": now[2]})
                await response.write(f"event: change\ndata: {data}\n\n".encode())
            else:
                await response.write(b": still here\n\n")
    except ConnectionResetError:
        pass  # the page was closed
    return response
