"""The note through a real conversation: `/note`, the questions, the document row and the
explanation in the person's language, the PDF rendered from the stored facts, /delete."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.model import Inbound
from bot.documents.delivery import DocumentSource
from bot.runtime import Runtime
from tests.conftest import NOW, RecordingChannel
from tests.documents.conftest import pdf_text

ARABIC_SCRIPT = range(0x0600, 0x0700)


class Person:
    def __init__(self, runtime: Runtime, user: str) -> None:
        self.runtime, self.user, self.n = runtime, user, 0

    async def send(self, text: str) -> None:
        self.n += 1
        await self.runtime.conversations.handle(
            Inbound.text_message(self.user, str(self.n), text), NOW)

    async def tap(self, choice: str) -> None:
        self.n += 1
        await self.runtime.conversations.handle(
            Inbound.choice_tap(self.user, str(self.n), choice), NOW)

    async def onboard(self, locale: str) -> None:
        await self.send("/start")
        await self.tap(locale.lower())
        await self.tap("agree")


def _arabic(text: str) -> bool:
    return sum(1 for ch in text if ord(ch) in ARABIC_SCRIPT) > len(text) / 3


async def _ask_note(runtime: Runtime, channel: RecordingChannel, locale: str,
                    user: str) -> Person:
    person = Person(runtime, user)
    await person.onboard(locale)
    await runtime.sender.drain()
    channel.sent.clear()
    await person.send("/note")
    await person.tap("caf")
    await person.tap("first")
    await person.tap("refugee")
    await person.send("01/03/2027")
    await runtime.sender.drain()
    return person


@pytest.mark.parametrize("locale", ["fa_AF", "ps", "ar", "en", "fr"])
async def test_the_note_and_its_explanation(runtime: Runtime, channel: RecordingChannel,
                                            locale: str, tmp_path: Path) -> None:
    await _ask_note(runtime, channel, locale, f"test:{locale}")
    documents = [m for m in channel.sent if m.document]
    assert len(documents) == 1
    document = documents[0]
    assert document.locale == "fr"
    # The same text as a message, in French, right after the document.
    index = channel.sent.index(document)
    text = channel.sent[index + 1]
    assert "Destinataire : la Caisse d'allocations familiales (CAF)" in text.text
    assert "R. 431-15-3" in text.text
    assert "01/03/2027" in text.text
    # Then the explanation, in the person's language: what the note says, how to use it,
    # and (a refugee) that it cites their right to work.
    explanation, work = channel.sent[index + 2:]
    assert explanation.locale == work.locale == locale
    assert [c.id for c in work.choices] == ["complaint", "human", "menu"]
    assert "2D-Doc" in explanation.text
    assert "API" in explanation.text
    if locale in ("fa_AF", "ps", "ar"):
        assert _arabic(explanation.text), explanation.text
        assert _arabic(work.text), work.text
        assert explanation.text.startswith("\u200f")  # marked right to left
        assert "\u20682D-Doc\u2069" in explanation.text  # Latin isolated inside it
    source = DocumentSource(runtime.storage, runtime.notes)
    found = await source.pdf(document.document, NOW)
    assert found is not None
    name, pdf = found
    assert name == "note-API-caf.pdf"
    assert "R. 431-15-3" in " ".join(pdf_text(pdf, tmp_path).split())
    # The link stops working after its lifetime.
    assert await source.pdf(document.document, NOW + timedelta(hours=25)) is None


async def test_the_complaint(runtime: Runtime, channel: RecordingChannel, tmp_path: Path
                             ) -> None:
    person = await _ask_note(runtime, channel, "ar", "test:complaint")
    channel.sent.clear()
    await person.tap("complaint")
    await person.send("28/11/2026")
    await runtime.sender.drain()
    documents = [m for m in channel.sent if m.document]
    assert len(documents) == 1
    source = DocumentSource(runtime.storage, runtime.notes)
    found = await source.pdf(documents[0].document, NOW)
    assert found is not None
    text = " ".join(pdf_text(found[1], tmp_path).split())
    assert "Le 28/11/2026, la Caisse d'allocations familiales (CAF) a refusé" in text
    assert "defenseurdesdroits.fr" in channel.sent[-1].text
    assert _arabic(channel.sent[-1].text)


async def test_a_stateless_person_gets_no_article(runtime: Runtime, channel: RecordingChannel
                                                  ) -> None:
    person = Person(runtime, "test:stateless")
    await person.onboard("en")
    channel.sent.clear()
    await person.send("/note")
    await person.tap("bank")
    await person.tap("dont_know")
    await person.tap("stateless")
    await person.tap("dont_know")  # no end date
    await runtime.sender.drain()
    text = next(channel.sent[i + 1].text for i, m in enumerate(channel.sent) if m.document)
    assert "R. 4" not in text
    assert "L. 414" not in text
    assert "API valable jusqu'au" not in text
    assert "work" not in channel.sent[-1].text  # no right to work claimed for them


async def test_delete_erases_the_document_and_the_observations(
        runtime: Runtime, channel: RecordingChannel) -> None:
    person = await _ask_note(runtime, channel, "en", "test:erase")
    token = next(m.document for m in channel.sent if m.document)
    await person.send("/api 01/06/2027")  # a renewed API: an observation
    assert (await runtime.storage.rows_about(person.user))["observations"] == 1
    await person.send("/delete")
    await person.tap("erase")
    assert (await runtime.storage.rows_about(person.user)).get("documents", 0) == 0
    assert (await runtime.storage.rows_about(person.user)).get("observations", 0) == 0
    assert await DocumentSource(runtime.storage, runtime.notes).pdf(token, NOW) is None


async def test_withdrawing_consent_forgets_the_observations(
        runtime: Runtime, channel: RecordingChannel) -> None:
    person = await _ask_note(runtime, channel, "fr", "test:withdraw")
    await person.send("/api 01/06/2027")
    assert (await runtime.storage.rows_about(person.user))["observations"] == 1
    await person.send("/privacy")
    await person.tap("withdraw")
    assert (await runtime.storage.rows_about(person.user))["observations"] == 0
