"""WhatsApp (Cloud API), the receiving side: the webhook at /whatsapp/webhook.

- GET answers Meta's verification: the challenge is echoed when the verify token matches.
- POST is checked before anything else: `X-Hub-Signature-256` must be the HMAC-SHA256 of the
  raw body with the app secret (compared in constant time), else 401. Malformed JSON or an
  unexpected shape gets 400. Nothing is stored in either case.
- A valid call is answered 200 at once; its messages are handled in the background, one user's
  in order. Text, button and list replies (and taps on a template's quick replies) drive the
  conversation; an image is downloaded and read like a Telegram photo; other media get the
  engine's short answer. The same message delivered twice is answered once (conversations).
- Status callbacks (sent, delivered, read, failed) update the outbox row they name.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from aiohttp import web

from bot.channels.base import DeliveryError
from bot.channels.graph import GraphAPI
from bot.channels.whatsapp import NAME
from bot.core.exceptions import RelaisError
from bot.core.model import Inbound, InboundKind
from bot.ocr import read_screenshot
from bot.outgoing import PEER_STATUSES

log = logging.getLogger(__name__)

PATH = "/whatsapp/webhook"
Handle = Callable[[Inbound], Awaitable[object]]
RecordStatus = Callable[[str, str, str, datetime, str | None], Awaitable[bool]]

_WA_ID = re.compile(r"^[0-9]{5,20}$")
_ID = re.compile(r"^[\x21-\x7e]{1,256}$")
#: Answered with the engine's "I cannot read this" in the user's language.
MEDIA = frozenset({"audio", "video", "voice", "sticker", "document", "location", "contacts",
                   "unsupported", "order"})
#: Not messages from the user to answer: an emoji reaction, a notice about the number.
IGNORED = frozenset({"reaction", "system", "ephemeral", "request_welcome"})
#: A status callback can come before the sender recorded the message id: look again.
STATUS_RETRIES = (0.5, 1, 2, 4, 8)


class Malformed(RelaisError, ValueError):
    """The body is not a WhatsApp webhook call we understand."""


@dataclass(frozen=True)
class Received:
    user: str
    message: dict[str, Any]


@dataclass(frozen=True)
class Status:
    ref: str
    status: str
    at: datetime
    error: str | None


def signed(body: bytes, header: str, secret: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.encode())


def parse(document: Any, phone_number_id: str) -> tuple[list[Received], list[Status]]:
    """The messages and statuses of a webhook call, for our number only; Malformed when the
    shape is wrong anywhere (the whole call is refused, nothing half-handled)."""
    if not isinstance(document, dict) or not isinstance(document.get("entry"), list):
        raise Malformed("no entry list")
    messages, statuses = [], []
    for entry in document["entry"]:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            raise Malformed("an entry without changes")
        for change in changes:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                raise Malformed("a change without a value")
            metadata = value.get("metadata")
            if change.get("field") != "messages" or not isinstance(metadata, dict) or (
                    str(metadata.get("phone_number_id")) != phone_number_id):
                continue  # another number of the same app, or another subscription
            messages.extend(_messages(value.get("messages", [])))
            statuses.extend(_statuses(value.get("statuses", [])))
    return messages, statuses


def _messages(items: Any) -> list[Received]:
    if not isinstance(items, list):
        raise Malformed("messages is not a list")
    out = []
    for item in items:
        if not (isinstance(item, dict) and _WA_ID.match(str(item.get("from", "")))
                and _ID.match(str(item.get("id", ""))) and isinstance(item.get("type"), str)):
            raise Malformed("a message without from, id or type")
        out.append(Received(f"{NAME}:{item['from']}", item))
    return out


def _statuses(items: Any) -> list[Status]:
    if not isinstance(items, list):
        raise Malformed("statuses is not a list")
    out = []
    for item in items:
        if not (isinstance(item, dict) and _ID.match(str(item.get("id", "")))):
            raise Malformed("a status without an id")
        if item.get("status") not in PEER_STATUSES:
            continue  # "deleted", "warning"...: nothing to record
        try:
            at = datetime.fromtimestamp(int(item.get("timestamp", 0)), UTC)
        except (TypeError, ValueError, OverflowError) as exc:
            raise Malformed("a status with a bad timestamp") from exc
        out.append(Status(str(item["id"]), item["status"], at, _error(item.get("errors"))))
    return out


def _error(errors: Any) -> str | None:
    """The first error's code and title: WhatsApp's words, no personal data."""
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return None
    first = errors[0]
    return f"whatsapp {first.get('code')}: {str(first.get('title', ''))[:100]}"


def _choice(message: dict[str, Any]) -> str | None:
    """The id behind a tap: a reply button, a list row, or a template's quick reply."""
    if message["type"] == "interactive":
        interactive = message.get("interactive") or {}
        reply = interactive.get(interactive.get("type", ""))
        return str(reply["id"])[:64] if isinstance(reply, dict) and "id" in reply else None
    if message["type"] == "button":
        button = message.get("button") or {}
        return str(button["payload"])[:64] if isinstance(button, dict) and (
            "payload" in button) else None
    return None


