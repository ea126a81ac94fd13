"""Crash test of two instances on one PostgreSQL (issue 17): two real `python -m bot run`
processes behind a round-robin proxy, Telegram in webhook mode from the fake Bot API. 100
people write 20 messages each; one instance is killed with SIGKILL twice (first while it
leads: it sends, schedules and holds the webhook; then while it only takes webhooks) and
started again each time.

What must hold at the end: every message is answered exactly as one clean run of the same
conversations answers it (`python -m bot simulate`, the reference of tests/test_crash.py), with
nothing twice and nothing missing; the only reply that may be missing is one the database
recorded as uncertain after its request may have started (the sender died with it in flight:
Telegram has no way to ask whether a message arrived, so it is not sent again); a reply
claimed but never posted is sent after the crash, and no row is uncertain without having been
posted; no outbox row is left pending or sending; every inbound message is stored once; and
the date reminders that fell due during the run went out exactly once: those of 100 people
who gave their date on an earlier day (written into the database once the instances run, due
one after the other across the first kill), and those the conversations planned for the
reminder hour, when they gave their date before it (on a slow machine they may not have).

Time: the instances run on the wall clock. The association's time zone is chosen so that it is
about noon there (no day boundary during the run, no quiet hours), and the reminder hour is set
to a moment a few seconds into the run, so the people who gave their date before it are
reminded while instances are being killed. The fake does not enforce Telegram's rate limits,
so the instances are told higher ones (the limits across instances hold because one elected
instance sends: tests/test_server.py and tests/storage test that).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import re
import signal
import socket
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from aiohttp import ClientError, ClientSession, ClientTimeout
from aiohttp.test_utils import TestServer

from bot.core.model import Session
from bot.sender import Sender
from bot.settings import ROOT
from bot.storage.rows import iso, session_columns
from tests.conftest import outputs, run_simulate
from tests.fakes.balancer import RoundRobinProxy
from tests.fakes.bot_api import FakeBotAPI
from tests.postgres_server import PostgresServer

pytestmark = [pytest.mark.slow, pytest.mark.long]

USERS = 100
MESSAGES = 20
LOCALES = ("en", "fr", "fa_af", "ps", "ar")  # as the buttons name them
SEEDED_LOCALES = ("en", "fr", "fa_AF", "ps", "ar")  # as sessions store them
FIRST_CHAT = 7_000_000
SECRET = "crash-test-secret"
#: When the day's reminders fall due, counted from the start of the test: after the people of
#: the first kind gave their date (their fifth message), before the run ends.
REMINDER_AFTER = timedelta(seconds=40)
#: How many messages the sender claims at once (what a killed leader may leave uncertain).
SENDER_BATCH = inspect.signature(Sender).parameters["batch"].default
#: People who gave their API's date on an earlier day (not writing now): their reminders fall
#: due one after the other over the first seconds of the run, across the first kill.
REMINDED = 100
FIRST_REMINDED = 8_000_000
#: What an elected instance logs of the rows a dead leader left 'sending' (bot/server.py).
RECOVERED = re.compile(r"\((\d+) messages put back to be sent, (\d+) left uncertain\)")
#: The share of all messages answered when the instance is killed, the first and second time.
KILLS_AT = (0.25, 0.6)


def scripts(end: str) -> list[list[dict[str, str]]]:
    """Ten conversations of 20 messages (two kinds, each in five languages). The first gives
    its API's end date early (before the reminder hour), the second late."""
    early = ["/start", "@{lang}", "@agree", "@renew_api", end, "@next", "@no_new", "@menu",
             "@download_api", "/help", "@menu", "@account", "/menu", "@first_card", "merci",
             "/privacy", "/language", "@en", "/menu", "@renew_card"]
    late = ["/start", "@{lang}", "@agree", "@account", "/menu", "@first_card", "merci",
            "/privacy", "/menu", "@download_api", "/help", "/menu", "@renew_api", end,
            "@next", "@no_new", "@menu", "@renew_card", "/menu", "merci"]
    out = []
    for kind in (early, late):
        for lang in LOCALES:
            steps = [s.replace("{lang}", lang) for s in kind]
            assert len(steps) == MESSAGES
            out.append([{"choice": s[1:]} if s.startswith("@") else {"text": s} for s in steps])
    return out


