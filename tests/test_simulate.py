"""The `python -m bot simulate` contract, run through its command line with JSON lines on
stdin, as its users run it: in a new process where the process is what is tested (the entry
point), in another interpreter for the same output whatever the string hashing, else in this
one (tests/conftest.py's `run_simulate`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import outputs, run_simulate

pytestmark = pytest.mark.slow


def test_output_lines_follow_the_contract() -> None:
    result = run_simulate([{"user": "u1", "text": "/start"}, {"user": "u1", "choice": "en"}],
                          process=True)
    assert result.returncode == 0, result.stderr
    lines = outputs(result)
    assert len(lines) >= 3
    for line in lines:
        assert set(line) == {"user", "kind", "locale", "text", "choices", "at"}
        assert line["user"] == "u1"
        assert line["kind"] == "reply"
        assert all(set(c) == {"id", "label"} for c in line["choices"])
    assert lines[0]["choices"][0] == {"id": "fr", "label": "Français"}
    assert lines[-1]["locale"] == "en"
    assert lines[-1]["at"] == "2026-03-02T10:00:00+01:00"


def test_a_choice_may_name_the_button_by_its_label() -> None:
    result = run_simulate([{"user": "u1", "text": "/start"}, {"user": "u1", "choice": "پښتو"}])
    assert outputs(result)[-1]["locale"] == "ps"


def test_malformed_lines_are_reported_skipped_and_exit_1() -> None:
    result = run_simulate([
        "this is not json",
        {"user": "u1", "text": "/start"},
        "[1, 2]",
        {"user": "u1"},
        {"user": "u1", "text": "a", "choice": "b"},
        {"clock": "yesterday"},
        {"user": "u1", "choice": "en"},
    ])
    assert result.returncode == 1
    reported = [line.split(":")[0] for line in result.stderr.splitlines() if "skipped" in line]
    assert reported == ["line 1", "line 3", "line 4", "line 5", "line 6"]
    assert outputs(result)[-1]["locale"] == "en"  # the good lines were all processed


def test_same_input_same_output() -> None:
    lines = [{"user": "u1", "text": "سلام، من کمک میخواهم"}, {"user": "u1", "choice": "keep"},
             {"user": "u2", "text": "/start"}, {"user": "u1", "choice": "agree"},
             {"user": "u1", "text": "/help"}]
    # The second run in another interpreter (the one the forked simulators come from, started
    # on its own): its own hash seed, so no set or dict order leaks.
    first, second = run_simulate(lines), run_simulate(lines, forked=True)
    assert first.stdout == second.stdout
    assert first.stdout


def test_db_keeps_state_across_runs_and_ids_dedupe(tmp_path: Path) -> None:
    db = tmp_path / "state.sqlite3"
    run_simulate([{"user": "u1", "text": "/start", "id": "m1"}], db=db)
    again = run_simulate([{"user": "u1", "text": "/start", "id": "m1"},
                          {"user": "u1", "choice": "ar", "id": "m2"}], db=db)
    lines = outputs(again)
    assert lines
    assert all(line["locale"] == "ar" for line in lines)


def test_clock_lines_must_only_move_forward_and_take_any_zone() -> None:
    result = run_simulate([{"user": "u1", "text": "/start"},
                           {"clock": "2026-03-05T09:00:00+01:00"},
                           {"user": "u1", "choice": "fr"}])
    assert result.returncode == 0
    assert outputs(result)[-1]["at"] == "2026-03-05T09:00:00+01:00"


def test_photos_are_answered(tmp_path: Path) -> None:
    result = run_simulate([{"user": "u1", "text": "/start"}, {"user": "u1", "choice": "fr"},
                           {"user": "u1", "photo": str(tmp_path / "shot.png")}])
    assert "image" in outputs(result)[-1]["text"]


def test_retention_over_a_year_of_silence() -> None:
    result = run_simulate([{"user": "u1", "text": "/start"}, {"user": "u1", "choice": "en"},
                           {"clock": "2027-03-10T10:00:00+01:00"},
                           {"user": "u1", "text": "hello again"}])
    # Erased after 12 months without a message: greeted as a brand new user.
    last = outputs(result)[-1]
    assert [c["id"] for c in last["choices"]] == ["keep", "change"]


def test_output_is_valid_json_even_for_rtl_and_controls() -> None:
    result = run_simulate([{"user": "u1", "text": "\u202eمرحبا\x07"}])
    assert result.returncode == 0
    for line in result.stdout.splitlines():
        json.loads(line)


def test_a_screenshot_line_is_read_and_recognised(tmp_path: Path) -> None:
    from tests.test_ocr import SCREENS, screenshot

    shot = tmp_path / "screen.png"
    shot.write_bytes(screenshot(SCREENS["appointment_unavailable"], busy=True,
                                name="Zahra HAIDARI"))
    result = run_simulate([{"user": "u1", "text": "/start"}, {"user": "u1", "choice": "en"},
                           {"user": "u1", "choice": "agree"},
                           {"user": "u1", "photo": str(shot)},
                           {"user": "u1", "choice": "yes"}])
    lines = outputs(result)
    assert [c["id"] for c in lines[-3]["choices"]] == ["yes", "no"]
    assert "appointment" in lines[-3]["text"]
    assert "préfecture" in lines[-2]["text"]  # the advice
    assert "HAIDARI" not in result.stdout


def test_a_missing_photo_file_is_answered(tmp_path: Path) -> None:
    result = run_simulate([{"user": "u1", "text": "/start"}, {"user": "u1", "choice": "fr"},
                           {"user": "u1", "photo": str(tmp_path / "nowhere.png")}])
    assert result.returncode == 0
    assert "lire le texte de cette image" in outputs(result)[-1]["text"]
