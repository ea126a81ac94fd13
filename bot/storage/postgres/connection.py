"""The PostgreSQL connection pool and its transactions (psycopg 3, psycopg_pool).

Each transaction takes a connection from the pool and runs BEGIN ... COMMIT on it; unlike
SQLite's one connection, several transactions run at once, from this process and from other
instances, and PostgreSQL's row locks keep them apart. The SQL shared with SQLite (cases,
organisations, staff) comes through the `Sql` seam with `?` placeholders, turned into
psycopg's `%s` here.

Migrations (bot/storage/migrations/postgres/, numbered as SQLite's) run at start-up under an
advisory lock, so two instances starting together do not race.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, ClassVar

import psycopg
from psycopg import AsyncConnection
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import AsyncConnectionPool

from bot.core.model import Session
from bot.storage.base import ReminderGroup, StorageError
from bot.storage.rows import migrations
from bot.user_keys import EVERYONE

#: The advisory lock key held while migrating (any constant shared by every instance).
MIGRATION_LOCK = 0x52454C41  # "RELA"
#: The advisory lock the leading instance holds for as long as it runs (lead()).
LEADER_LOCK = 0x52454C42
#: Server-side TCP keepalives of the session that holds LEADER_LOCK: idle 10 s, then 3 probes
#: 5 s apart (ignored on a Unix socket, where the kernel tells the server at once).
LEADER_KEEPALIVES = ("-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 "
                     "-c tcp_keepalives_count=3")
#: The notification channel on which a committed transaction names the people who got
#: messages on a live channel (bot/web/relay.py), by their notice keys: never a text.
NOTICES = "relais_outbox"
#: The notification channel on which an instance that does not lead says, as it commits,
#: that it wrote messages the elected sender delivers (Telegram, WhatsApp): the leader's
#: sender wakes at once rather than at its next idle look. No payload.
SENDS = "relais_send"

log = logging.getLogger(__name__)
_PLACEHOLDER = re.compile(r"\?")


def leader_options(url: str, environ: Mapping[str, str]) -> str:
    """The libpq `options` of the leader's lock session: the ones the operator gave (in
    DATABASE_URL, or else in PGOPTIONS, as libpq reads them), then LEADER_KEEPALIVES. Passed
    on their own, the keepalives would replace the operator's (a search_path, a role's
    settings), which the other sessions keep."""
    given = conninfo_to_dict(url).get("options")
    if given is None:
        given = environ.get("PGOPTIONS", "")
    return f"{given} {LEADER_KEEPALIVES}".strip()


def dialect(sql: str) -> str:
    """SQL written for the shared seam (`?` placeholders) in psycopg's form (`%s`). A `%`
    inside the SQL text is doubled first; the shared SQL passes every LIKE pattern as a
    parameter, so no `?` ever stands inside a literal."""
    return _PLACEHOLDER.sub("%s", sql.replace("%", "%%"))


class TransactionBase:
    def __init__(self, conn: AsyncConnection[Any], default_org: str | None = None,
                 live: frozenset[str] = frozenset()) -> None:
        self.conn = conn
        self.default_org = default_org
        #: Channels delivered by the instance holding the person's connection (the web
        #: chat): a message for one of their people is announced at commit (`announce`).
        self.live = live
        self.announce: set[str] = set()
        #: Whether this transaction wrote messages for the elected sender (not for a live
        #: channel): an instance that does not lead wakes the leader's at commit.
        self.for_sender = False
        self.saved: dict[str, Session] = {}
        self.erased: set[str] = set()
        self._staged = 0  # the reminders staged and not enqueued yet (reminders.py)
        self._groups: list[ReminderGroup] = []

    async def flush(self) -> None:
        """Every statement is sent at once here: nothing is ever buffered."""

    # -- the Sql seam (bot.storage.base.Sql) ------------------------------------------------

    async def one(self, sql: str, *args: Any) -> Any:
        cursor = await self.conn.execute(dialect(sql), args)
        return await cursor.fetchone()

    async def all(self, sql: str, *args: Any) -> list[Any]:
        cursor = await self.conn.execute(dialect(sql), args)
        return list(await cursor.fetchall())

    async def run(self, sql: str, *args: Any) -> int:
        cursor = await self.conn.execute(dialect(sql), args)
        return cursor.rowcount

    async def insert(self, sql: str, *args: Any) -> int:
        cursor = await self.conn.execute(dialect(sql) + " RETURNING id", args)
        row = await cursor.fetchone()
        assert row is not None
        return int(row[0])

    # psycopg's own placeholders, for this backend's role modules.
    async def pg(self, sql: str, *args: Any) -> Any:
        return await self.conn.execute(sql, args)


async def _configure(conn: AsyncConnection[Any]) -> None:
    """Each new pooled connection. The day's reminders set 50,000 rows aside in a temporary
    table (reminders.py), which overflows the 8 MB a session keeps for temporary tables by
    default and goes to disk (a tenth of the staging's time); the size can only be set
    before a session's first temporary table, and only the sessions that make one use it."""
    await conn.execute("SET temp_buffers = '64MB'")


class Connection:
    transaction_class: ClassVar[type[TransactionBase]] = TransactionBase
    #: Several instances: a turn holds the user's lock in the database (claim_inbound).
    locks_users: ClassVar[bool] = True

    def __init__(self, url: str, *, default_org: str | None = None, pool_size: int = 10,
                 live: frozenset[str] = frozenset()) -> None:
        self.url = url
        self.live = live
        self.default_org = default_org or None
        self.pool_size = pool_size
        self._pool: AsyncConnectionPool[AsyncConnection[Any]] | None = None
        self._leader: AsyncConnection[Any] | None = None
        self._candidate: AsyncConnection[Any] | None = None  # asks to lead (lead())

    @property
    def pool(self) -> AsyncConnectionPool[AsyncConnection[Any]]:
        if self._pool is None:
            raise StorageError("storage is not open")
        return self._pool

    async def open(self) -> None:
        self._pool = AsyncConnectionPool(self.url, min_size=1, max_size=self.pool_size,
                                         open=False, kwargs={"autocommit": True},
                                         configure=_configure)
        await self._pool.open(wait=True, timeout=30)
        await self.migrate()

    async def migrate(self) -> int:
        """Apply the migrations not applied yet, one transaction each, under an advisory
        lock; the schema version reached."""
        async with self.pool.connection() as conn:
            await conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
            try:
                await conn.execute("CREATE TABLE IF NOT EXISTS schema_version "
                                   "(version INTEGER NOT NULL)")
                current = await self._version(conn)
                for version, script in migrations("postgres"):
                    if version <= current:
                        continue
                    async with conn.transaction():
                        await conn.execute(script)
                        await conn.execute("DELETE FROM schema_version")
                        await conn.execute("INSERT INTO schema_version VALUES (%s)",
                                           (version,))
                    current = version
            finally:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
        return current

    @staticmethod
    async def _version(conn: AsyncConnection[Any]) -> int:
        cursor = await conn.execute("SELECT MAX(version) FROM schema_version")
        row = await cursor.fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    async def lead(self) -> bool:
        """One elected instance sends the outbox, runs the scheduler and polls Telegram: the
        holder of a session advisory lock on a connection of its own. If it dies, the
        database ends its session, the lock goes, and the next instance asking leads.

        An instance that does not lead asks again and again (bot/server.py) on one connection
        it keeps for that, so each try is one small query and taking over follows the
        leader's death closely. The leader's session has short TCP keepalives: if its machine
        vanishes without closing the connection, PostgreSQL ends the session (and frees the
        lock) within about 30 seconds, not after the system's default two hours."""
        if self._leader is not None:
            return True
        try:
            if self._candidate is None or self._candidate.closed:
                # The client side's keepalives (libpq's parameters) as the server side's.
                self._candidate = await AsyncConnection.connect(
                    self.url, autocommit=True, options=leader_options(self.url, os.environ),
                    keepalives=1, keepalives_idle=10, keepalives_interval=5, keepalives_count=3)
            cursor = await self._candidate.execute("SELECT pg_try_advisory_lock(%s)",
                                                   (LEADER_LOCK,))
            row = await cursor.fetchone()
        except psycopg.OperationalError:  # the database is away: ask again at the next try
            await self._drop_candidate()
            return False
        if not (row and row[0]):
            return False
        self._leader, self._candidate = self._candidate, None
        return True

    async def lead_lost(self) -> None:
        """Waits on the lock's connection, which carries nothing else: it ends when PostgreSQL
        ends the session (a restart, an administrator), and then the lock is gone and another
        instance may lead already. A silent network cut ends it too, after the client-side
        keepalives set on it in `lead`: the leader learns it lost the lock about when the
        database frees it."""
        leader = self._leader
        if leader is None or leader.closed:
            return
        with contextlib.suppress(psycopg.Error):
            async for _ in leader.notifies():  # nothing is listened to: only the end comes
                pass

    async def resign(self) -> None:
        if self._leader is not None:  # the session ends, and the lock with it
            with contextlib.suppress(psycopg.Error):
                await self._leader.close()
            self._leader = None

    async def _drop_candidate(self) -> None:
        if self._candidate is not None:
            await self._candidate.close()
            self._candidate = None

    async def schema_version(self) -> int:
        async with self.pool.connection() as conn:
            return await self._version(conn)

    async def close(self) -> None:
        await self._drop_candidate()
        await self.resign()  # leadership goes with the connection
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @asynccontextmanager
    async def transaction(self, *, lazy: bool = False) -> AsyncIterator[Any]:
        """One transaction on a connection of the pool (`lazy` changes nothing here)."""
        async with self.pool.connection() as conn, conn.transaction():
            tx = self.transaction_class(conn, self.default_org, self.live)
            yield tx
            # Delivered to the listeners when, and only if, this commits. The leader's own
            # turns wake its sender in the process (Runtime's `committed`).
            if tx.announce:
                await conn.execute("SELECT pg_notify(%s, n) FROM unnest(%s::text[]) AS n",
                                   (NOTICES, sorted(tx.announce)))
            if tx.for_sender and self._leader is None:
                await conn.execute("SELECT pg_notify(%s, '')", (SENDS,))

    async def outbox_notices(self) -> AsyncGenerator[str, None]:
        """The notices of every instance's committed messages for live channels' people
        (their notice keys, or EVERYONE), on a connection of their own; reconnects when it is
        lost, and then says EVERYONE, since a notice sent meanwhile was missed."""
        async for notice in self._listen(NOTICES, "new messages"):
            yield EVERYONE if notice is None else notice

    async def sender_wakes(self) -> AsyncGenerator[None, None]:
        """One item each time another instance committed messages for the elected sender
        (SENDS), on a connection of their own; one also at each (re)connection, since a notice
        sent meanwhile was missed."""
        async for _ in self._listen(SENDS, "messages to send"):
            yield None

    async def _listen(self, channel: str, what: str) -> AsyncGenerator[str | None, None]:
        """The payloads of `channel`'s notifications, None first at each (re)connection."""
        while True:
            try:
                conn = await AsyncConnection.connect(self.url, autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {channel}")
                    yield None
                    async for notice in conn.notifies():
                        yield notice.payload
            except psycopg.OperationalError:
                log.warning("lost the connection that listens for %s; again in 1 s", what)
                await asyncio.sleep(1)

    async def _all(self, sql: str, *args: Any) -> list[Any]:
        async with self.pool.connection() as conn:
            cursor = await conn.execute(dialect(sql), args)
            return list(await cursor.fetchall())

    async def _write(self, sql: str, *args: Any) -> int:
        async with self.pool.connection() as conn:
            cursor = await conn.execute(dialect(sql), args)
            return cursor.rowcount
