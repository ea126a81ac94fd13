"""The WhatsApp webhook on its own (the real aiohttp app and signature, a recording handler):
which messages become which inbound, in which order, and what is ignored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.channels.graph import GraphAPI
from bot.channels.whatsapp_webhook import WhatsAppWebhook, parse
from bot.core.model import Inbound, InboundKind
from tests.clients import WebClient
from tests.fakes.clock import ShiftedClock
from tests.fakes.graph_api import VERSION, FakeGraphAPI
from tests.test_ocr import SCREENS, screenshot

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
USER = "33600000001"


class Recorder:
    def __init__(self) -> None:
        self.inbound: list[Inbound] = []
        self.statuses: list[tuple[str, str, str, datetime, str | None]] = []

    async def handle(self, inbound: Inbound) -> None:
        self.inbound.append(inbound)

    async def status(self, channel: str, ref: str, status: str, at: datetime,
                     error: str | None) -> bool:
        self.statuses.append((channel, ref, status, at, error))
        return True


@pytest.fixture
async def setup() -> AsyncIterator[tuple[FakeGraphAPI, WhatsAppWebhook, Recorder, WebClient]]:
    fake = FakeGraphAPI(clock=ShiftedClock(NOW), templates={})
    graph_server = TestServer(fake.app())
    await graph_server.start_server()
    fake.base_url = str(graph_server.make_url("")).rstrip("/")
    api = GraphAPI(f"{fake.base_url}/{VERSION}", fake.token, fake.phone_number_id)
    recorder = Recorder()
    webhook = WhatsAppWebhook(api, recorder.handle, recorder.status,
                              app_secret=fake.app_secret, verify_token=fake.verify_token,
                              phone_number_id=fake.phone_number_id)
    app = web.Application()
    webhook.register(app)
    client = TestClient(TestServer(app))
    await client.start_server()
    yield fake, webhook, recorder, client
    await client.close()
    await api.close()
    await graph_server.close()


def _merge(*documents: dict[str, Any]) -> dict[str, Any]:
    """Several webhook calls' messages in one call, as Meta sometimes batches them."""
    merged = documents[0]
    value = merged["entry"][0]["changes"][0]["value"]
    for other in documents[1:]:
        value["messages"] += other["entry"][0]["changes"][0]["value"]["messages"]
    return merged


async def test_message_types_become_inbound_messages_in_order(
        setup: tuple[FakeGraphAPI, WhatsAppWebhook, Recorder, WebClient]) -> None:
    fake, webhook, recorder, client = setup
    call = _merge(fake.text(USER, "Bonjour"),
                  fake.message(USER, "reaction", {"reaction": {"message_id": "x", "emoji": "👍"}}),
                  fake.media_message(USER, "sticker"),
                  fake.list_reply(USER, "fa_af"),
                  fake.quick_reply(USER, "stop"),
                  fake.message(USER, "interactive", {"interactive": {"type": "nfm_reply"}}),
                  fake.media_message(USER, "location"),
                  fake.message(USER, "poll", {}))
    assert (await fake.deliver(client, call)).status == 200
    await webhook.drain()
    got = [(i.kind, i.text or i.choice or i.media) for i in recorder.inbound]
    assert got == [(InboundKind.TEXT, "Bonjour"), (InboundKind.MEDIA, "sticker"),
                   (InboundKind.CHOICE, "fa_af"), (InboundKind.CHOICE, "stop"),
                   (InboundKind.MEDIA, "interactive"), (InboundKind.MEDIA, "location"),
                   (InboundKind.MEDIA, "other")]
    assert {i.user for i in recorder.inbound} == {f"wa:{USER}"}
    assert len({i.message_id for i in recorder.inbound}) == 7


async def test_an_image_is_not_overtaken_by_the_text_sent_after_it(
        setup: tuple[FakeGraphAPI, WhatsAppWebhook, Recorder, WebClient]) -> None:
    fake, webhook, recorder, client = setup
    await fake.deliver(client, fake.image(USER, screenshot(SCREENS["technical_error"])))
    await fake.deliver(client, fake.text(USER, "et alors ?"))
    await webhook.drain()
    assert [i.kind for i in recorder.inbound] == [InboundKind.PHOTO, InboundKind.TEXT]
    assert "erreur technique" in recorder.inbound[0].text.lower()


async def test_calls_for_another_number_and_unknown_statuses_are_ignored(
        setup: tuple[FakeGraphAPI, WhatsAppWebhook, Recorder, WebClient]) -> None:
    fake, webhook, recorder, client = setup
    other = fake.text(USER, "pas pour nous")
    other["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
    delivered = fake.status("wamid.A", "delivered", USER)
    deleted = fake.status("wamid.B", "deleted", USER)
    for call in (other, delivered, deleted):
        assert (await fake.deliver(client, call)).status == 200
    await webhook.drain()
    assert recorder.inbound == []
    assert [(s[0], s[1], s[2]) for s in recorder.statuses] == [("wa", "wamid.A", "delivered")]


def test_a_malformed_call_is_refused_whole() -> None:
    good = {"from": USER, "id": "wamid.1", "type": "text", "text": {"body": "x"}}
    envelope: dict[str, Any] = {"entry": [{"changes": [{"field": "messages", "value": {
        "metadata": {"phone_number_id": "1"}, "messages": [good]}}]}]}
    assert len(parse(envelope, "1")[0]) == 1
    for broken in ({**good, "from": "+33 6"}, {**good, "id": ""}, {**good, "type": 3}, "x"):
        envelope["entry"][0]["changes"][0]["value"]["messages"] = [good, broken]
        with pytest.raises(ValueError):  # noqa: PT011  (Malformed is a ValueError)
            parse(envelope, "1")
    with pytest.raises(ValueError):  # noqa: PT011
        parse([], "1")


async def test_verification_needs_the_mode_and_the_token(
        setup: tuple[FakeGraphAPI, WhatsAppWebhook, Recorder, WebClient]) -> None:
    fake, _, _, client = setup
    answers = await asyncio.gather(*(client.get("/whatsapp/webhook", params=q) for q in (
        {"hub.mode": "subscribe", "hub.verify_token": fake.verify_token, "hub.challenge": "7"},
        {"hub.mode": "unsubscribe", "hub.verify_token": fake.verify_token},
        {"hub.mode": "subscribe", "hub.verify_token": ""})))
    assert [a.status for a in answers] == [200, 403, 403]
