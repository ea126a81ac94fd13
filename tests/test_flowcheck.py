"""`flows check` passes on the repository and catches what it promises to catch."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from bot.flowcheck import check
from bot.settings import ROOT
from tests.conftest import run_command

FLOWS, LOCALES = ROOT / "flows", ROOT / "locales"


def test_the_repository_passes() -> None:
    report = check(FLOWS, LOCALES, date(2026, 11, 27))
    assert report.problems == []


def test_the_command_line_passes_and_draws() -> None:
    ok = run_command(["flows", "check"])
    assert ok.returncode == 0, ok.stderr
    graph = run_command(["flows", "graph", "onboarding"])
    assert graph.stdout.startswith("stateDiagram-v2\n")
    assert "choose_language --> language_set: fa_af" in graph.stdout
    missing = run_command(["flows", "graph", "nope"])
    assert missing.returncode == 2


@pytest.fixture
def copy(tmp_path: Path) -> tuple[Path, Path]:
    flows, locales = tmp_path / "flows", tmp_path / "locales"
    shutil.copytree(FLOWS, flows)
    shutil.copytree(LOCALES, locales)
    return flows, locales


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _problems(flows: Path, locales: Path) -> list[str]:
    return check(flows, locales, date(2026, 11, 27)).problems


def test_unknown_names_are_caught(copy: tuple[Path, Path]) -> None:
    flows, locales = copy
    _edit(flows / "handoff.yaml", "enter: request_caseworker", "enter: os.system")
    _edit(flows / "onboarding.yaml", "when: onboarded", "when: always_true")
    problems = _problems(flows, locales)
    assert any("'os.system' is not a valid name" in p for p in problems)


def test_unknown_registry_name_and_missing_target(copy: tuple[Path, Path]) -> None:
    flows, locales = copy
    _edit(flows / "onboarding.yaml", "when: onboarded", "when: always_true")
    _edit(flows / "menu.yaml", "goto: system.human", "goto: system.nowhere")
    problems = _problems(flows, locales)
    assert any("unknown condition 'always_true'" in p for p in problems)
    assert any("system.nowhere" in p for p in problems)


def test_unreachable_states_and_dead_ends(copy: tuple[Path, Path]) -> None:
    flows, locales = copy
    _edit(flows / "menu.yaml", "\nstates:\n", "\nstates:\n  orphan:\n    say:\n      - {key: "
          "menu.orphan, text: Seul.}\n\n")
    problems = _problems(flows, locales)
    assert any("menu.orphan: unreachable" in p for p in problems)
    assert any("menu.orphan: dead end" in p for p in problems)


def test_untranslated_fuzzy_and_placeholder_mismatch(copy: tuple[Path, Path]) -> None:
    flows, locales = copy
    po = locales / "ps" / "LC_MESSAGES" / "messages.po"
    text = po.read_text(encoding="utf-8")
    # Empty one translation, make another fuzzy, break a placeholder in a third.
    _edit(flows / "system.yaml", "text: D'accord, je n'ai rien effacé.",
          "text: D'accord, je n'ai rien effacé du tout.")
    cut = text.index("{language}", text.index('msgctxt "onboarding.keep_language"'))
    cut = text.index("{language}", text.index("msgstr", cut - 200))
    po.write_text(text[:cut] + "{zhaba}" + text[cut + len("{language}"):], encoding="utf-8")
    _edit(po, 'msgctxt "system.back"\nmsgid "Retour"\n', '#, fuzzy\nmsgctxt "system.back"\n'
          'msgid "Retour"\n')
    problems = _problems(flows, locales)
    assert any(p.startswith("ps: system.kept: missing") for p in problems)
    assert any(p.startswith("ps: system.back: fuzzy") for p in problems)
    assert any("placeholders differ" in p and p.startswith("ps:") for p in problems)
    for locale in ("fa_AF", "ar", "en"):
        assert any(p.startswith(f"{locale}: system.kept: missing") for p in problems)


def test_review_dates_warn_when_passed() -> None:
    report = check(FLOWS, LOCALES, date(2030, 1, 1))
    assert any("review was due" in w for w in report.warnings)
    assert report.problems == []


def test_pybabel_extracts_the_flows_with_context_and_notes(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run([str(Path(sys.executable).parent / "pybabel"), "-q", "extract", "-F",
                    "babel.cfg", "-o", str(pot), "."], cwd=ROOT, check=True)
    text = pot.read_text(encoding="utf-8")
    assert 'msgctxt "system.apology"' in text
    assert "#. Something broke inside the assistant." in text
    assert text.count("msgctxt") >= 45


def test_every_flow_can_be_drawn() -> None:
    from bot.content import load_flows
    from bot.core.flows.check import mermaid

    flows = load_flows(FLOWS)
    assert {"account", "first_card", "api_download", "api_renew", "card_renew", "api_refused",
            "safety", "errors"} <= set(flows)
    for name, flow in flows.items():
        graph = mermaid(flow)
        assert graph.startswith("stateDiagram-v2\n"), name
        for state in flow.states:
            assert state in graph, (name, state)
