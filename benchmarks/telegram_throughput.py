"""Relais on Telegram against the transport's own floor: a bare aiogram echo bot.

    .venv/bin/python benchmarks/telegram_throughput.py [--users 100] [--messages 20] [--rounds 3]

Both run by long polling against the same local fake Bot API server (tests/fakes/bot_api.py),
which runs in the bot's own process; each run gets a fresh process, and echo and Relais take
turns for `--rounds` rounds. Each simulated user sends a message, waits for the answer, and
sends the next. Prints the throughput (answered messages per second) and the p50/p99 latency (update
queued -> answer received) of each run, then the medians and Relais' share of the echo bot's
throughput (target: at least 80%). Relais runs with its real storage (SQLite on disk,
synchronous=FULL) and the per-chat limit lifted (TELEGRAM_CHAT_INTERVAL), since the echo bot
has none: the comparison is the engine, storage and outbox against the bare transport. Every
message after "/start" is answered by "I did not understand" and the language buttons again,
so each one goes through the recogniser and sends an inline keyboard. Both get the same
garbage-collector setting (start-up memory frozen, as bot/server.py does).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aiogram import Dispatcher
from aiogram.types import Message
from aiohttp.test_utils import TestClient, TestServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.channels.telegram import make_bot
from bot.server import Server
from bot.settings import Settings
from tests.fakes.bot_api import FakeBotAPI


async def drive(api: FakeBotAPI, users: int, messages: int, first: str, then: str
                ) -> tuple[float, list[float]]:
    latencies: list[float] = []

    async def user(chat: int) -> None:
        for i in range(messages):
            before = api.received[chat]
            started = time.perf_counter()
            api.received_event[chat].clear()
            api.text(chat, first if i == 0 else f"{then} {i}", language="fr")
            while api.received[chat] <= before:
                await api.received_event[chat].wait()
                api.received_event[chat].clear()
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(user(10_000 + n) for n in range(users)))
    return time.perf_counter() - started, latencies


def report(name: str, elapsed: float, latencies: list[float]) -> float:
    rate = len(latencies) / elapsed
    q = statistics.quantiles(latencies, n=100)
    print(f"{name:8} {len(latencies):6} answers in {elapsed:6.2f} s: {rate:7.1f}/s, "
          f"p50 {statistics.median(latencies) * 1000:6.1f} ms, p99 {q[98] * 1000:6.1f} ms",
          flush=True)
    return rate


async def echo(users: int, messages: int) -> float:
    api = FakeBotAPI()
    fake = TestServer(api.app())
    await fake.start_server()
    bot = make_bot(api.token, str(fake.make_url("")).rstrip("/"))
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def answer(message: Message) -> None:
        await message.answer(message.text or "")

    polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False,
                                                           polling_timeout=1))
    await asyncio.sleep(0.3)
    # The same garbage-collector setting as Relais' server after start-up (bot/server.py),
    # so that the floor is the transport at its best, not a difference of tuning.
    gc.collect()
    gc.freeze()
    elapsed, latencies = await drive(api, users, messages, "hello", "hello")
    await dispatcher.stop_polling()
    await polling
    await bot.session.close()
    await fake.close()
    return report("echo", elapsed, latencies)


async def relais(users: int, messages: int) -> float:
    api = FakeBotAPI()
    fake = TestServer(api.app())
    await fake.start_server()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings.from_mapping({
            "DATABASE_PATH": str(Path(folder) / "bench.sqlite3"),
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_API_BASE": str(fake.make_url("")).rstrip("/"),
            "TELEGRAM_CHAT_INTERVAL": "0.001", "TELEGRAM_RATE_PER_SECOND": "100000",
        })
        client = TestClient(TestServer(Server(settings).app()))
        await client.start_server()
        await asyncio.sleep(0.3)
        # "/start" is answered by the language question; every later message by "I did not
        # understand" and the buttons again: one answer per message, as for the echo bot.
        elapsed, latencies = await drive(api, users, messages, "/start", "blabla")
        await client.close()
    await fake.close()
    return report("relais", elapsed, latencies)


def measure(which: str, users: int, messages: int) -> float:
    """One run in a process of its own: a run leaves memory behind (the other bot's content,
    pydantic's caches) that would slow down the next one in the same process."""
    command = [sys.executable, __file__, "--one", which, "--users", str(users),
               "--messages", str(messages)]
    out = subprocess.run(command, check=True, capture_output=True,  # noqa: S603 (this script)
                         text=True).stdout
    print(out.strip().splitlines()[-2])
    return float(out.strip().splitlines()[-1])


def main(users: int, messages: int, rounds: int) -> None:
    print(f"{users} users x {messages} messages each, one at a time per user; {rounds} rounds, "
          f"echo and Relais in turn (this machine's speed drifts from one minute to the next)")
    floors, ours = [], []
    for _ in range(rounds):
        floors.append(measure("echo", users, messages))
        ours.append(measure("relais", users, messages))
    floor, mine = statistics.median(floors), statistics.median(ours)
    print(f"median: echo {floor:.1f}/s, relais {mine:.1f}/s")
    print(f"relais throughput = {mine / floor:.0%} of the echo bot's (target: at least 80%)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--one", choices=("echo", "relais"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run = echo if args.one == "echo" else relais
        print(asyncio.run(run(args.users, args.messages)))
    else:
        main(args.users, args.messages, args.rounds)
