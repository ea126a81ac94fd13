"""WhatsApp end to end: the real server (webhook, conversations, storage, outbox, sender,
scheduler) and the real HTTP client, against the project's fake Graph API server, which signs
its webhook calls as Meta does and checks what it is sent as Meta does."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.channels.whatsapp_templates import LANGUAGES
from bot.core.text import RLM
from bot.server import Server
from bot.settings import Settings
from bot.storage.sqlite import SQLiteStorage
from tests.clients import WebClient
from tests.fakes.clock import ShiftedClock
from tests.fakes.graph_api import VERSION, WEBHOOK, FakeGraphAPI, load_templates
from tests.test_ocr import SCREENS, screenshot

pytestmark = pytest.mark.slow
PARIS = ZoneInfo("Europe/Paris")
START = datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)
ALICE, BABUR, CAMILLE = "33600000001", "93700000002", "33600000003"
APPROVED = ("fr", "fa_AF", "ar", "en")  # the default WHATSAPP_TEMPLATE_LOCALES


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock(START)


@pytest.fixture
async def graph(clock: ShiftedClock, settings: Settings) -> AsyncIterator[FakeGraphAPI]:
    templates = load_templates(settings.whatsapp_templates_dir,
                               {LANGUAGES[locale] for locale in APPROVED})
    fake = FakeGraphAPI(clock=clock, templates=templates)
    server = TestServer(fake.app())
    await server.start_server()
    fake.base_url = str(server.make_url("")).rstrip("/")
    yield fake
    await server.close()


@pytest.fixture
async def relais(graph: FakeGraphAPI, clock: ShiftedClock, tmp_path: Path
                 ) -> AsyncIterator[tuple[Server, WebClient]]:
    settings = Settings.from_mapping({
        "DATABASE_PATH": str(tmp_path / "wa.sqlite3"),
        "WHATSAPP_TOKEN": graph.token,
        "WHATSAPP_PHONE_NUMBER_ID": graph.phone_number_id,
        "WHATSAPP_APP_SECRET": graph.app_secret,
        "WHATSAPP_VERIFY_TOKEN": graph.verify_token,
        "WHATSAPP_API_BASE": f"{graph.base_url}/{VERSION}",
        "WHATSAPP_CHAT_INTERVAL": "0.05",
    })
    server = Server(settings, clock=clock)
    client = TestClient(TestServer(server.app()))
    await client.start_server()
    yield server, client
    await client.close()


async def say(graph: FakeGraphAPI, client: WebClient, document: dict[str, Any],
              expect: int) -> list[dict[str, Any]]:
    """Deliver a signed webhook call; wait until `expect` messages have gone out in all."""
    response = await graph.deliver(client, document)
    assert response.status == 200
    return await graph.wait_sent(expect)


async def settled(server: Server, graph: FakeGraphAPI, within: float = 20) -> int:
    """Wait until the assistant has nothing more to send now: every webhook call it accepted
    is answered (its turn committed) and its outbox holds nothing pending or in flight.
    Returns how many messages went out in all."""
    assert server.whatsapp is not None
    await server.whatsapp.drain()
    deadline = time.monotonic() + within
    while await server.runtime.storage.pending_count():
        assert time.monotonic() < deadline, f"messages still pending after {within} s"
        await asyncio.sleep(0.02)
    return len(graph.sent)


def kind(message: dict[str, Any]) -> str:
    payload = message["payload"]
    if payload["type"] == "interactive":
        return str(payload["interactive"]["type"])
    return str(payload["type"])


def ids(message: dict[str, Any]) -> list[str]:
    interactive = message["payload"]["interactive"]
    if interactive["type"] == "button":
        return [b["reply"]["id"] for b in interactive["action"]["buttons"]]
    return [r["id"] for s in interactive["action"]["sections"] for r in s["rows"]]


def body(message: dict[str, Any]) -> str:
    payload = message["payload"]
    if payload["type"] == "text":
        return str(payload["text"]["body"])
    return str(payload["interactive"]["body"]["text"])


async def onboard(graph: FakeGraphAPI, client: WebClient, wa_id: str, hello: str,
                  before: int) -> int:
    """First message, keep the language, agree: 6 messages. Returns the count sent in all."""
    await say(graph, client, graph.text(wa_id, hello), before + 1)
    await say(graph, client, graph.list_reply(wa_id, "keep"), before + 4)
    await say(graph, client, graph.button_reply(wa_id, "agree"), before + 6)
    return before + 6


async def test_meta_verifies_the_webhook(relais: tuple[Server, WebClient],
                                         graph: FakeGraphAPI) -> None:
    _, client = relais
    query = {"hub.mode": "subscribe", "hub.verify_token": graph.verify_token,
             "hub.challenge": "1158201444"}
    ok = await client.get(WEBHOOK, params=query)
    assert ok.status == 200
    assert await ok.text() == "1158201444"
    wrong = await client.get(WEBHOOK, params={**query, "hub.verify_token": "guess"})
    assert wrong.status == 403
    no_mode = await client.get(WEBHOOK, params={"hub.verify_token": graph.verify_token,
                                                "hub.challenge": "1"})
    assert no_mode.status == 403


async def test_a_signed_conversation_with_a_list_buttons_and_numbers(
        relais: tuple[Server, WebClient], graph: FakeGraphAPI) -> None:
    server, client = relais
    sent = await say(graph, client, graph.text(ALICE, "Bonjour"), 1)
    # The label to keep French is 21 characters: too long for a reply button (20), so a list
    # (row titles up to 24), never a cut label; numbered, it still fits a row's title.
    assert kind(sent[0]) == "list"
    assert ids(sent[0]) == ["keep", "change"]
    rows = sent[0]["payload"]["interactive"]["action"]["sections"][0]["rows"]
    assert [row["title"] for row in rows] == ["1. Continuer en français", "2. Changer de langue"]
    assert "description" not in rows[0]
    assert sent[0]["payload"]["interactive"]["action"]["button"] == "Choisir"
    sent = await say(graph, client, graph.list_reply(ALICE, "change"), 2)
    assert kind(sent[1]) == "list"
    assert ids(sent[1]) == ["fr", "fa_af", "ps", "ar", "en"]
    sent = await say(graph, client, graph.list_reply(ALICE, "fa_af"), 5)
    assert kind(sent[4]) == "button"
    assert ids(sent[4]) == ["agree", "decline"]
    # Numbered in Persian digits, the number first where a right-to-left reader starts.
    titles = [b["reply"]["title"] for b in
              sent[4]["payload"]["interactive"]["action"]["buttons"]]
    assert [t[:4] for t in titles] == [f"{RLM}۱. ", f"{RLM}۲. "]
    assert body(sent[4]).startswith(RLM)  # Dari, right to left, as the engine wrote it
    sent = await say(graph, client, graph.button_reply(ALICE, "agree"), 7)
    menu = sent[6]
    assert kind(menu) == "text"  # twelve choices: more than a list holds, so numbered lines
    lines = body(menu).split("\n")
    assert lines[-12].startswith(f"{RLM}۱. ")
    assert lines[-1].startswith(f"{RLM}۱۲. ")
    sent = await say(graph, client, graph.text(ALICE, "۴"), 8)  # the 4th, in Persian digits
    assert kind(sent[7]) == "button"
    assert ids(sent[7]) == ["menu"]
    sent = await say(graph, client, graph.text(ALICE, "۱۲/۰۴/۲۰۲۶"), 10)
    assert "12/04/2026" in body(sent[8])
    assert ids(sent[9]) == ["next", "back", "menu"]
    assert {m["to"] for m in graph.sent} == {ALICE}
    assert graph.refused == []
    stats = await server.runtime.storage.stats()
    assert stats["users"] == 1


async def test_a_bad_signature_or_bad_json_is_refused_and_nothing_stored(
        relais: tuple[Server, WebClient], graph: FakeGraphAPI) -> None:
    server, client = relais
    document = graph.text(ALICE, "Bonjour")
    raw = json.dumps(document).encode()
    headers = {"Content-Type": "application/json"}
    missing = await client.post(WEBHOOK, data=raw, headers=headers)
    assert missing.status == 401
    forged = await client.post(WEBHOOK, data=raw, headers={
        **headers, "X-Hub-Signature-256": graph.sign(b"another body")})
    assert forged.status == 401
    other_secret = await client.post(WEBHOOK, data=raw, headers={
        **headers, "X-Hub-Signature-256": "sha256=" + "0" * 64})
    assert other_secret.status == 401
    for bad in (b"{not json", b"\xff\xfe", json.dumps({"entry": "nope"}).encode(),
                json.dumps(graph.envelope({"messages": [{"id": "wamid.1"}]})).encode()):
        refused = await client.post(WEBHOOK, data=bad, headers={
            **headers, "X-Hub-Signature-256": graph.sign(bad)})
        assert refused.status == 400, bad
    await settled(server, graph)
    stats = await server.runtime.storage.stats()
    assert (stats["users"], stats["sessions"], stats["outbox"]) == (0, 0, 0)
    assert graph.sent == []


async def test_a_message_delivered_twice_is_answered_once(
        relais: tuple[Server, WebClient], graph: FakeGraphAPI) -> None:
    server, client = relais
    document = graph.text(ALICE, "Bonjour")
    for _ in range(2):  # Meta redelivers when our 200 got lost
        assert (await graph.deliver(client, document)).status == 200
    assert await settled(server, graph) == 1


async def test_a_refusal_to_slow_down_is_retried(relais: tuple[Server, WebClient],
                                                 graph: FakeGraphAPI, clock: ShiftedClock
                                                 ) -> None:
    server, client = relais
    graph.faults.append((400, 130429, "Rate limit hit"))
    assert (await graph.deliver(client, graph.text(ALICE, "Bonjour"))).status == 200
    # Refused once: the message waits for its retry (seconds later, by the server's clock).
    storage = server.runtime.storage
    assert isinstance(storage, SQLiteStorage)
    retry: list[Any] = []
    for _ in range(200):
        retry = await storage._all("SELECT available_at, last_error FROM outbox "
                                   "WHERE status = 'pending' AND last_error IS NOT NULL")
        if retry:
            break
        await asyncio.sleep(0.02)
    assert retry, "the refusal was not recorded for a retry"
    assert "130429" in retry[0][1]
    assert graph.sent == []
    # The test moves the clock to the retry instead of waiting for it.
    clock.move_to(datetime.fromisoformat(retry[0][0]) + timedelta(milliseconds=1))
    server.runtime.sender.wake()
    await graph.wait_sent(1)


async def test_an_image_is_read_and_other_media_get_a_short_answer(
        relais: tuple[Server, WebClient], graph: FakeGraphAPI) -> None:
    _, client = relais
    count = await onboard(graph, client, ALICE, "Bonjour", 0)
    shot = screenshot(SCREENS["login_loop"], busy=True)
    sent = await say(graph, client, graph.image(ALICE, shot), count + 1)
    assert graph.downloads == ["1000000"]  # fetched with the token, through the media URL
    assert ids(sent[-1]) == ["yes", "no"]  # the screenshot was recognised: confirm?
    sent = await say(graph, client, graph.media_message(ALICE, "audio"), count + 2)
    assert ids(sent[-1]) == ["yes", "no"]  # a short answer, and the same question again
    assert body(sent[-1]) != body(sent[-2])


async def _reminder_day(server: Server, clock: ShiftedClock, moment: datetime) -> None:
    clock.move_to(moment)
    await server.runtime.scheduler.run_due(clock.now())
    server.runtime.sender.wake()


async def test_a_reminder_in_the_window_is_free_text_and_outside_it_a_template(
        relais: tuple[Server, WebClient], graph: FakeGraphAPI, clock: ShiftedClock) -> None:
    server, client = relais
    await onboard(graph, client, BABUR, "سلام، کمک می‌خواهم", 0)  # Dari
    assert body(graph.sent[0]).startswith(RLM)
    await graph.deliver(client, graph.text(BABUR, "/api 02/04/2026"))
    # The 30-day reminder is due tomorrow at 10:00; the user wrote half an hour before.
    await settled(server, graph)
    clock.move_to(datetime(2026, 3, 3, 9, 30, tzinfo=PARIS))
    await graph.deliver(client, graph.text(BABUR, "/help"))
    count = await settled(server, graph)
    await _reminder_day(server, clock, datetime(2026, 3, 3, 10, 0, 5, tzinfo=PARIS))
    sent = await graph.wait_sent(count + 1)
    assert kind(sent[-1]) == "button"  # free text, with its three reply buttons
    assert ids(sent[-1]) == ["new_api", "help_api", "stop"]
    assert "02/04/2026" in body(sent[-1])
    # Sixteen days later, silence since: the 14-day reminder goes as the approved template.
    await _reminder_day(server, clock, datetime(2026, 3, 19, 10, 0, 5, tzinfo=PARIS))
    sent = await graph.wait_sent(count + 2)
    template = sent[-1]["payload"]["template"]
    assert (template["name"], template["language"]["code"]) == ("relais_api_end_14", "prs_AF")
    values = [p["text"] for p in template["components"][0]["parameters"]]
    assert len(values) == 1
    assert "02/04/2026" in values[0]
    assert "حمل" in values[0]  # the Solar Hijri date, with the Afghan month
    taps = [c["parameters"][0]["payload"] for c in template["components"][1:]]
    assert taps == ["new_api", "help_api", "stop"]
    row = await _row(server, sent[-1]["id"])
    assert (row["sent_as"], row["fallback_from"]) == ("template:relais_api_end_14:prs_AF", None)
    # A tap on the template's "stop" works like the button it stands for.
    before = len(graph.sent)
    await say(graph, client, graph.quick_reply(BABUR, "stop"), before + 1)
    await settled(server, graph)
    await _reminder_day(server, clock, datetime(2026, 3, 26, 10, 0, 5, tzinfo=PARIS))
    await settled(server, graph)
    assert all("template" not in m["payload"] for m in graph.sent[before:])


async def test_a_language_without_an_approved_template_falls_back_and_it_is_recorded(
        relais: tuple[Server, WebClient], graph: FakeGraphAPI, clock: ShiftedClock) -> None:
    server, client = relais
    count = 0
    for wa_id in (ALICE, CAMILLE):  # both write in Pashto, which is not approved here
        count = await onboard(graph, client, wa_id, "سلام، زه مرسته غواړم", count)
        await graph.deliver(client, graph.text(wa_id, "/api 02/04/2026"))
        count = await settled(server, graph)
    storage = server.runtime.storage
    async with storage.transaction() as tx:  # Camille also reads Dari
        session = await tx.load_session(f"wa:{CAMILLE}")
        assert session is not None
        assert session.locale == "ps"
        await tx.save_session(session.with_slot("second_locale", "fa_AF"), clock.now())
    await _reminder_day(server, clock, datetime(2026, 3, 19, 10, 0, 5, tzinfo=PARIS))
    sent = await graph.wait_sent(count + 2)
    by_user = {m["to"]: m for m in sent[-2:]}
    alice = by_user[ALICE]["payload"]["template"]
    assert (alice["name"], alice["language"]["code"]) == ("relais_api_end_14", "fr")
    assert [p["text"] for p in alice["components"][0]["parameters"]] == ["02/04/2026"]
    camille = by_user[CAMILLE]["payload"]["template"]
    assert camille["language"]["code"] == "prs_AF"
    assert (await _row(server, by_user[ALICE]["id"]))["fallback_from"] == "ps"
    assert (await _row(server, by_user[CAMILLE]["id"]))["fallback_from"] == "ps"
    assert (await storage.stats())["template_fallbacks"] == 2


async def test_status_callbacks_update_the_message_and_a_failure_fails_it(
        relais: tuple[Server, WebClient], graph: FakeGraphAPI) -> None:
    server, client = relais
    sent = await say(graph, client, graph.text(ALICE, "Bonjour"), 1)
    wamid = sent[0]["id"]
    row = await _row(server, wamid)
    await say(graph, client, graph.status(wamid, "read", ALICE), 1)
    await say(graph, client, graph.status(wamid, "delivered", ALICE), 1)  # late: ignored
    row = await _wait_row(server, wamid, lambda r: r["peer_status"] == "read")
    assert row["status"] == "sent"
    failed = graph.status(wamid, "failed", ALICE, error=(131026, "Message undeliverable"))
    await say(graph, client, failed, 1)
    row = await _wait_row(server, wamid, lambda r: r["status"] == "failed")
    assert row["peer_status"] == "failed"
    assert row["last_error"] == "whatsapp 131026: Message undeliverable"
    unknown = await graph.deliver(client, graph.status("wamid.unknown", "read", ALICE))
    assert unknown.status == 200


async def _row(server: Server, wamid: str) -> dict[str, Any]:
    storage = server.runtime.storage
    assert isinstance(storage, SQLiteStorage)
    for _ in range(50):  # the sender records the id once its batch went out
        rows = await storage._all("SELECT id FROM outbox WHERE channel_ref = ?", wamid)
        if rows:
            found = await storage.delivery(rows[0][0])
            assert found is not None
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"no outbox row for {wamid}")


async def _wait_row(server: Server, wamid: str, done: Any) -> dict[str, Any]:
    for _ in range(100):
        row = await _row(server, wamid)
        if done(row):
            return row
        await asyncio.sleep(0.1)
    raise AssertionError(f"row never reached the state: {row}")
