"""What a turn produced, as past-tense facts. The runtime applies them; the core only records.

Every event is a frozen dataclass with a stable `type` name, used in logs and tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from bot.core.model import Choice, MessageKind


@dataclass(frozen=True)
class Event:
    type: ClassVar[str] = "event"


@dataclass(frozen=True)
class MessageCreated(Event):
    type: ClassVar[str] = "message_created"
    kind: MessageKind
    locale: str
    text: str
    choices: tuple[Choice, ...] = ()
    #: For a reminder: which one it is ("api_end:30", "ladder:ccc") and the values that change
    #: from one user to the next (the date as shown). A channel that may not send free text at
    #: that moment (WhatsApp, 24 hours after the user's last message) sends the approved
    #: template of that name instead, filled with these values.
    template: str = ""
    template_params: tuple[str, ...] = ()


@dataclass(frozen=True)
class LocaleChanged(Event):
    type: ClassVar[str] = "locale_changed"
    locale: str


@dataclass(frozen=True)
class ConsentRecorded(Event):
    type: ClassVar[str] = "consent_recorded"
    given: bool


@dataclass(frozen=True)
class HandoffRequested(Event):
    """The user agreed to hand the conversation to a caseworker: a case opens (or the open one
    is brought up to date) with this French summary."""

    type: ClassVar[str] = "handoff_requested"
    reason: str
    summary: str = ""
    api_end: str | None = None  # ISO: the inbox sorts cases by it (urgency)
    locale: str = ""


@dataclass(frozen=True)
class RelayedToCaseworker(Event):
    """While a case is open, what the user writes goes to the caseworker (the transcript)."""

    type: ClassVar[str] = "relayed_to_caseworker"


@dataclass(frozen=True)
class CaseClosed(Event):
    """The caseworker closed the case: the user is back with the assistant."""

    type: ClassVar[str] = "case_closed"


@dataclass(frozen=True)
class OrganisationChosen(Event):
    """The user came through an association's link (`/start <code>`, the web chat's embed
    tag): their cases go to that association."""

    type: ClassVar[str] = "organisation_chosen"
    code: str


@dataclass(frozen=True)
class RemindersChanged(Event):
    type: ClassVar[str] = "reminders_changed"
    enabled: bool


@dataclass(frozen=True)
class UserErased(Event):
    """Everything stored about the user must go, in the same transaction as this turn."""

    type: ClassVar[str] = "user_erased"


@dataclass(frozen=True)
class ReminderScheduled(Event):
    """A timer: at `due_at` the scheduler brings `name` back into the engine for this user.

    `topic` groups timers that replace each other (a new API date replaces the old reminders).
    """

    type: ClassVar[str] = "reminder_scheduled"
    name: str
    due_at: datetime
    topic: str
    payload: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RemindersCancelled(Event):
    type: ClassVar[str] = "reminders_cancelled"
    topic: str | None  # None: every pending timer of the user


@dataclass(frozen=True)
class InputRejected(Event):
    """Something the user sent could not be used; they were told why."""

    type: ClassVar[str] = "input_rejected"
    reason: str


@dataclass(frozen=True)
class FlowFailed(Event):
    """A bug, a loop or a missing state inside a flow. The user got an apology and the menu."""

    type: ClassVar[str] = "flow_failed"
    flow: str
    state: str
    error: str


@dataclass(frozen=True)
class ProblemRecognised(Event):
    """A known ANEF problem was recognised in what the user reported (and confirmed)."""

    type: ClassVar[str] = "problem_recognised"
    error: str


@dataclass(frozen=True)
class DocumentRequested(Event):
    """The person asked for a document to show (the note about the API for an organisation
    that refuses it) or to file (the complaint for the Défenseur des droits). The runtime
    writes it from these facts (bot/documents/note.py) and sends it as a PDF and as text."""

    type: ClassVar[str] = "document_requested"
    kind: str  # "note" or "complaint"
    organisation: str  # employer, caf, cpam, france_travail, bank, landlord, other
    today: str  # ISO, where the association is
    status: str | None = None
    request: str | None = None
    api_end: str | None = None  # ISO
    departement: str | None = None
    refused_on: str | None = None  # ISO: the day the organisation refused (the complaint)
