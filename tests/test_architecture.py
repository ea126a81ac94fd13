"""The layers keep to their place.

The core is pure: no network, database, environment, wall clock or randomness in bot/core/. It
imports only what is listed here (an allowlist: a new import is a decision, taken here). Storage
keeps what the core defines and knows nothing of the observatory, inbox or channels above it. The
channels know messages on their way out (bot/outgoing.py), not how storage keeps them. Every
exception class of the project derives from one root, `RelaisError`.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import io
import pkgutil
import re
import tokenize
from pathlib import Path

import pytest

import bot
from bot.core.exceptions import RelaisError

BOT = Path(__file__).resolve().parent.parent / "bot"
CORE = BOT / "core"

#: What the core may import: the pure parts of the standard library, three pure libraries
#: (flows as state machines, the Solar Hijri calendar, fuzzy matching) and itself.
CORE_MAY_IMPORT = {
    "__future__", "abc", "bisect", "collections", "collections.abc", "dataclasses", "datetime",
    "enum", "functools", "heapq", "itertools", "json", "math", "operator", "re", "string",
    "textwrap", "types", "typing", "unicodedata",
    "transitions", "persiantools", "persiantools.jdatetime", "rapidfuzz",
    "rapidfuzz.distance", "rapidfuzz.fuzz", "rapidfuzz.process",
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
    found: set[str] = set()
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


def _core_may_import(module: str) -> bool:
    return module in CORE_MAY_IMPORT or module == "bot.core" or module.startswith("bot.core.")


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_imports_only_what_is_allowed(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for module in _imports(tree):
        assert _core_may_import(module), (
            f"{path.relative_to(CORE)} imports {module}: the core stays pure (see CORE_MAY_IMPORT)")


@pytest.mark.parametrize("path", sorted((BOT / "channels").rglob("*.py")), ids=lambda p: p.name)
def test_channels_do_not_import_storage(path: Path) -> None:
    """A channel delivers an `Outgoing` and answers with a `Delivery` (bot/outgoing.py)."""
    for module in _imports(ast.parse(path.read_text(encoding="utf-8"))):
        assert not module.startswith("bot.storage"), f"channels/{path.name} imports {module}"


#: What storage may use of the project: the core (what it keeps: sessions, events, the
#: observations a turn yields), messages on their way out, how a user key is read (the
#: neutral bot/user_keys.py, which the channels use too) and the settings that choose a
#: backend. Not the observatory, the inbox or the channels, which are built on top of it.
STORAGE_MAY_IMPORT_FROM_BOT = ("bot.core", "bot.storage", "bot.outgoing", "bot.user_keys",
                               "bot.settings")


def _storage_may_import(module: str) -> bool:
    return not (module == "bot" or module.startswith("bot.")) or any(
        module == allowed or module.startswith(allowed + ".")
        for allowed in STORAGE_MAY_IMPORT_FROM_BOT)


@pytest.mark.parametrize("path", sorted((BOT / "storage").rglob("*.py")),
                         ids=lambda p: str(p.relative_to(BOT / "storage")))
def test_storage_depends_on_the_core_not_on_what_uses_it(path: Path) -> None:
    for module in _imports(ast.parse(path.read_text(encoding="utf-8"))):
        assert _storage_may_import(module), (
            f"storage/{path.relative_to(BOT / 'storage')} imports {module}: storage sits below "
            "it (see STORAGE_MAY_IMPORT_FROM_BOT)")


#: What the caseworker inbox may use of storage: the interface and the stores, not a backend.
INBOX_MAY_IMPORT_FROM_STORAGE = {"bot.storage.base", "bot.storage.cases", "bot.storage.staff",
                                 "bot.storage.organisations"}
SQL = re.compile(r"\b(SELECT|INSERT INTO|UPDATE|DELETE FROM)\b[^\n]*\b(FROM|SET|VALUES|WHERE)\b")


@pytest.mark.parametrize("path", sorted((BOT / "inbox").rglob("*.py")), ids=lambda p: p.name)
def test_the_inbox_goes_through_the_store(path: Path) -> None:
    """The inbox's pages ask the stores (cases, staff accounts); no SQL of their own, no
    database driver, no backend: the same inbox then runs on every backend."""
    source = path.read_text(encoding="utf-8")
    for module in _imports(ast.parse(source)):
        assert module not in ("aiosqlite", "sqlite3"), f"inbox/{path.name} imports {module}"
        if module.startswith("bot.storage"):
            assert module in INBOX_MAY_IMPORT_FROM_STORAGE, f"inbox/{path.name} imports {module}"
    assert not SQL.search(source), f"inbox/{path.name} writes SQL: move it into a store"


#: The API of the domain (the attestation de prolongation d'instruction, bot/core/model.py) and
#: the programming interfaces of Telegram and Meta: no module has Python names for both, so that
#: `api` in a name is never read in the wrong sense (texts and comments may quote either; the
#: reminder kind "api_end:30" is a WhatsApp template's name).
DOCUMENT_API = re.compile(r"api_(?:end|said)")
PROGRAMMING_API = re.compile(r"api_base|api_url|bot_api|APIServer|GraphAPI|Graph$")


def _names(source: str) -> set[str]:
    """The Python names of a module: identifiers, not strings or comments."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return {t.string for t in tokens if t.type == tokenize.NAME}


