"""A handoff end to end, in one real server and one real browser: a person on the web chat,
in Pashto, through an association's embed link, asks for a person; a caseworker of that
association logs in to the inbox, reads the French summary, sends a ready reply that the
person receives in Pashto, and closes the case; the person is back with the assistant."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import Browser, Page

from bot.core.text import for_display
from bot.server import Server
from bot.settings import Settings
from bot.storage.cases import CaseStore
from bot.storage.sqlite import SQLiteStorage
from tests.clients import WebClient
from tests.inbox.conftest import PASSWORD, organisation, sign_in, worker

pytestmark = pytest.mark.slow


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[Server, WebClient]]:
    server = Server(Settings.from_mapping({"DATABASE_PATH": str(tmp_path / "e2e.sqlite3")}))
    client = TestClient(TestServer(server.app(), host="127.0.0.1"))
    await client.start_server()
    yield server, client
    await client.close()


async def _tap_last(page: Page, index: int) -> None:
    """Tap a button of the latest message by its position (labels are in Pashto)."""
    buttons = page.locator(".bubble.bot").last.locator("button")
    await buttons.nth(index).click()


async def _bot_says(page: Page, text: str) -> None:
    await page.locator(".bubble.bot", has_text=text).last.wait_for()


async def test_a_caseworker_answers_a_pashto_speaker_from_the_inbox(
        served: tuple[Server, WebClient], tmp_path: Path, browser: Browser) -> None:
    server, client = served
    speaker = server.runtime.engine.speaker
    store = CaseStore(server.runtime.storage)
    org = await organisation(store, "Cimade Nice")
    other = await organisation(store, "Autre association")
    await worker(store, org, "anne@example.org")

    def pashto(key: str) -> str:
        # As shown: Latin runs isolated, each line marked right to left.
        shown = for_display(speaker.translator.render(speaker.named_or_state_text(key), "ps").text,
                            "ps")
        return shown.lstrip("\u200f")

    person = await browser.new_page(viewport={"width": 390, "height": 800})
    await person.goto(str(client.make_url(f"/?org={org.code}")))
    await person.locator(".bubble.bot button").nth(2).click()  # fr, fa_af, ps...
    await _bot_says(person, "ANEF")
    await _tap_last(person, 0)  # agree to keep the dates
    await person.locator("#text").fill("/human")
    await person.locator("#text").press("Enter")
    # The question must be there before its button is tapped (not the menu's first one).
    await _bot_says(person, pashto("handoff.ask_share")[:20])
    await _tap_last(person, 0)  # agree to share with the association
    await person.locator("#text").fill("زما API ختم شوی، مرسته وکړئ")
    await person.locator("#text").press("Enter")
    await _bot_says(person, pashto("handoff.relayed")[:20])

    desk = await browser.new_page(viewport={"width": 390, "height": 844})
    await desk.goto(str(client.make_url("/inbox/")))
    await sign_in(desk, "anne@example.org", PASSWORD)
    await desk.locator("ol.cases li a").first.click()
    summary = await desk.locator(".summary").inner_text()
    assert "Langue : pachto" in summary
    assert "زما API ختم شوی" in await desk.locator(".transcript").inner_text()
    await desk.get_by_label("Réponse prête").select_option("screenshot")
    await desk.get_by_role("button", name="Envoyer la réponse prête").click()
    await desk.get_by_text("Message envoyé.").wait_for()

    # The person reads the ready reply in Pashto.
    await _bot_says(person, pashto("canned.screenshot")[:25])
    # A free reply: the caseworker's French words, under a line in Pashto, read left to
    # right (its final full stop after the last word, not before the first).
    french = "Bonjour, je regarde votre dossier."
    await desk.get_by_label("Votre message").fill(french)
    await desk.get_by_role("button", name="Envoyer", exact=True).click()
    await desk.get_by_text("Message envoyé.").wait_for()
    await _bot_says(person, french)
    order = await person.locator(".bubble.bot", has_text=french).last.evaluate(
        """(bubble, french) => {
            const node = bubble.firstChild;
            const at = node.textContent.indexOf(french);
            const box = i => { const r = document.createRange();
                r.setStart(node, i); r.setEnd(node, i + 1);
                return r.getBoundingClientRect().left; };
            return [box(at), box(at + french.length - 1)];
        }""", french)
    assert order[0] < order[1], order  # "B" is left of the final "."
    await person.screenshot(path=str(tmp_path / "handoff-pashto.png"))

    await desk.get_by_role("link", name="Clore le cas…").click()
    await desk.get_by_label("Résolu").check()
    await desk.get_by_role("button", name="Confirmer la clôture").click()
    await desk.get_by_text("Le cas est clos.").wait_for()
    await _bot_says(person, pashto("handoff.closed")[:20])
    await person.close()  # and its context
    await desk.close()  # and its context

    assert isinstance(server.runtime.storage, SQLiteStorage)
    rows = await server.runtime.storage.db.execute_fetchall(
        "SELECT org_id, status FROM cases")
    assert [(r[0], r[1]) for r in rows] == [(org.id, "closed")]  # never the other association
    assert other.id != org.id
