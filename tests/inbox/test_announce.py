"""New cases are announced to the team once, after the turn committed: an e-mail through a real
local SMTP server (aiosmtpd) with nothing about the person in it, tried again after a failure;
and a notice to the staff Telegram group."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from bot.clock import ManualClock
from bot.inbox.announce import Announcer
from bot.inbox.live import Live
from bot.inbox.mail import Mailer, SMTPSettings
from bot.server import Server
from bot.settings import Settings
from bot.storage.cases import CaseStore
from tests.fakes.bot_api import FakeBotAPI
from tests.inbox.conftest import new_case, organisation, worker


class Inbox:
    """aiosmtpd's handler: keeps what it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope  # noqa: N802
                          ) -> str:
        assert isinstance(envelope.content, bytes)
        mail = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), mail))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def _mailer(port: int) -> Mailer:
    return Mailer(SMTPSettings("127.0.0.1", port, "", "", "relais@asso.example", "none"))


async def test_a_new_case_is_e_mailed_to_its_organisation_without_personal_data(
        store: CaseStore, clock: ManualClock, smtp: tuple[Inbox, int]) -> None:
    received, port = smtp
    org = await organisation(store, "Cimade Nice")
    await worker(store, org, "anne@example.org")
    await worker(store, org, "bob@example.org")
    other = await organisation(store, "Ailleurs")
    await worker(store, other, "carl@example.org")
    case_id = await new_case(store, "telegram:424242", api_end="2026-03-05",
                             summary="Objet : Compte bloqué\nNom : Ahmad")
    notices: list[str] = []

    async def notice(text: str) -> None:
        notices.append(text)

    announcer = Announcer(store.storage, clock.now, lambda: clock.now().date(),
                          "https://relais.example.org/inbox", _mailer(port), notice)
    assert await announcer.announce_due() == 1
    assert await announcer.announce_due() == 0  # once
    [(to, mail)] = received.received
    assert to == ["anne@example.org", "bob@example.org"]  # not the other organisation's
    assert mail["From"] == "relais@asso.example"
    assert mail["Subject"] == f"[Relais] Nouveau cas n° {case_id} (urgent) · Cimade Nice"
    body = mail.get_content()
    assert f"https://relais.example.org/inbox/cases/{case_id}" in body
    for personal in ("424242", "Ahmad", "Compte bloqué", "2026", "05/03"):
        assert personal not in body
        assert personal not in mail["Subject"]
    assert notices == [mail["Subject"]]


async def test_a_failed_e_mail_is_tried_again_later(
        store: CaseStore, clock: ManualClock, smtp: tuple[Inbox, int],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    received, port = smtp
    org = await organisation(store, "Cimade")
    await worker(store, org, "anne@example.org")
    case_id = await new_case(store, "web:x")
    down = Announcer(store.storage, clock.now, lambda: clock.now().date(), "http://h/inbox",
                     _mailer(_free_port()))  # nobody listens there
    assert await down.announce_due() == 0
    assert "e-mail about case" in caplog.text
    assert f"new case {case_id} for Cimade (not urgent)" in caplog.text
    clock.set(clock.now() + timedelta(seconds=30))
    assert await down.announce_due() == 0  # not before its backoff
    up = Announcer(store.storage, clock.now, lambda: clock.now().date(), "http://h/inbox",
                   _mailer(port))
    assert await up.announce_due() == 0
    clock.set(clock.now() + timedelta(minutes=2))
    assert await up.announce_due() == 1
    assert len(received.received) == 1
    assert caplog.text.count(f"new case {case_id} ") == 1  # logged once, not per try


@pytest.mark.slow
async def test_the_staff_telegram_group_is_told_through_the_bot(tmp_path: Path) -> None:
    api = FakeBotAPI()
    fake = TestServer(api.app())
    await fake.start_server()
    server = Server(Settings.from_mapping({
        "DATABASE_PATH": str(tmp_path / "tg.sqlite3"), "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE": str(fake.make_url("")).rstrip("/"),
        "STAFF_TELEGRAM_CHAT_ID": "-1001234567890"}))
    client = TestClient(TestServer(server.app()))
    await client.start_server()
    try:
        store = CaseStore(server.runtime.storage)
        org = await organisation(store, "Cimade Nice")
        await worker(store, org, "anne@example.org")
        case_id = await new_case(store, "telegram:77", summary="Objet : Compte bloqué")
        server.live.changed()  # as after a committed turn
        [notice] = await api.wait_sent(1)
        assert notice["chat_id"] == -1001234567890
        assert notice["text"] == f"[Relais] Nouveau cas n° {case_id} (non urgent) · Cimade Nice"
    finally:
        await client.close()
        await fake.close()


async def test_a_case_that_waited_or_was_moved_is_announced_to_its_new_team(
        store: CaseStore, clock: ManualClock, smtp: tuple[Inbox, int]) -> None:
    received, port = smtp
    early = await new_case(store, "web:early")  # nobody works anywhere yet
    announcer = Announcer(store.storage, clock.now, lambda: clock.now().date(),
                          "http://h/inbox", _mailer(port))
    assert await announcer.announce_due() == 1  # logged; nobody to write to
    assert received.received == []
    org = await organisation(store, "Cimade")
    anne, _ = await worker(store, org, "anne@example.org", admin=True)
    assert await store.welcome_admin(org.id) == 1
    assert await announcer.announce_due() == 1
    other = await organisation(store, "Secours")
    await worker(store, other, "bob@example.org")
    assert await store.move(org.id, early, other.id, anne.id, clock.now())
    assert await announcer.announce_due() == 1
    assert [to for to, _ in received.received] == [["anne@example.org"], ["bob@example.org"]]


async def test_a_stop_does_not_wait_for_the_gap_between_two_looks(
        store: CaseStore, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a look woken by a change, the announcer rests GAP seconds before the next; a
    server that stops meanwhile must not wait for the end of the rest (every test server
    stopped a second late)."""
    monkeypatch.setattr("bot.inbox.announce.GAP", 60.0)
    announcer = Announcer(store.storage, clock.now, lambda: clock.now().date(),
                          "https://relais.example.org/inbox")
    stop, live = asyncio.Event(), Live()
    running = asyncio.create_task(announcer.run(stop, live))
    for _ in range(3):  # woken by a change, it looks, then rests
        await asyncio.sleep(0.05)
        live.changed()
    stop.set()
    await asyncio.wait_for(running, 10)  # not the 60 s of the gap
