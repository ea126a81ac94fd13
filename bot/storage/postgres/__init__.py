"""PostgreSQL through psycopg 3 and its pool: several instances on one database.

The same cut by role as SQLite's package (bot/storage/sqlite/): the connection pool and its
transactions (connection.py), a conversation turn (turn.py), the outbox (outbox.py), timers
and reminders (reminders.py); the SQL shared with SQLite (cases, organisations, staff) comes
through the transaction's `Sql` seam. Each backend writes its dialect's own SQL where the two
differ (JSON, locking, bulk copies); the role split lets a reader put the two side by side.
"""

from __future__ import annotations

from bot.storage.postgres.connection import Connection, TransactionBase
from bot.storage.postgres.outbox import OutboxStore, OutboxWrites
from bot.storage.postgres.reminders import TimerStore, TimerWrites
from bot.storage.postgres.turn import TurnReads, TurnWrites

__all__ = ["PostgresStorage", "PostgresTransaction"]


class PostgresTransaction(TurnWrites, OutboxWrites, TimerWrites, TransactionBase):
    """bot.storage.base.Transaction in PostgreSQL."""


class PostgresStorage(TurnReads, OutboxStore, TimerStore, Connection):
    """bot.storage.base.Storage in PostgreSQL."""

    transaction_class = PostgresTransaction
