"""A reverse proxy in front of several instances, for tests: what nginx's `upstream` block
does with its defaults, in a few lines.

Requests go to the instances in turn (round robin). When an instance cannot be reached at all
(connection refused: the process is dead or not started yet), nothing was sent to it, so the
request goes to the next one, as nginx's `proxy_next_upstream error` does. When the request
was sent and no answer came (the instance died while handling it), a POST is not sent again
elsewhere, as nginx does not resend a non-idempotent request: the caller gets 502 Bad Gateway
and decides (Telegram sends the update again later). The instances stay hidden behind one
address, as they are from Telegram.
"""

from __future__ import annotations

from collections import Counter

from aiohttp import ClientConnectorError, ClientError, ClientSession, ClientTimeout, web

#: Headers that describe one hop, not the request: not passed on.
HOP_BY_HOP = {"host", "connection", "keep-alive", "transfer-encoding", "content-length"}


class RoundRobinProxy:
    def __init__(self, upstreams: list[str], timeout: float = 60.0) -> None:
        self.upstreams = upstreams
        self.timeout = ClientTimeout(total=timeout)
        self.answered: Counter[str] = Counter()  # upstream -> requests it answered
        self.passed_on = 0  # requests sent to the next instance after a refused connection
        self.bad_gateway = 0  # requests an instance took and never answered
        self._next = 0
        self._client: ClientSession | None = None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._forward)
        app.on_cleanup.append(self._close)
        return app

    async def _close(self, app: web.Application) -> None:
        if self._client is not None:
            await self._client.close()

    async def _forward(self, request: web.Request) -> web.Response:
        if self._client is None:
            self._client = ClientSession()
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        first = self._next
        self._next = (self._next + 1) % len(self.upstreams)
        for turn in range(len(self.upstreams)):
            upstream = self.upstreams[(first + turn) % len(self.upstreams)]
            try:
                async with self._client.request(request.method, upstream + request.path_qs,
                                                data=body, headers=headers,
                                                timeout=self.timeout) as answer:
                    content = await answer.read()
                    self.answered[upstream] += 1
                    return web.Response(status=answer.status, body=content,
                                        content_type=answer.content_type)
            except ClientConnectorError:
                self.passed_on += 1  # nothing reached it: the next one may take the request
            except (ClientError, TimeoutError):
                self.bad_gateway += 1
                return web.Response(status=502, text="Bad Gateway")
        return web.Response(status=502, text="Bad Gateway")
