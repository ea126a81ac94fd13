"""Documents from their stored facts to a PDF, when the sender or a download asks.

Nothing but the facts is stored (table `documents`, schema 0008), for `LIFETIME`: the PDF is
rendered again each time it is sent or fetched, and a name typed in the web chat's form goes
into that one PDF only.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.documents.note import NoteFacts, NoteKnowledge
from bot.documents.pdf import render

if TYPE_CHECKING:
    from bot.storage.base import Storage

#: How long a download link works: long enough for a person who reopens the web chat the
#: next day, short enough that a link seen over a shoulder soon stops working.
LIFETIME = timedelta(hours=24)
FILENAMES = {"note": "note-API-{organisation}.pdf",
             "complaint": "reclamation-Defenseur-des-droits.pdf"}


def new_token() -> str:
    """An unguessable link token (192 random bits)."""
    return secrets.token_urlsafe(24)


def filename(facts: NoteFacts) -> str:
    return FILENAMES[facts.kind].format(organisation=facts.organisation.replace("_", "-"))


class DocumentSource:
    def __init__(self, storage: Storage, notes: NoteKnowledge) -> None:
        self.storage = storage
        self.notes = notes

    async def facts(self, token: str, now: datetime) -> tuple[str, NoteFacts] | None:
        """(user, facts) of a document whose link still works."""
        from bot.storage.observations import ObservationStore

        found = await ObservationStore(self.storage).document(token, now)
        if found is None:
            return None
        return found[0], NoteFacts.from_json(found[1])

    async def pdf(self, token: str, now: datetime, name: str = "") -> tuple[str, bytes] | None:
        """(file name, PDF) of a document whose link still works."""
        found = await self.facts(token, now)
        if found is None:
            return None
        facts = found[1]
        return filename(facts), await self.render(facts, name)

    async def render(self, facts: NoteFacts, name: str = "") -> bytes:
        # fpdf2 is pure Python: a few tens of milliseconds, off the event loop.
        return await asyncio.to_thread(render, self.notes.compose(facts, name))
