"""Caseworker accounts, logins with lockout, and server-side sessions.

A session's token lives only in the caseworker's cookie; the database keeps its SHA-256, so
a copy of the database opens no session. Password hashing (tens of milliseconds) runs off the
event loop and outside any transaction, so a login never holds up the conversations.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.inbox.passwords import (
    DUMMY_HASH,
    hash_password,
    one_time_password,
    verify_password,
    weakness,
)
from bot.storage.base import Storage
from bot.storage.cases import CaseError
from bot.storage.staff import Caseworker, StaffStore

LOCK_AFTER = 5  # failed logins in a row...
LOCK_FOR = timedelta(minutes=15)  # ...lock the address for this long
SESSION_IDLE = timedelta(hours=2)  # a session unused this long is over
SESSION_MAX = timedelta(hours=12)  # and none outlives a working day


class Login(enum.Enum):
    OK = "ok"
    WRONG = "wrong"  # the address or the password (never said which)
    LOCKED = "locked"


@dataclass(frozen=True)
class StaffSession:
    caseworker: Caseworker
    csrf: str
    token_hash: str


def normalise_email(email: str) -> str:
    return email.strip().lower()


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Accounts:
    def __init__(self, storage: Storage) -> None:
        self.store = StaffStore(storage)

    async def create(self, org_id: int, email: str, is_admin: bool, now: datetime
                     ) -> tuple[Caseworker, str]:
        """A new account and its one-time password, to be changed at first login."""
        email = normalise_email(email)
        if "@" not in email.strip("@") or any(c.isspace() for c in email):
            raise CaseError(f"not an email address: {email!r}")
        password = one_time_password()
        hashed = await asyncio.to_thread(hash_password, password)
        worker = await self.store.add(org_id, email, hashed, is_admin, now)
        if worker is None:
            raise CaseError(f"{email} already has an account")
        return worker, password

    async def find(self, email: str) -> Caseworker | None:
        return await self.store.find(normalise_email(email))

    async def reset(self, org_id: int, caseworker_id: int) -> str | None:
        """A new one-time password (sessions closed); None if not in this organisation."""
        password = one_time_password()
        hashed = await asyncio.to_thread(hash_password, password)
        return password if await self.store.reset(org_id, caseworker_id, hashed) else None

    async def authenticate(self, email: str, password: str, now: datetime
                           ) -> tuple[Login, Caseworker | None]:
        email = normalise_email(email)
        key = digest(email)
        if await self.store.locked(key, now):
            return Login.LOCKED, None  # even the right password waits for the lock's end
        found = await self.store.with_password(email)
        stored = found[1] if found else DUMMY_HASH
        good = await asyncio.to_thread(verify_password, password, stored)
        if good and found is not None and found[0].active:
            await self.store.login_succeeded(key)
            return Login.OK, found[0]
        locked = await self.store.login_failed(key, LOCK_AFTER, now + LOCK_FOR)
        return (Login.LOCKED if locked else Login.WRONG), None

    async def change_password(self, session: StaffSession, current: str, new: str) -> str | None:
        """None once changed (other sessions closed), else why not, in French."""
        worker = session.caseworker
        stored = await self.store.password_hash(worker.id)
        if not await asyncio.to_thread(verify_password, current, stored):
            return "Le mot de passe actuel est incorrect."
        if new == current:
            return "Le nouveau mot de passe doit être différent de l'actuel."
        problem = weakness(new, worker.email)
        if problem:
            return problem
        hashed = await asyncio.to_thread(hash_password, new)
        await self.store.change_password(worker.id, hashed, session.token_hash)
        return None

    async def start_session(self, caseworker_id: int, now: datetime) -> str:
        token = secrets.token_urlsafe(32)
        await self.store.start_session(digest(token), caseworker_id, secrets.token_urlsafe(32),
                                       now, now - SESSION_IDLE, now - SESSION_MAX)
        return token

    async def session(self, token: str, now: datetime) -> StaffSession | None:
        """The live session of this cookie token, its use recorded; None if none or over."""
        key = digest(token)
        found = await self.store.use_session(key, now, SESSION_IDLE, SESSION_MAX)
        return None if found is None else StaffSession(found[0], found[1], key)

    async def end_session(self, session: StaffSession) -> None:
        await self.store.end_session(session.token_hash)

    async def staff(self, org_id: int) -> list[Caseworker]:
        return await self.store.of_organisation(org_id)

    async def set_active(self, org_id: int, caseworker_id: int, active: bool) -> bool:
        return await self.store.set_active(org_id, caseworker_id, active)
