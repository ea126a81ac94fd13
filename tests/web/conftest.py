"""The web chat's test bench: the real server on a local port, the test process's chromium
(tests/conftest.py `chromium`, `browser`), a phone-sized page, and small steps that act as a
person does (tap a button, type and send)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize

from bot.server import Server
from bot.settings import Settings
from tests.clients import WebClient

#: A small phone: what most people the assistant serves use.
PHONE: ViewportSize = {"width": 360, "height": 740}
#: Bidi marks the engine puts in right-to-left text (RLM, LRM, isolates): not seen on screen.
MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u2066\u2067\u2068\u2069"))


@pytest.fixture
async def relais(tmp_path: Path) -> AsyncIterator[tuple[Server, WebClient]]:
    settings = Settings.from_mapping({"DATABASE_PATH": str(tmp_path / "web.sqlite3")})
    server = Server(settings)
    client = TestClient(TestServer(server.app(), host="127.0.0.1"))
    await client.start_server()
    yield server, client
    await client.close()


@pytest.fixture
async def client(relais: tuple[Server, WebClient]) -> WebClient:
    return relais[1]


async def phone(browser: Browser, **options: Any) -> tuple[BrowserContext, Page]:
    """A fresh phone: its own storage, nothing kept from another test's person."""
    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                        **options)
    return context, await context.new_page()


async def tap(page: Page, choice: str) -> None:
    """Tap a button of the latest message (the only live ones), by its choice id; returns
    once the assistant has answered."""
    await _answered(page, page.locator(f'.choices button[data-choice="{choice}"]:enabled').click)


async def write(page: Page, text: str) -> None:
    """Type a message and send it; returns once the assistant has answered."""
    await page.locator("#text").fill(text)
    await _answered(page, page.locator("#send").click)


async def _answered(page: Page, act: Callable[[], Awaitable[None]]) -> None:
    before = await page.locator(".bubble.bot").count()
    await act()
    # Functions, not expressions: the page's CSP forbids eval, which an expression would need.
    await page.wait_for_function("n => document.querySelectorAll('.bubble.bot').length > n",
                                 arg=before)


async def status_is(page: Page, text: str) -> None:
    """Wait until the status line says `text`."""
    await page.wait_for_function("t => document.getElementById('status').textContent === t",
                                 arg=text)


async def bot_texts(page: Page) -> list[str]:
    """What the assistant's bubbles say, without the bidi marks."""
    texts = await page.locator(".bubble.bot").evaluate_all("els => els.map(e => e.textContent)")
    return [t.translate(MARKS) for t in texts]
