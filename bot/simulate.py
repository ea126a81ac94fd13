"""`python -m bot simulate`: the flow simulator and end-to-end test driver.

JSON lines in (one message or clock move per line), JSON lines out (one per message the
assistant sends), through the same engine, storage, outbox, sender and scheduler as production,
with a simulated clock. The contract is stable: tests and content editors rely on it.

    {"user": "u1", "text": "/start"}             a text message (commands are text)
    {"user": "u1", "choice": "agree"}            a tap on a button of the latest message
    {"user": "u1", "photo": "shot.png"}          an image
    {"clock": "2026-05-01T09:30:00+02:00"}       move the clock; what falls due is emitted in order
    {"user": "u1", "staff": {"action": "canned", "canned": "screenshot"}}
                                                 the user's caseworker acts from the inbox:
                                                 "canned" (a ready reply), "reply" (with
                                                 "text", French as typed) or "close"

A choice names the button by its id or its label. Any user line may carry "id", the
channel's message id (default: the line's number), so that replaying an input on the same
--db after a crash answers each message exactly once.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from types import MappingProxyType
from typing import Any, TextIO

from bot.clock import ManualClock
from bot.core.engine import Engine, Turn
from bot.core.exceptions import RelaisError
from bot.core.model import Inbound, InboundKind
from bot.ocr import read_file, read_screenshot
from bot.outgoing import Outgoing
from bot.runtime import Runtime
from bot.settings import Settings

CHANNEL = "sim"


class InputError(RelaisError, ValueError):
    pass


def parse_time(raw: Any) -> datetime:
    if not isinstance(raw, str):
        raise InputError("a time must be an ISO-8601 string")
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise InputError(f"not an ISO-8601 time: {raw!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ClockMove:
    to: datetime


STAFF_ACTIONS = ("reply", "canned", "close")


def parse_line(line: str, number: int) -> Inbound | ClockMove:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise InputError("each line must be a JSON object")
    if "clock" in data:
        if set(data) != {"clock"}:
            raise InputError("a clock line has only `clock`")
        return ClockMove(parse_time(data["clock"]))
    user = data.get("user")
    if not isinstance(user, str) or not user or ":" in user:
        raise InputError("`user` must be a non-empty string without ':'")
    message_id = str(data.get("id", number))
    kinds = [k for k in ("text", "choice", "photo", "staff") if k in data]
    if len(kinds) != 1:
        raise InputError("a user line has exactly one of `text`, `choice`, `photo` or `staff`")
    value = data[kinds[0]]
    key = f"{CHANNEL}:{user}"
    if kinds[0] == "staff":
        if not isinstance(value, dict) or value.get("action") not in STAFF_ACTIONS or not all(
                isinstance(v, str) for v in value.values()):
            raise InputError(f"`staff` is an object with `action` one of {STAFF_ACTIONS}")
        return Inbound(user=key, message_id=f"staff:{message_id}", kind=InboundKind.STAFF,
                       payload=MappingProxyType(dict(value)))
    if not isinstance(value, str):
        raise InputError(f"`{kinds[0]}` must be a string")
    if kinds[0] == "text":
        return Inbound.text_message(key, message_id, value)
    if kinds[0] == "choice":
        return Inbound.choice_tap(key, message_id, value)
    return Inbound(user=key, message_id=message_id, kind=InboundKind.PHOTO, media=value)


async def _read_photo(inbound: Inbound) -> Inbound:
    """The simulator is a channel: like Telegram's, it reads the screenshot before the turn."""
    screen = await read_screenshot(read_file(Path(inbound.media)))
    payload = {} if screen.available else {"ocr": "unavailable"}
    return replace(inbound, text=screen.text, payload=MappingProxyType(payload))


class SimulatorChannel:
    """Delivers a message by printing it as one JSON line, flushed at once."""

    name = CHANNEL

    def __init__(self, out: TextIO, timezone: tzinfo = UTC) -> None:
        self.out = out
        self.timezone = timezone  # "at" is shown in the association's zone
        self.sent = 0
        # Fault injection for the crash tests: die right after the N-th line is written,
        # before the sender records it as sent.
        kill_after = os.environ.get("RELAIS_SIM_KILL_AFTER_SENDS")
        self.kill_after = int(kill_after) if kill_after else None

    async def send(self, message: Outgoing) -> str | None:
        record = {
            "user": message.user.split(":", 1)[1],
            "kind": str(message.kind),
            "locale": message.locale,
            "text": message.text,
            "choices": [c.as_dict() for c in message.choices],
            "at": message.created_at.astimezone(self.timezone).isoformat(),
        }
        self.out.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.out.flush()
        self.sent += 1
        if self.kill_after is not None and self.sent >= self.kill_after:
            os.kill(os.getpid(), signal.SIGKILL)
        return None


