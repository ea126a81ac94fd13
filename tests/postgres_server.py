"""A real PostgreSQL for the tests: Debian's `postgresql` binaries, a temporary data directory,
a free port, stopped at the end. As root, the server runs as the unprivileged user `nobody`
(PostgreSQL refuses to run as root), in a directory that user owns.

Used by the `postgres_url` fixture (tests/conftest.py) and by scripts/postgres-test.sh.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


class PostgresMissing(RuntimeError):
    """The PostgreSQL server binaries are not installed."""


def binaries() -> Path:
    """The folder of initdb, pg_ctl and postgres: PG_BIN, else Debian's newest version."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                   key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).resolve().parent
    raise PostgresMissing("PostgreSQL's server binaries (initdb, pg_ctl) are not installed: "
                          "run scripts/install-system-packages.sh as root (Debian package "
                          "'postgresql'), or set PG_BIN")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    folder: Path
    port: int
    bin: Path
    databases: int = 0

    @property
    def url(self) -> str:
        return f"postgresql://relais@127.0.0.1:{self.port}/relais"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:  # PostgreSQL will not run as root
            command = ["runuser", "-u", "nobody", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): "
                               f"{done.stderr.strip() or done.stdout.strip()}")

    @classmethod
    def start(cls) -> PostgresServer:
        folder = Path(tempfile.mkdtemp(prefix="relais-pg-"))
        if os.geteuid() == 0:
            shutil.chown(folder, "nobody", "nogroup")
        server = cls(folder, _free_port(), binaries())
        data = folder / "data"
        server._run("initdb", "-D", str(data), "-U", "relais", "--auth=trust",
                    "--encoding=UTF8", "--locale=C.UTF-8")
        # Small and fast: the data is thrown away at the end of the run.
        server._run("pg_ctl", "-D", str(data), "-l", str(folder / "log"), "-w", "-t", "60",
                    "-o", f"-p {server.port} -k {folder} -c listen_addresses=127.0.0.1 "
                    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                    "-c max_connections=200", "start")
        server._run("createdb", "-h", "127.0.0.1", "-p", str(server.port), "-U", "relais",
                    "relais")
        return server

    def fresh_database(self) -> str:
        """A new empty database on this server; its URL. Named after the process too: the
        test workers of one run (pytest-xdist) share the server."""
        import psycopg

        self.databases += 1
        name = f"t{os.getpid()}_{self.databases}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return f"postgresql://relais@127.0.0.1:{self.port}/{name}"

    def to_json(self) -> str:
        """What another process needs to use this server (`from_json`)."""
        return json.dumps({"folder": str(self.folder), "port": self.port, "bin": str(self.bin)})

    @classmethod
    def from_json(cls, text: str) -> PostgresServer:
        found = json.loads(text)
        return cls(Path(found["folder"]), int(found["port"]), Path(found["bin"]))

    def stop(self, *, remove_in_background: bool = False) -> None:
        """Stop the server and delete its folder; with `remove_in_background`, a process of
        its own deletes the folder, which the caller does not wait for (a whole test run's
        databases are hundreds of megabytes: seconds to delete, more on a busy disk)."""
        try:
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "stop")
        finally:
            if remove_in_background:  # the shell leaves `rm` running and returns at once
                subprocess.run(["sh", "-c", 'rm -rf -- "$0" >/dev/null 2>&1 &',
                                str(self.folder)], start_new_session=True, check=True,
                               stdin=subprocess.DEVNULL, timeout=60)
            else:
                shutil.rmtree(self.folder, ignore_errors=True)
