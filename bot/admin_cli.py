"""The deployment's set-up from the command line, so that no case is ever invisible.

`python -m bot setup [--org NAME --email EMAIL]`: creates the organisation and its first admin
(asking for what is not given, when run in a terminal), makes it the deployment's default
organisation (stored in the database) and gives it the cases nobody could see yet.
`python -m bot org list`, `python -m bot org default CODE`, `python -m bot cases list`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from bot.caseworker_cli import database_of, default_code
from bot.inbox.accounts import Accounts
from bot.storage.cases import CaseError, CaseStore
from bot.storage.sqlite import SQLiteStorage

ENV_WINS = ("Note: DEFAULT_ORGANISATION={code} is set and names another organisation; it "
            "wins over the stored default while it is set.")


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help="database (default: DATABASE_PATH)")
    return common


def setup_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot setup", parents=[_common()],
        description="create the organisation and its first admin, and make it the default "
                    "organisation (asks for what is not given)")
    parser.add_argument("--org", help="the organisation's name, e.g. 'Cimade Nice'")
    parser.add_argument("--email", help="the first admin's e-mail address")
    return parser


def org_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot org", description="organisations")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("list", parents=[_common()],
                   help="every organisation, its caseworkers and open cases; * the default")
    default = sub.add_parser("default", parents=[_common()],
                             help="make an organisation the default one (it receives the "
                                  "cases nobody could see)")
    default.add_argument("code")
    return parser


def cases_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot cases", description="cases")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("list", parents=[_common()], help="every open case (no personal data)")
    return parser


async def setup(storage: SQLiteStorage, org_name: str, email: str, env_code: str | None
                ) -> str:
    now = datetime.now(UTC)
    store = CaseStore(storage, env_code)
    organisation, created = await store.ensure_organisation(org_name, now)
    worker, password = await Accounts(storage).create(organisation.id, email, True, now)
    adopted = await store.make_default(organisation.id)
    default = await store.default_organisation()
    lines = [f"Organisation {organisation.name!r} {'created' if created else 'found'} "
             f"(code {organisation.code}: Telegram links t.me/<bot>?start={organisation.code}, "
             f"web chat data-org=\"{organisation.code}\").",
             "It is the default organisation: people who come through no link reach it."
             if default == organisation else ENV_WINS.format(code=env_code),
             f"Admin {worker.email}: one-time password, to be changed at first login: "
             f"{password}",
             "Sign in at /inbox/ on this server."]
    if adopted:
        lines.insert(2, f"{adopted} case(s) nobody could see are now in this organisation.")
    return "\n".join(lines)


async def org_list(storage: SQLiteStorage, env_code: str | None) -> str:
    store = CaseStore(storage, env_code)
    rows = [f"{'*' if default else ' '} {org.code}\t{org.name}\t{staff} caseworker(s)\t"
            f"{open_cases} open case(s)"
            for org, staff, open_cases, default in await store.organisations()]
    waiting = await store.waiting_cases()
    if waiting:
        rows.append(f"! {waiting} open case(s) nobody can see: python -m bot setup")
    return "\n".join(rows) or "No organisation yet: python -m bot setup"


async def org_default(storage: SQLiteStorage, code: str, env_code: str | None) -> str:
    store = CaseStore(storage, env_code)
    found = [org for org, _, _, _ in await store.organisations() if org.code == code]
    if not found:
        raise CaseError(f"no organisation with the code {code!r} (python -m bot org list)")
    adopted = await store.make_default(found[0].id)
    done = f"{found[0].name!r} is the default organisation"
    if (await store.default_organisation()) != found[0]:
        return f"{done} in the database.\n" + ENV_WINS.format(code=env_code)
    return done + (f"; {adopted} waiting case(s) moved to it." if adopted else ".")


async def cases_list(storage: SQLiteStorage) -> str:
    found = await CaseStore(storage).open_cases()
    rows = [f"{c.id}\t{c.organisation}\t{c.opened_at:%Y-%m-%d %H:%M}Z\t"
            f"API {c.api_end.isoformat() if c.api_end else '-'}\t"
            f"{c.assignee or 'unassigned'}\t{c.title}" for c in found]
    return "\n".join(rows) or "No open case."


def _ask(label: str) -> str:
    if not sys.stdin.isatty():
        raise CaseError(f"{label}: not given (use the flags when not in a terminal)")
    return input(f"{label}: ").strip()


def _run(database: Path | str, work: Callable[[SQLiteStorage], Awaitable[str]]) -> int:
    async def go() -> str:
        storage = SQLiteStorage(database)
        await storage.open()
        try:
            return await work(storage)
        finally:
            await storage.close()

    try:
        print(asyncio.run(go()))
    except CaseError as exc:
        print(f"relais: {exc}", file=sys.stderr)
        return 1
    return 0


def main(command: str, argv: Sequence[str]) -> int:
    env_code = default_code()
    if command == "setup":
        args = setup_parser().parse_args(argv)
        try:
            org = args.org or _ask("Organisation name (e.g. Cimade Nice)")
            email = args.email or _ask("First admin's e-mail address")
        except (CaseError, EOFError) as exc:
            print(f"relais: {exc or 'nothing typed'}", file=sys.stderr)
            return 1
        return _run(database_of(args.db),
                    lambda storage: setup(storage, org, email, env_code))
    if command == "org":
        args = org_parser().parse_args(argv)
        if args.action == "default":
            return _run(database_of(args.db),
                        lambda storage: org_default(storage, args.code, env_code))
        return _run(database_of(args.db), lambda storage: org_list(storage, env_code))
    args = cases_parser().parse_args(argv)
    return _run(database_of(args.db), cases_list)
