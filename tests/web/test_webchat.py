"""The web chat in a real browser (Debian's chromium, driven by Playwright), and its socket."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from tests.clients import WebClient
from tests.web.conftest import phone

pytestmark = pytest.mark.slow


async def _bubbles(page: Page) -> list[str]:
    names: list[str] = await page.locator(".bubble").evaluate_all(
        "els => els.map(e => e.className)")
    return names


async def test_a_conversation_in_dari_right_to_left_with_a_reload(
        client: WebClient, browser: Browser, tmp_path: Path) -> None:
    _, page = await phone(browser)
    await page.goto(str(client.make_url("/")))
    # The page says /start by itself: the languages, each in its own script.
    await page.get_by_role("button", name="دری").click()
    await page.get_by_role("button", name="موافق هستم").wait_for()
    assert await page.evaluate("document.documentElement.dir") == "rtl"
    bot_bubble = page.locator(".bubble.bot").last
    assert await bot_bubble.get_attribute("dir") == "rtl"
    before = await _bubbles(page)
    await page.reload()
    await page.get_by_role("button", name="موافق هستم").wait_for()
    assert await _bubbles(page) == before  # the history is back, nothing doubled
    await page.get_by_role("button", name="موافق هستم").click()
    await page.get_by_role("button", name="دانلود کردن").wait_for()
    # Only the latest message's buttons are live.
    assert await page.get_by_role("button", name="دری").is_disabled()
    await page.locator("#text").fill("۱۲/۰۳/۲۰۳۰")
    await page.get_by_role("button", name="دانلود کردن").click()
    await page.locator(".bubble.bot").filter(has_text="PDF").wait_for()
    await page.screenshot(path=str(tmp_path / "webchat-dari.png"))


async def test_the_socket_refuses_bad_tokens_and_frames(client: WebClient) -> None:
    bad = await client.get("/chat/ws?token=short")
    assert bad.status == 400
    ws = await client.ws_connect("/chat/ws?token=" + "a" * 32)
    await ws.send_str("not json")
    reply = json.loads((await ws.receive()).data)
    assert reply == {"type": "error", "error": "bad frame"}
    await ws.send_str(json.dumps({"type": "text", "id": "m1", "text": "/start"}))
    frames = [json.loads((await ws.receive()).data) for _ in range(2)]
    assert frames[0] == {"type": "typing"}
    assert [c["id"] for c in frames[1]["choices"]] == ["fr", "fa_af", "ps", "ar", "en"]
    await ws.close()


async def test_a_message_waits_for_a_user_who_is_away(client: WebClient) -> None:
    token = "b" * 32
    ws = await client.ws_connect(f"/chat/ws?token={token}")
    await ws.send_str(json.dumps({"type": "text", "id": "m1", "text": "/start"}))
    await ws.receive()
    await ws.receive()
    await ws.send_str(json.dumps({"type": "choice", "id": "m2", "choice": "en"}))
    await ws.close()  # gone before the answers arrive
    again = await client.ws_connect(f"/chat/ws?token={token}")
    texts: list[str] = []
    while len(texts) < 3:
        frame = json.loads((await again.receive(timeout=10)).data)
        if frame["type"] == "message":
            texts.append(frame["text"])
    assert any("privacy" in t.lower() or "keep" in t.lower() for t in texts)
    await again.close()


async def test_page_and_embed_script(client: WebClient) -> None:
    page = await client.get("/")
    assert page.status == 200
    assert "Content-Security-Policy" in page.headers
    embed = await client.get("/chat/embed.js")
    assert "iframe" in await embed.text()