def midday_zone(moment: datetime) -> ZoneInfo:
    """A fixed-offset zone where `moment` is between 11:00 and 13:00."""
    hours = (12 - moment.hour) % 24
    hours = hours - 24 if hours > 14 else hours  # Etc/GMT-14 .. Etc/GMT+9
    return ZoneInfo(f"Etc/GMT{-hours:+d}" if hours else "Etc/GMT")


@dataclass
class Reference:
    replies: list[tuple[str, tuple[str, ...]]]  # (text, button ids), in order
    reminder: tuple[str, tuple[str, ...]]


def reference(conversations: list[list[dict[str, str]]], start: datetime,
              reminder_at: datetime, env: dict[str, str]) -> list[Reference]:
    """One clean run of each conversation (`simulate`, on SQLite, at the run's start), then the
    clock moved past the reminder hour: what each conversation is answered, and its reminder."""
    lines: list[dict[str, Any]] = [{"user": f"s{n}", **step}
                                   for n, conversation in enumerate(conversations)
                                   for step in conversation]
    lines.append({"clock": (reminder_at + timedelta(seconds=1)).isoformat()})
    result = run_simulate(lines, now=start.isoformat(), env=env)
    assert result.returncode == 0, result.stderr
    replies: dict[str, list[tuple[str, tuple[str, ...]]]] = defaultdict(list)
    reminders: dict[str, tuple[str, tuple[str, ...]]] = {}
    for line in outputs(result):
        said = (line["text"], tuple(c["id"] for c in line["choices"]))
        if line["kind"] == "reminder":
            assert line["user"] not in reminders, "one reminder due today per conversation"
            reminders[line["user"]] = said
        else:
            replies[line["user"]].append(said)
    return [Reference(replies[f"s{n}"], reminders[f"s{n}"]) for n in range(len(conversations))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Instance:
    """One `python -m bot run`, as an operator starts it, its output in a log file."""

    name: str
    port: int
    env: dict[str, str]
    log: Path
    process: asyncio.subprocess.Process | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.starts += 1
        with self.log.open("a") as log:
            log.write(f"--- start {self.starts}\n")
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=ROOT, stdin=asyncio.subprocess.DEVNULL,
                stdout=log, stderr=log, env={**os.environ, **self.env, "WEB_PORT": str(self.port)})

    async def ready(self, within: float = 60) -> None:
        deadline = time.monotonic() + within
        async with ClientSession(timeout=ClientTimeout(total=2)) as client:
            while time.monotonic() < deadline:
                assert self.process is not None
                assert self.process.returncode is None, self.tail()
                try:
                    async with client.get(f"{self.url}/health") as answer:
                        if answer.status == 200:
                            return
                except (ClientError, TimeoutError):
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} did not start:\n{self.tail()}")

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        assert await self.process.wait() == -signal.SIGKILL

    async def stop(self) -> int:
        if self.process is None or self.process.returncode is not None:
            return 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), 30)
        except TimeoutError:
            self.process.kill()
            raise

    def led(self) -> list[bool]:
        """For each start of this instance, whether it was elected to lead."""
        runs = self.log.read_text(errors="replace").split("--- start ")[1:]
        return ["elected to send, schedule and poll" in run for run in runs]

    def recovered(self) -> tuple[int, int]:
        """What this instance's elections found left 'sending' by a dead leader: messages put
        back to be sent (claimed, never posted), and messages left uncertain (posted)."""
        found = RECOVERED.findall(self.log.read_text(errors="replace"))
        return sum(int(back) for back, _ in found), sum(int(left) for _, left in found)

    def tail(self, lines: int = 80) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Figures:
    kills: list[float] = field(default_factory=list)  # monotonic time of each kill
    handover: float | None = None  # seconds from killing the leader to the next message sent
    ready: float | None = None  # seconds from the start to both instances answering


async def until(condition: Callable[[], bool], within: float = 120) -> None:
    deadline = time.monotonic() + within
    while True:
        if condition():
            return
        if time.monotonic() > deadline:
            raise AssertionError("waited too long")
        await asyncio.sleep(0.02)


def push(api: FakeBotAPI, chat: int, step: dict[str, str]) -> None:
    """As `simulate` reads the step: no app language (it would change the greeting)."""
    if "text" in step:
        api.text(chat, step["text"], language=None)
    else:
        api.tap(chat, step["choice"])


