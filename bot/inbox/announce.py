"""Telling the team that a case opened, outside the inbox: a log line, an e-mail to the
organisation's caseworkers (`SMTP_*`), a notice in a staff Telegram group
(`STAFF_TELEGRAM_CHAT_ID`).

The database is the queue: a case is announced once, after the turn that opened it committed
(and again to the team it is moved to, or that receives it after waiting for one),
by a background task that a turn never waits for. A failed e-mail is tried again later
(backoff), and a restart picks up what was not announced. Nothing personal goes out: the
case number, the organisation, whether it is urgent, and a link to the inbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.inbox.live import Live
from bot.inbox.mail import Mailer
from bot.storage.base import Storage
from bot.storage.cases import URGENT_DAYS, CaseStore

log = logging.getLogger(__name__)

#: After the n-th failure, the next try waits BACKOFF[n] (the last value repeats) ...
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15),
           timedelta(hours=1))
#: ... and after this many tries the e-mail is given up (the case is in the inbox anyway).
MAX_TRIES = 10
IDLE = 30.0  # seconds between two looks when nothing wakes the task
#: At most one look a second: under load every committed turn wakes the task, and each look
#: is a read of the database.
GAP = 1.0

#: `await notice(text)`: the staff group's notice, if one is configured.
Notice = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Opened:
    case_id: int
    org_id: int | None
    org_name: str
    api_end: date | None
    tries: int
    recipients: tuple[str, ...]

    def urgent(self, today: date) -> bool:
        return self.api_end is not None and (self.api_end - today).days <= URGENT_DAYS


def message(opened: Opened, today: date, inbox_url: str) -> tuple[str, str]:
    """The e-mail's subject and body: no name, no message, no date of the person."""
    urgency = "urgent" if opened.urgent(today) else "non urgent"
    subject = f"[Relais] Nouveau cas n° {opened.case_id} ({urgency}) · {opened.org_name}"
    body = (f"Un nouveau cas est ouvert pour {opened.org_name}.\n\n"
            f"Cas n° {opened.case_id}\n"
            f"Urgence : {urgency}"
            + (" (API expirée ou qui expire dans 15 jours au plus)" if opened.urgent(today)
               else "") + "\n"
            f"Ouvrir le cas : {inbox_url}/cases/{opened.case_id}\n\n"
            "Ce message ne contient aucune donnée sur la personne : connectez-vous à la "
            "boîte de réception pour lire le cas.\n")
    return subject, body


class Announcer:
    def __init__(self, storage: Storage, clock: Callable[[], datetime], today:
                 Callable[[], date], inbox_url: str, mailer: Mailer | None = None,
                 notice: Notice | None = None) -> None:
        self.cases = CaseStore(storage)  # the queue of cases to announce lives with them
        self.clock = clock
        self.today = today
        self.inbox_url = inbox_url.rstrip("/")
        self.mailer = mailer
        self.notice = notice

    async def run(self, stop: asyncio.Event, live: Live) -> None:
        while not stop.is_set():
            try:
                await self.announce_due()
            except Exception:
                log.exception("announcing new cases failed")
            if stop.is_set():
                break
            # Until a change, the idle time, or the end: leading may end before the server.
            changed = asyncio.ensure_future(live.wait(IDLE))
            ending = asyncio.ensure_future(stop.wait())
            await asyncio.wait({changed, ending}, return_when=asyncio.FIRST_COMPLETED)
            changed.cancel()
            ending.cancel()
            if stop.is_set():
                break
            # The gap ends early when the server stops: a shutdown does not wait for it.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), GAP)

    async def announce_due(self) -> int:
        """Announce every case due; how many were announced."""
        done = 0
        for opened in await self._due():
            if opened.tries == 0:
                # Once per case: its number, organisation and urgency, nothing about the person.
                log.info("new case %d for %s (%s)", opened.case_id,
                         opened.org_name if opened.org_id is not None
                         else "no organisation yet: run python -m bot setup",
                         "urgent" if opened.urgent(self.today()) else "not urgent")
            if await self._tell(opened):
                await self._mark(opened.case_id, announced=True)
                done += 1
            else:
                await self._mark(opened.case_id, announced=opened.tries + 1 >= MAX_TRIES,
                                 tries=opened.tries + 1)
        return done

    async def _tell(self, opened: Opened) -> bool:
        subject, body = message(opened, self.today(), self.inbox_url)
        if self.notice is not None and opened.tries == 0 and opened.org_id is not None:
            try:
                await self.notice(subject)
            except Exception as exc:  # a notice is a courtesy: the e-mail still goes
                log.warning("staff group notice for case %d failed: %s", opened.case_id,
                            type(exc).__name__)
        if self.mailer is None or not opened.recipients:
            return True
        try:
            await self.mailer.send(opened.recipients, subject, body)
        except Exception as exc:
            log.warning("e-mail about case %d failed (try %d of %d): %s", opened.case_id,
                        opened.tries + 1, MAX_TRIES, type(exc).__name__)
            return False
        log.info("e-mail about case %d sent to %d caseworker(s)", opened.case_id,
                 len(opened.recipients))
        return True

    async def _due(self) -> list[Opened]:
        return [Opened(*row) for row in await self.cases.unannounced(self.clock())]

    async def _mark(self, case_id: int, *, announced: bool, tries: int = 0) -> None:
        now = self.clock()
        if announced:
            await self.cases.mark_announced(case_id, now)
        else:
            wait = BACKOFF[min(max(tries - 1, 0), len(BACKOFF) - 1)]
            await self.cases.announce_later(case_id, tries, now + wait)
