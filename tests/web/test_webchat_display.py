"""What the web chat shows, measured in a phone-sized Chromium: the page in the user's
language and direction whatever the last message's language, buttons that keep their words in
order and show their number, the ready-to-copy French letter as a quoted block with a copy
button, phone numbers as one tap-to-call link."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page

from bot.channels.labels import button_number
from bot.server import Server
from tests.clients import WebClient
from tests.web.conftest import MARKS, bot_texts, phone, status_is, tap, write

pytestmark = pytest.mark.slow

#: What the page itself says in each language, as a reader of that language should see it.
UI = {
    "fr": {"lang": "fr", "dir": "ltr", "placeholder": "Écrivez ici", "send": "Envoyer",
           "tagline": "Aide pour le site ANEF", "away": "Reconnexion…"},
    "fa_af": {"lang": "fa-AF", "dir": "rtl", "placeholder": "اینجا بنویسید", "send": "فرستادن",
              "tagline": "کمک برای سایت ANEF", "away": "دوباره وصل می‌شود…"},
    "ps": {"lang": "ps", "dir": "rtl", "placeholder": "دلته ولیکئ", "send": "ولېږئ",
           "tagline": "د ANEF سایټ لپاره مرسته", "away": "بیا وصلېږي…"},
    "ar": {"lang": "ar", "dir": "rtl", "placeholder": "اكتب هنا", "send": "إرسال",
           "tagline": "مساعدة لموقع ANEF", "away": "جارٍ إعادة الاتصال…"},
    "en": {"lang": "en", "dir": "ltr", "placeholder": "Write here", "send": "Send",
           "tagline": "Help with the ANEF website", "away": "Reconnecting…"},
}

#: Where each piece of a button's label is drawn: the client rectangles of a substring of the
#: label's text, found through a Range, as the browser laid them out.
MEASURE = """([choice, pieces]) => {
  const label = document.querySelector(
      `.choices button[data-choice="${choice}"]:enabled .label`);
  const nodes = [];
  const walker = document.createTreeWalker(label, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) nodes.push(walker.currentNode);
  const out = {text: label.textContent, dir: getComputedStyle(label).direction};
  for (const piece of pieces) {
    const node = nodes.find(n => n.textContent.includes(piece));
    if (!node) { out[piece] = null; continue; }
    const start = node.textContent.indexOf(piece);
    const range = document.createRange();
    range.setStart(node, start);
    range.setEnd(node, start + piece.length);
    out[piece] = Array.from(range.getClientRects(),
                            r => ({left: r.left, right: r.right, top: r.top}));
  }
  return out;
}"""


def _box(rects: list[dict[str, float]]) -> dict[str, float]:
    return {"left": min(r["left"] for r in rects), "right": max(r["right"] for r in rects),
            "top": min(r["top"] for r in rects), "lines": len({round(r["top"]) for r in rects})}


def _reads_before_rtl(first: dict[str, float], then: dict[str, float]) -> bool:
    """In right-to-left reading, `first` comes before `then`: on the same line and to its
    right, or on a line above."""
    if abs(first["top"] - then["top"]) < 2:
        return first["left"] >= then["right"] - 0.5
    return first["top"] < then["top"]


async def _page_language(page: Page) -> dict[str, str]:
    """The page's own words and direction, as shown (without the invisible bidi marks)."""
    shown: dict[str, str] = await page.evaluate("""() => ({
        lang: document.documentElement.lang, dir: document.documentElement.dir,
        placeholder: document.getElementById('text').placeholder,
        send: document.getElementById('send').textContent,
        tagline: document.getElementById('tagline').textContent})""")
    return {key: value.translate(MARKS) for key, value in shown.items()}