def database_sessions(url: str) -> str:
    """What every other session of the database is doing and waiting for (a hung instance's
    connections show their state, wait event and last statement)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT pid, state, wait_event_type, wait_event, "
            "now() - xact_start, left(query, 120) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "ORDER BY xact_start NULLS LAST").fetchall()
        # Why pending rows are not claimed: when they become available, and how many are
        # the first of their person's queue (the claim takes only those).
        waiting = conn.execute(
            "SELECT now(), min(available_at), max(available_at), max(attempts), "
            "COUNT(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM outbox e WHERE "
            "e.user_key = o.user_key AND e.id < o.id AND e.status IN ('pending', 'sending'))) "
            "FROM outbox o WHERE status = 'pending'").fetchone()
    return "\n".join([*(" | ".join(str(v) for v in row) for row in rows),
                      f"pending: now, first and last available_at, attempts, heads: {waiting}"])


#: An outbox row's status as the test counts it: an uncertain row never marked posted (its
#: request never started, yet it was not sent again) is told apart, and must not exist.
STATUS = ("CASE WHEN status = 'uncertain' AND posted_at IS NULL THEN 'uncertain, never posted' "
          "ELSE status END")


def database_state(url: str) -> tuple[Counter[str], dict[str, Counter[str]], int, int]:
    """Outbox rows by status; rows by user and status; stored inbound ids; due reminders not
    handled yet."""
    with psycopg.connect(url) as conn:
        statuses = Counter({s: n for s, n in conn.execute(
            f"SELECT {STATUS}, COUNT(*) FROM outbox GROUP BY 1")})
        uncertain: dict[str, Counter[str]] = defaultdict(Counter)
        for user, status, n in conn.execute(
                f"SELECT user_key, {STATUS}, COUNT(*) FROM outbox GROUP BY 1, 2"):
            uncertain[user][status] = n
        inbound = conn.execute("SELECT COUNT(*) FROM inbound").fetchone()
        late = conn.execute("SELECT COUNT(*) FROM scheduled WHERE name = 'reminder' AND "
                            "status = 'pending' AND due_at <= %s",
                            (datetime.now(UTC).isoformat(),)).fetchone()
    assert inbound is not None
    assert late is not None
    return statuses, uncertain, int(inbound[0]), int(late[0])


def seed_reminders(url: str, end: date, first_due: datetime) -> list[str]:
    """People who gave their API's end date before the run (consent, reminders on): one
    reminder each, 2 days before that date, due from `first_due` on, one every 0.2 s. Written
    as the scheduler finds them, through the storage's own row format."""
    users = []
    with psycopg.connect(url) as conn:
        for n in range(REMINDED):
            user = f"telegram:{FIRST_REMINDED + n}"
            users.append(user)
            stamp = iso(first_due - timedelta(days=3))
            session = Session(user=user, flow="menu", state="main", locale=SEEDED_LOCALES[n % 5],
                              consent=True).with_slot("api_end", end.isoformat())
            conn.execute("INSERT INTO users (user_key, created_at, last_seen_at) "
                         "VALUES (%s, %s, %s)", (user, stamp, stamp))
            conn.execute("INSERT INTO sessions (user_key, data, locale, consent, reminders, "
                         "dates, version, updated_at) VALUES (%s, %s, %s, %s, %s, %s, 1, %s)",
                         (user, *session_columns(session), stamp))
            payload = json.dumps({"slot": "api_end", "date": end.isoformat(), "offset": "2"})
            conn.execute("INSERT INTO scheduled (user_key, name, topic, due_at, payload, "
                         "created_at) VALUES (%s, 'reminder', 'api_end', %s, %s, %s)",
                         (user, iso(first_due + timedelta(seconds=0.2 * n)), payload, stamp))
    return users


def reminders_done(url: str, until: datetime) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {user: int(n) for user, n in conn.execute(
            "SELECT user_key, COUNT(*) FROM scheduled WHERE name = 'reminder' "
            "AND status = 'done' AND due_at <= %s GROUP BY user_key", (until.isoformat(),))}


async def settle(api: FakeBotAPI, url: str, reminder_at: datetime, within: float) -> None:
    """Until every update is accepted, the reminder hour passed and every due reminder
    handled, and the outbox holds no row to send (a row is marked sent once the fake
    answered it)."""
    deadline = time.monotonic() + within
    while True:
        statuses, _, _, late = await asyncio.to_thread(database_state, url)
        busy = statuses["pending"] + statuses["sending"]
        after = datetime.now(UTC) > reminder_at
        if not api.pending_update_count and not busy and not late and after:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not settled: {api.pending_update_count} updates waiting "
                                 f"({api.last_error_message}), outbox {dict(statuses)}, "
                                 f"{late} reminders due")
        await asyncio.sleep(0.2)


