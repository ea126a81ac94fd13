"""`python -m bot db`: the database's own commands.

    migrate                 bring the database of the settings (or --url) to the code's schema
    copy --from sqlite:PATH --to postgresql://...
                            move an association from SQLite to PostgreSQL, every row kept
    backup [--to FILE]      SQLite: an online backup (the service may keep running);
                            PostgreSQL: the pg_dump command to run

Exit status: 0 done, 1 refused (the message says why), 2 bad arguments or settings.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bot.settings import Settings, SettingsError
from bot.storage.choose import open_storage

#: Every table, parents before children (the foreign keys), as both schemas name them.
TABLES = ("organisations", "users", "sessions", "inbound", "outbox", "scheduled", "transcript",
          "handoff_requests", "caseworkers", "login_failures", "staff_sessions", "audit",
          "deployment", "cases", "case_reads", "ready_replies", "observations", "documents")


async def migrate(target: str | None) -> str:
    settings = Settings.load()
    storage = open_storage(settings, target)
    await storage.open()  # every backend migrates when it opens
    try:
        version = await storage.schema_version()
    finally:
        await storage.close()
    return f"schema version {version}"


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        host = parts.hostname or ""
        netloc = f"{parts.username}@{host}" + (f":{parts.port}" if parts.port else "")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


async def _bring_forward(ends: list[str]) -> None:
    settings = Settings.load()
    for end in ends:  # every backend migrates when it opens
        storage = open_storage(settings, end)
        await storage.open()
        await storage.close()


def copy(source: str, target: str) -> str:
    """Every row of a SQLite database into an empty PostgreSQL one, in one transaction;
    both are first brought to the code's schema."""
    import psycopg

    if not source.startswith("sqlite:"):
        raise ValueError("--from takes sqlite:PATH")
    path = Path(source.removeprefix("sqlite:"))
    if not path.is_file():
        raise ValueError(f"no SQLite database at {path}")
    if not target.startswith(("postgresql://", "postgres://")):
        raise ValueError("--to takes a postgresql:// URL")
    asyncio.run(_bring_forward([str(path), target]))
    lite = sqlite3.connect(path)
    copied = {}
    try:
        with psycopg.connect(target) as pg, pg.transaction():
            row = pg.execute("SELECT (SELECT COUNT(*) FROM users) + "
                             "(SELECT COUNT(*) FROM organisations)").fetchone()
            if row and row[0]:
                raise ValueError("the PostgreSQL database already holds data: copy into an "
                                 "empty one, so that nothing is doubled")
            for table in TABLES:
                columns = [c[1] for c in lite.execute(f"PRAGMA table_info({table})")]
                rows = lite.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
                if rows:
                    marks = ", ".join(["%s"] * len(columns))
                    with pg.cursor() as cursor:
                        cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) "
                                           f"VALUES ({marks})", rows)
                copied[table] = len(rows)
                if "id" in columns:  # new rows continue after the copied ids
                    pg.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table}), 1), "
                               f"(SELECT COUNT(*) > 0 FROM {table}))")
    finally:
        lite.close()
    total = sum(copied.values())
    return (f"copied {total} rows ({copied['sessions']} conversations, {copied['cases']} "
            f"cases) to {_without_password(target)}")


def backup(target: str | None, to: str | None) -> str:
    settings = Settings.load()
    where = target or str(settings.database_url) or str(settings.database_path)
    if where.startswith(("postgresql://", "postgres://")):
        return ("PostgreSQL: run  pg_dump --format=custom --file=relais.dump "
                f"'{_without_password(where)}'  (restore with pg_restore)")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = Path(to) if to else Path(f"{where}.{stamp}.backup")
    source = sqlite3.connect(where)
    try:
        with sqlite3.connect(out) as copy_to:
            source.backup(copy_to)  # SQLite's online backup: consistent while others write
    finally:
        source.close()
    return f"backup written to {out}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot db", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    mig = sub.add_parser("migrate", help="apply the migrations not applied yet")
    mig.add_argument("--url", help="a SQLite path or postgresql:// URL (default: settings)")
    cp = sub.add_parser("copy", help="copy a SQLite database into an empty PostgreSQL one")
    cp.add_argument("--from", dest="source", required=True, help="sqlite:PATH")
    cp.add_argument("--to", dest="target", required=True, help="postgresql://...")
    bk = sub.add_parser("backup", help="back the database up")
    bk.add_argument("--url", help="a SQLite path or postgresql:// URL (default: settings)")
    bk.add_argument("--to", help="the backup file (SQLite; default: beside the database)")
    args = parser.parse_args(argv)
    try:
        if args.action == "migrate":
            print(asyncio.run(migrate(args.url)))
        elif args.action == "copy":
            print(copy(args.source, args.target))
        else:
            print(backup(args.url, args.to))
    except SettingsError as exc:
        print(f"relais: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"relais db: {exc}", file=sys.stderr)
        return 1
    return 0
