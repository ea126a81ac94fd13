"""One inbound message end to end, on a real SQLite database."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.conversations import Outcome
from bot.core.model import Inbound, InboundKind
from bot.core.text import fold
from bot.runtime import Runtime
from bot.storage.sqlite import SQLiteStorage
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
    assert isinstance(runtime.storage, SQLiteStorage)
    assert runtime.storage.sessions.get(user) is None
    assert fold.cache_info().currsize == 0


async def test_photos_and_media_are_answered_not_stored(runtime: Runtime,
                                                        channel: RecordingChannel) -> None:
    await runtime.conversations.handle(text("a", "1", "hello"), NOW)
    await runtime.conversations.handle(
        Inbound(user="test:a", message_id="2", kind=InboundKind.MEDIA, media="sticker"), NOW)
    await runtime.sender.drain()
    assert len(channel.sent) == 2


#: Secrets sent by mistake in five languages and digit scripts, and the value that must not
#: be written anywhere (the value is what is searched for in the database).
SECRETS = [
    ("mon code est 482913", "482913"),
    ("کد من ۴۸۲۹۱۳ است", "۴۸۲۹۱۳"),
    ("رمز من Azerty123 است", "Azerty123"),
    ("زما پټنوم Kabul1400 دی", "Kabul1400"),
    ("كلمة المرور هي Ahmad@2020", "Ahmad@2020"),
    ("my password is Herat1399!", "Herat1399"),
    ("731902", "731902"),
]


def _all_text(path: str) -> str:
    """Every text value of every row of every table of the database, joined."""
    import sqlite3

    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        values: list[str] = []
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):  # the names come from SQLite
                values.extend(str(v) for v in row if isinstance(v, str | bytes))
    return "\n".join(values)


async def test_no_secret_reaches_the_database(runtime: Runtime, tmp_path: Path) -> None:
    from bot.core.text import ascii_digits

    user = "test:s"
    steps: list[tuple[str, str]] = [("text", "mon code est 482913"),  # before any language
                                    ("tap", "fr"), ("tap", "agree")]
    steps += [("text", s) for s, _ in SECRETS]
    steps += [("text", "/human"), ("tap", "share")]  # a caseworker has the conversation now
    steps += [("text", s) for s, _ in SECRETS]
    steps += [("text", "J'ai besoin d'aide pour mon API")]  # relayed: the transcript is kept
    for i, (kind, body) in enumerate(steps):
        inbound = (Inbound.choice_tap(user, str(i), body) if kind == "tap"
                   else text("s", str(i), body))
        await runtime.conversations.handle(inbound, NOW)
    await runtime.sender.drain()
    async with runtime.storage.transaction() as tx:
        session = await tx.load_session(user)
    assert session is not None
    assert session.case_open  # the case did open
    stored = _all_text(str(tmp_path / "rt.sqlite3"))
    assert "J'ai besoin d'aide pour mon API" in stored  # what is kept is really searched
    for _, value in SECRETS:
        assert value not in stored, value
        assert ascii_digits(value) not in ascii_digits(stored), value
