"""The inbox in a real browser (Debian's chromium, driven by Playwright) against the real
aiohttp server and a SQLite file: first login, the list, a case, a canned reply, assign, close."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser

from bot.storage.cases import CaseStore
from tests.clients import WebClient
from tests.conftest import NOW
from tests.inbox.conftest import (
    CANNED,
    Recorder,
    case_row,
    console_errors,
    first_sign_in,
    new_case,
    organisation,
    worker,
)

pytestmark = pytest.mark.slow
DARI = "سلام، کارت اقامت من ختم شده است"


async def test_a_caseworker_handles_a_case_in_the_browser(
        client: WebClient, store: CaseStore, act: Recorder, tmp_path: Path,
        browser: Browser) -> None:
    org = await organisation(store, "Cimade")
    _, one_time = await worker(store, org, "anne@example.org", password=None)
    calm = await new_case(store, "telegram:calm", api_end="2026-06-30",
                          at=NOW - timedelta(days=9))
    user = "telegram:urgent"
    urgent = await new_case(store, user, api_end="2026-03-05",
                            summary="Motif : API expire bientôt.\nDépartement : Rhône (69).")
    async with store.storage.transaction() as tx:
        await tx.append_transcript(user, "in", DARI, NOW)
        await tx.append_transcript(user, "out", "Je transmets votre demande.\nMerci.", NOW)

    page = await browser.new_page(viewport={"width": 390, "height": 844})
    errors = console_errors(page)
    await page.goto(str(client.make_url("/inbox/")))
    assert "/inbox/login" in page.url
    await first_sign_in(page, "anne@example.org", one_time)

    await page.screenshot(path=str(tmp_path / "inbox-list.png"), full_page=True)
    links = page.locator("ol.cases li a")
    assert await links.all_inner_texts() == [f"Cas n° {urgent} · Demande d'aide",
                                             f"Cas n° {calm} · Demande d'aide"]
    assert "urgent" in (await page.locator("ol.cases li").first.get_attribute("class")
                        or "")
    await links.first.click()
    await page.get_by_role("heading", name=f"Cas n° {urgent} · Demande d'aide").wait_for()
    assert "Département : Rhône (69)." in await page.locator(".summary").inner_text()
    line = page.locator(".transcript p", has_text=DARI)
    assert await line.get_attribute("dir") == "auto"
    assert await line.evaluate("p => getComputedStyle(p).direction") == "rtl"

    await page.get_by_label("Réponse prête").select_option("rdv")
    await page.get_by_role("button", name="Envoyer la réponse prête").click()
    await page.get_by_text("Message envoyé.").wait_for()
    assert act.calls == [(user, "canned", dict(CANNED)["rdv"], "rdv")]
    await page.screenshot(path=str(tmp_path / "inbox-open-case.png"), full_page=True)

    await page.get_by_label("Votre message").fill("Bonjour, je vous appelle demain.")
    await page.get_by_role("button", name="Envoyer", exact=True).click()
    await page.get_by_text("Message envoyé.").wait_for()
    assert act.calls[-1] == (user, "reply", "Bonjour, je vous appelle demain.", "")

    await page.get_by_role("button", name="M'attribuer ce cas").click()
    await page.get_by_text("Le cas vous est attribué.").wait_for()
    assert await page.locator("#assignee").inner_text() == "anne@example.org"

    await page.get_by_role("link", name="Clore le cas…").click()
    # Confirming needs an outcome: without one the browser does not send the form.
    await page.get_by_role("button", name="Confirmer la clôture").click()
    assert act.calls[-1][1] != "close"
    await page.get_by_label("Orienté ailleurs").check()
    await page.get_by_role("button", name="Confirmer la clôture").click()
    await page.get_by_text("Le cas est clos.").wait_for()
    assert act.calls[-1] == (user, "close", "", "")
    assert (await page.locator("#status").inner_text()).startswith("clos le")
    assert await page.get_by_role("button", name="Envoyer").count() == 0
    await page.screenshot(path=str(tmp_path / "inbox-case.png"), full_page=True)

    await page.get_by_role("link", name="← Tous les cas").click()
    await page.get_by_role("link", name="Clos", exact=True).click()
    assert await page.locator("ol.cases li a").all_inner_texts() == [
        f"Cas n° {urgent} · Demande d'aide"]
    await page.close()  # and its context
    status, assignee = await case_row(store, urgent)
    assert status == "closed"
    assert assignee is not None
    assert errors == []  # no content-security-policy violation, no broken asset
