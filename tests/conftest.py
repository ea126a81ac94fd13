"""Shared fixtures: the real content, a real SQLite database, the runtime with a fake channel."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import fcntl
import gc
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, async_playwright

import bot.content
import bot.runtime
import bot.server
from bot.clock import ManualClock
from bot.content import Content, build_engine, load_content
from bot.core.engine import Engine
from bot.core.flows.registry import REGISTRY, Registry
from bot.core.recognise import EMPTY_LEXICON, Lexicon, Recogniser, Thresholds
from bot.outgoing import Outgoing
from bot.runtime import Runtime
from bot.settings import ROOT, Settings
from bot.storage.sqlite import SQLiteStorage
from tests.postgres_server import PostgresMissing, PostgresServer
from tests.simulator_process import ENGINE_SETTINGS, run_killable

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
#: Debian's chromium, driven by Playwright (PLATFORMS.md: pip's Playwright cannot download its
#: own browser here).
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that drive Debian's chromium (`browser`) or tesseract (`ocr`): they take
    most of the suite's time. `make test` runs them, `make test-fast` leaves them out. Found by
    what a test uses, so that a new browser or screenshot test is marked without anyone
    remembering to."""
    for item in items:
        function = getattr(item, "function", None)
        names = set(function.__code__.co_names) if function is not None else set()
        fixtures = set(getattr(item, "fixturenames", ()))
        if "browser" in fixtures or "async_playwright" in names:
            item.add_marker(pytest.mark.browser)
        if item.path.name == "test_ocr.py" or "screenshot" in names:
            item.add_marker(pytest.mark.ocr)
    # The longest first: a parallel run (`make test`) hands each worker a run of the list,
    # the first worker from its start, so a test that takes a minute starts at once rather
    # than last, when the other worker would have nothing left to do.
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