async def _resolve_choice(runtime: Runtime, inbound: Inbound) -> Inbound:
    """A `choice` line may name a button by its label; the channel sends ids."""
    async with runtime.storage.transaction() as tx:
        session = await tx.load_session(inbound.user)
    if session is None:
        return inbound
    for choice in session.offered:
        if inbound.choice in (choice.id, choice.label):
            return Inbound.choice_tap(inbound.user, inbound.message_id, choice.id)
    return inbound


async def simulate(lines: Iterable[str], out: TextIO, err: TextIO, settings: Settings,
                   database: Path, start: datetime, *, engine: Engine | None = None,
                   on_turn: Callable[[Inbound, Turn], None] | None = None) -> int:
    """`engine`: one built beforehand from the same settings (`bot.runtime.engine_for`);
    `on_turn`: told of each committed turn (its events, the session after it)."""
    clock = ManualClock(start)
    runtime = Runtime.build(settings, clock, {CHANNEL: SimulatorChannel(out, settings.timezone)},
                            database, engine=engine)
    runtime.conversations.on_turn = on_turn
    kill_after_claims = os.environ.get("RELAIS_SIM_KILL_AFTER_CLAIMS")
    if kill_after_claims:
        _die_after_claims(runtime, int(kill_after_claims))
    await runtime.start()
    status = 0
    kill_after_turns = os.environ.get("RELAIS_SIM_KILL_AFTER_TURNS")
    kill_after_clock = os.environ.get("RELAIS_SIM_KILL_AFTER_CLOCK")
    turns = moves = 0
    try:
        # A restart: what fell due while the process was down (the latest of each topic),
        # then what an earlier, crashed run accepted but did not send.
        await runtime.scheduler.run_due(clock.now())
        await runtime.sender.drain()
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                item = parse_line(line, number)
            except InputError as exc:
                err.write(f"line {number}: {exc}; skipped\n")
                err.flush()
                status = 1
                continue
            if isinstance(item, ClockMove):
                # Walk through each due moment in turn, so that reminders of every kind (dates,
                # ladder follow-ups) come out in the order they fall due.
                while (due := await runtime.storage.next_due()) is not None and due <= item.to:
                    clock.set(max(due, clock.now()))
                    await runtime.scheduler.run_due(due, at_due_time=True)
                clock.set(item.to)
                await runtime.scheduler.run_due(clock.now(), at_due_time=True)
                await runtime.scheduler.housekeeping(clock.now())
                moves += 1
                if kill_after_clock and moves >= int(kill_after_clock):
                    os.kill(os.getpid(), signal.SIGKILL)  # reminders taken, not yet sent
            else:
                if item.kind is InboundKind.CHOICE:
                    item = await _resolve_choice(runtime, item)
                elif item.kind is InboundKind.PHOTO:
                    item = await _read_photo(item)
                await runtime.conversations.handle(item, clock.now())
                turns += 1
                if kill_after_turns and turns >= int(kill_after_turns):
                    os.kill(os.getpid(), signal.SIGKILL)  # after the commit, before sending
            await runtime.sender.drain()
    finally:
        await runtime.close()
    return status


def _die_after_claims(runtime: Runtime, claims: int) -> None:
    """Fault injection for the crash tests: die once the sender's N-th claim of rows is
    committed, before their requests start (and before they are marked posted)."""
    claim = runtime.storage.claim_outbox
    made = 0

    async def claim_then_die(*args: Any, **kwargs: Any) -> Any:
        nonlocal made
        rows = await claim(*args, **kwargs)
        made += bool(rows)
        if made >= claims:
            os.kill(os.getpid(), signal.SIGKILL)
        return rows

    setattr(runtime.storage, "claim_outbox", claim_then_die)  # noqa: B010 (an instance's own)


def _stdin_lines() -> Iterable[str]:
    # readline, not iteration: each line is processed (and answered) before the next is read.
    while True:
        line = sys.stdin.readline()
        if not line:
            return
        yield line


def main(db: str | None, now: str | None) -> int:
    settings = Settings.load()
    start = parse_time(now) if now else datetime.now(UTC)
    temporary = None
    if db is None:
        temporary = tempfile.mkdtemp(prefix="relais-sim-")
        database = Path(temporary) / "sim.sqlite3"
    else:
        database = Path(db)
    try:
        return asyncio.run(simulate(_stdin_lines(), sys.stdout, sys.stderr, settings, database,
                                    start))
    finally:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)
