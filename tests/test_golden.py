"""Golden conversations: the whole text of each conversation, reviewed like code.

Each file under tests/golden/ holds the input lines, the start time and the expected output of
`simulate`. A change in any text or flow shows up as a diff here. To accept a change on
purpose: `pytest tests/test_golden.py --update-golden`, then read the diff before committing.
"""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from bot.simulate import parse_time, simulate

GOLDEN = Path(__file__).parent / "golden"


def _run(case: dict[str, Any], settings: Settings, tmp_path: Path) -> list[dict[str, Any]]:
    out, err = io.StringIO(), io.StringIO()
    lines = [json.dumps(line, ensure_ascii=False) for line in case["input"]]
    status = asyncio.run(simulate(lines, out, err, settings, tmp_path / "golden.sqlite3",
                                  parse_time(case["now"])))
    assert status == 0, err.getvalue()
    return [json.loads(line) for line in out.getvalue().splitlines()]


def _dump(case: dict[str, Any]) -> str:
    # One output message per line: diffs then point at the message that changed.
    head = {k: v for k, v in case.items() if k != "output"}
    body = ",\n".join("    " + json.dumps(m, ensure_ascii=False) for m in case["output"])
    text = json.dumps(head, ensure_ascii=False, indent=2)[:-2]
    return f'{text},\n  "output": [\n{body}\n  ]\n}}\n'


CASES = sorted(GOLDEN.glob("*.json"))


def test_there_are_golden_files_for_every_locale() -> None:
    locales = {json.loads(p.read_text(encoding="utf-8"))["locale"] for p in CASES}
    assert locales == {"fr", "fa_AF", "ps", "ar", "en"}


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_golden_conversation(path: Path, settings: Settings, tmp_path: Path,
                             request: pytest.FixtureRequest) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    actual = _run(case, settings, tmp_path)
    if request.config.getoption("--update-golden"):
        path.write_text(_dump({**case, "output": actual}), encoding="utf-8")
        return
    assert actual == case["output"], (
        f"{path.name} changed; if on purpose, rerun with --update-golden and review the diff")
    # The conversation stays in the user's language once it is chosen.
    chosen = [m["locale"] for m in actual if m["choices"] and m["locale"] == case["locale"]]
    assert chosen, "the conversation never reached the user's language"
