"""The web chat: a page served by the same process, talking over a websocket.

The browser keeps a random token (its user key is "web:<token>") and the conversation it has
received (localStorage, keyed by outbox id, so a reload shows the history without doubling a
message). The server keeps nothing more for the web chat than for any channel: a message for a
user who is not connected stays in the outbox and goes out when they reconnect. `/delete`
erases both copies: the server's in the turn, the browser's when the goodbye arrives.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable
from types import MappingProxyType

from aiohttp import WSMsgType, web

from bot.channels.base import NotConnected, split_user
from bot.core.model import Inbound, InboundKind, MessageKind
from bot.outgoing import Outgoing

log = logging.getLogger(__name__)

NAME = "web"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_FRAME = 16 * 1024  # a message longer than LONG_MESSAGE still fits, and is answered
#: The close code of a socket whose user was erased (4000-4999: for applications): the page
#: does not reconnect with that token.
ERASED = 4001

Handle = Callable[[Inbound], Awaitable[object]]


class WebChatChannel:
    """Delivers to the user's open sockets; with none open, the message waits in the outbox.

    After `/delete`, the goodbye's last message (kind "farewell") tells the page to show it
    and then delete what the browser keeps (the conversation and the token: the next visit is
    a new person); its sockets are then closed here too, so that nothing about the erased user
    is left in this process either."""

    name = NAME

    def __init__(self) -> None:
        self.sockets: dict[str, set[web.WebSocketResponse]] = defaultdict(set)
        self._closing: set[asyncio.Task[bool]] = set()

    async def send(self, message: Outgoing) -> str | None:
        _, token = split_user(message.user)
        sockets = [ws for ws in self.sockets.get(token, ()) if not ws.closed]
        if not sockets:
            raise NotConnected(token[:6])
        body: dict[str, object] = {
            "type": "message", "id": message.id, "text": message.text,
            "locale": message.locale, "kind": str(message.kind),
            "choices": [c.as_dict() for c in message.choices]}
        if message.document:  # the note: a download link (bot/web/documents.py)
            body["document"] = f"/chat/documents/{message.document}"
        frame = json.dumps(body, ensure_ascii=False)
        for ws in sockets:
            await ws.send_str(frame)
        if message.kind is MessageKind.FAREWELL:
            for ws in sockets:
                # In the background: a close waits for the browser's answer, and the sender
                # must not wait with it.
                task = asyncio.create_task(ws.close(code=ERASED, message=b"erased"))
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
        return str(message.id)


class WebChatEndpoint:
    """The websocket at /chat/ws?token=..."""

    def __init__(self, channel: WebChatChannel, handle: Handle,
                 on_connect: Callable[[str], Awaitable[None]]) -> None:
        self.channel = channel
        self.handle = handle
        self.on_connect = on_connect

    async def connect(self, request: web.Request) -> web.StreamResponse:
        token = request.query.get("token", "")
        if not _TOKEN.match(token):
            raise web.HTTPBadRequest(text="a token of 16 to 64 letters, digits, - or _")
        org = request.query.get("org", "")
        if org and not _ID.match(org):
            raise web.HTTPBadRequest(text="an organisation code of letters, digits, - or _")
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_FRAME)
        await ws.prepare(request)
        self.channel.sockets[token].add(ws)
        user = f"{NAME}:{token}"
        await self.on_connect(user)  # what waited while they were away goes out now
        try:
            async for frame in ws:
                if frame.type != WSMsgType.TEXT:
                    continue
                inbound = _inbound(user, frame.data, org)
                if inbound is None:
                    await ws.send_str(json.dumps({"type": "error", "error": "bad frame"}))
                    continue
                await ws.send_str(json.dumps({"type": "typing"}))
                await self.handle(inbound)
        finally:
            self.channel.sockets[token].discard(ws)
            if not self.channel.sockets[token]:
                del self.channel.sockets[token]
        return ws


def _inbound(user: str, data: str, org: str = "") -> Inbound | None:
    try:
        frame = json.loads(data)
    except json.JSONDecodeError:
        return None
    if not isinstance(frame, dict) or not _ID.match(str(frame.get("id", ""))):
        return None
    message_id = str(frame["id"])
    # The engine reads the organisation only on a user's first message.
    payload = MappingProxyType({"org": org} if org else {})
    if frame.get("type") == "text" and isinstance(frame.get("text"), str):
        return Inbound(user=user, message_id=message_id, kind=InboundKind.TEXT,
                       text=frame["text"], payload=payload)
    if frame.get("type") == "choice" and isinstance(frame.get("choice"), str):
        return Inbound.choice_tap(user, message_id, frame["choice"][:64])
    return None
