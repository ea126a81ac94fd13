"""Which organisation gets a case, so that no case is ever invisible.

A case goes to the organisation of the link the person came through, if somebody works there
(an active caseworker account). Otherwise to the deployment's default organisation: the one
`DEFAULT_ORGANISATION` names, else the one stored by `python -m bot setup` (or given to the
first admin created), provided somebody works there; else to the oldest organisation where
somebody works. When no organisation has anybody yet, the case is kept without one (org_id
NULL) and the next organisation to receive the deployment's default (the first admin's)
adopts it, together with the open cases of organisations nobody belongs to.
"""

from __future__ import annotations

import logging

from bot.storage.base import Sql

log = logging.getLogger(__name__)

DEFAULT_KEY = "default_organisation"
#: A case that reaches a team in another way than by opening is announced to it like a new one.
ANNOUNCE_AGAIN = "announced_at = NULL, announce_tries = 0, announce_after = NULL"
_STAFFED = ("EXISTS (SELECT 1 FROM caseworkers w WHERE w.org_id = {org} AND w.active = 1)")


async def staffed(db: Sql, org_id: int) -> bool:
    """Whether somebody works in this organisation (an active account)."""
    row = await db.one(f"SELECT {_STAFFED.format(org='?')}", org_id)
    return bool(row and row[0])


async def stored_default(db: Sql) -> int | None:
    row = await db.one("SELECT d.value FROM deployment d JOIN organisations o "
                         "ON o.id = CAST(d.value AS INTEGER) WHERE d.key = ?", DEFAULT_KEY)
    return int(row[0]) if row else None


async def store_default(db: Sql, org_id: int) -> None:
    await db.run("INSERT INTO deployment (key, value) VALUES (?, ?) ON CONFLICT (key) "
                 "DO UPDATE SET value = excluded.value", DEFAULT_KEY, str(org_id))


async def code_id(db: Sql, code: str | None) -> int | None:
    if not code:
        return None
    row = await db.one("SELECT id FROM organisations WHERE code = ?", code.strip().lower())
    return int(row[0]) if row else None


async def default_organisation(db: Sql, env_code: str | None) -> int | None:
    """The deployment's default organisation: `DEFAULT_ORGANISATION` when it names one (the
    environment wins, as for every setting), else the stored one, else None."""
    return await code_id(db, env_code) or await stored_default(db)


async def route(db: Sql, linked: int | None, env_code: str | None
                ) -> int | None:
    """The organisation a new case goes to (see the module's docstring); None: nobody works
    anywhere yet, the case waits for the first admin."""
    for candidate in (linked, await code_id(db, env_code), await stored_default(db)):
        if candidate is not None and await staffed(db, candidate):
            return candidate
    row = await db.one(f"SELECT MIN(o.id) FROM organisations o "
                         f"WHERE {_STAFFED.format(org='o.id')}")
    return int(row[0]) if row and row[0] is not None else None


async def adopt_waiting(db: Sql, org_id: int) -> int:
    """Give `org_id` the open cases nobody can see: those waiting for an organisation and
    those of organisations nobody belongs to (such as one created on the fly before). Their
    number."""
    # Announced again (bot/inbox/announce.py): nobody was told when they opened.
    return await db.run(
        f"UPDATE cases SET org_id = ?, {ANNOUNCE_AGAIN} WHERE status = 'open' AND "
        f"(org_id IS NULL OR NOT {_STAFFED.format(org='cases.org_id')})", org_id)


async def welcome_admin(db: Sql, org_id: int, env_code: str | None) -> int:
    """An admin account was just created in `org_id`. With no default organisation yet, this
    one becomes the default. If it is the default, it adopts the cases nobody could see; their
    number."""
    if await default_organisation(db, env_code) is None:
        await store_default(db, org_id)
    if await default_organisation(db, env_code) != org_id:
        return 0
    adopted = await adopt_waiting(db, org_id)
    if adopted:
        log.info("organisation %d received %d waiting case(s)", org_id, adopted)
    return adopted
