"""Which backend the settings name: PostgreSQL when DATABASE_URL is set (several instances on
one database), else SQLite at DATABASE_PATH (one process, the embedded default)."""

from __future__ import annotations

from pathlib import Path

from bot.settings import Settings
from bot.storage.base import Storage


def open_storage(settings: Settings, database: Path | str | None = None,
                 live: frozenset[str] = frozenset()) -> Storage:
    """The storage (not opened yet). `database`: a SQLite path or a PostgreSQL URL that
    overrides the settings (tests, the command line). `live`: the channels delivered by the
    instance holding the person's connection (the web chat), whose new messages PostgreSQL
    announces to every instance; one SQLite process holds every connection itself."""
    target = str(database) if database is not None else (
        str(settings.database_url) or str(settings.database_path))
    if target.startswith(("postgresql://", "postgres://")):
        from bot.storage.postgres import PostgresStorage

        return PostgresStorage(target, default_org=settings.default_organisation, live=live)
    from bot.storage.sqlite import SQLiteStorage

    return SQLiteStorage(target, synchronous=settings.sqlite_synchronous,
                         default_org=settings.default_organisation)
