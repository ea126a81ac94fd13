"""No case is ever invisible: a person who asks for help before any caseworker account exists
(here through an unknown `?org=` code) is kept, the server's log says how to set up, and the
first admin created by `python -m bot setup` sees the case; the command line lists what there
is."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import Browser, Page

from bot.admin_cli import main as admin_main
from bot.caseworker_cli import main as caseworker_main
from bot.server import Server
from bot.settings import Settings
from bot.storage.cases import CaseStore
from bot.storage.sqlite import SQLiteStorage
from tests.clients import WebClient
from tests.conftest import NOW, run_command
from tests.inbox.conftest import first_sign_in

pytestmark = pytest.mark.slow


@pytest.fixture
async def served(tmp_path: Path, caplog: pytest.LogCaptureFixture
                 ) -> AsyncIterator[tuple[Server, WebClient]]:
    caplog.set_level(logging.INFO, logger="bot")
    server = Server(Settings.from_mapping({"DATABASE_PATH": str(tmp_path / "new.sqlite3")}))
    client = TestClient(TestServer(server.app(), host="127.0.0.1"))
    await client.start_server()
    yield server, client
    await client.close()


async def _tap(page: Page, index: int) -> None:
    await page.locator(".bubble.bot").last.locator("button").nth(index).click()


async def test_a_case_opened_before_any_account_is_seen_by_the_first_admin(
        served: tuple[Server, WebClient], caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str], browser: Browser) -> None:
    server, client = served
    started = "\n".join(r.getMessage() for r in caplog.get_records("setup"))
    assert "no caseworker account yet" in started  # the start-up log says how to set up
    assert "python -m bot setup" in started
    assert "started (channels: web" in started
    assert isinstance(server.runtime.storage, SQLiteStorage)
    database = str(server.runtime.storage.path)
    said = "Mon récépissé expire la semaine prochaine"
    person = await browser.new_page(viewport={"width": 390, "height": 800})
    # The web chat works without any organisation, even with a code nobody knows.
    await person.goto(str(client.make_url("/?org=nobody-knows-this")))
    await person.locator(".bubble.bot button").nth(0).click()  # français
    await person.locator(".bubble.bot", has_text="ANEF").last.wait_for()
    await _tap(person, 0)  # keep my dates
    await person.locator("#text").fill("/human")
    await person.locator("#text").press("Enter")
    # The question must be there before its button is tapped (not the menu's first one).
    await person.locator(".bubble.bot", has_text="Êtes-vous d'accord").last.wait_for()
    await _tap(person, 0)  # share with the association
    await person.locator(".bubble.bot", has_text="C'est envoyé").last.wait_for()
    await person.locator("#text").fill(said)
    await person.locator("#text").press("Enter")
    await person.locator(".bubble.bot", has_text="C'est transmis").last.wait_for()

    store = CaseStore(server.runtime.storage)
    assert await store.waiting_cases() == 1
    for _ in range(50):  # the announcer logs it once the turn committed
        if "no organisation yet" in caplog.text:
            break
        await asyncio.sleep(0.1)
    assert "no organisation yet: run python -m bot setup" in caplog.text

    # The association sets up afterwards, from the command line, on the same database.
    capsys.readouterr()
    code = await asyncio.to_thread(admin_main, "setup", [
        "--org", "Cimade Nice", "--email", "anne@example.org", "--db", database])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "1 case(s) nobody could see are now in this organisation." in out
    one_time = re.search(r"first login: (\S+)", out)
    assert one_time is not None
    assert await store.waiting_cases() == 0

    desk = await browser.new_page(viewport={"width": 1000, "height": 800})
    await desk.goto(str(client.make_url("/inbox/")))
    await first_sign_in(desk, "anne@example.org", one_time.group(1))
    link = desk.locator("ol.cases li a")
    assert await link.count() == 1
    assert "Demande à parler à une personne" in await link.inner_text()
    assert await desk.locator(".unread-count").inner_text() == "1 message non lu"
    await link.click()
    assert said in await desk.locator(".transcript").inner_text()
    await person.close()  # and its context
    await desk.close()  # and its context
    # No message text in the log.
    assert all(said not in r.getMessage() for r in caplog.records)


def test_the_commands_are_listed_in_help() -> None:
    done = run_command(["--help"])
    assert done.returncode == 0
    shown = done.stdout
    for command in ("setup", "caseworker", "org", "cases"):
        assert f"\n    {command} " in shown, command


async def test_the_command_line_lists_organisations_caseworkers_and_cases(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = str(tmp_path / "cli.sqlite3")
    assert await asyncio.to_thread(admin_main, "org", ["list", "--db", database]) == 0
    assert "No organisation yet: python -m bot setup" in capsys.readouterr().out
    storage = SQLiteStorage(database)
    await storage.open()
    async with storage.transaction() as tx:
        await tx.touch_user("telegram:early", NOW)
        await CaseStore(storage).open_case(tx, "telegram:early", "user_request",
                                           "Objet : Compte ANEF bloqué\nRésumé", "2026-03-05",
                                           "ps", NOW)
    await storage.close()
    assert await asyncio.to_thread(admin_main, "org", ["list", "--db", database]) == 0
    assert "1 open case(s) nobody can see" in capsys.readouterr().out
    assert await asyncio.to_thread(admin_main, "setup", [
        "--org", "Cimade Nice", "--email", "anne@example.org", "--db", database]) == 0
    assert "It is the default organisation" in capsys.readouterr().out
    assert await asyncio.to_thread(caseworker_main, [
        "add", "bob@example.org", "--org", "Secours Lyon", "--db", database]) == 0
    capsys.readouterr()
    assert await asyncio.to_thread(admin_main, "org", ["list", "--db", database]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "* cimade-nice\tCimade Nice\t1 caseworker(s)\t1 open case(s)",
        "  secours-lyon\tSecours Lyon\t1 caseworker(s)\t0 open case(s)"]
    assert await asyncio.to_thread(caseworker_main, ["list", "--db", database]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "cimade-nice\tanne@example.org\tadmin", "secours-lyon\tbob@example.org\tcaseworker"]
    assert await asyncio.to_thread(admin_main, "cases", ["list", "--db", database]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert line.split("\t")[1:] == ["cimade-nice", "2026-03-02 10:00Z", "API 2026-03-05",
                                     "unassigned", "Compte ANEF bloqué"]
    assert await asyncio.to_thread(admin_main, "org", ["default", "secours-lyon",
                                                       "--db", database]) == 0
    assert "'Secours Lyon' is the default organisation." in capsys.readouterr().out
    assert await asyncio.to_thread(admin_main, "org", ["default", "nope", "--db", database]) == 1


def test_setup_without_a_terminal_needs_its_flags(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code = run_command(["setup", "--db", str(tmp_path / "s.sqlite3")])  # stdin: no terminal
    assert code.returncode == 1
    assert "use the flags when not in a terminal" in code.stderr
