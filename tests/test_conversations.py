"""One inbound message end to end, on a real SQLite database."""

from __future__ import annotations

import asyncio

from bot.conversations import Outcome
from bot.core.model import Inbound, InboundKind
from bot.core.text import fold
from bot.runtime import Runtime
from tests.conftest import NOW, RecordingChannel


def text(user: str, mid: str, body: str) -> Inbound:
    return Inbound.text_message(f"test:{user}", mid, body)


async def test_a_message_is_answered_and_the_answer_sent(runtime: Runtime,
                                                         channel: RecordingChannel) -> None:
    assert await runtime.conversations.handle(text("a", "1", "/start"), NOW) is Outcome.ACCEPTED
    report = await runtime.sender.drain()
    assert report.sent == 1
    assert [c.id for c in channel.sent[0].choices] == ["fr", "fa_af", "ps", "ar", "en"]


async def test_a_redelivered_message_is_answered_once(runtime: Runtime,
                                                      channel: RecordingChannel) -> None:
    await runtime.conversations.handle(text("a", "1", "/start"), NOW)
    assert await runtime.conversations.handle(text("a", "1", "/start"), NOW) is Outcome.DUPLICATE
    await runtime.sender.drain()
    assert len(channel.sent) == 1


async def test_concurrent_messages_of_one_user_are_serialised(runtime: Runtime,
                                                              channel: RecordingChannel) -> None:
    await runtime.conversations.handle(text("a", "0", "/start"), NOW)
    # Two taps at once: each turn sees the state the previous one left.
    await asyncio.gather(
        runtime.conversations.handle(Inbound.choice_tap("test:a", "1", "en"), NOW),
        runtime.conversations.handle(Inbound.choice_tap("test:a", "2", "agree"), NOW),
    )
    async with runtime.storage.transaction() as tx:
        session = await tx.load_session("test:a")
    assert session is not None
    assert session.version == 3
    assert session.consent is True
    assert session.state == "main"
    assert len(runtime.conversations.locks) == 0  # idle locks are evicted


async def test_many_users_at_once(runtime: Runtime, channel: RecordingChannel) -> None:
    await asyncio.gather(*(runtime.conversations.handle(text(str(i), "1", "/start"), NOW)
                           for i in range(40)))
    await runtime.sender.drain()
    assert sorted(m.user for m in channel.sent) == sorted(f"test:{i}" for i in range(40))


async def test_transcript_only_with_consent(runtime: Runtime) -> None:
    await runtime.conversations.handle(text("a", "1", "/start"), NOW)
    await runtime.conversations.handle(Inbound.choice_tap("test:a", "2", "en"), NOW)
    assert await runtime.storage.transcript("test:a") == []
    await runtime.conversations.handle(Inbound.choice_tap("test:a", "3", "agree"), NOW)
    await runtime.conversations.handle(text("a", "4", "my question"), NOW)
    directions = [d for d, _, _ in await runtime.storage.transcript("test:a")]
    assert "in" in directions
    assert "out" in directions
    assert ("in", "my question") in [(d, t) for d, _, t in
                                     await runtime.storage.transcript("test:a")]


async def test_delete_erases_every_row_but_the_goodbye_is_sent(
        runtime: Runtime, channel: RecordingChannel) -> None:
    user = "test:a"
    for i, step in enumerate(["/start", "en", "agree", "/human", "share", "hello", "/delete"]):
        inbound = (Inbound.choice_tap(user, str(i), step) if step in ("en", "agree", "share")
                   else text("a", str(i), step))
        await runtime.conversations.handle(inbound, NOW)
    await runtime.sender.drain()
    rows = await runtime.storage.rows_about(user)
    assert rows["transcript"] > 0
    assert rows["handoff_requests"] == 1
    await runtime.conversations.handle(Inbound.choice_tap(user, "9", "erase"), NOW)
    await runtime.sender.drain()
    assert "deleted" in channel.sent[-1].text
    rows = await runtime.storage.rows_about(user)
    assert set(rows.values()) == {0}, rows
    # Nor is anything of theirs left in memory: their session, the texts lately folded.
    assert runtime.storage.sessions.get(user) is None
    assert fold.cache_info().currsize == 0


async def test_photos_and_media_are_answered_not_stored(runtime: Runtime,
                                                        channel: RecordingChannel) -> None:
    await runtime.conversations.handle(text("a", "1", "hello"), NOW)
    await runtime.conversations.handle(
        Inbound(user="test:a", message_id="2", kind=InboundKind.MEDIA, media="sticker"), NOW)
    await runtime.sender.drain()
    assert len(channel.sent) == 2
