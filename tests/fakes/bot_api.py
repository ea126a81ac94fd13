"""A small Telegram Bot API server that speaks the real wire protocol, for tests.

aiogram talks to it as to api.telegram.org: POST /bot<token>/<method> with form-encoded (or
multipart) fields, nested objects as JSON strings; every answer is {"ok": true, "result": ...}
or {"ok": false, "error_code": ..., "description": ..., "parameters": {...}} with the HTTP
status equal to the error code. Tests push updates, read what the bot sent, and queue faults.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField

BOT = {"id": 42, "is_bot": True, "first_name": "Relais", "username": "relais_test_bot"}


@dataclass
class FakeBotAPI:
    token: str = "123456:TEST"
    updates: list[dict[str, Any]] = field(default_factory=list)  # every update pushed
    pending: deque[dict[str, Any]] = field(default_factory=deque)  # not yet confirmed
    sent: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)  # sendDocument, with bytes
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    #: method -> faults to answer with, in order: (status, description, retry_after)
    faults: dict[str, list[tuple[int, str, int | None]]] = field(
        default_factory=lambda: defaultdict(list))
    blocked_chats: set[int] = field(default_factory=set)
    #: chat -> how many messages it received, and an event set at each one
    received: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    received_event: dict[int, asyncio.Event] = field(
        default_factory=lambda: defaultdict(asyncio.Event))
    _next_update: int = 1
    _next_message: int = 1000
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _sent_event: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._method)
        app.router.add_get("/file/bot{token}/{path:.*}", self._file)
        return app

    # -- what tests do ------------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self._next_update, **update}
        self._next_update += 1
        self.updates.append(update)
        self.pending.append(update)
        self._arrived.set()
        return update

    def text(self, chat: int, text: str, language: str = "en") -> dict[str, Any]:
        return self.push({"message": self._message(chat, text=text, language=language)})

    def tap(self, chat: int, data: str) -> dict[str, Any]:
        return self.push({"callback_query": {
            "id": f"cb{self._next_update}", "from": _user(chat), "chat_instance": "x",
            "data": data, "message": self._message(chat, text="…", language="en", bot=True)}})

    def photo(self, chat: int, content: bytes) -> dict[str, Any]:
        file_id = f"photo{len(self.files)}"
        self.files[file_id] = content
        sizes = [{"file_id": file_id, "file_unique_id": file_id, "width": 1080,
                  "height": 900}]
        return self.push({"message": {**self._message(chat, language="en"), "photo": sizes}})

    def sticker(self, chat: int) -> dict[str, Any]:
        sticker = {"file_id": "st", "file_unique_id": "st", "type": "regular", "width": 512,
                   "height": 512, "is_animated": False, "is_video": False}
        return self.push({"message": {**self._message(chat, language="en"),
                                      "sticker": sticker}})

    async def wait_sent(self, count: int, within: float = 15) -> list[dict[str, Any]]:
        deadline = time.monotonic() + within
        while len(self.sent) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"expected {count} messages, got {len(self.sent)}: "
                                     f"{[m['text'][:40] for m in self.sent]}")
            self._sent_event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._sent_event.wait(), remaining)
        return self.sent

    def _message(self, chat: int, text: str | None = None, language: str = "en",
                 bot: bool = False) -> dict[str, Any]:
        self._next_message += 1
        message: dict[str, Any] = {
            "message_id": self._next_message, "date": int(time.time()),
            "chat": {"id": chat, "type": "private"},
            "from": BOT if bot else _user(chat, language)}
        if text is not None:
            message["text"] = text
        return message

    # -- the wire -------------------------------------------------------------------------

    async def _method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized", None)
        method = request.match_info["method"]
        fields = await _fields(request)
        self.calls.append((method, fields))
        if self.faults.get(method):
            status, description, retry_after = self.faults[method].pop(0)
            return _error(status, description, retry_after)
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            return _ok(True)
        response: web.Response = await handler(fields)
        return response

    async def _getMe(self, fields: dict[str, Any]) -> web.Response:  # noqa: N802
        return _ok(BOT)

    async def _getUpdates(self, fields: dict[str, Any]) -> web.Response:  # noqa: N802
        offset = int(fields.get("offset") or 0)
        timeout = min(float(fields.get("timeout") or 0), 1.0)
        # As the real server: an offset confirms, and forgets, every update below it.
        while self.pending and self.pending[0]["update_id"] < offset:
            self.pending.popleft()
        if not self.pending and timeout:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), timeout)
        return _ok([u for u in self.pending if u["update_id"] >= offset])

    async def _sendMessage(self, fields: dict[str, Any]) -> web.Response:  # noqa: N802
        chat = int(fields["chat_id"])
        if chat in self.blocked_chats:
            return _error(403, "Forbidden: bot was blocked by the user", None)
        markup = json.loads(fields["reply_markup"]) if fields.get("reply_markup") else None
        self._next_message += 1
        self.sent.append({"chat_id": chat, "text": fields["text"], "reply_markup": markup})
        self.received[chat] += 1
        self.received_event[chat].set()
        self._sent_event.set()
        # The sent message comes back whole, its inline keyboard included, as from Telegram.
        sent = {"message_id": self._next_message, "date": int(time.time()),
                "chat": {"id": chat, "type": "private"}, "from": BOT, "text": fields["text"]}
        if markup is not None:
            sent["reply_markup"] = markup
        return _ok(sent)

    async def _sendDocument(self, fields: dict[str, Any]) -> web.Response:  # noqa: N802
        """A new file must come as a multipart part (a string would be a file_id or a URL,
        which this fake does not know); the caption is at most 1024 characters."""
        chat = int(fields["chat_id"])
        if chat in self.blocked_chats:
            return _error(403, "Forbidden: bot was blocked by the user", None)
        document = fields.get("document")
        if not isinstance(document, dict) or not document["data"]:
            return _error(400, "Bad Request: wrong remote file identifier specified", None)
        caption = fields.get("caption", "")
        if len(caption) > 1024:
            return _error(400, "Bad Request: message caption is too long", None)
        self._next_message += 1
        self.documents.append({"chat_id": chat, "filename": document["filename"],
                               "mime_type": document["content_type"],
                               "data": document["data"], "caption": caption})
        self.received[chat] += 1
        self.received_event[chat].set()
        file_id = f"doc{self._next_message}"
        return _ok({"message_id": self._next_message, "date": int(time.time()),
                    "chat": {"id": chat, "type": "private"}, "from": BOT, "caption": caption,
                    "document": {"file_id": file_id, "file_unique_id": file_id,
                                 "file_name": document["filename"],
                                 "mime_type": document["content_type"],
                                 "file_size": len(document["data"])}})

    async def _getFile(self, fields: dict[str, Any]) -> web.Response:  # noqa: N802
        file_id = fields["file_id"]
        return _ok({"file_id": file_id, "file_unique_id": file_id,
                    "file_path": f"photos/{file_id}.png"})

    async def _file(self, request: web.Request) -> web.Response:
        name = request.match_info["path"].rsplit("/", 1)[-1].removesuffix(".png")
        if name not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[name], content_type="image/png")


def _user(chat: int, language: str = "en") -> dict[str, Any]:
    return {"id": chat, "is_bot": False, "first_name": "Test", "language_code": language}


async def _fields(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        data = await request.json()
        return {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in data.items()}
    form = await request.post()
    # A file arrives as a multipart part, as to the real server: kept with its name and type.
    return {k: {"filename": v.filename, "content_type": v.content_type,
                "data": v.file.read()} if isinstance(v, FileField) else v
            for k, v in form.items() if isinstance(v, str | FileField)}


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str, retry_after: int | None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)
