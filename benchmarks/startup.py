"""How long `python -m bot run` takes to start: from the process launch until `GET /health`
answers, without Telegram and with it (long polling against the local fake Bot API server of
tests/fakes/bot_api.py, run in this process). Targets: under 2 s without Telegram (aiogram is
imported only when a token is set), under 4 s with it.

    .venv/bin/python benchmarks/startup.py [--rounds 5]

Prints each run and the medians: the wall time; the CPU time the server process used until
then (from /proc: unlike the wall time, it does not grow when other processes share the
cores); with Telegram, also the wall time until its first `getUpdates` (polling started). A
fresh database each run (the migrations are part of a first start); the flows, catalogs and
the recogniser are loaded as in production.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.bot_api import FakeBotAPI  # noqa: E402  (after the path is set)

TARGETS = {"without Telegram": 2.0, "with Telegram": 4.0}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _healthy(http: aiohttp.ClientSession, port: int) -> bool:
    try:
        async with http.get(f"http://127.0.0.1:{port}/health") as answer:
            return answer.status == 200
    except aiohttp.ClientConnectionError:
        return False


async def once(folder: Path, api: FakeBotAPI | None, base: str
               ) -> tuple[float, float, float | None]:
    """(wall seconds, CPU seconds) until healthy, and the wall seconds until polling."""
    port = _free_port()
    env = {**os.environ, "DATABASE_PATH": str(folder / f"start{port}.sqlite3"),
           "WEB_HOST": "127.0.0.1", "WEB_PORT": str(port), "LOG_LEVEL": "WARNING",
           "TELEGRAM_BOT_TOKEN": "", "WHATSAPP_TOKEN": ""}
    if api is not None:
        env.update(TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_BASE=base)
        api.calls.clear()
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        async with aiohttp.ClientSession() as http:
            while not await _healthy(http, port):
                if process.returncode is not None:
                    error = await process.stderr.read() if process.stderr else b""
                    raise RuntimeError(f"the server stopped: {error.decode()}")
                await asyncio.sleep(0.01)
        wall, cpu = time.perf_counter() - started, _cpu_seconds(process.pid)
        polling = None
        if api is not None:
            # The fake keeps the calls it answered in a list: looked at every 10 ms.
            while not any(method == "getUpdates" for method, _ in api.calls):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            polling = time.perf_counter() - started
        return wall, cpu, polling
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)


async def main(rounds: int) -> None:
    api = FakeBotAPI()
    fake = TestServer(api.app(), host="127.0.0.1")
    await fake.start_server()
    base = str(fake.make_url("")).rstrip("/")
    runs: dict[str, list[tuple[float, float, float | None]]] = {mode: [] for mode in TARGETS}
    with tempfile.TemporaryDirectory() as folder:
        for n in range(rounds):
            for mode in TARGETS:
                run = await once(Path(folder), api if mode == "with Telegram" else None, base)
                runs[mode].append(run)
                polling = f", polling after {run[2]:.2f} s" if run[2] is not None else ""
                print(f"run {n + 1} {mode}: healthy after {run[0]:.2f} s "
                      f"({run[1]:.2f} s CPU){polling}", flush=True)
    await fake.close()
    print(f"load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for mode, target in TARGETS.items():
        wall = statistics.median(r[0] for r in runs[mode])
        cpu = statistics.median(r[1] for r in runs[mode])
        verdict = "met" if wall < target else "MISSED"
        print(f"{mode}: median {wall:.2f} s wall, {cpu:.2f} s CPU "
              f"(target under {target:.0f} s: {verdict} on this machine now)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(parser.parse_args().rounds))
