"""Telegram end to end: the real aiogram against the project's fake Bot API server, in
polling and in webhook mode, through the real server, storage, outbox and sender."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiogram.exceptions import TelegramConflictError
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.channels.base import PermanentFailure, RecipientBlocked, TemporaryFailure
from bot.channels.telegram import (
    BUTTON_TEXT,
    TelegramChannel,
    TelegramInbound,
    TelegramPolling,
    bot_api_failure,
    button_text,
    make_bot,
)
from bot.core.model import Inbound, MessageKind
from bot.server import WEBHOOK_PATH, Server
from bot.settings import Settings
from bot.storage.base import OutboxMessage
from tests.clients import WebClient
from tests.conftest import NOW
from tests.fakes.bot_api import FakeBotAPI
from tests.test_ocr import SCREENS, screenshot

pytestmark = pytest.mark.slow
CHAT = 5550001


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeBotAPI, TestServer]]:
    api = FakeBotAPI()
    server = TestServer(api.app())
    await server.start_server()
    yield api, server
    await server.close()


async def _start(fake: tuple[FakeBotAPI, TestServer], tmp_path: Path, port: int | None = None,
                 **extra: str) -> tuple[Server, WebClient]:
    api, api_server = fake
    settings = Settings.from_mapping({
        "DATABASE_PATH": str(tmp_path / "tg.sqlite3"),
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE": str(api_server.make_url("")).rstrip("/"),
        **extra,
    })
    server = Server(settings)
    client = TestClient(TestServer(server.app(), port=port))
    await client.start_server()
    return server, client


async def _all_sent(server: Server) -> None:
    """Until nothing is left in the outbox to send: each turn the updates caused is stored
    (the webhook answered), so any reply it wrote has gone out then."""
    for _ in range(200):
        if await server.runtime.storage.pending_count() == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("messages still waiting after 10 s")


def buttons(message: dict[str, Any]) -> list[str]:
    markup = message["reply_markup"] or {"inline_keyboard": []}
    return [row[0]["callback_data"] for row in markup["inline_keyboard"]]


def button_texts(message: dict[str, Any]) -> list[str]:
    return [row[0]["text"] for row in message["reply_markup"]["inline_keyboard"]]


def test_a_long_button_keeps_its_number_and_closes_its_isolates() -> None:
    label = "\u200fد " + "\u2068numéro étranger\u2069 " * 6 + "زیاتول"
    shown = button_text(3, label, "ps")
    # Shortened, it first loses the RLM it does not need (its first letter is Pashto anyway).
    assert shown.startswith("۳. د ")
    assert shown.endswith("…")
    assert len(shown) <= BUTTON_TEXT
    assert shown.count("\u2068") == shown.count("\u2069")
    assert button_text(12, "Menu", "fr") == "12. Menu"


async def test_a_conversation_by_polling(fake: tuple[FakeBotAPI, TestServer],
                                         tmp_path: Path) -> None:
    api, _ = fake
    # Telegram's one message a second per chat is the sender's to keep (tests/test_sender.py);
    # held here, the conversation's eleven messages would take eleven seconds.
    _server, client = await _start(fake, tmp_path, TELEGRAM_CHAT_INTERVAL="0.05")
    try:
        api.text(CHAT, "/start", language="ps")
        sent = await api.wait_sent(1)
        assert buttons(sent[0]) == ["keep", "change"]  # greeted in the app's language, Pashto
        api.tap(CHAT, "keep")
        sent = await api.wait_sent(4)
        assert buttons(sent[-1]) == ["agree", "decline"]
        assert sent[-1]["text"].startswith("\u200f")  # right-to-left, marked
        # Each button shows the number one may type instead, in Persian digits for Pashto.
        assert button_texts(sent[-1]) == ["\u200f۱. زه موافق یم", "\u200f۲. نه، مننه"]
        api.tap(CHAT, "agree")
        sent = await api.wait_sent(6)
        assert "renew_api" in buttons(sent[-1])
        api.tap(CHAT, "renew_api")
        await api.wait_sent(7)
        api.text(CHAT, "۱۲/۰۳/۲۰۳۰")  # typed in Persian digits
        sent = await api.wait_sent(9)
        assert "12/03/2030" in sent[-2]["text"]
        api.photo(CHAT, screenshot(SCREENS["login_loop"], busy=True))
        sent = await api.wait_sent(10)
        assert buttons(sent[-1]) == ["yes", "no"]
        api.sticker(CHAT)
        sent = await api.wait_sent(11)
        assert buttons(sent[-1]) == ["yes", "no"]  # the same question again, after the answer
        methods = {m for m, _ in api.calls}
        assert {"getUpdates", "sendMessage", "answerCallbackQuery", "setMyCommands",
                "getFile"} <= methods
        languages = {f.get("language_code") for m, f in api.calls if m == "setMyCommands"}
        assert {"fa", "ps", "ar", "fr", "en"} <= languages
    finally:
        await client.close()


async def test_429_then_success_and_403_blocked(fake: tuple[FakeBotAPI, TestServer],
                                                tmp_path: Path) -> None:
    api, _ = fake
    server, client = await _start(fake, tmp_path)
    try:
        api.faults["sendMessage"].append((429, "Too Many Requests: retry after 1", 1))
        api.text(CHAT, "/start", language="de")
        sent = await api.wait_sent(1, within=20)
        assert buttons(sent[0])[0] == "fr"
        assert [m for m, _ in api.calls].count("sendMessage") >= 2  # refused once, then sent
        api.blocked_chats.add(CHAT + 1)
        api.text(CHAT + 1, "/start")
        for _ in range(100):
            if not await server.runtime.storage.is_reachable(f"telegram:{CHAT + 1}"):
                break
            await asyncio.sleep(0.1)
        assert not await server.runtime.storage.is_reachable(f"telegram:{CHAT + 1}")
    finally:
        await client.close()


async def test_webhook_checks_the_secret_and_answers_an_update_once(
        fake: tuple[FakeBotAPI, TestServer], tmp_path: Path) -> None:
    api, _ = fake
    server, client = await _start(fake, tmp_path, TELEGRAM_MODE="webhook",
                                  TELEGRAM_WEBHOOK_URL="https://relais.example.org/telegram/webhook",
                                  TELEGRAM_WEBHOOK_SECRET="s3cret-token")
    try:
        assert any(m == "setWebhook" for m, _ in api.calls)
        update = api.text(CHAT, "/start")
        wrong = await client.post(WEBHOOK_PATH, json=update,
                                  headers={"X-Telegram-Bot-Api-Secret-Token": "guess"})
        assert wrong.status == 401
        missing = await client.post(WEBHOOK_PATH, json=update)
        assert missing.status == 401
        await asyncio.sleep(0.5)
        assert (await server.runtime.storage.stats())["users"] == 0  # nothing stored
        headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
        for _ in range(2):  # Telegram delivers the same update twice
            ok = await client.post(WEBHOOK_PATH, json=update, headers=headers)
            assert ok.status == 200
        await api.wait_sent(1)
        await _all_sent(server)  # a second reply would have gone by now
        assert len(api.sent) == 1
        health = await (await client.get("/health")).json()
        assert health["status"] == "ok"
        assert health["channels"] == ["telegram", "web"]
    finally:
        await client.close()


async def test_webhook_delivery_answers_once_stored_and_a_failed_turn_comes_again(
        fake: tuple[FakeBotAPI, TestServer], tmp_path: Path) -> None:
    """Webhook mode as Telegram runs it: the fake POSTs each update to the address the server
    gave in setWebhook, with the secret. The server answers 200 only once the turn is stored
    (Telegram then forgets the update); when the turn fails it answers 500, Telegram keeps the
    update (getWebhookInfo shows it, with the error) and sends it again until it is stored."""
    api, _ = fake
    api.webhook_retry = 0.1
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    server, client = await _start(fake, tmp_path, port=port, TELEGRAM_MODE="webhook",
                                  TELEGRAM_WEBHOOK_URL=url, TELEGRAM_WEBHOOK_SECRET="s3cret-token")
    assert server.bot is not None
    try:
        assert api.webhook is not None
        assert (api.webhook.url, api.webhook.secret_token) == (url, "s3cret-token")
        api.text(CHAT, "/start", language=None)  # no app language: the languages are offered
        await api.wait_delivered()
        assert (await server.runtime.storage.stats())["users"] == 1  # stored when answered
        await api.wait_sent(1)

        await server.runtime.storage.close()  # the database is away: the turn fails
        tap = api.tap(CHAT, "en")
        for _ in range(100):
            if len([d for d in api.deliveries if d.update_id == tap["update_id"]]) >= 2:
                break
            await asyncio.sleep(0.05)
        info = await server.bot.get_webhook_info()
        assert info.url == url
        assert info.pending_update_count == 1
        assert info.last_error_message == ("Wrong response from the webhook: 500 "
                                           "Internal Server Error")
        with pytest.raises(TelegramConflictError):  # no polling while a webhook is set
            await server.bot.get_updates()

        await server.runtime.storage.open()
        await api.wait_delivered()
        tries = [d.status for d in api.deliveries if d.update_id == tap["update_id"]]
        assert tries[-1] == 200
        assert set(tries[:-1]) == {500}
        await api.wait_sent(4)  # the language chosen: three messages, once
        await _all_sent(server)
        assert len(api.sent) == 4
    finally:
        await client.close()


@pytest.mark.parametrize(("status", "answer", "kind", "retry_after"), [
    (429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 7",
           "parameters": {"retry_after": 7}}, TemporaryFailure, 7),
    (403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the "
           "user"}, RecipientBlocked, None),
    (400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
     PermanentFailure, None),
    (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}, TemporaryFailure,
     None),
    (500, {}, TemporaryFailure, None),  # no Bot API body: the HTTP status decides
])
def test_bot_api_errors_become_the_senders_vocabulary(
        status: int, answer: dict[str, Any], kind: type[Exception], retry_after: int | None
        ) -> None:
    failure = bot_api_failure(status, answer)
    assert type(failure) is kind
    if isinstance(failure, TemporaryFailure):
        assert failure.retry_after == retry_after


async def test_a_page_that_is_not_the_bot_api_is_tried_again_later(tmp_path: Path) -> None:
    """A proxy's HTML error page instead of the Bot API's JSON: a temporary failure."""
    async def proxy(request: web.Request) -> web.Response:
        return web.Response(status=502, text="<html>Bad Gateway</html>",
                            content_type="text/html")

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", proxy)
    server = TestServer(app)
    await server.start_server()
    bot = make_bot("123456:TEST", str(server.make_url("")).rstrip("/"))
    try:
        message = OutboxMessage(id=1, user=f"telegram:{CHAT}", kind=MessageKind.REPLY,
                                locale="ar", text="مرحبا", choices=(), created_at=NOW,
                                attempts=1)
        with pytest.raises(TemporaryFailure):
            await TelegramChannel(bot).send(message)
    finally:
        await bot.session.close()
        await server.close()


class FlakyTurns:
    """The turns as the poller sees them: each new message id is stored once; a message
    whose text is in `failing` fails that many times first (the database away, say)."""

    def __init__(self, failing: dict[str, int]) -> None:
        self.failing = dict(failing)
        self.tries: Counter[str] = Counter()
        self.stored: list[tuple[str, str]] = []  # (user, text), in the order stored
        self._seen: set[tuple[str, str]] = set()

    async def __call__(self, inbound: Inbound) -> None:
        self.tries[inbound.text] += 1
        if self.failing.get(inbound.text, 0) > 0:
            self.failing[inbound.text] -= 1
            raise RuntimeError("the turn was not stored")
        if (inbound.user, inbound.message_id) not in self._seen:  # as the inbound ids do
            self._seen.add((inbound.user, inbound.message_id))
            self.stored.append((inbound.user, inbound.text))


async def _poll(fake: tuple[FakeBotAPI, TestServer], turns: FlakyTurns, tries: int,
                stored: int) -> TelegramPolling:
    """Polls the fake with these turns until `stored` messages are stored and every update
    is confirmed (Telegram forgets it); the poller, stopped."""
    api, server = fake
    bot = make_bot(api.token, str(server.make_url("")).rstrip("/"))
    polling = TelegramPolling(bot, TelegramInbound(bot, turns).dispatcher(), timeout=1,
                              tries=tries, backoff=0.01)
    stop = asyncio.Event()
    task = asyncio.create_task(polling.run(stop))
    try:
        async with asyncio.timeout(20):
            while True:
                if len(turns.stored) >= stored and not api.pending:
                    break
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        await task
        await bot.session.close()
    return polling


async def test_polling_fetches_again_an_update_whose_turn_failed(
        fake: tuple[FakeBotAPI, TestServer]) -> None:
    api, _ = fake
    api.text(CHAT, "one")
    api.text(CHAT, "two")
    api.text(CHAT + 1, "other")
    turns = FlakyTurns({"one": 2})
    polling = await _poll(fake, turns, tries=5, stored=3)
    # "one" came three times and was stored at the third, before "two" came at all. The other
    # chat's update, later than "one", came with it each time, and was stored once.
    assert turns.tries == Counter({"one": 3, "two": 1, "other": 3})
    assert sorted(turns.stored) == [(f"telegram:{CHAT}", "one"), (f"telegram:{CHAT}", "two"),
                                    (f"telegram:{CHAT + 1}", "other")]
    mine = [text for user, text in turns.stored if user == f"telegram:{CHAT}"]
    assert mine == ["one", "two"]
    assert polling.skipped == 0


async def test_polling_skips_an_update_that_always_fails_and_says_so_without_its_text(
        fake: tuple[FakeBotAPI, TestServer], caplog: pytest.LogCaptureFixture) -> None:
    api, _ = fake
    api.text(CHAT, "poison")
    api.text(CHAT, "after")
    turns = FlakyTurns({"poison": 99})
    with caplog.at_level(logging.INFO):
        polling = await _poll(fake, turns, tries=3, stored=1)
    assert turns.tries["poison"] == 3  # then given up: the chat goes on
    assert turns.stored == [(f"telegram:{CHAT}", "after")]
    assert polling.skipped == 1
    assert "failed 3 times and is skipped" in caplog.text
    assert "poison" not in caplog.text
    assert str(CHAT) not in caplog.text
