"""The simulator in a process of its own that a test may kill (SIGKILL), quick to start.

A new interpreter costs about one and a half seconds of processor time before its first turn:
the imports, then loading the content and building the engine. The crash tests start one per
test. Here each is forked from one server process (multiprocessing's forkserver) that did that
work once for the test process (tests/simulator_preload.py): the child is a real process, with
its own memory, its own SQLite connections and its own death, running the command line's own
`main`. The server is an interpreter of its own, with its own hash seed: the simulator's
output must not depend on it (tests/test_simulate.py). Where the process itself is what is
tested (the `python -m bot` entry point), tests/conftest.py's `run_simulate(process=True)`
starts a new one.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import subprocess
import sys
import tempfile
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType
from typing import TextIO

#: The settings an engine is built from (`bot.runtime.engine_for`): two runs whose settings
#: agree on these may share one.
ENGINE_SETTINGS = ("flows_dir", "locales_dir", "retention_months", "timezone", "reminder_hour",
                   "quiet_hours", "office_hours")

_FORKS = multiprocessing.get_context("forkserver")
_FORKS.set_forkserver_preload(["tests.simulator_preload"])


class KillableSimulator:
    """`python -m bot <args>` with `stdin` as its input, in a forked process: read its output
    line by line from `stdout` while it runs, `kill` it, `wait` for its exit code (negative:
    the signal that ended it, as `subprocess` says). Its environment is this process's, with
    `env` added."""

    def __init__(self, args: list[str], stdin: str, env: dict[str, str] | None = None) -> None:
        self.args = args
        self._folder = tempfile.TemporaryDirectory(prefix="relais-sim-")
        self._errors = Path(self._folder.name) / "stderr.txt"
        reader, writer = _FORKS.Pipe(duplex=False)
        self._process = _FORKS.Process(target=_child,
                                       args=(args, stdin, {**os.environ, **(env or {})}, writer,
                                             str(self._errors)),
                                       daemon=True)
        self._process.start()
        writer.close()  # the child holds the only writing end: its death ends the stream
        self.stdout: TextIO = os.fdopen(os.dup(reader.fileno()), encoding="utf-8")
        reader.close()

    def kill(self) -> None:
        """SIGKILL, unless it has ended already."""
        self._process.kill()

    def wait(self, timeout: float) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            self.kill()
            self._process.join()
            raise subprocess.TimeoutExpired(["python", "-m", "bot", *self.args], timeout)
        return self._process.exitcode

    @property
    def stderr(self) -> str:
        return self._errors.read_text(encoding="utf-8") if self._errors.exists() else ""

    def __enter__(self) -> KillableSimulator:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._process.exitcode is None:
            self.kill()
            self._process.join()
        self.stdout.close()
        self._process.close()
        self._folder.cleanup()


def run_killable(args: list[str], stdin: str, env: dict[str, str], timeout: float
                 ) -> subprocess.CompletedProcess[str]:
    """The whole run, as `subprocess.run` would report it."""
    with KillableSimulator(args, stdin, env) as process:
        out = process.stdout.read()
        code = process.wait(timeout)
        return subprocess.CompletedProcess(["python", "-m", "bot", *args], code, out,
                                           process.stderr)


def _child(args: list[str], stdin: str, env: dict[str, str], out: Connection,
           errors: str) -> None:
    """In the forked process: the command line with these streams, then exit with its code."""
    from bot.settings import ROOT

    os.chdir(ROOT)
    os.environ.clear()
    os.environ.update(env)
    sys.stdin = io.StringIO(stdin)
    sys.stdout = os.fdopen(os.dup(out.fileno()), "w", encoding="utf-8")
    out.close()
    sys.stderr = open(errors, "w", encoding="utf-8")  # noqa: SIM115 (open until the exit)
    from bot.__main__ import main

    try:
        code = main(args)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    sys.exit(code)