@pytest.mark.parametrize("path", sorted(BOT.rglob("*.py")), ids=lambda p: str(p.relative_to(BOT)))
def test_a_module_names_one_api(path: Path) -> None:
    names = _names(path.read_text(encoding="utf-8"))
    document = sorted(n for n in names if DOCUMENT_API.search(n))
    programming = sorted(n for n in names if PROGRAMMING_API.search(n))
    assert not (document and programming), (
        f"{path.relative_to(BOT)} has names for the document API {document} and for a "
        f"programming API {programming}: keep them apart (bot/core/model.py)")


def _project_exceptions() -> list[type[BaseException]]:
    found = []
    for info in pkgutil.walk_packages(bot.__path__, "bot."):
        if info.name == "bot.__main__":
            continue
        module = importlib.import_module(info.name)
        found += [cls for _, cls in inspect.getmembers(module, inspect.isclass)
                  if issubclass(cls, BaseException) and cls.__module__ == info.name]
    return found


def test_every_project_exception_derives_from_relais_error() -> None:
    exceptions = _project_exceptions()
    assert len(exceptions) >= 15, "the walk must find the project's exceptions"
    strays = [f"{cls.__module__}.{cls.__name__}" for cls in exceptions
              if not issubclass(cls, RelaisError)]
    assert not strays, f"derive these from bot.core.exceptions.RelaisError: {strays}"


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(CORE)))
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
    for impure in ("aiosqlite", "uuid", "yaml", "bot.inbox", "bot.content", "os.path"):
        assert not _core_may_import(impure)
    for above in ("bot.observatory.figures", "bot.inbox", "bot.channels.telegram", "bot"):
        assert not _storage_may_import(above)
    assert _storage_may_import("bot.core.observation")
    assert _storage_may_import("aiosqlite")
    assert not _storage_may_import("bot.storagex")
    names = _names("end = slots['api_end']  # api_base\nbot = make_bot(token, api_base)\n")
    assert "api_base" in names
    assert "api_end" not in names  # a string, not a name
    assert [n for n in _names("def f(api_end): ...") if DOCUMENT_API.search(n)] == ["api_end"]
    assert SQL.search('await db.execute("SELECT id FROM cases WHERE org_id = ?")')
    assert not SQL.search("Select the case you want to answer")
    calls = [_dotted(n.func) for n in ast.walk(bad) if isinstance(n, ast.Call)]
    assert "datetime.now" in calls
