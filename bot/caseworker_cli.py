"""`python -m bot caseworker add EMAIL --org NAME [--admin]`, `reset EMAIL` and `list`.

`add` creates the organisation if needed and the account, and prints a one-time password: the
caseworker must choose their own at first login. The first admin's organisation becomes the
deployment's default and receives the cases nobody could see yet (bot/storage/organisations.py).
`reset` hands out a new one-time password (for an admin who lost theirs; admins reset the
others' in the inbox). `list` prints every account.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bot.inbox.accounts import Accounts
from bot.storage.cases import CaseError, CaseStore
from bot.storage.sqlite import SQLiteStorage


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot caseworker",
                                     description="caseworker accounts of the inbox")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help="database (default: DATABASE_PATH)")
    sub = parser.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", parents=[common],
                         help="create an account; prints its one-time password")
    add.add_argument("email")
    add.add_argument("--org", required=True,
                     help="the organisation's name (or code); created if it does not exist")
    add.add_argument("--admin", action="store_true", help="may manage the organisation's "
                                                          "caseworkers and read the audit log")
    reset = sub.add_parser("reset", parents=[common],
                           help="a new one-time password for an account")
    reset.add_argument("email")
    sub.add_parser("list", parents=[common], help="every account, by organisation")
    return parser


async def _add(storage: SQLiteStorage, email: str, org: str, admin: bool) -> str:
    now = datetime.now(UTC)
    organisation, created = await CaseStore(storage).ensure_organisation(org, now)
    worker, password = await Accounts(storage).create(organisation.id, email, admin, now)
    adopted = await CaseStore(storage, default_code()).welcome_admin(organisation.id) \
        if admin else 0
    made = "created" if created else "existing"
    role = "admin" if admin else "caseworker"
    waiting = (f"{adopted} case(s) opened before any account now belong to it.\n"
               if adopted else "")
    return (f"{role} {worker.email} added to the {made} organisation {organisation.name!r} "
            f"(code {organisation.code}: start links t.me/<bot>?start={organisation.code}).\n"
            f"{waiting}One-time password, to be changed at first login: {password}")


async def _list(storage: SQLiteStorage) -> str:
    lines = []
    for org, _, _, _ in await CaseStore(storage).organisations():
        for worker in await Accounts(storage).staff(org.id):
            state = "" if worker.active else " (disabled)"
            role = "admin" if worker.is_admin else "caseworker"
            lines.append(f"{org.code}\t{worker.email}\t{role}{state}")
    return "\n".join(lines) or "No caseworker yet: python -m bot setup"


def default_code() -> str | None:
    """DEFAULT_ORGANISATION, if a configuration can be read (the CLI works without one)."""
    from bot.settings import Settings, SettingsError

    try:
        return Settings.load().default_organisation or None
    except SettingsError:
        return None


async def _reset(storage: SQLiteStorage, email: str) -> str:
    accounts = Accounts(storage)
    worker = await accounts.find(email)
    if worker is None:
        raise CaseError(f"no account for {email.strip().lower()}")
    password = await accounts.reset(worker.org_id, worker.id)
    return f"One-time password for {worker.email}, to be changed at first login: {password}"


async def _run(args: argparse.Namespace, database: Path | str) -> str:
    storage = SQLiteStorage(database)
    await storage.open()
    try:
        if args.action == "add":
            return await _add(storage, args.email, args.org, args.admin)
        if args.action == "list":
            return await _list(storage)
        return await _reset(storage, args.email)
    finally:
        await storage.close()


def database_of(db: str | None) -> Path | str:
    if db:
        return db
    from bot.settings import Settings  # only when needed: --db works without a .env

    return Settings.load().database_path


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    database = database_of(args.db)
    try:
        print(asyncio.run(_run(args, database)))
    except CaseError as exc:
        print(f"relais: {exc}", file=sys.stderr)
        return 1
    return 0
