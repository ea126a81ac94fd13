"""PostgreSQL against SQLite: turns per second and latency, and a day's reminders.

    .venv/bin/python benchmarks/postgres_throughput.py [--users 100] [--messages 20]
                                                      [--reminders 100000]

Starts its own PostgreSQL (tests/postgres_server.py: Debian's binaries, a temporary folder).
Turns: `--users` people each send `--messages` messages one after the other (each waits for its
turn to be committed), through the real engine and storage (`Conversations.handle`), while
each instance's sender drains its outbox to a channel that records what it is given. Run on
one instance on SQLite (on disk, synchronous=FULL), one instance on PostgreSQL, and two
instances on one PostgreSQL (the people split between them, each with its own engine and
pool, in this one process: the figure is the database's and the engine's, not two CPUs').
Prints throughput (turns per second) and p50/p99 latency (message handed in -> turn
committed) side by side. Then stages `--reminders` people's reminders of the day on
PostgreSQL through the scheduler's bulk path (target: under 3 s), `--rounds` times, each
on a fresh database, with the database's CPU time and the machine's load beside the time.
`--reminders-only` skips the turns.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.clock import ManualClock
from bot.core.model import LOCALES, Inbound, Session
from bot.runtime import Runtime, engine_for
from bot.settings import Settings
from bot.storage.rows import session_columns
from tests.conftest import RecordingChannel
from tests.postgres_server import PostgresServer

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


async def turns(targets: list[str], users: int, messages: int) -> tuple[float, list[float]]:
    settings = Settings.load()
    engine = engine_for(settings)
    runtimes = [Runtime.build(settings, ManualClock(NOW), {"bench": RecordingChannel("bench")},
                              target, engine=engine) for target in targets]
    for rt in runtimes:
        await rt.start()
    stop = asyncio.Event()
    senders = [asyncio.create_task(rt.sender.run(stop)) for rt in runtimes]
    latencies: list[float] = []

    async def person(n: int) -> None:
        rt = runtimes[n % len(runtimes)]
        for i in range(messages):
            text = "/start" if i == 0 else f"mon compte ANEF ne marche pas {i}"
            started = time.perf_counter()
            await rt.conversations.handle(Inbound.text_message(f"bench:{n}", str(i), text), NOW)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(person(n) for n in range(users)))
    elapsed = time.perf_counter() - started
    stop.set()
    await asyncio.gather(*senders, return_exceptions=True)
    for rt in runtimes:
        await rt.close()
    return elapsed, latencies


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


async def reminders_day(url: str, people: int) -> tuple[int, float]:
    import psycopg

    rng = random.Random(1)
    settings = Settings.load()
    runtime = Runtime.build(settings, ManualClock(NOW), {}, url)
    await runtime.start()
    stamp = NOW.isoformat()
    with psycopg.connect(url) as conn, conn.cursor() as cur, \
            cur.copy("COPY users (user_key, created_at, last_seen_at) FROM STDIN") as copy:
        for i in range(people):
            copy.write_row((f"bench:{i}", stamp, stamp))
    sessions, timers = [], []
    for i in range(people):
        end = date(2026, 3, 2) + timedelta(days=rng.choice((0, 2, 7, 14, 30)))
        session = Session(user=f"bench:{i}", flow="menu", state="main",
                          locale=rng.choice(LOCALES), consent=True
                          ).with_slot("api_end", end.isoformat())
        sessions.append((f"bench:{i}", *session_columns(session), 1, stamp))
        payload = json.dumps({"slot": "api_end", "date": end.isoformat(),
                              "offset": str((end - date(2026, 3, 2)).days)})
        timers.append((f"bench:{i}", "reminder", "api_end", stamp, payload, stamp))
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy("COPY sessions (user_key, data, locale, consent, reminders, dates, "
                      "version, updated_at) FROM STDIN") as copy:
            for row in sessions:
                copy.write_row(row)
        with cur.copy("COPY scheduled (user_key, name, topic, due_at, payload, created_at) "
                      "FROM STDIN") as copy:
            for row in timers:
                copy.write_row(row)
        cur.execute("ANALYZE")
    before = _cpu_seconds()
    started = time.perf_counter()
    sent = await runtime.scheduler.run_due(NOW)
    elapsed = time.perf_counter() - started
    after = _cpu_seconds()
    with psycopg.connect(url) as conn:
        ours = {row[0] for row in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid != pg_backend_pid()")}
    await runtime.close()
    database_cpu = sum(after[pid] - before.get(pid, 0.0) for pid in ours if pid in after)
    return sent, elapsed, database_cpu


def _cpu_seconds() -> dict[int, float]:
    """CPU seconds each process has used so far (Linux): on a machine shared with other
    work, the database's CPU time says what the staging costs better than the wall clock."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[int(pid)] = (int(fields[11]) + int(fields[12])) / tick
    return out


async def main(users: int, messages: int, reminders: int, rounds: int) -> None:
    server = PostgresServer.start()
    try:
        if users:
            await compare_turns(server, users, messages)
        # Each round on a fresh database: the machine may be shared, so one run can be
        # unlucky; the load average says how busy it was.
        print(f"reminders of the day on PostgreSQL, {reminders} people, {rounds} rounds:")
        times = []
        for _ in range(rounds):
            sent, elapsed, cpu = await reminders_day(server.fresh_database(), reminders)
            times.append(elapsed)
            print(f"  {sent} staged in {elapsed:.2f} s (database CPU {cpu:.2f} s, load "
                  f"{os.getloadavg()[0]:.1f})", flush=True)
        print(f"  median {statistics.median(times):.2f} s (target < 3 s)")
    finally:
        server.stop()


async def compare_turns(server: PostgresServer, users: int, messages: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        shared = server.fresh_database()
        runs = {"SQLite, 1 instance": [str(Path(folder) / "bench.sqlite3")],
                "PostgreSQL, 1 instance": [server.fresh_database()],
                "PostgreSQL, 2 instances": [shared, shared]}
        print(f"{users} people x {messages} messages each")
        print(f"{'':26} {'turns/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
        for name, targets in runs.items():
            elapsed, latencies = await turns(targets, users, messages)
            print(f"{name:26} {len(latencies) / elapsed:8.0f} {_p(latencies, 50):8.1f} "
                  f"{_p(latencies, 99):8.1f}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--reminders", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3, help="of the reminders' staging")
    parser.add_argument("--reminders-only", action="store_true",
                        help="skip the turns; only stage the reminders")
    args = parser.parse_args()
    asyncio.run(main(0 if args.reminders_only else args.users, args.messages, args.reminders,
                     args.rounds))
