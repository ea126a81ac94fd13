"""The note delivered on each channel: a document through the fake Bot API (sendDocument,
multipart) and the fake Graph API (/media then a `document` message), a download link on the
web chat; always rendered from the stored facts, never after its link expired."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.channels.graph import GraphAPI
from bot.channels.telegram import TelegramChannel, make_bot
from bot.channels.webchat import WebChatChannel
from bot.channels.whatsapp import WhatsAppChannel
from bot.channels.whatsapp_templates import LANGUAGES, TemplateBook
from bot.content import load_support
from bot.core.model import MessageKind
from bot.documents.delivery import LIFETIME, DocumentSource, new_token
from bot.documents.note import NoteFacts, NoteKnowledge, load_note_knowledge
from bot.sender import Sender
from bot.settings import Settings
from bot.storage.sqlite import SQLiteStorage
from bot.web.documents import DocumentDownloads
from tests.documents.conftest import ROOT, pdf_text
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.clock import ShiftedClock
from tests.fakes.graph_api import VERSION, FakeGraphAPI, load_templates

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
FACTS = NoteFacts("note", "employer", date(2026, 12, 5), "refugee", "first", date(2027, 3, 1))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStorage]:
    storage = SQLiteStorage(tmp_path / "docs.sqlite3")
    await storage.open()
    yield storage
    await storage.close()


@pytest.fixture(scope="module")
def notes() -> NoteKnowledge:
    support = load_support(ROOT / "flows")
    return load_note_knowledge(ROOT / "flows" / "knowledge" / "note.yaml",
                               support.departements.by_code)


async def _queue(store: SQLiteStorage, user: str, facts: NoteFacts = FACTS) -> str:
    token = new_token()
    async with store.transaction() as tx:
        await tx.touch_user(user, NOW - timedelta(minutes=5))
        await tx.keep_document(user, token, facts.to_json(), NOW, NOW + LIFETIME)
        await tx.enqueue(user, MessageKind.REPLY, "fr", "Note sur l'API (PDF)", (), NOW,
                         document=token)
        await tx.enqueue(user, MessageKind.REPLY, "fr", "Le texte de la note", (), NOW)
    return token


async def test_telegram_sends_the_pdf_as_a_document(store: SQLiteStorage, notes: NoteKnowledge,
        tmp_path: Path) -> None:
    api = FakeBotAPI()
    server = TestServer(api.app())
    await server.start_server()
    bot = make_bot(api.token, str(server.make_url("")).rstrip("/"))
    try:
        await _queue(store, "telegram:777")
        sender = Sender(store, {"telegram": TelegramChannel(bot)}, ShiftedClock(NOW),
                        documents=DocumentSource(store, notes))
        report = await sender.drain()
        assert report.sent == 2
        (document,) = api.documents
        assert document["chat_id"] == 777
        assert document["filename"] == "note-API-employer.pdf"
        assert document["mime_type"] == "application/pdf"
        assert document["caption"] == "Note sur l'API (PDF)"
        assert document["data"].startswith(b"%PDF")
        text = " ".join(pdf_text(document["data"], tmp_path).split())
        assert "Destinataire : l'employeur" in text
        assert "R. 431-15-3" in text
        assert [m["text"] for m in api.sent] == ["Le texte de la note"]
        assert [c[0] for c in api.calls] == ["sendDocument", "sendMessage"]
    finally:
        await bot.session.close()
        await server.close()


async def test_whatsapp_uploads_then_sends_a_document(
        store: SQLiteStorage, notes: NoteKnowledge, settings: Settings, tmp_path: Path) -> None:
    clock = ShiftedClock(NOW)
    fake = FakeGraphAPI(clock=clock, templates=load_templates(
        settings.whatsapp_templates_dir, {LANGUAGES["fr"]}))
    server = TestServer(fake.app())
    await server.start_server()
    fake.base_url = str(server.make_url("")).rstrip("/")
    api = GraphAPI(f"{fake.base_url}/{VERSION}", fake.token, fake.phone_number_id)
    channel = WhatsAppChannel(api, TemplateBook.load(settings.whatsapp_templates_dir), clock,
                              approved={"fr"})
    try:
        fake.last_inbound["33600000009"] = NOW - timedelta(minutes=5)
        await _queue(store, "wa:33600000009")
        sender = Sender(store, {"wa": channel}, clock, documents=DocumentSource(store, notes))
        report = await sender.drain()
        assert report.sent == 2, fake.refused
        document, text = fake.sent
        assert document["type"] == "document"
        media = document["payload"]["document"]["id"]
        name, mime, data = fake.uploads[media]
        assert (name, mime) == ("note-API-employer.pdf", "application/pdf")
        assert document["payload"]["document"]["filename"] == name
        assert "Destinataire : l'employeur" in " ".join(pdf_text(data, tmp_path).split())
        assert text["type"] == "text"
    finally:
        await api.close()
        await server.close()


async def test_an_expired_document_is_not_sent(store: SQLiteStorage, notes: NoteKnowledge) -> None:
    channel_api = FakeBotAPI()
    server = TestServer(channel_api.app())
    await server.start_server()
    bot = make_bot(channel_api.token, str(server.make_url("")).rstrip("/"))
    try:
        await _queue(store, "telegram:778")
        later = ShiftedClock(NOW + LIFETIME + timedelta(minutes=1))
        sender = Sender(store, {"telegram": TelegramChannel(bot)}, later,
                        documents=DocumentSource(store, notes))
        report = await sender.drain()
        assert report.failed == 1
        assert channel_api.documents == []
    finally:
        await bot.session.close()
        await server.close()


async def test_the_web_chat_gives_a_link_and_the_page_a_pdf(
        store: SQLiteStorage, notes: NoteKnowledge,
        tmp_path: Path) -> None:
    token = await _queue(store, "web:" + "a" * 32)
    claimed = await store.claim_outbox(NOW, 10)
    assert claimed[0].document == token
    clock = ShiftedClock(NOW)
    app = web.Application()
    DocumentDownloads(DocumentSource(store, notes), clock.now).add_routes(app.router)
    async with TestClient(TestServer(app)) as client:
        page = await client.get(f"/chat/documents/{token}?lang=fa_AF")
        html = await page.text()
        assert page.status == 200
        assert 'dir="rtl"' in html
        assert "دانلود PDF" in html
        assert "script" not in html
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert "default-src 'none'" in page.headers["Content-Security-Policy"]
        pdf = await client.post(f"/chat/documents/{token}?lang=fa_AF",
                                data={"name": "Zahra Ahmadi"})
        assert pdf.status == 200
        assert pdf.headers["Content-Type"] == "application/pdf"
        body = await pdf.read()
        text = " ".join(pdf_text(body, tmp_path).split())
        assert "Personne concernée : Zahra Ahmadi" in text
        # The name was written on that PDF only: nothing stored has it.
        rows = await store.read(lambda conn: conn.execute(
            "SELECT facts FROM documents").fetchall())
        assert all("Zahra" not in r[0] for r in rows)
        assert (await client.get("/chat/documents/" + "x" * 32)).status == 404
        assert (await client.get("/chat/documents/short")).status == 404
        clock.advance(LIFETIME + timedelta(minutes=1))
        assert (await client.get(f"/chat/documents/{token}")).status == 404


async def test_the_web_chat_frame_carries_the_link(store: SQLiteStorage) -> None:
    token = await _queue(store, "web:" + "b" * 32)
    claimed = await store.claim_outbox(NOW, 10)
    channel = WebChatChannel()

    class Socket:
        closed = False

        def __init__(self) -> None:
            self.frames: list[str] = []

        async def send_str(self, frame: str) -> None:
            self.frames.append(frame)

    socket = Socket()
    channel.sockets["b" * 32].add(socket)  # type: ignore[arg-type]
    await channel.send(claimed[0])
    assert f'"document": "/chat/documents/{token}"' in socket.frames[0]
