"""The inbox on a real aiohttp server and a real SQLite file, with a clock the tests move and a
recording stand-in for the conversation's `staff` callback."""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer

from bot.clock import ManualClock
from bot.inbox import inbox_routes
from bot.inbox.accounts import Accounts
from bot.inbox.passwords import hash_password
from bot.storage.cases import CaseStore, Organisation
from bot.storage.sqlite import SQLiteStorage
from bot.storage.staff import Caseworker
from tests.clients import WebClient
from tests.conftest import NOW

if TYPE_CHECKING:  # the browser tests only: playwright is not imported by the others
    from playwright.async_api import ConsoleMessage, Page

CANNED = [("docs", "Merci, nous avons bien reçu vos documents."),
          ("rdv", "Nous vous proposons un rendez-vous à la permanence de mardi.")]
PASSWORD = "correct horse battery"


@dataclass
class Recorder:
    """Keeps each staff action the inbox hands to the conversation."""

    calls: list[tuple[str, str, str, str]] = field(default_factory=list)
    fail: bool = False

    async def __call__(self, user: str, action: str, text: str, canned_id: str) -> None:
        if self.fail:
            raise ConnectionError("the conversation is unavailable")
        self.calls.append((user, action, text, canned_id))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def store(storage: SQLiteStorage) -> CaseStore:
    return CaseStore(storage)


@pytest.fixture
def act() -> Recorder:
    return Recorder()


@pytest.fixture
async def client(store: CaseStore, act: Recorder, clock: ManualClock
                 ) -> AsyncIterator[WebClient]:
    app = web.Application()
    inbox_routes(app, store, act, CANNED, clock.now)
    test_client = TestClient(TestServer(app, host="127.0.0.1"))
    await test_client.start_server()
    yield test_client
    await test_client.close()


async def organisation(store: CaseStore, name: str) -> Organisation:
    org, _ = await store.ensure_organisation(name, NOW)
    return org


#: A test account's password hashed once for the run (scrypt takes about 50 ms by design);
#: the accounts it is given to share its salt, which only the tests' accounts do.
_hashed = functools.cache(hash_password)


async def worker(store: CaseStore, org: Organisation, email: str, *, admin: bool = False,
                 password: str | None = PASSWORD) -> tuple[Caseworker, str]:
    """An account; with `password`, one that already chose it (no first-login change)."""
    made, one_time = await Accounts(store.storage).create(org.id, email, admin, NOW)
    if password is None:
        return made, one_time
    async with store.storage.transaction() as tx:
        await tx.run("UPDATE caseworkers SET password_hash = ?, must_change_password = 0 "
                     "WHERE id = ?", _hashed(password), made.id)
    return made, password


async def new_case(store: CaseStore, user: str, *, api_end: str | None = None,
                   org_code: str | None = None, at: datetime = NOW,
                   summary: str = "Résumé du cas") -> int:
    """A case opened the way the conversation opens one: inside a turn's transaction."""
    async with store.storage.transaction() as tx:
        await tx.touch_user(user, at)
        if org_code is not None:
            assert await store.set_organisation(tx, user, org_code)
        return await store.open_case(tx, user, "api_expired", summary, api_end, "fa_AF", at)


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden field {name}"
    return found.group(1)


async def login(client: WebClient, email: str, password: str) -> ClientResponse:
    page = await client.get("/inbox/login")
    token = hidden(await page.text(), "login_token")
    return await client.post("/inbox/login", data={"login_token": token, "email": email,
                                                   "password": password},
                              allow_redirects=False)


def console_errors(page: Page) -> list[str]:
    """The errors the page writes to its console from now on (a content-security-policy
    violation, a broken asset), each with the address it came from."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"{message.text} {message.location.get('url')}")

    page.on("console", on_console)
    return errors


async def sign_in(page: Page, email: str, password: str) -> None:
    """Fill and send the sign-in form the page shows."""
    await page.get_by_label("Adresse e-mail").fill(email)
    await page.get_by_label("Mot de passe").fill(password)
    await page.get_by_role("button", name="Se connecter").click()


#: What a caseworker chooses at their first sign-in, in the browser tests.
NEW_PASSWORD = "une longue phrase de passe"


async def first_sign_in(page: Page, email: str, one_time: str) -> None:
    """Sign in with the one-time password, then choose NEW_PASSWORD as the page asks."""
    await sign_in(page, email, one_time)
    await page.get_by_text("Le mot de passe provisoire ne sert qu'une fois").wait_for()
    await page.get_by_label("Mot de passe actuel").fill(one_time)
    await page.get_by_label("Nouveau mot de passe (12 caractères au moins)").fill(NEW_PASSWORD)
    await page.get_by_label("Nouveau mot de passe, une seconde fois").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Enregistrer").click()
    await page.get_by_text("Votre mot de passe est changé.").wait_for()


async def csrf(client: WebClient, path: str = "/inbox/") -> str:
    page = await client.get(path)
    assert page.status == 200
    return hidden(await page.text(), "csrf")


async def case_row(store: CaseStore, case_id: int) -> tuple[str, int | None]:
    async with store.storage.transaction() as tx:
        row = await tx.one("SELECT status, assigned_to FROM cases WHERE id = ?", case_id)
    assert row is not None
    return row[0], row[1]