async def test_the_chat_stays_right_to_left_after_a_french_letter(client: WebClient,
                                                                  browser: Browser) -> None:
    context, page = await phone(browser)
    await context.grant_permissions(["clipboard-read", "clipboard-write"],
                                    origin=str(client.make_url("/")).rstrip("/"))
    await page.goto(str(client.make_url("/")))
    await tap(page, "ps")
    await tap(page, "agree")
    await tap(page, "ladder")  # whom to contact: which application, when the API ends
    await tap(page, "renewal")
    await tap(page, "later")  # the next step, explained in Pashto, then the letter in French
    letter = page.locator(".bubble.bot blockquote.french")
    await letter.wait_for()
    language = await _page_language(page)
    assert (language["lang"], language["dir"]) == ("ps", "rtl")
    assert language["placeholder"] == UI["ps"]["placeholder"]
    bubble = page.locator(".bubble.bot").last
    assert await bubble.get_attribute("dir") == "rtl"
    assert await letter.get_attribute("dir") == "ltr"
    assert await letter.get_attribute("lang") == "fr"
    assert (await letter.inner_text()).startswith("Bonjour,")
    assert await letter.evaluate("e => getComputedStyle(e).direction") == "ltr"

    # The button to add the numéro étranger: "د بهرني شمېره (numéro étranger) زیاتول". Read
    # right to left: the first Pashto words on the right, then the French term, one piece in
    # its own left-to-right order, then the last Pashto word on the left.
    first, latin, last = "د بهرني شمېره", "numéro étranger", "زیاتول"
    drawn = await page.evaluate(MEASURE, ["number", [first, latin, last, "numéro", "étranger"]])
    assert drawn["dir"] == "rtl", drawn["text"]
    assert all(drawn[piece] for piece in (first, latin, last)), drawn["text"]
    right, french, left = _box(drawn[first]), _box(drawn[latin]), _box(drawn[last])
    numero, etranger = _box(drawn["numéro"]), _box(drawn["étranger"])
    assert french["lines"] == 1, drawn  # never split over two lines
    assert numero["right"] <= etranger["left"] < numero["right"] + 12, drawn  # in order
    assert _reads_before_rtl(right, french), drawn
    assert _reads_before_rtl(french, left), drawn
    # Each button shows its number, in the digits Pashto counts with: this is the 2nd, ۲.
    numbers = await page.locator(".choices button:enabled .number").all_inner_texts()
    assert numbers == [button_number(n, "ps") for n in range(1, len(numbers) + 1)]
    choices = await page.locator(".choices button:enabled").evaluate_all(
        "els => els.map(e => e.dataset.choice)")
    assert numbers[choices.index("number")] == "۲"

    # Copy: the letter as it is, in French, in the clipboard; the button says so in Pashto.
    copy = bubble.locator("button.copy")
    assert await copy.inner_text() == "کاپي"
    await copy.click()
    await page.wait_for_function("b => b.textContent === 'کاپي شو'",
                                 arg=await copy.element_handle())
    copied = await page.evaluate("navigator.clipboard.readText()")
    assert copied == (await letter.inner_text()).translate(MARKS)
    assert "[Votre nom et prénom]" in copied

    # Back to the menu: still Pashto, still right to left.
    await tap(page, "menu")
    assert (await _page_language(page))["dir"] == "rtl"
    await context.close()


async def test_the_page_speaks_the_language_chosen(relais: tuple[Server, WebClient],
                                                   browser: Browser) -> None:
    server, client = relais

    async def choose(choice: str, expected: dict[str, str]) -> None:
        context, page = await phone(browser, locale="fr-FR")
        await page.goto(str(client.make_url("/")))
        await page.locator(".choices button").first.wait_for()
        # Before a choice: the phone's language (French here).
        assert (await _page_language(page))["placeholder"] == UI["fr"]["placeholder"]
        await tap(page, choice)
        await page.locator('.choices button[data-choice="agree"]:enabled').wait_for()
        shown = await _page_language(page)
        assert shown == {k: expected[k] for k in shown}, choice
        assert await page.title() == f"Relais – {expected['tagline']}"
        # Its connection drops: the status line says so in the same language, then clears.
        token = await page.evaluate("() => localStorage.getItem('relais.token')")
        assert server.webchat.sockets.get(token), choice
        for ws in list(server.webchat.sockets[token]):
            await ws.close()
        await status_is(page, expected["away"])
        await status_is(page, "")
        await context.close()

    # Five people at once, one per language, each on their own phone (each waits half a
    # second for the page to reconnect).
    await asyncio.gather(*(choose(choice, expected) for choice, expected in UI.items()))


async def test_before_a_choice_the_page_speaks_the_phone_language(client: WebClient,
                                                                   browser: Browser) -> None:
    for phone_language, expected in (("ps-AF", UI["ps"]), ("fa-AF", UI["fa_af"]),
                                     ("de-DE", UI["fr"])):
        context, page = await phone(browser, locale=phone_language)
        await page.goto(str(client.make_url("/")))
        await page.locator(".choices button").first.wait_for()  # the languages, to choose
        shown = await _page_language(page)
        assert (shown["placeholder"], shown["dir"]) == (expected["placeholder"], expected["dir"])
        await context.close()


async def test_the_ccc_number_is_one_tap_to_call_link(client: WebClient,
                                                      browser: Browser) -> None:
    context, page = await phone(browser)
    await page.goto(str(client.make_url("/")))
    await tap(page, "fa_af")
    await tap(page, "agree")
    await tap(page, "problem")
    await write(page, "نمی توانم حساب ANEF بسازم")  # the account cannot be created: call the CCC
    link = page.locator(".bubble.bot a.tel")
    await link.wait_for()
    assert await link.get_attribute("href") == "tel:+33806001620"
    assert await link.inner_text() == "0 806 001 620"
    # One piece: a single line box, drawn left to right inside the Dari sentence.
    pieces = await link.evaluate("""e => {
        const rects = Array.from(e.getClientRects());
        return {lines: rects.length, space: getComputedStyle(e).whiteSpace,
                dir: getComputedStyle(e).direction};
    }""")
    assert pieces == {"lines": 1, "space": "nowrap", "dir": "ltr"}
    assert await page.evaluate("document.documentElement.dir") == "rtl"
    await context.close()