Said = tuple[str, tuple[str, ...]]


def compare(received: list[Said], ref: Reference, reminder_texts: set[Said]
            ) -> tuple[int, int, int]:
    """(replies matched, replies missing, reminders) for one person; fails on anything
    received that the reference does not say, or says fewer times (a duplicate). A reminder
    is in the language the person had when it went out (some change theirs midway): the
    reminder of any reference conversation, all being for the same date."""
    reminders = sum(1 for m in received if m in reminder_texts)
    replies = [m for m in received if m not in reminder_texts]
    matched = missing = 0
    position = 0
    for expected in ref.replies:
        if position < len(replies) and replies[position] == expected:
            matched += 1
            position += 1
        else:
            missing += 1
    assert position == len(replies), ("received what the reference does not say (a duplicate "
                                      f"or a wrong reply): {replies[position][0][:80]!r}")
    return matched, missing, reminders


async def test_two_instances_on_postgres_one_killed_twice(
        postgres_server: PostgresServer, tmp_path: Path) -> None:
    started = time.monotonic()
    start = datetime.now(UTC)
    zone = midday_zone(start)
    reminder_at = start + REMINDER_AFTER
    local = reminder_at.astimezone(zone)
    clock_env = {"TIMEZONE": zone.key, "REMINDER_HOUR": local.strftime("%H:%M:%S")}
    end = local.date() + timedelta(days=2)
    conversations = scripts(end.strftime("%d/%m/%Y"))
    # The clean run, beside the crash run: its answers are only read at the end.
    clean_run = asyncio.create_task(asyncio.to_thread(
        reference, conversations, start, reminder_at, clock_env))

    url = postgres_server.fresh_database()
    api = FakeBotAPI(webhook_timeout=10, webhook_retry=0.2, webhook_retry_max=2)
    api_server = TestServer(api.app())
    await api_server.start_server()
    ports = [free_port(), free_port()]
    proxy = RoundRobinProxy([f"http://127.0.0.1:{p}" for p in ports])
    proxy_server = TestServer(proxy.app())
    await proxy_server.start_server()
    env = {**clock_env, "DATABASE_URL": url, "TELEGRAM_BOT_TOKEN": api.token,
           "TELEGRAM_API_BASE": str(api_server.make_url("")).rstrip("/"),
           "TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_SECRET": SECRET,
           "TELEGRAM_WEBHOOK_URL": str(proxy_server.make_url("/telegram/webhook")),
           "TELEGRAM_RATE_PER_SECOND": "1000", "TELEGRAM_CHAT_INTERVAL": "0.01",
           "WEB_HOST": "127.0.0.1", "LOG_LEVEL": "INFO"}
    a, b = (Instance(name, port, env, tmp_path / f"{name}.log")
            for name, port in zip("ab", ports, strict=True))
    figures = Figures()
    try:
        await asyncio.gather(a.start(), b.start())
        await asyncio.gather(a.ready(), b.ready())
        figures.ready = time.monotonic() - started
        # The one elected kills first, while it leads; then, restarted, while it follows.
        assert sorted([a.led(), b.led()]) == [[False], [True]]
        killed, other = (a, b) if a.led() == [True] else (b, a)
        seeded = await asyncio.to_thread(seed_reminders, url, end,
                                         datetime.now(UTC) + timedelta(seconds=1))
        assert api.webhook is not None
        assert api.webhook.secret_token == SECRET

        chats = [FIRST_CHAT + n for n in range(USERS)]
        for step in range(MESSAGES):  # all at once: the fake sends each chat's in order
            for n, chat in enumerate(chats):
                push(api, chat, conversations[n % len(conversations)][step])
        total = USERS * MESSAGES

        for share in KILLS_AT:
            def answered(enough: float = share * total) -> bool:
                return sum(d.error is None for d in api.deliveries) >= enough

            await until(answered)
            leading = len(figures.kills) == 0
            sent_before = len(api.sent)
            await killed.kill()
            figures.kills.append(time.monotonic())
            await killed.start()
            if leading:  # the other takes over: the time until it sends again
                def sending_again(before: int = sent_before) -> bool:
                    return len(api.sent) > before and api.sent_times[-1] > figures.kills[-1]

                await until(sending_again)
                figures.handover = api.sent_times[-1] - figures.kills[-1]
            await killed.ready()

        await api.wait_delivered(within=60)
        try:
            await settle(api, url, reminder_at, within=60)
        except AssertionError as exc:  # what each instance last said, to see which one hung
            for instance in (a, b):  # and where each of its tasks waits (bot/stacks.py)
                if instance.process is not None and instance.process.returncode is None:
                    instance.process.send_signal(signal.SIGUSR1)
            await asyncio.sleep(1)
            raise AssertionError(f"{exc}\n--- {a.name}:\n{a.tail()}\n--- {b.name}:\n"
                                 f"{b.tail()}\n--- database sessions:\n"
                                 f"{await asyncio.to_thread(database_sessions, url)}") from exc
        # The follower first: stopping the leader first would elect it once more.
        assert await killed.stop() == 0, killed.tail()
        assert await other.stop() == 0, other.tail()
        refs = await clean_run
    finally:
        await asyncio.gather(clean_run, return_exceptions=True)
        for instance in (a, b):
            if instance.process is not None and instance.process.returncode is None:
                instance.process.kill()
                await instance.process.wait()
        await proxy_server.close()
        await api_server.close()

    expected = sum(len(refs[n % len(refs)].replies) for n in range(USERS))
    statuses, by_user, inbound, late = database_state(url)
    done = reminders_done(url, datetime.now(UTC))
    received: dict[int, list[Said]] = defaultdict(list)
    for message in api.sent:
        markup = message["reply_markup"] or {"inline_keyboard": []}
        received[message["chat_id"]].append(
            (message["text"], tuple(row[0]["callback_data"] for row in markup["inline_keyboard"])))
    matched = missing = reminders = 0
    for n, chat in enumerate(chats):
        user = f"telegram:{chat}"
        got, lost, reminded = compare(received[chat], refs[n % len(refs)],
                                      {r.reminder for r in refs})
        # A reminder goes once at most; what is missing (a reply or the reminder) can only be
        # what the database recorded as uncertain, posted (its request may have started).
        assert reminded <= done.get(user, 0), (user, reminded, done.get(user, 0))
        assert lost + done.get(user, 0) - reminded <= by_user[user]["uncertain"], user
        matched, missing, reminders = matched + got, missing + lost, reminders + reminded
    seeded_sent = 0
    for user in seeded:  # one reminder each, once, and nothing else
        said = received[int(user.split(":")[1])]
        assert set(said) <= {r.reminder for r in refs}, said
        assert done.get(user, 0) == 1, user
        assert len(said) + by_user[user]["uncertain"] == 1, (user, said)
        seeded_sent += len(said)

    duration = time.monotonic() - started
    put_back, left_uncertain = (sum(n) for n in zip(killed.recovered(), other.recovered(),
                                                     strict=True))
    failed_posts = sum(d.error is not None for d in api.deliveries)
    print(f"\n{USERS} people x {MESSAGES} messages = {total} in, {inbound} stored once; "
          f"{len(api.deliveries)} webhook POSTs ({failed_posts} failed and sent again); "
          f"the killed instance answered {proxy.answered[killed.url]}, the other "
          f"{proxy.answered[other.url]}, "
          f"{proxy.passed_on} passed on from a dead one, {proxy.bad_gateway} cut by a kill; "
          f"replies expected {expected}, received once {matched}, missing {missing} (each "
          f"uncertain once posted), duplicates 0; outbox {dict(statuses)}; found 'sending' "
          f"at the take-over: {put_back} claimed and never posted, put back and sent, "
          f"{left_uncertain} posted, left uncertain; "
          f"reminders due {sum(done.values())}, sent "
          f"{reminders + seeded_sent} ({seeded_sent} of the {REMINDED} seeded); kills "
          f"{len(figures.kills)}; leader hand-over {figures.handover:.2f} s; both started in "
          f"{figures.ready:.1f} s; {duration:.1f} s")
    assert len(figures.kills) == 2
    assert killed.led() == [True, False, False], "it led at first, not after its restarts"
    assert other.led() == [True], "the other took over when the leader was killed"
    assert inbound == total  # every message stored, once
    # Nothing stuck, nothing failed, nothing uncertain that never reached the channel.
    assert set(statuses) <= {"sent", "uncertain"}, statuses
    # Every uncertain row is one a take-over found posted by the dead leader.
    assert statuses["uncertain"] == left_uncertain, (statuses, left_uncertain)
    # Uncertain: at most what the killed leader had posted (part of its last claim).
    assert statuses["uncertain"] <= SENDER_BATCH, statuses
    assert late == 0
    assert matched + missing == expected
    assert seeded_sent + statuses["uncertain"] >= REMINDED
