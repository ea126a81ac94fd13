"""`/delete` in the web chat erases both copies of the conversation: the server's (every row,
and the socket) and the browser's (the log and the token: people share phones, and the next
visit must be a new person). The page shows the goodbye, then says the copy is gone."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import WSMsgType
from playwright.async_api import Browser

from bot.channels.webchat import ERASED
from bot.core.model import Inbound
from bot.server import Server
from tests.clients import WebClient
from tests.web.conftest import MARKS, bot_texts, phone, status_is, tap, write

pytestmark = pytest.mark.slow

ERASED_NOTE = "گفتگوی ما از این موبایل یا کمپیوتر هم پاک شد."


async def _rows_left(server: Server) -> dict[str, Any]:
    stats = await server.runtime.storage.stats()
    return {table: count for table, count in stats.items() if count}


async def _until(condition: Callable[[], Awaitable[bool] | bool]) -> None:
    """Polls for up to 15 seconds: the sender and the sockets are quick, the machine that
    runs the suite may be busy."""
    for _ in range(300):
        result = condition()
        if await result if inspect.isawaitable(result) else result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("still not so after 15 seconds")


async def _until_nothing_left(server: Server) -> None:
    """The goodbye's outbox row goes once delivered (a few sender ticks), and the sockets
    once closed: then nothing about the user is left."""
    async def nothing_left() -> bool:
        return not await _rows_left(server) and not server.webchat.sockets
    try:
        await _until(nothing_left)
    except AssertionError:
        raise AssertionError(f"still kept: {await _rows_left(server)}, "
                             f"{len(server.webchat.sockets)} sockets") from None


async def test_delete_empties_the_page_the_browser_and_the_server(
        relais: tuple[Server, WebClient], browser: Browser) -> None:
    server, client = relais
    context, page = await phone(browser)
    await page.goto(str(client.make_url("/")))
    await tap(page, "fa_af")
    await tap(page, "agree")
    await write(page, "۱۲/۰۳/۲۰۳۰")  # something personal the page keeps: a date
    old_token = await page.evaluate("localStorage.getItem('relais.token')")
    assert "۱۲/۰۳/۲۰۳۰" in await page.evaluate("localStorage.getItem('relais.log')")
    await write(page, "/delete")
    await page.locator('.choices button[data-choice="erase"]:enabled').click()
    await status_is(page, ERASED_NOTE)

    # The page: only the goodbye, in Dari, right to left.
    engine = server.runtime.engine
    goodbye = engine.speaker.translator.render(engine.flows["system"].states["deleted"].say[0],
                                       "fa_AF").text
    assert await bot_texts(page) == [goodbye.translate(MARKS)]
    assert await page.locator(".bubble").count() == 1
    assert await page.evaluate("document.documentElement.dir") == "rtl"
    # The browser: nothing of the conversation, not even the token.
    assert await page.evaluate("Object.keys(localStorage)") == []
    # The server: no row about them, no open socket.
    await _until_nothing_left(server)

    # Writing again is a new person: a new token, a new conversation.
    await page.locator("#text").fill("سلام")
    await page.locator("#send").click()
    await page.locator(".bubble.me + .bubble.bot").wait_for()  # answered, on a new page
    new_token = await page.evaluate("localStorage.getItem('relais.token')")
    assert new_token
    assert new_token != old_token
    assert await page.locator(".bubble").first.inner_text() == "سلام"
    assert "۱۲/۰۳/۲۰۳۰" not in await page.evaluate("localStorage.getItem('relais.log')")
    await context.close()


async def test_a_goodbye_that_waited_still_clears_the_browser(
        relais: tuple[Server, WebClient], browser: Browser) -> None:
    """The user confirmed and closed the page at once: the goodbye waits in the outbox, and
    the browser's copy is cleared when the page opens again."""
    server, client = relais
    context, page = await phone(browser)
    await page.goto(str(client.make_url("/")))
    await tap(page, "en")
    await tap(page, "agree")
    await write(page, "/delete")
    token = await page.evaluate("localStorage.getItem('relais.token')")
    await page.close()
    await _until(lambda: not server.webchat.sockets)
    # The tap on "Yes, erase everything" arrives as the page closes (a phone's flaky network).
    await server.handle(Inbound.choice_tap(f"web:{token}", "m-erase", "erase"))
    assert await _rows_left(server) == {"outbox": 1}  # the goodbye, waiting for them
    page = await context.new_page()  # same browser, same storage: the old conversation
    await page.goto(str(client.make_url("/")))
    await status_is(page, "Our conversation is also deleted from this device.")
    assert await page.evaluate("Object.keys(localStorage)") == []
    await _until_nothing_left(server)
    await context.close()


async def test_the_socket_says_farewell_then_closes(relais: tuple[Server, WebClient]) -> None:
    server, client = relais
    ws = await client.ws_connect("/chat/ws?token=" + "d" * 32)
    for frame in ({"type": "text", "id": "m1", "text": "/start"},
                  {"type": "choice", "id": "m2", "choice": "fr"},
                  {"type": "text", "id": "m3", "text": "/delete"},
                  {"type": "choice", "id": "m4", "choice": "erase"}):
        await ws.send_str(json.dumps(frame))
    kinds = []
    while True:
        message = await ws.receive(timeout=10)
        if message.type is not WSMsgType.TEXT:
            break
        frame = json.loads(message.data)
        if frame["type"] == "message":
            kinds.append(frame["kind"])
    assert message.type is WSMsgType.CLOSE
    assert ws.close_code == ERASED
    assert kinds[-1] == "farewell"
    assert "farewell" not in kinds[:-1]
    await _until_nothing_left(server)
