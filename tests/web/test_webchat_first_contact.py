"""A first message written before any tap, in a phone-sized Chromium: the page has said
/start (the languages are on screen), the person ignores them and writes in Dari, Pashto or
Arabic. The answer must be in that language, the page must turn to it (words and direction),
and the answer must be about what they wrote: the problem it describes is offered."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.async_api import Browser, Page

from bot.server import Server
from tests.clients import WebClient
from tests.web.conftest import MARKS, phone

pytestmark = pytest.mark.slow

#: (what the person writes, its locale, the page's lang, its placeholder, the problem meant)
FIRST_MESSAGES = [
    ("سلام، نمی‌توانم وارد حساب ANEF خود شوم", "fa_AF", "fa-AF", "اینجا بنویسید",
     "login_loop"),
    ("سلام، زه نشم کولی خپل ANEF حساب ته ننوځم", "ps", "ps", "دلته ولیکئ", "login_loop"),
    ("مرحبا، انتهت صلاحية الـ API ولم يتم تجديده", "ar", "ar", "اكتب هنا",
     "api_expired_not_renewed"),
]


async def _kept(page: Page) -> list[dict[str, Any]]:
    """The conversation as the page keeps it (each assistant message with its locale)."""
    log: list[dict[str, Any]] = json.loads(
        await page.evaluate("localStorage.getItem('relais.log')") or "[]")
    return log


@pytest.mark.parametrize(("text", "locale", "lang", "placeholder", "problem"), FIRST_MESSAGES,
                         ids=[m[1] for m in FIRST_MESSAGES])
async def test_a_first_message_is_answered_in_its_language(
        relais: tuple[Server, WebClient], browser: Browser, text: str, locale: str,
        lang: str, placeholder: str, problem: str) -> None:
    server, client = relais
    context, page = await phone(browser, locale="fr-FR")  # a phone set to French
    await page.goto(str(client.make_url("/")))
    await page.locator('.choices button[data-choice="fa_af"]').wait_for()  # the languages
    await page.locator("#text").fill(text)  # no tap: they write at once
    await page.locator("#send").click()
    # The answer offers one tap to change the language it guessed.
    await page.locator('.choices button[data-choice="language"]:enabled').wait_for()

    shown = await page.evaluate("""() => [document.documentElement.lang,
        document.documentElement.dir, document.getElementById('text').placeholder]""")
    assert shown == [lang, "rtl", placeholder]
    kept = await _kept(page)
    mine = next(i for i, item in enumerate(kept) if item["from"] == "me")
    answers = kept[mine + 1:]
    assert answers
    assert {item["locale"] for item in answers} == {locale}
    bubbles = page.locator(".bubble.bot")
    count = await bubbles.count()
    for index in range(count - len(answers), count):
        assert await bubbles.nth(index).get_attribute("dir") == "rtl"

    # About what they wrote: the problem it describes is offered, by name or as a button.
    speaker = server.runtime.engine.speaker
    assert speaker.catalogue is not None
    title = speaker.translator.render(speaker.catalogue.problems[problem].title, locale).text
    last = answers[-1]
    offered = {choice["id"] for choice in last["choices"]}
    assert problem in offered or title.translate(MARKS) in last["text"].translate(MARKS), (
        last["text"], sorted(offered))
    await context.close()
