"""`python -m bot classify` as its users run it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bot.settings import ROOT
from tests.conftest import run_command

pytestmark = pytest.mark.slow


def classify(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return run_command(["classify", *args], stdin)


def test_json_output_follows_the_contract() -> None:
    result = classify("--json", "mon API a expiré et rien de nouveau")
    data = json.loads(result.stdout)
    assert set(data) == {"error", "score", "candidates", "why"}
    assert data["error"] == "api_expired_not_renewed"
    assert data["why"] == ""
    assert 0 <= data["score"] <= 1
    assert len(data["candidates"]) <= 3
    assert set(data["candidates"][0]) == {"error", "score"}


def test_stdin_and_unknown() -> None:
    data = json.loads(classify("--json", "-", stdin="bonjour, merci !").stdout)
    assert data["error"] == "unknown"


def test_why_a_question_is_no_report() -> None:
    data = json.loads(classify("--json", "can I register at France Travail with my API?").stdout)
    assert (data["error"], data["why"]) == ("unknown", "question")


def test_an_image(tmp_path: Path) -> None:
    from tests.test_ocr import SCREENS, screenshot

    shot = tmp_path / "shot.png"
    shot.write_bytes(screenshot(SCREENS["login_loop"]))
    data = json.loads(classify("--json", "--image", str(shot)).stdout)
    assert data["error"] == "login_loop"


def test_eval_prints_accuracy_per_language_false_alarms_and_confusions() -> None:
    result = classify("--eval", "tests/data/errors_eval.jsonl", "--json")
    data = json.loads(result.stdout)
    assert set(data["languages"]) == {"fr", "fa_AF", "ps", "ar", "en", "all"}
    assert data["languages"]["all"]["n"] >= 250
    assert 0 <= data["false_alarm_rate"] <= 1
    assert all({"expected", "got", "count"} == set(c) for c in data["confusions"])
    text = classify("--eval", "tests/data/errors_eval.jsonl").stdout
    assert "top-1" in text
    assert "false alarms" in text


def test_eval_of_first_contacts_by_half() -> None:
    halves = {}
    for half in ("dev", "test"):
        result = classify("--eval", "tests/data/first_contact_eval.jsonl", "--half", half,
                          "--json")
        halves[half] = json.loads(result.stdout)
    for data in halves.values():
        assert set(data["languages"]) == {"fr", "fa_AF", "ps", "ar", "en", "all"}
        assert all(row["n"] >= 40 for row in data["languages"].values())
        assert data["unrelated"] >= 30
    # The halves are disjoint: together they are the whole file.
    total = sum(d["languages"]["all"]["n"] for d in halves.values())
    lines = (ROOT / "tests/data/first_contact_eval.jsonl").read_text(encoding="utf-8")
    assert total == len([line for line in lines.splitlines() if line.strip()])


def test_a_message_calling_a_command_is_scored_as_what_the_engine_does(tmp_path: Path) -> None:
    # "menu" opens the menu before any recognition: for unrelated chat that is right (no
    # false alarm), for a report it is a miss, as the person would not get their problem.
    from bot.classify import COMMAND, evaluate, recogniser
    from bot.content import load_commands
    from bot.settings import Settings

    rows = [{"lang": "fr", "expect": "unknown", "text": "menu"},
            {"lang": "en", "expect": "login_loop", "text": "main menu"},
            {"lang": "ar", "expect": "unknown", "text": "ورّيني القائمة"}]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows),
                    encoding="utf-8")
    settings = Settings.load()
    result = evaluate(recogniser(settings), path, None,
                      load_commands(settings.flows_dir)).report()
    assert result["commands"] == 2
    assert result["false_alarm_rate"] == 0.0
    assert result["languages"]["fr"]["top1"] == 1.0
    assert result["languages"]["en"]["top1"] == 0.0
    assert {"expected": "login_loop", "got": COMMAND, "count": 1} in result["confusions"]


def test_cross_validation_of_the_examples() -> None:
    data = json.loads(classify("--folds", "2", "--json").stdout)
    assert set(data["languages"]) == {"fr", "fa_AF", "ps", "ar", "en", "all"}
    # Every example is recognised once, by a recogniser that did not see it.
    from bot.content import load_reports
    from bot.settings import Settings

    reports = load_reports(Settings.load().flows_dir)
    assert data["languages"]["all"]["n"] == sum(
        len(texts) for by_locale in reports.values() for texts in by_locale.values())
    assert 0.5 < data["languages"]["all"]["top1"] < 1.0
    assert data["unrelated"] == sum(len(t) for t in reports["unknown"].values())