async def _stored_page(browser: Browser, client: WebClient,
                       history: list[dict[str, Any]]) -> tuple[Any, Page]:
    """A page opened on a conversation this browser kept (as after a reload)."""
    context, page = await phone(browser)
    await context.add_init_script(
        "localStorage.setItem('relais.token', 'c'.repeat(32));"
        f"localStorage.setItem('relais.log', {json.dumps(json.dumps(history))});")
    await page.goto(str(client.make_url("/")))
    await page.locator(".bubble").first.wait_for()
    return context, page


async def test_phone_numbers_in_messages_and_what_is_not_one(client: WebClient,
                                                             browser: Browser) -> None:
    text = ("Appelez le 01 23 45 67 89 ou le +33 4 93 72 20 00. Numéro étranger : 0612345678. "
            "Le 12/03/2026, 225 €.")
    context, page = await _stored_page(browser, client, [
        {"from": "bot", "id": 1, "locale": "fr", "text": text, "choices": []}])
    links = await page.locator("a.tel").evaluate_all(
        "els => els.map(e => [e.textContent, e.getAttribute('href')])")
    assert links == [["01 23 45 67 89", "tel:+33123456789"],
                     ["+33 4 93 72 20 00", "tel:+33493722000"]]
    assert (await bot_texts(page)) == [text]  # the text itself is unchanged
    await context.close()


async def test_which_french_messages_are_quoted_blocks(client: WebClient,
                                                       browser: Browser) -> None:
    """The page reads the user's language from the conversation: a French message right
    after one in the user's language is a block to copy; a change of language the user asked
    for (after their own tap) is followed."""
    dari = "\u200fاین پیام را کاپی کنید."
    history: list[dict[str, Any]] = [
        {"from": "me", "id": "w0", "text": "دری"},
        {"from": "bot", "id": 1, "locale": "fa_AF", "text": dari, "choices": []},
        {"from": "bot", "id": 2, "locale": "fr", "text": "Bonjour,\nMerci.",
         "choices": [{"id": "menu", "label": "\u200fمینو"}]},
    ]
    context, page = await _stored_page(browser, client, history)
    assert await page.locator("blockquote.french").count() == 1
    assert await page.evaluate("document.documentElement.dir") == "rtl"
    assert await page.locator("button.copy").inner_text() == "کاپی"
    await context.close()
    # The user then picked French: from their tap on, the conversation is in French.
    history += [{"from": "me", "id": "w1", "text": "Français"},
                {"from": "bot", "id": 3, "locale": "fr", "text": "D'accord.", "choices": []}]
    context, page = await _stored_page(browser, client, history)
    assert await page.evaluate("[document.documentElement.dir, document.documentElement.lang]"
                               ) == ["ltr", "fr"]
    # A French letter in an English conversation is a block too, with an English button.
    history = [{"from": "me", "id": "w0", "text": "English"},
               {"from": "bot", "id": 1, "locale": "en", "text": "Here is a letter.",
                "choices": []},
               {"from": "bot", "id": 2, "locale": "fr", "text": "Bonjour,", "choices": []}]
    await context.close()
    context, page = await _stored_page(browser, client, history)
    assert await page.locator("button.copy").inner_text() == "Copy"
    assert await page.evaluate("document.documentElement.lang") == "en"
    await context.close()


async def test_the_embed_button_speaks_the_site_then_the_user_language(
        client: WebClient, browser: Browser) -> None:
    """On an association's site in Arabic, the button is named in Arabic; once the person
    chooses Dari in the chat, the button and the frame are named in Dari."""
    embed = str(client.make_url("/chat/embed.js"))
    html = (f'<!doctype html><html lang="ar"><body><p>جمعية</p>'
            f'<script src="{embed}" data-org="cimade-nice"></script></body></html>')
    site = web.Application()  # the association's site: another origin (its own port)
    async def home(_: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")
    site.router.add_get("/", home)
    site_server = TestServer(site, host="127.0.0.1")
    await site_server.start_server()
    context, page = await phone(browser)
    await page.goto(str(site_server.make_url("/")))
    button = page.locator("body > button")
    assert await button.get_attribute("aria-label") == "افتح المحادثة مع \u2068Relais\u2069"
    await button.click()
    chat = page.frame_locator("iframe")
    await chat.locator(".choices button").first.wait_for()
    # Inside, before a choice, the chat speaks the site's language too.
    assert await chat.locator("#text").get_attribute("placeholder") == UI["ar"]["placeholder"]
    assert await button.get_attribute("aria-label") == "أغلق المحادثة مع \u2068Relais\u2069"
    assert await button.get_attribute("aria-expanded") == "true"
    await chat.locator('.choices button[data-choice="fa_af"]:enabled').click()
    await chat.locator('.choices button[data-choice="agree"]:enabled').wait_for()
    await page.wait_for_function("b => b.lang === 'fa-AF'", arg=await button.element_handle())
    assert (await button.get_attribute("aria-label") or "").translate(MARKS) == (
        "بستن گفتگو با Relais")
    frame_title = await page.locator("iframe").get_attribute("title")
    assert (frame_title or "").translate(MARKS) == "Relais، کمک برای سایت ANEF"
    await context.close()
    await site_server.close()
