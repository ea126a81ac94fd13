"""The core is pure: no network, database, environment, wall clock or randomness in bot/core/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parent.parent / "bot" / "core"

FORBIDDEN_MODULES = {
    "aiohttp", "aiogram", "aiosqlite", "sqlite3", "asyncio", "socket", "ssl", "http", "urllib",
    "requests", "subprocess", "threading", "random", "secrets", "time", "os", "pathlib",
    "shutil", "tempfile", "logging", "bot.storage", "bot.channels", "bot.settings",
    "bot.runtime", "bot.sender", "bot.scheduler", "bot.conversations", "bot.web",
}
# What reads the world even through an allowed module.
FORBIDDEN_ATTRIBUTES = {"datetime.now", "datetime.utcnow", "date.today", "datetime.today",
                        "os.environ", "os.getenv"}
FORBIDDEN_BUILTINS = {"open", "input", "print", "breakpoint"}


def _core_files() -> list[Path]:
    files = sorted(CORE.rglob("*.py"))
    assert len(files) >= 10, "the core moved? the test must look at it"
    return files


def _imports(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Name):
        return node.id
    return ""


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: p.name)
def test_core_module_imports_nothing_impure(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for module in _imports(tree):
        bad = [f for f in FORBIDDEN_MODULES if module == f or module.startswith(f + ".")]
        assert not bad, f"{path.name} imports {module}"


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: p.name)
def test_core_module_reads_no_clock_or_environment(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        where = f"{path.name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in FORBIDDEN_BUILTINS, f"{where} calls {node.func.id}"
        if isinstance(node, ast.Attribute):
            name = _dotted(node)
            assert not any(name == f or name.endswith("." + f) for f in FORBIDDEN_ATTRIBUTES), (
                f"{where} uses {name}")


def test_the_checker_catches_a_violation(tmp_path: Path) -> None:
    # The rules above must be able to fail: an impure module is caught.
    bad = ast.parse("import aiosqlite\nfrom datetime import datetime\nx = datetime.now()\n")
    assert "aiosqlite" in _imports(bad)
    calls = [_dotted(n.func) for n in ast.walk(bad) if isinstance(n, ast.Call)]
    assert "datetime.now" in calls
