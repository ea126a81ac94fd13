"""Golden conversations: the whole text of each conversation, reviewed like code.

Each file under tests/golden/ holds a title, the conversation's locale, the start time and its
turns. A turn is one input line of `simulate` with what it caused: the messages sent (`output`),
the other events of the engine's turns (`events`), and the session after it (`session`: flow,
state, locale, slots; absent when the line ran no turn, like a clock move that brings only bulk
reminders). Invisible direction marks are written as escapes (\\u2068...) so that a reviewer sees
them. A change in any text or flow shows up as a diff under the input that caused it. To accept
a change on purpose: `pytest tests/test_golden.py --update-golden`, then read the diff before
committing. A file in the older flat format (`input` and `output` lists) is converted by the
same flag.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import io
import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import bot.runtime
from bot.core.engine import Engine, Turn
from bot.core.events import Event, MessageCreated
from bot.core.model import Inbound, Session
from bot.settings import Settings
from bot.simulate import parse_time, simulate

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(GOLDEN.glob("*.json"))

#: Characters that change how text is laid out and show nothing themselves: Arabic letter mark,
#: left-to-right and right-to-left marks, embeddings and overrides, isolates.
INVISIBLE = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def golden_engine(settings: Settings) -> Engine:
    """Built once: the same engine `simulate` would build from these settings."""
    return bot.runtime.engine_for(settings)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple) and all(isinstance(v, tuple) and len(v) == 2 for v in value):
        return {str(k): _plain(v) for k, v in value}  # a payload of (name, value) pairs
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def event_record(event: Event) -> dict[str, Any]:
    fields = {f.name: _plain(getattr(event, f.name)) for f in dataclasses.fields(event)}
    return {"type": event.type, **fields}


def session_record(session: Session) -> dict[str, Any]:
    return {"flow": session.flow, "state": session.state, "locale": session.locale,
            "slots": dict(sorted(session.slots.items()))}


class Recorder:
    """Feeds `simulate` one line at a time and files what each line caused under it: the
    simulator answers a line (and sends its messages) before it reads the next one."""

    def __init__(self, inputs: list[dict[str, Any]]) -> None:
        self.inputs = inputs
        self.out = io.StringIO()
        self.turns: list[dict[str, Any]] = []
        self._engine_turns: list[Turn] = []

    def on_turn(self, inbound: Inbound, turn: Turn) -> None:
        self._engine_turns.append(turn)

    def lines(self) -> Iterator[str]:
        for line in self.inputs:
            yield json.dumps(line, ensure_ascii=False)
            self._close(line)

    def _close(self, line: dict[str, Any]) -> None:
        output = [json.loads(m) for m in self.out.getvalue().splitlines()]
        self.out.seek(0)
        self.out.truncate()
        turn: dict[str, Any] = {"input": line, "output": output,
                                "events": [event_record(e) for t in self._engine_turns
                                           for e in t.events
                                           if not isinstance(e, MessageCreated)]}
        if self._engine_turns:
            turn["session"] = session_record(self._engine_turns[-1].session)
        self._engine_turns.clear()
        self.turns.append(turn)


def inputs_of(case: dict[str, Any]) -> list[dict[str, Any]]:
    if "turns" in case:
        return [turn["input"] for turn in case["turns"]]
    return list(case["input"])  # the older flat format, converted by --update-golden


def run_case(case: dict[str, Any], settings: Settings, engine: Engine, database: Path
             ) -> list[dict[str, Any]]:
    recorder = Recorder(inputs_of(case))
    err = io.StringIO()
    status = asyncio.run(simulate(recorder.lines(), recorder.out, err, settings, database,
                                  parse_time(case["now"]), engine=engine,
                                  on_turn=recorder.on_turn))
    assert status == 0, err.getvalue()
    return recorder.turns


def _line(value: Any) -> str:
    return INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}",
                         json.dumps(value, ensure_ascii=False))


def dump(case: dict[str, Any]) -> str:
    """One input, message, event or session per line: a diff points at what changed."""
    head = {k: v for k, v in case.items() if k not in ("turns", "input", "output")}
    blocks = []
    for turn in case["turns"]:
        parts = [f'      "input": {_line(turn["input"])}']
        for name in ("output", "events"):
            items = ",\n".join(f"        {_line(item)}" for item in turn[name])
            parts.append(f'      "{name}": [\n{items}\n      ]' if items else f'      "{name}": []')
        if "session" in turn:
            parts.append(f'      "session": {_line(turn["session"])}')
        blocks.append("    {\n" + ",\n".join(parts) + "\n    }")
    text = json.dumps(head, ensure_ascii=False, indent=2)[:-2]
    return f'{text},\n  "turns": [\n' + ",\n".join(blocks) + "\n  ]\n}\n"


def test_there_are_golden_files_for_every_locale() -> None:
    locales = {json.loads(p.read_text(encoding="utf-8"))["locale"] for p in CASES}
    assert locales == {"fr", "fa_AF", "ps", "ar", "en"}


def test_the_format_shows_invisible_marks_and_reads_back() -> None:
    case = {"title": "t", "locale": "ar", "now": "2026-03-02T10:00:00+01:00",
            "turns": [{"input": {"user": "u1", "text": "x"},
                       "output": [{"text": "\u200fمرحبا \u2068ANEF\u2069"}], "events": []}]}
    written = dump(case)
    assert "\\u200f" in written
    assert "\\u2068ANEF\\u2069" in written
    assert not INVISIBLE.search(written)
    assert json.loads(written) == case


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_golden_conversation(path: Path, settings: Settings, golden_engine: Engine,
                             tmp_path: Path, request: pytest.FixtureRequest) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    actual = run_case(case, settings, golden_engine, tmp_path / "golden.sqlite3")
    if request.config.getoption("--update-golden"):
        path.write_text(dump({**case, "turns": actual}), encoding="utf-8")
        return
    assert "turns" in case, f"{path.name} is in the older format: rerun with --update-golden"
    hint = f"{path.name} changed; if on purpose, rerun with --update-golden and review the diff"
    for number, (want, got) in enumerate(zip(case["turns"], actual, strict=True), 1):
        assert got == want, f"turn {number} ({want['input']}): {hint}"
    # The conversation stays in the user's language once it is chosen.
    chosen = [m["locale"] for t in actual for m in t["output"]
              if m["choices"] and m["locale"] == case["locale"]]
    assert chosen, "the conversation never reached the user's language"
