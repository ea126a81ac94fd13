"""Timers fall due exactly once, in order, also after downtime; retention erases the idle."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.core.events import MessageCreated
from bot.core.flows.registry import Registry, TurnContext
from bot.core.model import Inbound, MessageKind
from bot.runtime import Runtime
from bot.settings import Settings
from tests.conftest import NOW, RecordingChannel

TIMERS = Registry()


@TIMERS.timer("ping")
def ping(ctx: TurnContext, payload: Mapping[str, str]) -> None:
    ctx.emit(MessageCreated(MessageKind.REMINDER, ctx.session.locale or "fr",
                            f"ping {payload.get('n', '')}"))


@pytest.fixture
async def rt(settings: Settings, tmp_path: Path, channel: RecordingChannel
             ) -> AsyncIterator[Runtime]:
    from bot.core.flows.registry import REGISTRY

    runtime = Runtime.build(settings, ManualClock(NOW), {"test": channel},
                            tmp_path / "s.sqlite3", registry=REGISTRY.merged(TIMERS))
    await runtime.start()
    yield runtime
    await runtime.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def either(request: pytest.FixtureRequest, settings: Settings, tmp_path: Path,
                 channel: RecordingChannel) -> AsyncIterator[Runtime]:
    """The runtime on each backend: the bulk path's rule is written once, for both."""
    database = str(tmp_path / "s.sqlite3") if request.param == "sqlite" else (
        request.getfixturevalue("postgres_server").fresh_database())
    runtime = Runtime.build(settings, ManualClock(NOW), {"test": channel}, database)
    await runtime.start()
    yield runtime
    await runtime.close()


async def _rows(rt: Runtime, sql: str) -> list[Any]:
    """Rows read by a query, on either backend (both read with `?` placeholders)."""
    storage: Any = rt.storage
    rows: list[Any] = await storage._all(sql)
    return rows


def _advance(rt: Runtime, by: timedelta) -> None:
    clock = rt.sender.clock
    assert isinstance(clock, ManualClock)
    clock.set(NOW + by)


async def _user(rt: Runtime, user: str = "test:a") -> None:
    await rt.conversations.handle(Inbound.text_message(user, "1", "/start"), NOW)


async def _schedule(rt: Runtime, n: str, due_in: timedelta, topic: str = "api_end",
                    user: str = "test:a") -> None:
    async with rt.storage.transaction() as tx:
        await tx.schedule(user, "ping", topic, NOW + due_in, {"n": n}, NOW)


async def test_due_timers_become_reminders_once_in_due_order(rt: Runtime,
                                                             channel: RecordingChannel) -> None:
    await _user(rt)
    await _schedule(rt, "late", timedelta(days=2), topic="b")
    await _schedule(rt, "early", timedelta(days=1), topic="a")
    await _schedule(rt, "future", timedelta(days=9), topic="c")
    _advance(rt, timedelta(days=3))
    assert await rt.scheduler.run_due(NOW + timedelta(days=3), at_due_time=True) == 2
    assert await rt.scheduler.run_due(NOW + timedelta(days=3), at_due_time=True) == 0
    await rt.sender.drain()
    reminders = [m for m in channel.sent if m.kind is MessageKind.REMINDER]
    assert [m.text for m in reminders] == ["ping early", "ping late"]
    assert reminders[0].created_at == NOW + timedelta(days=1)


async def test_after_downtime_a_superseded_timer_is_skipped(rt: Runtime,
                                                            channel: RecordingChannel) -> None:
    await _user(rt)
    await _schedule(rt, "7 days before", timedelta(days=1))
    await _schedule(rt, "2 days before", timedelta(days=6))
    # The process was down for a week: only the newest reminder of the topic goes out.
    _advance(rt, timedelta(days=7))
    assert await rt.scheduler.run_due(NOW + timedelta(days=7)) == 1
    await rt.sender.drain()
    assert [m.text for m in channel.sent if m.kind is MessageKind.REMINDER] == [
        "ping 2 days before"]


async def test_no_timers_after_stop_or_for_blocked_or_erased_users(
        rt: Runtime, channel: RecordingChannel) -> None:
    for user in ("test:stop", "test:blocked", "test:erased"):
        await _user(rt, user)
        await _schedule(rt, user, timedelta(hours=1), user=user)
    await rt.conversations.handle(Inbound.text_message("test:stop", "2", "/stop"), NOW)
    await rt.storage.set_reachable("test:blocked", False)
    async with rt.storage.transaction() as tx:
        await tx.erase_user("test:erased")
    _advance(rt, timedelta(hours=2))
    await rt.scheduler.run_due(NOW + timedelta(hours=2))
    await rt.sender.drain()
    assert [m for m in channel.sent if m.kind is MessageKind.REMINDER] == []


