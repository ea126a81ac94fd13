"""The observatory's page for admins, its CSV and monthly report, and the note a caseworker
prints from a case page; the page's SVG charts in Chromium under the inbox's strict CSP."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import Browser

from bot.clock import ManualClock
from bot.content import load_support
from bot.documents.note import load_note_knowledge
from bot.inbox import inbox_routes
from bot.observatory.config import Observatory
from bot.storage.cases import CaseStore
from bot.storage.observations import ObservationStore
from bot.storage.sqlite import SQLiteStorage
from tests.clients import WebClient
from tests.conftest import NOW
from tests.documents.conftest import ROOT, pdf_text
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
from tests.observatory.conftest import seed

PROBLEMS = {"api_expired_not_renewed": "API expirée, pas renouvelée"}


@pytest.fixture
async def observatory_client(store: CaseStore, act: Recorder) -> AsyncIterator[WebClient]:
    support = load_support(ROOT / "flows")
    notes = load_note_knowledge(ROOT / "flows" / "knowledge" / "note.yaml",
                                support.departements.by_code)
    labels = {code: d.label for code, d in support.departements.by_code.items()}
    app = web.Application()
    # The inbox's "today" is in December 2026: November is the month before.
    clock = ManualClock(NOW.replace(year=2026, month=12, day=3))
    assert isinstance(store.storage, SQLiteStorage)
    inbox_routes(app, store, act, CANNED, clock.now, observatory_config=Observatory(
        ObservationStore(store.storage), notes, labels, PROBLEMS))
    await seed(store.storage)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    yield client
    await client.close()


async def _admin(client: WebClient, store: CaseStore) -> None:
    org = await organisation(store, "Cimade Nice")
    await worker(store, org, "admin@example.org", admin=True)
    assert (await login(client, "admin@example.org", PASSWORD)).status == 303


async def test_only_admins_see_the_figures(observatory_client: WebClient,
                                           store: CaseStore) -> None:
    org = await organisation(store, "Cimade Nice")
    await worker(store, org, "bob@example.org")
    await login(observatory_client, "bob@example.org", PASSWORD)
    for path in ("/inbox/observatoire", "/inbox/observatoire.csv",
                 "/inbox/observatoire/rapport.pdf?mois=2026-11"):
        assert (await observatory_client.get(path)).status == 403


async def test_the_page_the_csv_and_the_report(observatory_client: WebClient,
                                               store: CaseStore, tmp_path: Path) -> None:
    await _admin(observatory_client, store)
    page = await observatory_client.get("/inbox/observatoire?mois=2026-11")
    html = await page.text()
    assert page.status == 200
    assert "novembre 2026" in html
    assert html.count("<svg") == 3
    assert "Alpes-Maritimes (06)" in html
    assert "&lt; 5" in html
    assert "Toute case de moins de 5" in html
    assert "telegram:" not in html  # nobody's key, ever
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    exported = await observatory_client.get("/inbox/observatoire.csv?mois=2026-11")
    assert exported.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(await exported.text()), delimiter=";"))
    assert ["novembre 2026", "Délai de réponse du CCC", "Médiane (jours)", "7"] in rows
    report = await observatory_client.get("/inbox/observatoire/rapport.pdf?mois=2026-11")
    assert report.headers["Content-Type"] == "application/pdf"
    text = " ".join(pdf_text(await report.read(), tmp_path).split())
    assert "Cimade Nice" in text
    assert "novembre 2026" in text


async def test_a_caseworker_prints_the_note_from_the_case_page(
        observatory_client: WebClient, store: CaseStore, tmp_path: Path) -> None:
    org = await organisation(store, "Cimade Nice")
    await worker(store, org, "anne@example.org")
    user = "telegram:4242"
    case_id = await new_case(store, user, org_code=org.code)
    slots = {"status": "subsidiary", "request": "first", "api_end": "2027-02-01",
             "departement": "06"}
    async with store.storage.transaction() as tx:
        await tx.run(
            "INSERT INTO sessions (user_key, data, version, updated_at) VALUES (?, ?, 1, ?)",
            user, json.dumps({"flow": "menu", "state": "main", "slots": slots}),
            NOW.isoformat())
    await login(observatory_client, "anne@example.org", PASSWORD)
    page = await observatory_client.get(f"/inbox/cases/{case_id}")
    assert f'action="/inbox/cases/{case_id}/note"' in await page.text()
    note = await observatory_client.get(f"/inbox/cases/{case_id}/note?pour=landlord")
    assert note.headers["Content-Type"] == "application/pdf"
    text = " ".join(pdf_text(await note.read(), tmp_path).split())
    assert "Destinataire : le propriétaire ou l'agence" in text
    assert "R. 431-15-4" in text
    assert "01/02/2027" in text
    assert "www.alpes-maritimes.gouv.fr" in text
    assert (await observatory_client.get(f"/inbox/cases/{case_id}/note?pour=x")).status == 400
    assert (await observatory_client.get("/inbox/cases/999/note?pour=bank")).status == 404


@pytest.mark.slow
async def test_the_charts_in_chromium(observatory_client: WebClient, store: CaseStore,
                                      tmp_path: Path, browser: Browser) -> None:
    org = await organisation(store, "Cimade Nice")
    await worker(store, org, "admin@example.org", admin=True)
    page = await browser.new_page(viewport={"width": 1000, "height": 1400})
    errors = console_errors(page)  # a CSP violation is reported there
    await page.goto(str(observatory_client.make_url("/inbox/login")))
    await sign_in(page, "admin@example.org", PASSWORD)
    await page.get_by_role("link", name="Observatoire").click()
    await page.get_by_label("Période").select_option("2026-11")
    await page.get_by_role("button", name="Afficher").click()
    await page.get_by_text("novembre 2026").first.wait_for()
    charts = page.locator("svg.chart")
    assert await charts.count() == 3
    for i in range(3):
        box = await charts.nth(i).bounding_box()
        assert box is not None
        assert box["width"] > 300
        assert box["height"] > 40
    departements = page.locator("#par-departement rect.bar")
    assert await departements.count() == 3
    values = await page.locator("#par-departement text.value").all_text_contents()
    assert values == ["6", "< 5", "< 5"]
    shot = tmp_path / "observatory_page.png"
    await page.screenshot(path=str(shot), full_page=True)
    print(f"statistics page: {shot}")
    if os.environ.get("RELAIS_SCREENSHOTS"):
        keep = ROOT / "var" / "screenshots" / "observatory_page.png"
        keep.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, keep)
        print(f"kept as {keep}")
    await page.close()  # and its context
    assert errors == []
