"""A small WhatsApp Cloud API (Graph API) server that speaks the real wire format, for tests.

The assistant talks to it as to graph.facebook.com: POST /{version}/{phone number id}/messages
with a bearer token and a JSON message; GET /{version}/{media id} answers a download URL,
fetched with the same token. Errors come as Graph errors, {"error": {"message", "type",
"code", "fbtrace_id"}}. Like Meta, it checks what it is sent: reply buttons (at most 3, titles
up to 20 characters), lists (at most 10 rows, titles up to 24, descriptions up to 72), the
24-hour rule (free-form only within 24 hours of the user's last message, else code 131047),
and templates (only approved ones, with as many values as placeholders).

It also plays Meta's side of the webhook: it builds the calls Meta would make (messages and
status callbacks, in Meta's envelope) and signs them with the app secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse, web
from aiohttp.web_request import FileField

from bot.clock import Clock
from tests.clients import WebClient

VERSION = "v25.0"
WEBHOOK = "/whatsapp/webhook"


class GraphRefusal(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def load_templates(folder: Path, languages: set[str]) -> dict[tuple[str, str], dict[str, Any]]:
    """The approved templates: the committed definitions, for the approved languages."""
    found = {}
    for path in folder.glob("relais_*.json"):
        template = json.loads(path.read_text(encoding="utf-8"))
        if template["language"] in languages:
            found[(template["name"], template["language"])] = template
    return found


@dataclass
class FakeGraphAPI:
    clock: Clock
    templates: dict[tuple[str, str], dict[str, Any]]
    token: str = "EAAG-test-token"
    phone_number_id: str = "1098765"
    app_secret: str = "app-secret-for-tests"
    verify_token: str = "verify-me-please"
    #: Every message accepted, as sent: {"id": wamid, "to", "type", "payload"}.
    sent: list[dict[str, Any]] = field(default_factory=list)
    #: Answers to the next POSTs to /messages, in order: (HTTP status, Graph code, message).
    faults: list[tuple[int, int, str]] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)  # (code, message)
    media: dict[str, bytes] = field(default_factory=dict)
    #: Files uploaded to /media (the note): media id -> (file name, type, bytes).
    uploads: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)
    downloads: list[str] = field(default_factory=list)  # media ids fetched
    #: When each user last wrote, as Meta knows it (set when a test builds their message).
    last_inbound: dict[str, datetime] = field(default_factory=dict)
    base_url: str = ""  # set once the server runs: media URLs point back to it
    _next: int = 0
    _sent_event: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{version}/{phone}/messages", self._messages)
        app.router.add_post("/{version}/{phone}/media", self._upload)
        app.router.add_get("/{version}/{media_id}", self._media_info)
        app.router.add_get("/download/{media_id}", self._download)
        return app

    # -- Meta's side of the webhook ---------------------------------------------------------

    def _id(self, prefix: str) -> str:
        self._next += 1
        return f"{prefix}.HBgLMzM2MDAwMDAwMDEVAgARGBI{self._next:06d}"

    def envelope(self, value: dict[str, Any]) -> dict[str, Any]:
        return {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398",
                "changes": [{"field": "messages", "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550783881",
                                 "phone_number_id": self.phone_number_id},
                    **value}}]}]}

    def message(self, wa_id: str, kind: str, content: dict[str, Any],
                message_id: str | None = None) -> dict[str, Any]:
        """A webhook call carrying one message from a user; Meta's 24-hour window restarts."""
        self.last_inbound[wa_id] = self.clock.now()
        item = {"from": wa_id, "id": message_id or self._id("wamid"),
                "timestamp": str(int(self.clock.now().timestamp())), "type": kind, **content}
        return self.envelope({"contacts": [{"profile": {"name": "Test"}, "wa_id": wa_id}],
                              "messages": [item]})

    def text(self, wa_id: str, body: str) -> dict[str, Any]:
        return self.message(wa_id, "text", {"text": {"body": body}})

    def button_reply(self, wa_id: str, choice: str, title: str = "…") -> dict[str, Any]:
        return self.message(wa_id, "interactive", {"interactive": {
            "type": "button_reply", "button_reply": {"id": choice, "title": title}}})

    def list_reply(self, wa_id: str, choice: str, title: str = "…") -> dict[str, Any]:
        return self.message(wa_id, "interactive", {"interactive": {
            "type": "list_reply", "list_reply": {"id": choice, "title": title}}})

    def quick_reply(self, wa_id: str, payload: str, text: str = "…") -> dict[str, Any]:
        """A tap on a template's quick-reply button."""
        return self.message(wa_id, "button", {"button": {"payload": payload, "text": text}})

    def image(self, wa_id: str, content: bytes) -> dict[str, Any]:
        media_id = str(1_000_000 + len(self.media))
        self.media[media_id] = content
        return self.message(wa_id, "image", {"image": {
            "id": media_id, "mime_type": "image/png",
            "sha256": hashlib.sha256(content).hexdigest()}})

    def media_message(self, wa_id: str, kind: str) -> dict[str, Any]:
        return self.message(wa_id, kind, {kind: {"id": "2000001", "mime_type": "audio/ogg"}})

    def status(self, wamid: str, status: str, wa_id: str, error: tuple[int, str] | None = None
               ) -> dict[str, Any]:
        item: dict[str, Any] = {"id": wamid, "status": status, "recipient_id": wa_id,
                                "timestamp": str(int(self.clock.now().timestamp()))}
        if error is not None:
            item["errors"] = [{"code": error[0], "title": error[1]}]
        return self.envelope({"statuses": [item]})

    def sign(self, raw: bytes) -> str:
        return "sha256=" + hmac.new(self.app_secret.encode(), raw, hashlib.sha256).hexdigest()

    async def deliver(self, client: WebClient, document: dict[str, Any]) -> ClientResponse:
        """POST the call to the assistant's webhook, signed as Meta signs it."""
        raw = json.dumps(document).encode()
        return await client.post(WEBHOOK, data=raw, headers={
            "Content-Type": "application/json", "X-Hub-Signature-256": self.sign(raw)})

    async def wait_sent(self, count: int, within: float = 20) -> list[dict[str, Any]]:
        deadline = time.monotonic() + within
        while len(self.sent) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"expected {count} messages, got {len(self.sent)}: "
                                     f"{[m['type'] for m in self.sent]}; refused: {self.refused}")
            self._sent_event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._sent_event.wait(), remaining)
        return self.sent

    # -- the Graph API ----------------------------------------------------------------------

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    async def _messages(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401, 190, "Invalid OAuth access token.")
        if request.match_info["phone"] != self.phone_number_id:
            return _error(400, 100, "Unsupported post request.")
        if self.faults:
            return _error(*self.faults.pop(0))
        try:
            payload = await request.json()
            self._check(payload)
        except GraphRefusal as exc:
            self.refused.append((exc.code, exc.message))
            return _error(exc.status, exc.code, exc.message)
        except ValueError:
            return _error(400, 100, "Invalid JSON")
        wamid = self._id("wamid")
        self.sent.append({"id": wamid, "to": payload["to"], "type": payload["type"],
                          "payload": payload})
        self._sent_event.set()
        return web.json_response({"messaging_product": "whatsapp",
                                  "contacts": [{"input": payload["to"],
                                                "wa_id": payload["to"]}],
                                  "messages": [{"id": wamid}]})

    def _check(self, payload: dict[str, Any]) -> None:
        if payload.get("messaging_product") != "whatsapp" or not re.fullmatch(
                r"[0-9]{5,20}", str(payload.get("to", ""))):
            raise GraphRefusal(400, 100, "Invalid parameter: messaging_product or to")
        kind = payload.get("type")
        if kind == "template":
            self._check_template(payload.get("template") or {})
            return
        last = self.last_inbound.get(payload["to"])
        if last is None or self.clock.now() - last > timedelta(hours=24):
            raise GraphRefusal(400, 131047, "Re-engagement message")
        if kind == "text":
            body = (payload.get("text") or {}).get("body", "")
            _limit(body, 1, 4096, "text.body")
        elif kind == "interactive":
            self._check_interactive(payload.get("interactive") or {})
        elif kind == "document":
            document = payload.get("document") or {}
            if document.get("id") not in self.uploads and not document.get("link"):
                raise GraphRefusal(400, 131053, "Media upload error: unknown media id")
            _limit(document.get("caption", "-"), 1, 1024, "document.caption")
        else:
            raise GraphRefusal(400, 131051, f"Unsupported message type {kind!r}")

    def _check_interactive(self, interactive: dict[str, Any]) -> None:
        _limit((interactive.get("body") or {}).get("text", ""), 1, 1024, "body.text")
        action = interactive.get("action") or {}
        if interactive.get("type") == "button":
            buttons = action.get("buttons") or []
            if not 1 <= len(buttons) <= 3:
                raise GraphRefusal(400, 100, "buttons: 1 to 3")
            titles = [b["reply"]["title"] for b in buttons]
            for title in titles:
                _limit(title, 1, 20, "button title")
            if len(set(titles)) != len(titles):
                raise GraphRefusal(400, 100, "button titles must be unique")
        elif interactive.get("type") == "list":
            _limit(action.get("button", ""), 1, 20, "list button")
            rows = [r for s in action.get("sections") or [] for r in s.get("rows") or []]
            if not 1 <= len(rows) <= 10:
                raise GraphRefusal(400, 100, "rows: 1 to 10")
            for row in rows:
                _limit(row.get("title", ""), 1, 24, "row title")
                _limit(row.get("description", "-"), 1, 72, "row description")
            if len({r["id"] for r in rows}) != len(rows):
                raise GraphRefusal(400, 100, "row ids must be unique")
        else:
            raise GraphRefusal(400, 100, "interactive type")

    def _check_template(self, template: dict[str, Any]) -> None:
        key = (template.get("name", ""), (template.get("language") or {}).get("code", ""))
        approved = self.templates.get(key)
        if approved is None:
            raise GraphRefusal(404, 132001, "Template name does not exist in the translation")
        body = next(c for c in approved["components"] if c["type"] == "BODY")["text"]
        expected = len(set(re.findall(r"\{\{(\d+)\}\}", body)))
        components = template.get("components") or []
        given = [p for c in components if c.get("type") == "body" for p in c["parameters"]]
        if len(given) != expected or not all(p.get("text") for p in given):
            raise GraphRefusal(400, 132000, "Number of parameters does not match")
        buttons = [b for c in approved["components"] if c["type"] == "BUTTONS"
                   for b in c["buttons"]]
        taps = [c for c in components if c.get("type") == "button"]
        if len(taps) > len(buttons) or any(c.get("sub_type") != "quick_reply" for c in taps):
            raise GraphRefusal(400, 132000, "Button parameters do not match")

    async def _upload(self, request: web.Request) -> web.Response:
        """POST /{phone}/media, multipart: messaging_product, type and the file itself."""
        if not self._authorised(request):
            return _error(401, 190, "Invalid OAuth access token.")
        if request.match_info["phone"] != self.phone_number_id:
            return _error(400, 100, "Unsupported post request.")
        if not request.content_type.startswith("multipart/"):
            return _error(400, 100, "The parameter file is required.")
        form = await request.post()
        upload = form.get("file")
        if form.get("messaging_product") != "whatsapp" or not isinstance(upload, FileField):
            return _error(400, 100, "The parameter messaging_product and file are required.")
        if form.get("type") != upload.content_type:
            return _error(400, 100, "Param type must match the file's type")
        media_id = self._id("media")
        self.uploads[media_id] = (upload.filename, upload.content_type, upload.file.read())
        return web.json_response({"id": media_id})

    async def _media_info(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401, 190, "Invalid OAuth access token.")
        media_id = request.match_info["media_id"]
        if media_id not in self.media:
            return _error(400, 100, "Unsupported get request.")
        content = self.media[media_id]
        return web.json_response({
            "messaging_product": "whatsapp", "id": media_id, "mime_type": "image/png",
            "sha256": hashlib.sha256(content).hexdigest(), "file_size": len(content),
            "url": f"{self.base_url}/download/{media_id}?ext=1&hash=abc"})

    async def _download(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.Response(status=401)
        media_id = request.match_info["media_id"]
        self.downloads.append(media_id)
        return web.Response(body=self.media[media_id], content_type="image/png")


def _limit(text: Any, low: int, high: int, what: str) -> None:
    if not isinstance(text, str) or not low <= len(text) <= high:
        raise GraphRefusal(400, 100, f"{what}: {low} to {high} characters")


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response({"error": {"message": message, "type": "OAuthException",
                                        "code": code, "fbtrace_id": "AbCdEf"}}, status=status)

