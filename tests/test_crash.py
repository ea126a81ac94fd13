"""Crash tests: `simulate --db` killed with SIGKILL mid-stream, then run again on the same
database with the same input. No accepted message is lost and no reply is sent twice. The
killed run is a process of its own (tests/simulator_process.py: forked, so it starts in a few
milliseconds rather than a second and a half)."""

from __future__ import annotations

import functools
import json
import signal
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_simulate
from tests.simulator_process import KillableSimulator

pytestmark = pytest.mark.slow

NOW = "2026-03-02T10:00:00+01:00"


def _stream() -> list[dict[str, Any]]:
    script = [
        ("a", {"text": "/start"}), ("b", {"text": "سلام، زه مرسته غواړم"}),
        ("c", {"text": "مرحبا، أريد مساعدة"}), ("a", {"choice": "fa_af"}),
        ("b", {"choice": "keep"}), ("c", {"choice": "keep"}), ("a", {"choice": "agree"}),
        ("b", {"choice": "agree"}), ("c", {"choice": "decline"}), ("a", {"text": "/help"}),
        ("b", {"text": "۳"}), ("c", {"text": "😀"}), ("a", {"text": "/human"}),
        ("b", {"choice": "menu"}), ("c", {"text": "/language"}), ("a", {"text": "/stop"}),
        ("c", {"choice": "en"}), ("b", {"text": "/privacy"}), ("a", {"text": "/delete"}),
        ("a", {"choice": "keep"}), ("b", {"choice": "back"}), ("c", {"text": "/delete"}),
        ("c", {"choice": "erase"}), ("c", {"text": "hello"}), ("a", {"text": "/menu"}),
    ]
    return [{"user": user, **body} for user, body in script]


@functools.cache
def _reference() -> tuple[str, ...]:
    """The stream answered by one run that nothing interrupts (the same for every test)."""
    result = run_simulate(_stream(), now=NOW)
    assert result.returncode == 0, result.stderr
    return tuple(result.stdout.splitlines())


def _count(db: Path, status: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM outbox WHERE status = ?", (status,))
                   .fetchone()[0])


def _run_env(db: Path, env: dict[str, str]) -> list[str]:
    result = run_simulate(_stream(), db=db, now=NOW, env=env)
    assert result.returncode == -signal.SIGKILL, (result.returncode, result.stderr)
    return result.stdout.splitlines()


@pytest.mark.parametrize("turns", [1, 7, 24])
def test_killed_after_a_turn_committed_before_sending(tmp_path: Path, turns: int) -> None:
    db = tmp_path / "crash.sqlite3"
    before = _run_env(db, {"RELAIS_SIM_KILL_AFTER_TURNS": str(turns)})
    after = run_simulate(_stream(), db=db, now=NOW)
    assert after.returncode == 0, after.stderr
    # The killed turn's replies were in the outbox: the second run sends them first, once.
    assert before + after.stdout.splitlines() == list(_reference())


@pytest.mark.parametrize("sends", [1, 9, 30])
def test_killed_after_writing_a_reply_before_recording_it(tmp_path: Path, sends: int) -> None:
    db = tmp_path / "crash.sqlite3"
    before = _run_env(db, {"RELAIS_SIM_KILL_AFTER_SENDS": str(sends)})
    assert len(before) == sends
    assert _count(db, "sending") == 1  # the reply reached the user, the database does not know
    after = run_simulate(_stream(), db=db, now=NOW)
    # On restart it is recorded as uncertain and not sent again.
    assert before + after.stdout.splitlines() == list(_reference())
    assert _count(db, "sending") == 0


@pytest.mark.parametrize("claims", [1, 9])
def test_killed_after_claiming_replies_before_posting_them(tmp_path: Path, claims: int) -> None:
    db = tmp_path / "crash.sqlite3"
    before = _run_env(db, {"RELAIS_SIM_KILL_AFTER_CLAIMS": str(claims)})
    assert _count(db, "sending") >= 1  # claimed, never handed to the channel
    after = run_simulate(_stream(), db=db, now=NOW)
    assert after.returncode == 0, after.stderr
    # On restart they go, once each, in their place; none is left uncertain.
    assert before + after.stdout.splitlines() == list(_reference())
    assert (_count(db, "sending"), _count(db, "uncertain")) == (0, 0)


@pytest.mark.parametrize("kill_after_lines", [3, 17, 33])
def test_sigkill_at_an_arbitrary_moment(tmp_path: Path, kill_after_lines: int) -> None:
    db = tmp_path / "crash.sqlite3"
    reference = _reference()
    assert len(reference) > kill_after_lines
    data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in _stream())
    with KillableSimulator(["simulate", "--now", NOW, "--db", str(db)], data) as proc:
        before = [proc.stdout.readline().rstrip("\n") for _ in range(kill_after_lines)]
        proc.kill()
        before += proc.stdout.read().splitlines()  # what was flushed before the kill
        proc.wait(timeout=30)
    after = run_simulate(_stream(), db=db, now=NOW).stdout.splitlines()
    combined = before + after
    # Nothing twice, ever. A reply may only be missing if the database recorded it as
    # uncertain: the process died between claiming it and writing it (microseconds).
    assert len(combined) == len(set(enumerate(combined)))
    missing = len(reference) - len(combined)
    assert missing == 0 or (missing == 1 and _count(db, "uncertain") == 1), missing
    if missing == 0:
        assert combined == list(reference)