class WhatsAppWebhook:
    def __init__(self, graph: GraphAPI, handle: Handle, record_status: RecordStatus, *,
                 app_secret: str, verify_token: str, phone_number_id: str) -> None:
        self.graph = graph
        self.handle = handle
        self.record_status = record_status
        self.app_secret = app_secret
        self.verify_token = verify_token
        self.phone_number_id = phone_number_id
        self._tails: dict[str, asyncio.Task[None]] = {}  # each user's last queued work
        self._tasks: set[asyncio.Task[None]] = set()  # status work, kept until done

    def register(self, app: web.Application) -> None:
        app.router.add_get(PATH, self.verify)
        app.router.add_post(PATH, self.receive)

    async def verify(self, request: web.Request) -> web.Response:
        query = request.query
        token = query.get("hub.verify_token", "")
        if query.get("hub.mode") != "subscribe" or not self.verify_token or not (
                hmac.compare_digest(token.encode(), self.verify_token.encode())):
            raise web.HTTPForbidden(text="verification failed")
        return web.Response(text=query.get("hub.challenge", ""))

    async def receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not signed(body, request.headers.get("X-Hub-Signature-256", ""), self.app_secret):
            raise web.HTTPUnauthorized(text="bad or missing X-Hub-Signature-256")
        try:
            messages, statuses = parse(json.loads(body), self.phone_number_id)
        except (ValueError, UnicodeDecodeError) as exc:  # Malformed is a ValueError too
            raise web.HTTPBadRequest(text="not a WhatsApp webhook call") from exc
        for status in statuses:
            self._spawn(self._status(status))
        by_user: dict[str, list[dict[str, Any]]] = {}
        for received in messages:
            by_user.setdefault(received.user, []).append(received.message)
        for user, items in by_user.items():
            self._queue(user, items)
        return web.Response(text="ok")

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _queue(self, user: str, items: list[dict[str, Any]]) -> None:
        """One user's messages are handled in the order they came, even across calls (an
        image being read must not be overtaken by the text sent after it)."""
        previous = self._tails.get(user)
        task = asyncio.ensure_future(self._run(previous, user, items))
        self._tails[user] = task

        def forget(done: asyncio.Task[None]) -> None:
            if self._tails.get(user) is done:
                del self._tails[user]

        task.add_done_callback(forget)

    async def _run(self, previous: asyncio.Task[None] | None, user: str,
                   items: list[dict[str, Any]]) -> None:
        if previous is not None:
            await asyncio.wait({previous})
        for item in items:
            try:
                inbound = await self._inbound(user, item)
                if inbound is not None:
                    await self.handle(inbound)
            except Exception:  # one bad message must not stop the user's next ones
                log.exception("whatsapp message failed (%s)", item.get("type"))

    async def _inbound(self, user: str, message: dict[str, Any]) -> Inbound | None:
        kind, message_id = message["type"], str(message["id"])
        if kind == "text":
            body = (message.get("text") or {}).get("body", "")
            return Inbound(user=user, message_id=message_id, kind=InboundKind.TEXT,
                           text=str(body))
        if kind in ("interactive", "button"):
            choice = _choice(message)
            if choice is not None:
                return Inbound.choice_tap(user, message_id, choice)
            return Inbound(user=user, message_id=message_id, kind=InboundKind.MEDIA,
                           media=kind)
        if kind == "image":
            return await self._image(user, message_id, message.get("image") or {})
        if kind in IGNORED:
            return None
        return Inbound(user=user, message_id=message_id, kind=InboundKind.MEDIA,
                       media=kind if kind in MEDIA else "other")

    async def _image(self, user: str, message_id: str, image: dict[str, Any]) -> Inbound:
        # Read like a Telegram photo; nothing of the image is kept, only its redacted text.
        data = b""
        try:
            data = await self.graph.media(str(image.get("id", "")))
        except DeliveryError as exc:
            log.warning("could not download an image: %s", type(exc).__name__)
        screen = await read_screenshot(data)
        payload = {} if screen.available else {"ocr": "unavailable"}
        return Inbound(user=user, message_id=message_id, kind=InboundKind.PHOTO,
                       text=screen.text, payload=MappingProxyType(payload))

    async def _status(self, status: Status) -> None:
        for delay in (0.0, *STATUS_RETRIES):
            await asyncio.sleep(delay)
            if await self.record_status(NAME, status.ref, status.status, status.at,
                                        status.error):
                return
        log.info("a %s status named no message we sent", status.status)

    async def drain(self, statuses: bool = True) -> None:
        """Wait for the messages accepted to be handled (shutdown, tests). Without
        `statuses`, status callbacks still looking for their message are given up."""
        if not statuses:
            for task in self._tasks:
                task.cancel()
        while self._tasks or self._tails:
            await asyncio.gather(*self._tasks, *self._tails.values(), return_exceptions=True)
            await asyncio.sleep(0)  # lets the done callbacks forget the finished tasks
