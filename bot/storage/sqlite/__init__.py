"""SQLite through aiosqlite: the embedded default, one process.

The store is cut by role, the same cut as every backend: the connection and its transactions
(connection.py), a conversation turn (turn.py), the outbox (outbox.py), timers and reminders
(reminders.py). Cases, organisations and staff accounts are SQL shared by every backend
(bot/storage/cases.py, organisations.py, staff.py), spoken through the transaction's `Sql`
seam.
"""

from __future__ import annotations

from bot.storage.rows import USER_TABLES, inbound_digest, migrations, session_columns
from bot.storage.sqlite.connection import Connection, TransactionBase
from bot.storage.sqlite.outbox import OutboxStore, OutboxWrites
from bot.storage.sqlite.reminders import TimerStore, TimerWrites
from bot.storage.sqlite.turn import TurnReads, TurnWrites

__all__ = ["USER_TABLES", "SQLiteStorage", "SQLiteTransaction", "inbound_digest",
           "migrations", "session_columns"]


class SQLiteTransaction(TurnWrites, OutboxWrites, TimerWrites, TransactionBase):
    """bot.storage.base.Transaction in SQLite."""


class SQLiteStorage(TurnReads, OutboxStore, TimerStore, Connection):
    """bot.storage.base.Storage in SQLite."""

    transaction_class = SQLiteTransaction
