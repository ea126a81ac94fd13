"""Passwords, lockout, sessions, CSRF, organisations and admin rights of the inbox."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest

from bot.caseworker_cli import main as caseworker_main
from bot.clock import ManualClock
from bot.inbox.accounts import LOCK_AFTER, Accounts, Login
from bot.inbox.app import COOKIE
from bot.inbox.passwords import hash_password, one_time_password, verify_password
from bot.storage.cases import CaseStore
from bot.storage.sqlite import SQLiteStorage
from tests.clients import WebClient
from tests.conftest import NOW
from tests.inbox.conftest import (
    PASSWORD,
    Recorder,
    case_row,
    csrf,
    hidden,
    login,
    new_case,
    organisation,
    worker,
)


def test_passwords_are_salted_scrypt_hashes_that_verify() -> None:
    first, second = hash_password("un mot de passe"), hash_password("un mot de passe")
    assert first.startswith("scrypt$")
    assert first != second  # a random salt each time
    assert verify_password("un mot de passe", first)
    assert verify_password("un mot de passe", second)
    assert not verify_password("un mot de passf", first)
    assert not verify_password("un mot de passe", "md5$abc")
    assert not verify_password("un mot de passe", "scrypt$x$y")
    assert len(set(one_time_password() for _ in range(20))) == 20


async def test_repeated_failures_lock_the_address_even_against_the_right_password(
        store: CaseStore, clock: ManualClock) -> None:
    org = await organisation(store, "Cimade")
    await worker(store, org, "anne@example.org")
    accounts = Accounts(store.storage)
    outcomes = [(await accounts.authenticate("anne@example.org", "wrong", clock.now()))[0]
                for _ in range(LOCK_AFTER)]
    assert outcomes == [Login.WRONG] * (LOCK_AFTER - 1) + [Login.LOCKED]
    clock.set(NOW + timedelta(minutes=14))
    outcome, who = await accounts.authenticate("ANNE@example.org ", PASSWORD, clock.now())
    assert (outcome, who) == (Login.LOCKED, None)
    clock.set(NOW + timedelta(minutes=15, seconds=1))
    outcome, who = await accounts.authenticate("anne@example.org", PASSWORD, clock.now())
    assert outcome is Login.OK
    assert who is not None
    assert who.email == "anne@example.org"


async def test_the_lockout_does_not_tell_which_addresses_exist(
        client: WebClient, store: CaseStore) -> None:
    org = await organisation(store, "Cimade")
    await worker(store, org, "anne@example.org")
    pages = {}
    for email in ("anne@example.org", "nobody@example.org"):
        answers = [await login(client, email, "wrong") for _ in range(LOCK_AFTER)]
        assert [a.status for a in answers] == [401] * (LOCK_AFTER - 1) + [429]
        pages[email] = (await answers[-1].text()).replace(email, "EMAIL")
        assert "bloquée pendant 15 minutes" in pages[email]
    assert pages["anne@example.org"] == pages["nobody@example.org"].replace(
        hidden(pages["nobody@example.org"], "login_token"),
        hidden(pages["anne@example.org"], "login_token"))
    locked = await login(client, "anne@example.org", PASSWORD)
    assert locked.status == 429
    assert COOKIE not in {c.key for c in client.session.cookie_jar}


async def test_sessions_end_when_idle_and_after_a_working_day(
        client: WebClient, store: CaseStore, clock: ManualClock) -> None:
    org = await organisation(store, "Cimade")
    await worker(store, org, "anne@example.org")
    assert (await login(client, "anne@example.org", PASSWORD)).status == 303
    assert (await client.get("/inbox/", allow_redirects=False)).status == 200
    clock.set(NOW + timedelta(hours=1, minutes=59))
    assert (await client.get("/inbox/", allow_redirects=False)).status == 200
    clock.set(NOW + timedelta(hours=4))  # idle for more than two hours
    gone = await client.get("/inbox/", allow_redirects=False)
    assert gone.status == 303
    assert gone.headers["Location"].startswith("/inbox/login")

    assert (await login(client, "anne@example.org", PASSWORD)).status == 303
    for hour in range(1, 13):  # busy all day: the session still ends after twelve hours
        clock.set(NOW + timedelta(hours=4 + hour))
        status = (await client.get("/inbox/", allow_redirects=False)).status
        assert status == (200 if hour < 12 else 303)


async def test_pages_without_a_session_redirect_to_the_login(
        client: WebClient, store: CaseStore, act: Recorder) -> None:
    case_id = await new_case(store, "telegram:1")
    root = await client.get("/inbox", allow_redirects=False)
    assert root.status == 302
    assert root.headers["Location"] == "/inbox/"
    for path in ("/inbox/", f"/inbox/cases/{case_id}", "/inbox/audit", "/inbox/password"):
        answer = await client.get(path, allow_redirects=False)
        assert answer.status == 303
        assert answer.headers["Location"].startswith("/inbox/login?next=")
    post = await client.post(f"/inbox/cases/{case_id}/close", data={"csrf": "x"},
                             allow_redirects=False)
    assert post.status == 303
    assert await case_row(store, case_id) == ("open", None)
    assert act.calls == []


async def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
        client: WebClient, store: CaseStore, act: Recorder) -> None:
    org = await organisation(store, "Cimade")
    await worker(store, org, "anne@example.org")
    case_id = await new_case(store, "telegram:1")
    await login(client, "anne@example.org", PASSWORD)
    token = await csrf(client, f"/inbox/cases/{case_id}")
    for form in ({}, {"csrf": ""}, {"csrf": token[:-1] + "x"}, {"csrf": "é" * len(token)}):
        for action in ("close", "assign", "reply", "canned"):
            answer = await client.post(f"/inbox/cases/{case_id}/{action}",
                                       data={**form, "text": "Bonjour", "canned_id": "docs"},
                                       allow_redirects=False)
            assert answer.status == 403
    assert await case_row(store, case_id) == ("open", None)
    assert act.calls == []
    done = await client.post(f"/inbox/cases/{case_id}/assign", data={"csrf": token},
                             allow_redirects=False)
    assert done.status == 303
    assert (await case_row(store, case_id))[1] is not None


async def test_the_login_form_has_its_own_csrf_token(client: WebClient, store: CaseStore
                                                     ) -> None:
    org = await organisation(store, "Cimade")
    await worker(store, org, "anne@example.org")
    forged = await client.post("/inbox/login", data={"email": "anne@example.org",
                                                     "password": PASSWORD},
                               allow_redirects=False)
    assert forged.status == 403
    client.session.cookie_jar.update_cookies({"relais_login": "é"})
    odd = await client.post("/inbox/login", data={"login_token": "é", "email": "x@y.z",
                                                  "password": "p"}, allow_redirects=False)
    assert odd.status == 403
    assert (await client.get("/inbox/", allow_redirects=False)).status == 303


async def test_another_organisations_case_is_not_found(
        client: WebClient, store: CaseStore, act: Recorder) -> None:
    ours, theirs = await organisation(store, "Cimade"), await organisation(store, "Secours")
    await worker(store, ours, "anne@example.org")
    await worker(store, theirs, "bob@example.org")
    case_id = await new_case(store, "telegram:1", org_code=ours.code)
    await login(client, "bob@example.org", PASSWORD)
    assert (await client.get(f"/inbox/cases/{case_id}")).status == 404
    assert (await client.get("/inbox/cases/999")).status == 404
    token = await csrf(client)
    for action in ("close", "assign", "reply", "canned"):
        answer = await client.post(f"/inbox/cases/{case_id}/{action}",
                                   data={"csrf": token, "text": "Bonjour", "canned_id": "docs"},
                                   allow_redirects=False)
        assert answer.status == 404
    listing = await (await client.get("/inbox/?filtre=open")).text()
    assert f"/inbox/cases/{case_id}" not in listing
    assert await case_row(store, case_id) == ("open", None)
    assert act.calls == []


async def test_admin_pages_refuse_caseworkers(client: WebClient, store: CaseStore) -> None:
    org = await organisation(store, "Cimade")
    await worker(store, org, "anne@example.org")
    await login(client, "anne@example.org", PASSWORD)
    for path in ("/inbox/audit", "/inbox/staff"):
        assert (await client.get(path)).status == 403
    token = await csrf(client)
    made = await client.post("/inbox/staff", data={"csrf": token, "email": "eve@example.org"})
    assert made.status == 403
    assert await Accounts(store.storage).find("eve@example.org") is None
    assert "/inbox/audit" not in await (await client.get("/inbox/")).text()


async def test_an_admin_adds_a_caseworker_and_reads_the_audit_log(
        client: WebClient, store: CaseStore) -> None:
    org = await organisation(store, "Cimade")
    await worker(store, org, "admin@example.org", admin=True)
    case_id = await new_case(store, "telegram:1")
    await login(client, "admin@example.org", PASSWORD)
    await client.get(f"/inbox/cases/{case_id}")
    token = await csrf(client, "/inbox/staff")
    page = await client.post("/inbox/staff", data={"csrf": token, "email": "Eve@Example.org"})
    assert page.status == 200
    one_time = re.search(r'<code id="one-time">([^<]+)</code>', await page.text())
    assert one_time
    made = await Accounts(store.storage).find("eve@example.org")
    assert made is not None
    assert made.must_change_password
    assert not made.is_admin
    log = await (await client.get("/inbox/audit")).text()
    assert f"cas n° {case_id}" in log
    assert "a consulté" in log
    assert "a créé le compte de" in log
    # The log holds ids only: nothing in it names the user.
    async with store.storage.transaction() as tx:
        columns = {row[1] for row in await tx.all("PRAGMA table_info(audit)")}
    assert columns == {"id", "at", "org_id", "caseworker_id", "action", "case_id", "target_id"}


async def test_security_headers_on_inbox_pages(client: WebClient, store: CaseStore) -> None:
    for path in ("/inbox/login", "/inbox/static/inbox.css"):
        answer = await client.get(path)
        assert answer.status == 200
        assert answer.headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["Cache-Control"] == "no-store"
    cookie = (await client.get("/inbox/login")).headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie


async def test_the_cli_account_must_change_its_password_at_first_login(
        client: WebClient, storage: SQLiteStorage, capsys: pytest.CaptureFixture[str]) -> None:
    # The CLI opens the same database file as the running server, as in production.
    code = await asyncio.to_thread(caseworker_main, [
        "add", "Chloe@Example.org", "--org", "Cimade Lyon", "--db", storage.path])
    assert code == 0
    out = capsys.readouterr().out
    assert "cimade-lyon" in out
    one_time = out.rsplit(": ", 1)[1].strip()
    again = await asyncio.to_thread(caseworker_main, [
        "add", "chloe@example.org", "--org", "Cimade Lyon", "--db", storage.path])
    assert again == 1

    first = await login(client, "chloe@example.org", one_time)
    assert first.status == 303
    assert first.headers["Location"] == "/inbox/password"
    held = await client.get("/inbox/", allow_redirects=False)
    assert held.status == 303
    assert held.headers["Location"] == "/inbox/password"
    token = await csrf(client, "/inbox/password")
    weak = await client.post("/inbox/password", data={
        "csrf": token, "current": one_time, "new": "court", "again": "court"})
    assert weak.status == 400
    changed = await client.post("/inbox/password", data={
        "csrf": token, "current": one_time, "new": "une phrase bien longue",
        "again": "une phrase bien longue"}, allow_redirects=False)
    assert changed.status == 303
    assert (await client.get("/inbox/", allow_redirects=False)).status == 200
    client.session.cookie_jar.clear()
    assert (await login(client, "chloe@example.org", one_time)).status == 401
    assert (await login(client, "chloe@example.org", "une phrase bien longue")).status == 303


async def test_a_disabled_account_loses_its_sessions(client: WebClient, store: CaseStore
                                                     ) -> None:
    org = await organisation(store, "Cimade")
    anne, _ = await worker(store, org, "anne@example.org")
    await login(client, "anne@example.org", PASSWORD)
    assert (await client.get("/inbox/", allow_redirects=False)).status == 200
    assert await Accounts(store.storage).set_active(org.id, anne.id, False)
    assert (await client.get("/inbox/", allow_redirects=False)).status == 303
    assert (await login(client, "anne@example.org", PASSWORD)).status == 401


def test_cli_refuses_a_bad_address(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = caseworker_main(["add", "not-an-address", "--org", "Cimade",
                            "--db", str(tmp_path / "cli.sqlite3")])
    assert code == 1
    assert "not an email address" in capsys.readouterr().err


async def test_sign_ins_are_logged_without_the_address(
        client: WebClient, store: CaseStore, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.inbox")
    org = await organisation(store, "Cimade")
    anne, _ = await worker(store, org, "anne@example.org")
    assert (await login(client, "anne@example.org", "wrong password")).status == 401
    assert (await login(client, "Anne@Example.org", PASSWORD)).status == 303
    refused, accepted = (r.getMessage() for r in caplog.records
                         if r.name == "bot.inbox.login")
    assert refused == (f"inbox sign-in refused (wrong) for address "
                       f"#{hashlib.sha256(b'anne@example.org').hexdigest()[:12]}")
    assert accepted == f"caseworker {anne.id} signed in to the inbox"
    assert "example.org" not in caplog.text
