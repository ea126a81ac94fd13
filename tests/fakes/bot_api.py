"""A small Telegram Bot API server that speaks the real wire protocol, for tests.

aiogram talks to it as to api.telegram.org: POST /bot<token>/<method> with form-encoded (or
multipart) fields, nested objects as JSON strings; every answer is {"ok": true, "result": ...}
or {"ok": false, "error_code": ..., "description": ..., "parameters": {...}} with the HTTP
status equal to the error code. Tests push updates, read what the bot sent, and queue faults.

Updates reach the bot as they reach it from Telegram: by `getUpdates` (an offset confirms
the updates below it), or, once `setWebhook` is called, by webhook: each update POSTed as JSON
to the url, with the `X-Telegram-Bot-Api-Secret-Token` header when a secret was set. As
Telegram does, the next update of a chat waits until the bot answered the previous one (chats
go side by side, at most `max_connections` at once); an update whose POST fails (connection
refused, a timeout, any status other than 2xx) is sent again, later, until it is accepted;
`getWebhookInfo` shows the updates waiting and the last error; `getUpdates` is refused while
a webhook is set. Unlike Telegram, any http(s) url and port is accepted (tests listen on
127.0.0.1), and a method returned in the webhook's answer is not run (Relais answers none).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientConnectorError, ClientError, ClientSession, ClientTimeout, web
from aiohttp.web_request import FileField

BOT = {"id": 42, "is_bot": True, "first_name": "Relais", "username": "relais_test_bot"}
#: The Bot API's rule for a webhook's secret token.
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class Webhook:
    url: str
    secret_token: str = ""
    max_connections: int = 40  # Telegram's default
    allowed_updates: tuple[str, ...] = ()  # empty: every kind of update


@dataclass(frozen=True)
class Delivery:
    """One POST of an update to the webhook: the HTTP status, or what went wrong."""

    update_id: int
    chat: int
    status: int | None
    error: str | None


@dataclass
class FakeBotAPI:
    token: str = "123456:TEST"
    updates: list[dict[str, Any]] = field(default_factory=list)  # every update pushed
    pending: deque[dict[str, Any]] = field(default_factory=deque)  # not yet confirmed
    sent: list[dict[str, Any]] = field(default_factory=list)
    sent_times: list[float] = field(default_factory=list)  # time.monotonic() of each sent
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
    webhook: Webhook | None = None
    #: Seconds Telegram waits for the webhook's answer before counting the POST as failed.
    webhook_timeout: float = 60.0
    #: Seconds before a failed update is sent again, doubling after each failure up to the max.
    webhook_retry: float = 0.5
    webhook_retry_max: float = 8.0
    deliveries: list[Delivery] = field(default_factory=list)  # every POST to the webhook
    last_error_date: int | None = None
    last_error_message: str | None = None
    _next_update: int = 1
    _next_message: int = 1000
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _sent_event: asyncio.Event = field(default_factory=asyncio.Event)
    #: Webhook mode: each chat's updates not yet accepted, in order, and the task sending them.
    _queues: dict[int, deque[dict[str, Any]]] = field(default_factory=dict)
    _workers: dict[int, asyncio.Task[None]] = field(default_factory=dict)
    _connections: asyncio.Semaphore | None = None
    _client: ClientSession | None = None
    _accepted: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._method)
        app.router.add_get("/file/bot{token}/{path:.*}", self._file)
        app.on_cleanup.append(self._close)
        return app

    async def _close(self, app: web.Application) -> None:
        await self._stop_delivering()
        if self._client is not None:
            await self._client.close()

    # -- what tests do ------------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self._next_update, **update}
        self._next_update += 1
        self.updates.append(update)
        if self.webhook is not None:
            self._queue(update)
        else:
            self.pending.append(update)
            self._arrived.set()
        return update

    @property
    def pending_update_count(self) -> int:
        return len(self.pending) + sum(len(q) for q in self._queues.values())

    async def wait_delivered(self, within: float = 30) -> None:
        """Until every update pushed so far was accepted by the webhook."""
        deadline = time.monotonic() + within
        while self.pending_update_count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{self.pending_update_count} updates still waiting; "
                                     f"last webhook error: {self.last_error_message}")
            self._accepted.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._accepted.wait(), min(remaining, 0.5))

    def text(self, chat: int, text: str, language: str | None = "en") -> dict[str, Any]:
        """`language`: the user's app language (None: Telegram did not say, it may not)."""
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

    def _message(self, chat: int, text: str | None = None, language: str | None = "en",
                 bot: bool = False) -> dict[str, Any]:
        self._next_message += 1
        message: dict[str, Any] = {
            "message_id": self._next_message, "date": int(time.time()),
            "chat": {"id": chat, "type": "private"},
            "from": BOT if bot else _user(chat, language)}
        if text is not None:
            message["text"] = text
        return message

    # -- webhook delivery -------------------------------------------------------------------

    def _queue(self, update: dict[str, Any]) -> None:
        assert self.webhook is not None
        kind = next(k for k in update if k != "update_id")
        if self.webhook.allowed_updates and kind not in self.webhook.allowed_updates:
            return  # not asked for: Telegram does not keep it either
        chat = _chat_of(update[kind])
        self._queues.setdefault(chat, deque()).append(update)
        if chat not in self._workers:
            self._workers[chat] = asyncio.create_task(self._deliver_chat(chat))

    async def _deliver_chat(self, chat: int) -> None:
        """A chat's updates one after the other: the next waits for the bot's 2xx."""
        queue = self._queues[chat]
        delay = self.webhook_retry
        while queue:
            assert self._connections is not None
            async with self._connections:
                error = await self._post(chat, queue[0])
            if error is None:
                queue.popleft()
                self._accepted.set()
                delay = self.webhook_retry
                continue
            self.last_error_date = int(time.time())
            self.last_error_message = error
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.webhook_retry_max)
        # No await since the loop's test: an update pushed meanwhile found this worker.
        del self._queues[chat]
        del self._workers[chat]

    async def _post(self, chat: int, update: dict[str, Any]) -> str | None:
        """One POST of the update; None when accepted, else the error as getWebhookInfo
        words it."""
        assert self.webhook is not None
        if self._client is None:
            self._client = ClientSession()
        headers = {SECRET_HEADER: self.webhook.secret_token} if self.webhook.secret_token else {}
        status: int | None = None
        error: str | None = None
        try:
            async with self._client.post(self.webhook.url, json=update, headers=headers,
                                         timeout=ClientTimeout(total=self.webhook_timeout)
                                         ) as response:
                await response.read()
                status = response.status
                if not 200 <= status < 300:
                    error = f"Wrong response from the webhook: {status} {response.reason}"
        except TimeoutError:
            error = "Read timeout expired"
        except ClientConnectorError:
            error = "Connection refused"
        except ClientError as exc:
            error = f"Connection error: {type(exc).__name__}"
        self.deliveries.append(Delivery(update["update_id"], chat, status, error))
        return error

    async def _stop_delivering(self) -> None:
        """The webhook is removed: updates not yet accepted wait for getUpdates, in order."""
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        left = [u for q in self._queues.values() for u in q]
        self._queues.clear()
        self._workers.clear()
        self.pending = deque(sorted([*self.pending, *left], key=lambda u: u["update_id"]))

    async def _setWebhook(self, fields: dict[str, Any]) -> web.Response:  # noqa: N802
        url = str(fields.get("url") or "")
        if not url:
            return await self._deleteWebhook(fields)
        if not url.startswith(("http://", "https://")):
            return _error(400, "Bad Request: bad webhook: An HTTPS URL must be provided for "
                               "webhook", None)
        secret = str(fields.get("secret_token") or "")
        if secret and not SECRET_TOKEN.fullmatch(secret):
            return _error(400, "Bad Request: secret token contains unallowed characters", None)
        connections = int(fields.get("max_connections") or 40)
        if not 1 <= connections <= 100:
            return _error(400, "Bad Request: bad webhook: max_connections must be 1-100", None)
        allowed = fields.get("allowed_updates")
        previous = self.webhook.allowed_updates if self.webhook else ()
        kinds = tuple(json.loads(allowed)) if allowed else previous  # not given: kept
        if _true(fields.get("drop_pending_updates")):
            await self._stop_delivering()
            self.pending.clear()
        if self.webhook is None or connections != self.webhook.max_connections:
            self._connections = asyncio.Semaphore(connections)
        self.webhook = Webhook(url, secret, connections, kinds)
        while self.pending:  # what getUpdates had not confirmed now goes to the webhook
            self._queue(self.pending.popleft())
        return _ok(True, "Webhook was set")

    async def _deleteWebhook(self, fields: dict[str, Any]) -> web.Response:  # noqa: N802
        was_set = self.webhook is not None
        self.webhook = None
        await self._stop_delivering()
        if _true(fields.get("drop_pending_updates")):
            self.pending.clear()
        return _ok(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    async def _getWebhookInfo(self, fields: dict[str, Any]) -> web.Response:  # noqa: N802
        info: dict[str, Any] = {"url": self.webhook.url if self.webhook else "",
                                "has_custom_certificate": False,
                                "pending_update_count": self.pending_update_count}
        if self.webhook is not None:
            info["max_connections"] = self.webhook.max_connections
            if self.webhook.allowed_updates:
                info["allowed_updates"] = list(self.webhook.allowed_updates)
        if self.last_error_date is not None:
            info["last_error_date"] = self.last_error_date
            info["last_error_message"] = self.last_error_message
        return _ok(info)

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
        if self.webhook is not None:
            return _error(409, "Conflict: can't use getUpdates method while webhook is "
                               "active; use deleteWebhook to delete the webhook first", None)
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
        self.sent_times.append(time.monotonic())
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


def _chat_of(update: dict[str, Any]) -> int:
    """The chat an update belongs to (its message's, else its sender's)."""
    message = update.get("message") if "message" in update else update
    if isinstance(message, dict) and "chat" in message:
        return int(message["chat"]["id"])
    return int(update["from"]["id"])


def _true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _user(chat: int, language: str | None = "en") -> dict[str, Any]:
    user: dict[str, Any] = {"id": chat, "is_bot": False, "first_name": "Test"}
    if language is not None:
        user["language_code"] = language
    return user


async def _fields(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        data = await request.json()
        return {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in data.items()}
    form = await request.post()
    # A file arrives as a multipart part, as to the real server: kept with its name and type.
    return {k: {"filename": v.filename, "content_type": v.content_type,
                "data": v.file.read()} if isinstance(v, FileField) else v
            for k, v in form.items() if isinstance(v, str | FileField)}


def _ok(result: Any, description: str | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": True, "result": result}
    if description is not None:
        body["description"] = description
    return web.json_response(body)


def _error(status: int, description: str, retry_after: int | None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)
