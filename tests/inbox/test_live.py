"""The caseworker sees what is new: a message the person writes appears in the open case page
without a reload (Server-Sent Events and the static script, under the strict CSP), the list's
unread count goes down once the case is read, and a new case appears in the list."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import Browser

from bot.clock import ManualClock
from bot.inbox import inbox_routes
from bot.inbox.live import Live
from bot.storage.cases import CaseStore
from tests.conftest import NOW
from tests.inbox.conftest import (
    CANNED,
    PASSWORD,
    Recorder,
    console_errors,
    login,
    new_case,
    organisation,
    sign_in,
    worker,
)

pytestmark = pytest.mark.slow


async def test_new_messages_and_cases_appear_without_reloading(
        store: CaseStore, act: Recorder, clock: ManualClock, browser: Browser) -> None:
    app = web.Application()
    live = inbox_routes(app, store, act, CANNED, clock.now, live=Live())
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    org = await organisation(store, "Cimade")
    await worker(store, org, "anne@example.org")
    user = "telegram:live"
    case_id = await new_case(store, user, at=NOW - timedelta(hours=2))
    async with store.storage.transaction() as tx:
        await tx.append_transcript(user, "in", "Bonjour, j'ai besoin d'aide", NOW)
        await tx.append_transcript(user, "in", "Mon API a expiré hier", NOW)

    page = await browser.new_page()
    errors = console_errors(page)
    await page.goto(str(client.make_url("/inbox/login")))
    await sign_in(page, "anne@example.org", PASSWORD)
    assert await page.locator(".unread-count").inner_text() == "2 messages non lus"

    await page.locator("ol.cases li a").first.click()
    assert await page.locator(".transcript li.new").count() == 2  # never seen before
    await page.locator(".live.connected").wait_for()  # the stream is open
    async with store.storage.transaction() as tx:
        await tx.append_transcript(user, "in", "Vous êtes là ?", NOW + timedelta(minutes=1))
    live.changed()  # what the server does after every committed turn
    fresh = page.locator(".transcript li.new", has_text="Vous êtes là ?")
    await fresh.wait_for(timeout=5000)
    assert "nouveau" in await fresh.locator(".who").inner_text()

    await page.get_by_role("link", name="← Tous les cas").click()
    await page.locator("ol.cases li a").first.wait_for()
    assert await page.locator(".unread-count").count() == 0  # everything was read
    await page.locator(".live.connected").wait_for()
    second = await new_case(store, "web:another", api_end="2026-03-01")
    live.changed()
    await page.locator(f'a[href="/inbox/cases/{second}"]').wait_for(timeout=5000)
    assert await page.locator("ol.cases li a").count() == 2
    await page.reload()  # a reload shows the same: the read marks are kept
    assert await page.locator(".unread-count").all_inner_texts() == []
    await page.close()  # and its context
    await client.close()
    assert errors == []  # no CSP violation: the script is a static file
    assert case_id != second


async def test_the_event_stream_says_changes_and_ends_when_the_server_stops(
        store: CaseStore, act: Recorder, clock: ManualClock) -> None:
    app = web.Application()
    live = inbox_routes(app, store, act, CANNED, clock.now, live=Live())
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    org = await organisation(store, "Cimade")
    await worker(store, org, "anne@example.org")
    await login(client, "anne@example.org", PASSWORD)
    stream = await client.get("/inbox/events")
    assert stream.headers["Content-Type"] == "text/event-stream"
    assert "default-src 'self'" in stream.headers["Content-Security-Policy"]
    assert await stream.content.readuntil(b"\n\n") == b"retry: 3000\nevent: ready\ndata: {}\n\n"
    case_id = await new_case(store, "telegram:s")
    live.changed()
    event = await asyncio.wait_for(stream.content.readuntil(b"\n\n"), 5)
    assert event.startswith(b"event: change\ndata: ")
    assert json.loads(event.split(b"data: ", 1)[1]) == {"cases": case_id, "open": 1, "last": 0}
    started = time.monotonic()
    await client.close()  # an open stream does not hold the shutdown
    assert time.monotonic() - started < 5
