"""The web chat with two instances on one PostgreSQL: a person's socket is held by one of
them, and what the other writes for them (a caseworker's reply posted through its inbox, the
day's reminder staged by its scheduler) reaches that socket, once (bot/web/relay.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse, WSMsgType
from aiohttp.test_utils import TestClient, TestServer

from bot.core.model import Session
from bot.server import Server
from bot.settings import Settings
from bot.storage.base import Storage
from bot.storage.cases import CaseStore
from tests.clients import WebClient
from tests.inbox.conftest import csrf, login, new_case, organisation, worker
from tests.postgres_server import PostgresServer

pytestmark = pytest.mark.slow

Instance = tuple[Server, WebClient]


@pytest.fixture
async def instances(postgres_server: PostgresServer) -> AsyncIterator[list[Instance]]:
    """Two servers on one database, each on its own port; the first started leads (it sends,
    schedules and polls), the second only takes web chat sockets, webhooks and the inbox."""
    settings = Settings.from_mapping({"DATABASE_URL": postgres_server.fresh_database()})
    started: list[Instance] = []
    for _ in range(2):
        server = Server(settings)
        client = TestClient(TestServer(server.app(), host="127.0.0.1"))
        await client.start_server()
        started.append((server, client))
    yield started
    for _, client in reversed(started):
        await client.close()


async def _frames(ws: ClientWebSocketResponse, seconds: float) -> list[dict[str, Any]]:
    """Every message frame the socket receives within `seconds`."""
    frames: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    while (left := until - loop.time()) > 0:
        try:
            frame = await ws.receive(timeout=left)
        except TimeoutError:
            break
        if frame.type != WSMsgType.TEXT:
            break
        data = json.loads(frame.data)
        if data.get("type") == "message":
            frames.append(data)
    return frames


async def _settled(ws: ClientWebSocketResponse, storage: Storage,
                   enough: Callable[[list[dict[str, Any]]], bool], seconds: float = 20.0
                   ) -> list[dict[str, Any]]:
    """Frames received until `enough` of them came and nothing is left to send (no outbox
    row pending or being sent on the database both instances share), then whatever arrives
    within half a second more: a row is sent before it is marked sent, so a second copy would
    already be on its way."""
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    frames: list[dict[str, Any]] = []
    while not (enough(frames) and await storage.pending_count() == 0):
        left = until - loop.time()
        assert left > 0, (f"not settled: {frames}, "
                          f"{await storage.pending_count()} messages still to send")
        frames += await _frames(ws, min(left, 0.1))
    return frames + await _frames(ws, 0.5)


def _saying(text: str) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda frames: any(text in f["text"] for f in frames)


def _any(frames: list[dict[str, Any]]) -> bool:
    return bool(frames)


async def test_the_instance_holding_the_socket_delivers_what_the_other_wrote(
        instances: list[Instance]) -> None:
    (leader, at_leader), (other, at_other) = instances
    assert leader.runtime.relay is not None
    assert other.runtime.relay is not None
    token = "relay-test-token-0001"
    user = f"web:{token}"
    ws = await at_other.ws_connect(f"/chat/ws?token={token}")

    # The person's own turn runs where the socket is, and its reply comes back there: the
    # leader's sender leaves the web chat's messages to the instance holding the socket.
    await ws.send_str(json.dumps({"type": "text", "id": "m1", "text": "/start"}))
    (welcome,) = await _settled(ws, leader.runtime.storage, _any)
    assert [c["id"] for c in welcome["choices"]] == ["fr", "fa_af", "ps", "ar", "en"]

    # A caseworker answers through the inbox of the other instance (the leader).
    store = CaseStore(leader.runtime.storage)
    org = await organisation(store, "Cimade Lyon")
    await worker(store, org, "marie@example.org")
    case_id = await new_case(store, user, org_code=org.code)
    assert (await login(at_leader, "marie@example.org", "correct horse battery")).status == 303
    said = "Bonjour, je vous appelle demain matin."
    posted = await at_leader.post(f"/inbox/cases/{case_id}/reply",
                                  data={"csrf": await csrf(at_leader, f"/inbox/cases/{case_id}"),
                                        "text": said}, allow_redirects=False)
    assert posted.status == 303
    assert posted.headers["Location"].endswith("fait=envoye")
    frames = await _settled(ws, leader.runtime.storage, _saying(said))
    assert [f["text"].count(said) for f in frames] == [1]  # once, and nothing else

    # The leader's scheduler stages the day's reminders; the one for this person goes out
    # from here.
    now = datetime.now(UTC)
    end = (now + timedelta(days=7)).date().isoformat()
    async with leader.runtime.storage.transaction() as tx:
        session = await tx.load_session(user)
        assert session is not None
        await tx.save_session(Session(user=user, flow="menu", state="main", locale="fr",
                                      consent=True, version=session.version
                                      ).with_slot("api_end", end), now)
        await tx.schedule(user, "reminder", "api_end", now - timedelta(minutes=1),
                          {"slot": "api_end", "date": end, "offset": "7"}, now)
    assert await leader.runtime.scheduler.run_due(now) == 1
    frames = await _settled(ws, leader.runtime.storage, _any)
    assert [f["kind"] for f in frames] == ["reminder"]  # exactly one message: the reminder
    assert await leader.runtime.storage.pending_count() == 0  # each row marked sent
    await ws.close()


async def test_a_socket_opened_after_the_message_was_written_receives_it(
        instances: list[Instance]) -> None:
    """Written by the leader while the person had no socket anywhere; sent by the other
    instance when they open one there."""
    (leader, at_leader), (_, at_other) = instances
    token = "relay-test-token-0002"
    user = f"web:{token}"
    first = await at_leader.ws_connect(f"/chat/ws?token={token}")
    await first.send_str(json.dumps({"type": "text", "id": "m1", "text": "/start"}))
    # The welcome, through the leader's relay.
    assert len(await _settled(first, leader.runtime.storage, _any)) == 1
    await first.close()
    await leader.runtime.conversations.staff(user, "reply", "Votre dossier est complet.", "")
    # The leader's sender looks (as its loop does when the reply wakes it): it leaves this one.
    assert (await leader.runtime.sender.drain()).sent == 0
    assert await leader.runtime.storage.pending_count() == 1
    ws = await at_other.ws_connect(f"/chat/ws?token={token}")
    frames = await _settled(ws, leader.runtime.storage, _saying("Votre dossier est complet."))
    assert sum("Votre dossier est complet." in f["text"] for f in frames) == 1
    await ws.close()


async def test_a_message_nobody_announced_still_goes_out_at_the_next_look(
        instances: list[Instance]) -> None:
    """A notice can be missed (the listening connection dropped): each instance looks again
    for the people it holds every few seconds."""
    (leader, _), (other, at_other) = instances
    relay = other.runtime.relay
    assert relay is not None
    # Its looks every half second rather than five (the next wait takes the new interval;
    # the socket opening below wakes the relay from the current one).
    relay.idle_seconds = 0.5
    token = "relay-test-token-0003"
    user = f"web:{token}"
    ws = await at_other.ws_connect(f"/chat/ws?token={token}")
    await ws.send_str(json.dumps({"type": "text", "id": "m1", "text": "/start"}))
    assert len(await _settled(ws, leader.runtime.storage, _any)) == 1
    body = json.dumps({"text": "Un message sans annonce.", "choices": []})
    stamp = datetime.now(UTC).isoformat()
    async with leader.runtime.storage.transaction() as tx:  # written past enqueue: no notice
        await tx.run("INSERT INTO outbox (user_key, kind, locale, body, created_at, "
                     "available_at) VALUES (?, 'reply', 'fr', ?, ?, ?)", user, body, stamp,
                     stamp)
    frames = await _settled(ws, leader.runtime.storage, _saying("Un message sans annonce."),
                            seconds=relay.idle_seconds + 5)
    assert sum("Un message sans annonce." in f["text"] for f in frames) == 1
    await ws.close()
