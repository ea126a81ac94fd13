"""Timers fall due exactly once, in order, also after downtime; retention erases the idle."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.core.events import MessageCreated
from bot.core.model import Inbound, MessageKind
from bot.core.registry import Registry, TurnContext
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
    from bot.core.registry import REGISTRY

    runtime = Runtime.build(settings, ManualClock(NOW), {"test": channel},
                            tmp_path / "s.sqlite3", registry=REGISTRY.merged(TIMERS))
    await runtime.start()
    yield runtime
    await runtime.close()


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