async def test_retention_erases_users_idle_for_the_period(rt: Runtime) -> None:
    await _user(rt, "test:idle")
    await rt.conversations.handle(Inbound.text_message("test:active", "1", "/start"),
                                  NOW + timedelta(days=300))
    erased, _ = await rt.scheduler.housekeeping(NOW + timedelta(days=366))
    assert erased == 1
    assert set((await rt.storage.rows_about("test:idle")).values()) == {0}
    assert (await rt.storage.rows_about("test:active"))["sessions"] == 1


async def test_the_bulk_path_decides_who_is_reminded_and_renders_each_group(either: Runtime
                                                                              ) -> None:
    """The day's reminders are decided inside the database (consent, reminders on, the date
    unchanged, reachable, not superseded, not erased) and each group rendered by the engine:
    exactly the people the rule allows get their text, in their language."""
    import json

    from bot.core.model import Session
    from bot.storage.base import ReminderGroup

    rt = either

    today = NOW.date()
    people = {  # user: (locale, consent, reminders on, kept date, planned date, offset, topic)
        "test:ok": ("fr", True, True, today + timedelta(7), today + timedelta(7), 7, "api_end"),
        "test:ar": ("ar", True, True, today + timedelta(2), today + timedelta(2), 2, "api_end"),
        "test:nolocale": (None, True, True, today, today, 0, "api_end"),
        "test:card": ("ps", True, True, today + timedelta(120), today + timedelta(120), 120,
                      "card_end"),
        "test:noconsent": ("en", False, True, today, today, 0, "api_end"),
        "test:stopped": ("en", True, False, today, today, 0, "api_end"),
        "test:changed": ("en", True, True, today + timedelta(30), today, 0, "api_end"),
        "test:blocked": ("fa_AF", True, True, today, today, 0, "api_end"),
        "test:notext": ("fr", True, True, today + timedelta(5), today + timedelta(5), 5,
                        "api_end"),
    }
    async with rt.storage.transaction() as tx:
        for user, (locale, consent, on, kept, planned, offset, topic) in people.items():
            session = Session(user=user, flow="menu", state="main", locale=locale,
                              consent=consent, reminders=on).with_slot(topic, kept.isoformat())
            await tx.touch_user(user, NOW)
            await tx.save_session(session, NOW)
            await tx.schedule(user, "reminder", topic, NOW - timedelta(minutes=5),
                              {"slot": topic, "date": planned.isoformat(),
                               "offset": str(offset)}, NOW)
        # Superseded: an older reminder of the same topic is also due; only the later goes.
        await tx.schedule("test:ok", "reminder", "api_end", NOW - timedelta(days=7),
                          {"slot": "api_end", "date": (today + timedelta(7)).isoformat(),
                           "offset": "14"}, NOW)
        # Erased: a reminder left for a user who is no longer there.
        await tx.schedule("test:gone", "reminder", "api_end", NOW - timedelta(minutes=5),
                          {"slot": "api_end", "date": today.isoformat(), "offset": "0"}, NOW)
    await rt.storage.set_reachable("test:blocked", False)
    # What each allowed person's group renders to (the engine only writes the text).
    expected = set()
    for user in ("test:ok", "test:ar", "test:nolocale", "test:card"):
        locale, _, _, _, planned, offset, topic = people[user]
        message = rt.conversations.engine.speaker.reminder(
            ReminderGroup(topic, planned.isoformat(), offset, locale, 1), NOW)
        assert message is not None
        expected.add((user, message.locale, message.text))
    # The bulk path.
    assert await rt.scheduler.run_due(NOW) == 4
    rows = await _rows(
        rt,
        "SELECT user_key, locale, body FROM outbox WHERE kind = 'reminder'")
    assert {(u, loc, json.loads(body)["text"]) for u, loc, body in rows} == expected
    statuses = await _rows(
        rt,
        "SELECT status, COUNT(*) FROM scheduled WHERE name = 'reminder' GROUP BY status")
    # Nothing left pending.
    assert {status: count for status, count in statuses} == {"done": 4, "skipped": 7}
    transcript = await _rows(
        rt,
        "SELECT COUNT(*) FROM transcript WHERE direction = 'out'")
    assert next(iter(transcript))[0] >= 4
