"""The values a conversation turn works on: who speaks, what they sent, what we remember.

Words the code uses throughout, spelled out once:

- **API**: the *attestation de prolongation d'instruction*, the temporary document ANEF issues
  while a residence card is being decided. `api_end` (a slot) is the end date printed on it;
  nothing named `api` in the code means a programming interface, except where it names
  Telegram's or Meta's (`telegram_api_base`, `whatsapp_api_base`, `bot/channels/graph.py`).
  No module has Python names for both (tests/test_architecture.py). `api_end` keeps its name:
  it is the `{api_end}` value of the translated texts, a column of cases, and part of the
  WhatsApp template names Meta approved (`relais_api_end_30`).
- **Problem**: a known ANEF failure the person reports (flows/knowledge/errors.yaml,
  `bot/core/problems.py`), recognised in their words or screenshot (`bot/core/recognise.py`).
  Older names stay where they are stored or translated, and so cannot change without
  migrating data and catalogues: the `errors` flow and its `errors.*` text keys, the
  `diagnose`/`diagnosed`/`diagnosis_unsure` names flows use, the session's `diagnosis` scratch
  value and the `problem_recognised` event's `error` field. The recogniser's
  `Recognition.error` keeps its name too: the evaluation tools and their data read it.
  Elsewhere the code's own names say `problem` (e.g. the `diagnose` action's argument).
- **Case**: a conversation handed to a caseworker of the association (`bot/core/handoff.py`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

LOCALES = ("fr", "fa_AF", "ps", "ar", "en")
SOURCE_LOCALE = "fr"


class InboundKind(enum.StrEnum):
    TEXT = "text"
    CHOICE = "choice"
    PHOTO = "photo"
    MEDIA = "media"  # stickers, voice, documents...: answered, not read
    TIMER = "timer"  # a scheduled row falling due comes back into the engine as a resume
    STAFF = "staff"  # a caseworker's reply or action, from the inbox (payload: action, text...)


@dataclass(frozen=True)
class Inbound:
    """One thing a user (or the clock) sent to the assistant."""

    user: str
    message_id: str
    kind: InboundKind
    text: str = ""
    choice: str = ""
    media: str = ""  # the kind of media for MEDIA ("sticker", "voice", "document"...)
    timer: str = ""  # the timer's name for TIMER
    payload: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def text_message(cls, user: str, message_id: str, text: str) -> Inbound:
        return cls(user=user, message_id=message_id, kind=InboundKind.TEXT, text=text)

    @classmethod
    def choice_tap(cls, user: str, message_id: str, choice: str) -> Inbound:
        return cls(user=user, message_id=message_id, kind=InboundKind.CHOICE, choice=choice)


@dataclass(frozen=True)
class Choice:
    """A button offered to the user. `id` is short ASCII: Telegram allows 64 bytes."""

    id: str
    label: str

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "label": self.label}


class MessageKind(enum.StrEnum):
    REPLY = "reply"
    REMINDER = "reminder"
    CASEWORKER = "caseworker"
    #: The last message of a turn that erased the user (/delete): a channel that keeps a copy
    #: of the conversation on the user's device (the web chat) deletes it once this is shown.
    FAREWELL = "farewell"


@dataclass(frozen=True)
class Session:
    """What the assistant remembers about one user between turns.

    `slots` holds answers the user agreed to let us keep (dates, status); nothing is put there
    before consent. `offered` is the set of buttons of the latest message, so that a tap, a
    typed number or a typed label can be matched, and a stale button recognised.
    """

    user: str
    flow: str
    state: str
    locale: str | None = None
    consent: bool | None = None  # None: not asked yet
    reminders: bool = True
    share: bool | None = None  # agreed to share the conversation with a caseworker
    case_open: bool = False  # a caseworker has the conversation: free text goes to them
    offered: tuple[Choice, ...] = ()
    resume: tuple[str, str] | None = None
    slots: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: Where the conversation is in a flow's own logic (the problem recognised, the buttons
    #: ranked): nothing the user told about themselves, so kept without consent.
    scratch: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    created_at: datetime | None = None
    version: int = 0

    def evolve(self, **changes: Any) -> Session:
        return replace(self, **changes)

    def with_slot(self, name: str, value: str) -> Session:
        return replace(self, slots=MappingProxyType({**self.slots, name: value}))

    def with_scratch(self, **values: str) -> Session:
        return replace(self, scratch=MappingProxyType({**self.scratch, **values}))

    def to_json(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "state": self.state,
            "locale": self.locale,
            "consent": self.consent,
            "reminders": self.reminders,
            "share": self.share,
            "case_open": self.case_open,
            "offered": [c.as_dict() for c in self.offered],
            "resume": list(self.resume) if self.resume else None,
            "slots": dict(self.slots),
            "scratch": dict(self.scratch),
            "created_at": self.created_at.isoformat() if self.created_at else None,
        }

    @classmethod
    def from_json(cls, user: str, data: Mapping[str, Any], version: int) -> Session:
        resume = data.get("resume")
        created = data.get("created_at")
        return cls(
            user=user,
            flow=data["flow"],
            state=data["state"],
            locale=data.get("locale"),
            consent=data.get("consent"),
            reminders=bool(data.get("reminders", True)),
            share=data.get("share"),
            case_open=bool(data.get("case_open", False)),
            offered=tuple(Choice(c["id"], c["label"]) for c in data.get("offered", ())),
            resume=(resume[0], resume[1]) if resume else None,
            slots=MappingProxyType(dict(data.get("slots", {}))),
            scratch=MappingProxyType(dict(data.get("scratch", {}))),
            created_at=datetime.fromisoformat(created) if created else None,
            version=version,
        )
