"""How rows are written and read, the same in every backend: times as UTC ISO text (so that
comparing texts compares instants), a session beside the few facts a due reminder depends on,
the digest of an inbound message id, an outbox row's body, the numbered migrations."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from bot.core.model import Choice, MessageKind, Session
from bot.core.params import DATE_SLOTS
from bot.storage.base import OutboxMessage

#: Tables that hold rows about a user; `erase_user` clears every one of them.
USER_TABLES = ("sessions", "outbox", "scheduled", "transcript", "handoff_requests",
               "cases", "users", "observations", "documents")


def iso(moment: datetime) -> str:
    """Times are stored in UTC, so that comparing their text compares the instants."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every time in Relais carries its zone")
    return moment.astimezone(UTC).isoformat()


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def claim_token() -> int:
    """A new claim's token: random, so that two claims (two instances, or one before and one
    after a recovery) never share one; 62 bits fit both backends' integers."""
    return secrets.randbits(62)


def migrations(dialect: str = "") -> list[tuple[int, str]]:
    """The numbered migration scripts, in order (`dialect`: a backend's own folder)."""
    folder = resources.files("bot.storage") / "migrations"
    if dialect:
        folder = folder / dialect
    found = []
    for item in folder.iterdir():
        if item.name.endswith(".sql"):
            found.append((int(item.name.split("_", 1)[0]), item.read_text(encoding="utf-8")))
    return sorted(found)


def session_columns(session: Session) -> tuple[str, str | None, int | None, int, str]:
    """A session as stored: its JSON, and beside it the facts a due reminder depends on (read
    in bulk by the database without parsing the JSON)."""
    dates = {slot: session.slots.get(slot) for slot in DATE_SLOTS}
    consent = None if session.consent is None else int(session.consent)
    return (json.dumps(session.to_json(), ensure_ascii=False), session.locale, consent,
            int(session.reminders), json.dumps(dates))


def inbound_digest(user: str, message_id: str) -> str:
    return hashlib.sha256(f"{user}\x00{message_id}".encode()).hexdigest()


def claimed(row: Any, claim: int) -> OutboxMessage:
    """An outbox row as the sender claims it: id, user, kind, locale, body, created_at,
    attempts (before this one), reachable, last_seen_at, second_locale; `claim`, the token
    the claim wrote on it."""
    body = json.loads(row[4])
    return OutboxMessage(
        id=row[0], user=row[1], kind=MessageKind(row[2]), locale=row[3], text=body["text"],
        choices=tuple(Choice(c["id"], c["label"]) for c in body["choices"]),
        created_at=when(row[5]), attempts=row[6] + 1, reachable=bool(row[7]),
        template=body.get("template", ""), template_params=tuple(body.get("params", ())),
        last_inbound_at=when(row[8]) if row[8] else None,
        second_locale=row[9] if isinstance(row[9], str) else None,
        document=body.get("document", ""), claim=claim)