@pytest.fixture(autouse=True)
def long_tests_first_on_the_processor(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test marked `long` runs real processes on the wall clock (the two-instance crash
    test: its people must give their date before a reminder hour set a few seconds ahead). In
    a parallel run the other worker's tests compete for the same processors: this worker, and
    the processes it starts meanwhile, get a higher priority (a lower nice value) while the
    test runs. Only root may lower it; elsewhere the test runs as it is."""
    if request.node.get_closest_marker("long") is None:
        yield
        return
    before = os.getpriority(os.PRIO_PROCESS, 0)
    try:
        os.setpriority(os.PRIO_PROCESS, 0, before - 10)
    except PermissionError:
        yield
        return
    try:
        yield
    finally:
        os.setpriority(os.PRIO_PROCESS, 0, before)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite the golden conversation files from the current output")


@pytest.fixture(scope="session", autouse=True)
def one_engine_per_content() -> Iterator[None]:
    """Loading and compiling the content takes about a second. Every server, runtime and
    simulation in this process built from the same settings shares one engine: it keeps
    nothing between turns (its caches are of pure functions)."""
    built: dict[tuple[object, ...], tuple[Registry, Engine]] = {}
    original = bot.runtime.engine_for

    def shared(settings: Settings, registry: Registry = REGISTRY) -> Engine:
        # A registry is known by what it holds (two built alike share an engine: a test that
        # merges its own timers into the registry builds one per test). It is kept with its
        # engine, so the ids of the functions it holds cannot be reused by others.
        key = (_contents(registry), *(repr(getattr(settings, name)) for name in ENGINE_SETTINGS))
        if key not in built:
            built[key] = (registry, original(settings, registry))
        return built[key][1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bot.runtime, "engine_for", shared)
        yield


@pytest.fixture(scope="session", autouse=True)
def one_recogniser_per_examples() -> Iterator[None]:
    """Building the recogniser (every example's features and their weights) is most of
    building an engine: about a second. The engines of this process, the classify command
    and the tests that build one from the same examples, screens, thresholds and lexicon
    share it: it keeps nothing but the answers of a pure function."""
    built: dict[str, Recogniser] = {}

    def shared(examples: Mapping[str, Sequence[str]],
               screen_texts: Mapping[str, Sequence[str]] | None = None,
               thresholds: Thresholds | None = None, lexicon: Lexicon = EMPTY_LEXICON
               ) -> Recogniser:
        key = repr((examples, screen_texts, thresholds, lexicon))
        if key not in built:
            built[key] = Recogniser(examples, screen_texts, thresholds, lexicon)
        return built[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bot.content, "Recogniser", shared)
        yield


class _GcWithoutCollect:
    """The `gc` module as bot/server.py sees it in tests, less the full collection."""

    collect = staticmethod(lambda generation=2: 0)
    freeze = staticmethod(gc.freeze)
    unfreeze = staticmethod(gc.unfreeze)


@pytest.fixture(scope="session", autouse=True)
def no_full_collection_at_each_server_start() -> Iterator[None]:
    """A server collects the garbage of its whole process once at start-up, then freezes what
    start-up loaded (bot/server.py): right for a process that runs one server for weeks. A test
    process starts a server in dozens of tests, over a heap that holds everything the tests
    imported: each collection took about a second, a quarter of the suite's CPU time. Here
    the server freezes without collecting first (what it freezes is thawed when it stops);
    tests/test_server.py checks the freeze."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bot.server, "gc", _GcWithoutCollect())
        yield


def _contents(registry: Registry) -> tuple[object, ...]:
    """What a registry holds: each name with the function it stands for."""
    return (*(tuple(sorted((name, id(fn)) for name, fn in table.items()))
              for table in (registry.actions, registry.conditions, registry.inputs,
                            registry.timers)),
            tuple(sorted(registry.needs_arg)))


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings.from_mapping({})


@pytest.fixture(scope="session")
def content(settings: Settings) -> Content:
    return load_content(settings.flows_dir, settings.locales_dir)


@pytest.fixture(scope="session")
def engine(content: Content) -> Engine:
    return build_engine(content, retention_months=12, timezone=ZoneInfo("Europe/Paris"))


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SQLiteStorage]:
    store = SQLiteStorage(tmp_path / "test.sqlite3")
    await store.open()
    yield store
    await store.close()


class RecordingChannel:
    """A channel that keeps what it is given; `fail_with` makes the next sends raise."""

    def __init__(self, name: str = "test") -> None:
        self.name = name
        self.sent: list[Outgoing] = []
        self.fail_with: list[Exception] = []

    async def send(self, message: Outgoing) -> str | None:
        if self.fail_with:
            raise self.fail_with.pop(0)
        self.sent.append(message)
        return f"ref-{message.id}"


@pytest.fixture(scope="session")
def postgres_server(request: pytest.FixtureRequest) -> Iterator[PostgresServer]:
    """One real PostgreSQL for the run (tests/postgres_server.py), started at the first test
    that needs it; each test takes a fresh database on it. The workers of a parallel run share
    it: the first to need it starts it, the run's main process stops it at the end
    (`pytest_sessionfinish`). Skipped, with the reason, only when the server binaries are
    absent."""
    shared = _shared_folder(request.config)
    if shared is None:  # one process: the server lives as long as this fixture
        server = _start_postgres()
        yield server
        server.stop()
        return
    with _locked(shared / "postgres.lock"):
        record = shared / "postgres.json"
        if record.exists():
            server = PostgresServer.from_json(record.read_text(encoding="utf-8"))
        else:
            server = _start_postgres()
            record.write_text(server.to_json(), encoding="utf-8")
    yield server


def _start_postgres() -> PostgresServer:
    try:
        return PostgresServer.start()
    except PostgresMissing as exc:
        pytest.skip(str(exc))


#: Where the workers of a parallel run (pytest-xdist) keep what they share: made by the main
#: process, handed to each worker in its `workerinput`.
SHARED = "relais_shared_folder"


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """In the main process of a parallel run, for each worker it starts."""
    config = node.config
    if not hasattr(config, SHARED):
        setattr(config, SHARED, tempfile.mkdtemp(prefix="relais-tests-"))
    node.workerinput[SHARED] = getattr(config, SHARED)


def _shared_folder(config: pytest.Config) -> Path | None:
    workerinput = getattr(config, "workerinput", None)
    return Path(workerinput[SHARED]) if workerinput and SHARED in workerinput else None


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In the main process of a parallel run, once every worker has finished: stop what the
    workers shared."""
    folder = getattr(session.config, SHARED, None)
    if folder is None:
        return
    record = Path(folder) / "postgres.json"
    try:
        if record.exists():
            PostgresServer.from_json(record.read_text(encoding="utf-8")).stop(
                remove_in_background=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One process at a time (an advisory lock on `path`)."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    """One chromium for the test process, launched at its first page test: starting
    Playwright's driver and the browser costs one to two seconds of processor time. A test
    takes it through `browser`."""
    assert shutil.which(CHROMIUM), "scripts/install-system-packages.sh installs chromium"
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        await launched.close()


@pytest.fixture
async def browser(chromium: Browser) -> AsyncIterator[Browser]:
    """The process's chromium for one test, which opens its pages in contexts of their own
    (`Browser.new_page`, tests/web/conftest.py `phone`: their own storage, nothing kept from
    another test's person). Every context the test opened is closed after it, even when it
    failed half-way, so the next test starts with none."""
    assert not chromium.contexts, "a page of another test is still open"
    yield chromium
    for context in chromium.contexts:
        await context.close()


@pytest.fixture
def channel() -> RecordingChannel:
    return RecordingChannel()


@pytest.fixture
async def runtime(settings: Settings, tmp_path: Path, channel: RecordingChannel
                  ) -> AsyncIterator[Runtime]:
    rt = Runtime.build(settings, ManualClock(NOW), {"test": channel}, tmp_path / "rt.sqlite3")
    await rt.start()
    yield rt
    await rt.close()


#: Set, these make the simulator kill itself (SIGKILL): only a separate process can run them.
KILL_SWITCHES = ("RELAIS_SIM_KILL_AFTER_TURNS", "RELAIS_SIM_KILL_AFTER_SENDS",
                 "RELAIS_SIM_KILL_AFTER_CLOCK", "RELAIS_SIM_KILL_AFTER_CLAIMS")


def run_simulate(lines: Iterable[dict[str, Any] | str], *, db: Path | None = None,
                 now: str = "2026-03-02T10:00:00+01:00", env: dict[str, str] | None = None,
                 timeout: float = 60, process: bool = False, forked: bool = False
                 ) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot simulate` as a user would, with JSON lines on stdin: in this
    process (`run_command`; its engine is the one shared by the session); with `forked` or a
    kill switch in `env`, in a process of its own, forked from another interpreter that loaded
    the assistant once (tests/simulator_process.py: its own hash seed too); with `process`,
    in a new Python interpreter (about a second and a half of start-up: for the entry point)."""
    text = "".join((line if isinstance(line, str) else json.dumps(line, ensure_ascii=False))
                   + "\n" for line in lines)
    args = ["simulate", "--now", now]
    if db is not None:
        args += ["--db", str(db)]
    env = env or {}
    if process:
        return subprocess.run([sys.executable, "-m", "bot", *args], input=text,
                              capture_output=True, text=True, cwd=ROOT, timeout=timeout,
                              env={**os.environ, **env}, check=False)
    if forked or any(name in env for name in KILL_SWITCHES):
        return run_killable(args, text, env, timeout)
    return run_command(args, text, env)


def run_command(args: list[str], stdin: str = "", env: dict[str, str] | None = None
                ) -> subprocess.CompletedProcess[str]:
    """`python -m bot <args>` as a user runs it, from the repository's folder, in this process:
    the command line's own `main` with stdin, stdout and stderr swapped for the run (and
    `env` added to the environment), reported as `subprocess.run` would. A new interpreter
    would cost about a second and a half before the command starts; the entry point itself
    is tested once (tests/test_simulate.py). Called from an async test, the command's own
    event loop runs in a thread while the test's waits, as it would for a process."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _main_here(args, stdin, env or {})
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        return thread.submit(_main_here, args, stdin, env or {}).result()


def _main_here(args: list[str], text: str, env: dict[str, str]
               ) -> subprocess.CompletedProcess[str]:
    from bot.__main__ import main

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        # Its output is not a terminal: argparse lays out its help for 80 columns, as it
        # does in a process whose output is a pipe.
        patch.setenv("COLUMNS", os.environ.get("COLUMNS", "80"))
        for name, value in env.items():
            patch.setenv(name, value)
        patch.setattr(sys, "stdin", io.StringIO(text))
        patch.setattr(sys, "stdout", out)
        patch.setattr(sys, "stderr", err)
        try:
            code = main(args)
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
    return subprocess.CompletedProcess(["python", "-m", "bot", *args], code, out.getvalue(),
                                       err.getvalue())


def outputs(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def pytest_unconfigure(config: pytest.Config) -> None:
    """The process is about to exit: its collections at exit need not go through the heap
    the run built (every engine, server and page it made), about a second per process, which
    the parallel run's end waits for."""
    gc.freeze()
