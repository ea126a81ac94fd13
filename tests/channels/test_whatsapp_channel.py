"""The WhatsApp sending side, message by message, with the real HTTP client against the fake
Graph API: how choices are laid out, the 24-hour rule, and what Graph errors become."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.channels.base import PermanentFailure, TemporaryFailure
from bot.channels.graph import GraphAPI
from bot.channels.whatsapp import WhatsAppChannel, free_form, numbered
from bot.channels.whatsapp_templates import LANGUAGES, TemplateBook
from bot.core.model import Choice, MessageKind
from bot.core.text import RLM
from bot.settings import Settings
from bot.storage.base import OutboxMessage
from tests.fakes.clock import ShiftedClock
from tests.fakes.graph_api import VERSION, FakeGraphAPI, load_templates

NOW = datetime(2026, 3, 19, 9, 0, tzinfo=UTC)
USER = "33600000001"


def outbox(text: str = "Bonjour", choices: tuple[Choice, ...] = (), locale: str = "fr",
           wrote: timedelta | None = timedelta(hours=1), template: str = "",
           params: tuple[str, ...] = ()) -> OutboxMessage:
    return OutboxMessage(id=1, user=f"wa:{USER}", kind=MessageKind.REMINDER, locale=locale,
                         text=text, choices=choices, created_at=NOW, attempts=1,
                         template=template, template_params=params,
                         last_inbound_at=None if wrote is None else NOW - wrote)


@pytest.fixture
async def graph(settings: Settings) -> AsyncIterator[FakeGraphAPI]:
    fake = FakeGraphAPI(clock=ShiftedClock(NOW), templates=load_templates(
        settings.whatsapp_templates_dir, {LANGUAGES["fr"]}))
    server = TestServer(fake.app())
    await server.start_server()
    fake.base_url = str(server.make_url("")).rstrip("/")
    yield fake
    await server.close()


@pytest.fixture
async def channel(graph: FakeGraphAPI, settings: Settings) -> AsyncIterator[WhatsAppChannel]:
    api = GraphAPI(f"{graph.base_url}/{VERSION}", graph.token, graph.phone_number_id)
    book = TemplateBook.load(settings.whatsapp_templates_dir)
    yield WhatsAppChannel(api, book, graph.clock, approved={"fr"})
    await api.close()


def _titles(message: dict[str, Any]) -> list[str]:
    return [b["reply"]["title"] for b in message["interactive"]["action"]["buttons"]]


def test_choices_become_buttons_a_list_or_numbered_lines() -> None:
    three = tuple(Choice(f"c{i}", f"Choix {i}") for i in range(3))
    buttons = free_form(USER, outbox(choices=three))
    assert buttons["interactive"]["type"] == "button"
    assert _titles(buttons) == ["1. Choix 0", "2. Choix 1", "3. Choix 2"]
    long = (*three[:2], Choice("long", "Demander ma première carte de séjour"))
    listed = free_form(USER, outbox(choices=long))["interactive"]
    assert listed["type"] == "list"
    row = listed["action"]["sections"][0]["rows"][2]
    assert row == {"id": "long", "title": "3. Demander ma première…",
                   "description": "Demander ma première carte de séjour"}
    eleven = tuple(Choice(f"c{i}", f"Choix {i}") for i in range(11))
    assert free_form(USER, outbox(choices=eleven))["type"] == "text"
    huge = (Choice("a", "mot " * 20),)  # cannot be described in 72 characters either
    assert free_form(USER, outbox(choices=huge))["type"] == "text"
    wordy = free_form(USER, outbox(text="x" * 1100, choices=three))  # above buttons: 1024
    assert wordy["type"] == "text"
    assert wordy["text"]["body"].endswith("\n3. Choix 2")
    plain = free_form(USER, outbox())
    assert plain["text"] == {"body": "Bonjour", "preview_url": False}


def test_buttons_are_numbered_only_when_every_title_fits() -> None:
    # 18 and 17 characters: they fit a button (20), numbered they do not: buttons as they are
    # (still in order, so "2" still names the second), never a cut label.
    near = (Choice("a", "Oui, je le garde !"), Choice("b", "Non, je le laisse"))
    assert _titles(free_form(USER, outbox(choices=near))) == [c.label for c in near]
    pashto = (Choice("keep", f"{RLM}زه موافق یم"), Choice("no", f"{RLM}نه، مننه"))
    assert _titles(free_form(USER, outbox(choices=pashto, locale="ps"))) == [
        f"{RLM}۱. زه موافق یم", f"{RLM}۲. نه، مننه"]
    # Arabic counts in Latin digits; a French label in a Dari message keeps left to right.
    arabic = free_form(USER, outbox(choices=(Choice("a", f"{RLM}نعم"),), locale="ar"))
    assert _titles(arabic) == [f"{RLM}1. نعم"]
    mixed = free_form(USER, outbox(choices=(Choice("fr", "Français"),), locale="fa_AF"))
    assert _titles(mixed) == ["۱. Français"]


def test_numbered_lines_keep_right_to_left_and_the_length_limit() -> None:
    dari = numbered(f"{RLM}سلام", (Choice("a", f"{RLM}یک"), Choice("b", f"{RLM}دو")), "fa_AF")
    assert dari.split("\n")[-2:] == [f"{RLM}۱. یک", f"{RLM}۲. دو"]
    long = numbered("ligne\n" * 1000, (Choice("a", "Oui"),), "fr")
    assert len(long) <= 4096
    assert long.endswith("\n\n1. Oui")


async def test_every_layout_is_accepted_by_the_graph_api(graph: FakeGraphAPI,
                                                         channel: WhatsAppChannel) -> None:
    graph.last_inbound[USER] = NOW - timedelta(hours=1)
    three = tuple(Choice(f"c{i}", f"Choix {i}") for i in range(3))
    for choices in (three, (*three, Choice("long", "Demander ma première carte de séjour")),
                    tuple(Choice(f"c{i}", f"Choix {i}") for i in range(12)), ()):
        delivery = await channel.send(outbox(choices=choices))
        assert delivery.ref == graph.sent[-1]["id"]
        assert delivery.sent_as is None
    assert graph.refused == []
    assert [m["type"] for m in graph.sent] == ["interactive", "interactive", "text", "text"]


async def test_outside_the_window_only_a_reminder_goes_as_a_template(
        graph: FakeGraphAPI, channel: WhatsAppChannel) -> None:
    with pytest.raises(PermanentFailure, match="24-hour"):
        await channel.send(outbox(wrote=timedelta(hours=30)))
    with pytest.raises(PermanentFailure, match="24-hour"):
        await channel.send(outbox(wrote=None))  # never wrote (or erased)
    assert graph.sent == []
    delivery = await channel.send(outbox(wrote=timedelta(hours=30), template="api_end:7",
                                         params=("26/03/2026",)))
    assert delivery.sent_as == "template:relais_api_end_7:fr"
    assert delivery.fallback_from is None
    sent = graph.sent[-1]["payload"]["template"]
    assert sent["components"][0]["parameters"] == [{"type": "text", "text": "26/03/2026"}]
    with pytest.raises(PermanentFailure, match="no approved WhatsApp template"):
        await channel.send(outbox(wrote=None, template="api_end:12", params=("x",)))


async def test_when_whatsapp_says_the_window_closed_a_reminder_still_goes(
        graph: FakeGraphAPI, channel: WhatsAppChannel) -> None:
    # We handled the user's last message 23 hours ago, but it was sent long before (a
    # delivery delayed by an outage): WhatsApp refuses free text, the template goes instead.
    graph.last_inbound[USER] = NOW - timedelta(hours=26)
    delivery = await channel.send(outbox(wrote=timedelta(hours=23), template="api_end:2",
                                         params=("21/03/2026",), locale="ps"))
    assert graph.refused == [(131047, "Re-engagement message")]
    assert delivery.sent_as == "template:relais_api_end_2:fr"
    assert delivery.fallback_from == "ps"
    with pytest.raises(PermanentFailure, match="131047"):
        await channel.send(outbox(wrote=timedelta(hours=23)))  # not a reminder: it fails


@pytest.mark.parametrize(("fault", "expected"), [
    ((500, 1, "An unknown error occurred"), TemporaryFailure),
    ((400, 130429, "Rate limit hit"), TemporaryFailure),
    ((429, 80007, "Rate limit issues"), TemporaryFailure),
    ((400, 100, "Invalid parameter"), PermanentFailure),
    ((400, 131026, "Message undeliverable"), PermanentFailure),
])
async def test_graph_errors_become_the_senders_vocabulary(
        graph: FakeGraphAPI, channel: WhatsAppChannel, fault: tuple[int, int, str],
        expected: type[Exception]) -> None:
    graph.last_inbound[USER] = NOW
    graph.faults.append(fault)
    with pytest.raises(expected) as caught:
        await channel.send(outbox())
    assert type(caught.value) is expected
    assert str(fault[1]) in str(caught.value)


async def test_an_unreachable_graph_api_is_a_temporary_failure(graph: FakeGraphAPI,
                                                               settings: Settings) -> None:
    api = GraphAPI("http://127.0.0.1:9/v25.0", graph.token, graph.phone_number_id, timeout=2)
    channel = WhatsAppChannel(api, TemplateBook.load(settings.whatsapp_templates_dir),
                              graph.clock, approved={"fr"})
    try:
        with pytest.raises(TemporaryFailure):
            await channel.send(outbox())
        with pytest.raises(PermanentFailure, match="not a media id"):
            await api.media("../../etc/passwd")
    finally:
        await api.close()
