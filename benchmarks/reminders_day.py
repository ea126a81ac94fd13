"""How long computing and enqueueing one day's reminders takes for many users.

    .venv/bin/python benchmarks/reminders_day.py [--users 100000] [--rounds 3]

Builds a SQLite database (in a temporary folder) with N users who gave consent and an API end
date, each with a reminder due today, then times the scheduler turning them into outbox
messages (the check of each user's session, the text in their language, one transaction per
batch). Target: under 2 s for 100,000 users.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.clock import ManualClock
from bot.core.model import LOCALES, Session
from bot.runtime import Runtime
from bot.settings import Settings
from bot.storage.sqlite import SQLiteStorage, session_columns

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


async def build(runtime: Runtime, users: int) -> None:
    rng = random.Random(1)
    assert isinstance(runtime.storage, SQLiteStorage)
    db = runtime.storage.db
    sessions, timers, people = [], [], []
    for i in range(users):
        user = f"bench:{i}"
        end = date(2026, 3, 2) + timedelta(days=rng.choice((0, 2, 7, 14, 30)))
        offset = (end - date(2026, 3, 2)).days
        session = Session(user=user, flow="menu", state="main", locale=rng.choice(LOCALES),
                          consent=True).with_slot("api_end", end.isoformat())
        people.append((user, NOW.isoformat(), NOW.isoformat()))
        sessions.append((user, *session_columns(session), 1, NOW.isoformat()))
        payload = json.dumps({"slot": "api_end", "date": end.isoformat(), "offset": str(offset)})
        timers.append((user, "reminder", "api_end", NOW.isoformat(), payload, NOW.isoformat()))
    async with runtime.storage.transaction():
        await db.executemany("INSERT INTO users (user_key, created_at, last_seen_at) "
                             "VALUES (?, ?, ?)", people)
        await db.executemany("INSERT INTO sessions (user_key, data, locale, consent, reminders, "
                             "dates, version, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             sessions)
        await db.executemany("INSERT INTO scheduled (user_key, name, topic, due_at, payload, "
                             "created_at) VALUES (?, ?, ?, ?, ?, ?)", timers)


async def one_day(users: int) -> tuple[int, int, float]:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings.load()
        runtime = Runtime.build(settings, ManualClock(NOW), {}, Path(folder) / "bench.sqlite3")
        await runtime.start()
        await build(runtime, users)
        started = time.perf_counter()
        sent = await runtime.scheduler.run_due(NOW)
        elapsed = time.perf_counter() - started
        pending = await runtime.storage.pending_count()
        await runtime.close()
    return sent, pending, elapsed


async def main(users: int, rounds: int) -> None:
    # Each round on a fresh database: the machine is shared, so one run can be unlucky.
    runs = [await one_day(users) for _ in range(rounds)]
    sent, pending, _ = runs[-1]
    times = sorted(elapsed for _, _, elapsed in runs)
    median = statistics.median(times)
    print(f"users with a reminder due today: {users}")
    print(f"reminders enqueued: {sent} (outbox rows pending: {pending})")
    print(f"time to compute and enqueue them, {rounds} rounds: "
          + ", ".join(f"{t:.2f} s" for t in times))
    print(f"median {median:.2f} s ({median / max(sent, 1) * 1e6:.1f} µs each; "
          "target: under 2 s for 100,000)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.users, args.rounds))
