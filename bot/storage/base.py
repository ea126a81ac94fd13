"""The storage interface the runtime relies on. `tests/storage/test_contract.py` is its spec.

A turn runs inside one `Transaction`: either everything it wrote is kept (session, outbox rows,
timers, transcript) or nothing is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from bot.core.exceptions import RelaisError
from bot.core.model import Choice, MessageKind, Session
from bot.core.observation import Observation

# Shared with the channels, which must not depend on storage (bot/outgoing.py).
from bot.outgoing import PEER_STATUSES as PEER_STATUSES
from bot.outgoing import Delivery as Delivery


class StorageError(RelaisError):
    """The root of storage failures."""


class VersionConflict(StorageError):
    """The session changed since it was loaded: another turn for this user won the race."""


class AlreadyAnswered(StorageError):
    """This channel message was answered by another turn since `load_turn` said it was new."""


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    user: str
    kind: MessageKind
    locale: str
    text: str
    choices: tuple[Choice, ...]
    created_at: datetime
    attempts: int
    reachable: bool = True  # False once the channel said the user blocked the assistant
    #: A reminder's template name and values (MessageCreated.template): a channel that may
    #: not send free text at this moment sends the approved template instead.
    template: str = ""
    template_params: tuple[str, ...] = ()
    #: When the user last wrote (users.last_seen_at is touched by inbound messages only):
    #: WhatsApp allows free text only within 24 hours of it.
    last_inbound_at: datetime | None = None
    #: The user's second language (session slot `second_locale`), if they gave one: the
    #: fallback when their own language has no approved template.
    second_locale: str | None = None
    #: A document sent with the text (the note about the API): the token of its row in
    #: `documents`, whose facts the sender renders as a PDF (bot/documents/delivery.py).
    document: str = ""
    #: The claim that took the row (claim_outbox): the sender posts it only while this claim
    #: still holds it (Storage.mark_posted).
    claim: int = 0

    @staticmethod
    def body(text: str, choices: tuple[Choice, ...], template: str = "",
             template_params: tuple[str, ...] = (), document: str = "") -> str:
        body: dict[str, Any] = {"text": text, "choices": [c.as_dict() for c in choices]}
        if template:
            body["template"] = template
            body["params"] = list(template_params)
        if document:
            body["document"] = document
        return json.dumps(body, ensure_ascii=False)


class InFlight(NamedTuple):
    """What a recovery found left 'sending' by a crash: rows put back to be sent again, and
    rows whose request may have gone out, left uncertain."""

    resent: int
    uncertain: int


@dataclass(frozen=True, slots=True)
class ReminderGroup:
    """Due date reminders that will say the same words: the same kind (slot and offset), the
    same date and the same language. A day's 100,000 reminders make a few hundred groups, so
    the text is written once per group (bot.core.speak.Speaker.reminder renders it)."""

    slot: str
    planned: str  # ISO date the reminders were planned for
    offset: int
    locale: str | None
    count: int


class StagedText(NamedTuple):
    """The message a group of staged reminders becomes."""

    slot: str
    planned: str
    offset: int
    locale: str | None
    kind: MessageKind
    message_locale: str
    text: str
    body: str  # OutboxMessage.body of the message




@dataclass(frozen=True)
class Timer:
    id: int
    user: str
    name: str
    topic: str
    due_at: datetime
    payload: Mapping[str, str]


class Sql(Protocol):
    """The dialect seam, inside a transaction: the SQL every backend shares (cases,
    organisations, staff accounts) is written once, with `?` placeholders, and each backend
    runs it in its own dialect. Only portable SQL goes through it."""

    async def one(self, sql: str, *args: Any) -> Any:
        """The first row, or None."""
        ...
    async def all(self, sql: str, *args: Any) -> list[Any]: ...
    async def run(self, sql: str, *args: Any) -> int:
        """How many rows the statement changed."""
        ...
    async def insert(self, sql: str, *args: Any) -> int:
        """The new row's id (tables with an `id` key)."""
        ...


class Transaction(Sql, Protocol):
    async def touch_user(self, user: str, now: datetime) -> None: ...
    async def record_inbound(self, user: str, message_id: str, now: datetime) -> bool:
        """False when this message id was already accepted for this user."""
        ...
    async def claim_inbound(self, user: str, message_id: str, now: datetime) -> None:
        """`record_inbound` for a turn whose `load_turn` found the message new: raises
        `AlreadyAnswered` (at the latest by the commit, which then rolls back) if it is not."""
        ...
    async def load_session(self, user: str) -> Session | None: ...
    async def save_session(self, session: Session, now: datetime) -> Session:
        """Save if the stored version is still `session.version`; return it with version + 1."""
        ...
    async def enqueue(self, user: str, kind: MessageKind, locale: str, text: str,
                      choices: tuple[Choice, ...], now: datetime, template: str = "",
                      template_params: tuple[str, ...] = (), document: str = "") -> None: ...
    async def record_observations(self, user: str, rows: Sequence[Observation]) -> None:
        """The observatory's anonymous facts a turn yielded (bot/core/observation.py)."""
        ...
    async def forget_observations(self, user: str) -> None:
        """Consent withdrawn: the person's observations leave the figures."""
        ...
    async def keep_document(self, user: str, token: str, facts: str, now: datetime,
                            expires_at: datetime) -> None:
        """A document's facts until it is delivered or its link expires (expired ones go)."""
        ...
    async def append_transcript(self, user: str, direction: str, text: str,
                                now: datetime, understood: str = "") -> None:
        """`understood`: for the person's messages, what the assistant understood, in French
        (bot.core.gloss), shown to the caseworker beside the words."""
        ...
    async def schedule(self, user: str, name: str, topic: str, due_at: datetime,
                       payload: Mapping[str, str], now: datetime) -> int: ...
    async def cancel_timers(self, user: str, topic: str | None) -> int: ...
    async def take_timer(self, timer_id: int, now: datetime) -> Timer | None:
        """Mark a pending timer done and return it; None if it was not pending any more."""
        ...
    async def superseded(self, timer: Timer, now: datetime) -> bool:
        """True when a later timer of the same user and topic is also due by `now`."""
        ...
    async def skip_timer(self, timer_id: int, now: datetime) -> None: ...
    async def record_handoff_request(self, user: str, reason: str, now: datetime) -> None: ...
    async def open_case(self, user: str, reason: str, summary: str, api_end: str | None,
                        locale: str, now: datetime) -> int:
        """Open a case for the caseworkers of the user's organisation, or bring the open one
        up to date; its id."""
        ...
    async def close_cases(self, user: str, now: datetime) -> None: ...
    async def set_organisation(self, user: str, code: str) -> bool:
        """The user came through this organisation's link; False if no such organisation."""
        ...
    async def stage_due_reminders(self, now: datetime, limit: int) -> list[ReminderGroup]:
        """The bulk path: set aside up to `limit` due date reminders (oldest first), decide
        which may go (known user, consent, reminders on, the date unchanged, reachable, not
        superseded by a later due reminder of the same topic), and return the groups of those
        that may. This is the one place that rule is written. Every staged row is finished
        by the next `enqueue_staged`."""
        ...
    async def enqueue_staged(self, texts: list[StagedText], now: datetime) -> tuple[int, int]:
        """Write the staged reminders that have a text as outbox and transcript rows, mark
        them done and the others skipped; (sent, staged)."""
        ...
    async def reachable(self, user: str) -> bool:
        """False once the channel said the user blocked the assistant."""
        ...
    async def erase_user(self, user: str) -> None: ...


class Storage(Protocol):
    #: True when several instances share the database and a turn must hold the user's lock
    #: in it (read, run and write in one transaction); False for one process (SQLite).
    @property
    def locks_users(self) -> bool: ...
    async def lead(self) -> bool:
        """Try to become the one instance that sends, schedules and polls; True once this
        instance leads, until it resigns or loses the lock. One process always leads."""
        ...
    async def lead_lost(self) -> None:
        """Returns when the lock won by `lead` is gone (its connection ended); never while
        it is held."""
        ...
    async def resign(self) -> None:
        """Give the lock up (another instance may lead); `lead` may win it again."""
        ...

    async def open(self) -> None:
        """Connect, and apply the migrations not applied yet."""
        ...
    async def close(self) -> None: ...
    async def schema_version(self) -> int: ...
    async def load_turn(self, user: str, message_id: str) -> tuple[bool, Session | None]:
        """Whether this channel message is new, and the user's session: what a turn reads
        before the engine runs, outside any transaction."""
        ...
    def transaction(self, *, lazy: bool = False) -> AbstractAsyncContextManager[Transaction]:
        ...

    # The sender's side of the outbox. Each call is its own transaction.
    async def claim_outbox(self, now: datetime, limit: int, *, leave: Sequence[str] = (),
                           users: Sequence[str] | None = None) -> list[OutboxMessage]:
        """Mark up to `limit` ready rows 'sending' and return them, oldest first, never
        overtaking an earlier unsent message of the same user. `leave`: channels whose rows
        another sender takes (the web chat's, on several instances: bot/web/relay.py);
        `users`: only these people's rows."""
        ...
    async def mark_posted(self, claim: int, ids: Sequence[int], now: datetime) -> set[int]:
        """Committed just before the channel's requests for these rows start: which of them
        `claim` still holds (marked posted: after a crash they may have reached the user).
        A row missing from the answer was put back by a recovery and is not to be sent."""
        ...
    async def mark_sent(self, message_id: int, now: datetime, channel_ref: str | None) -> None: ...
    async def mark_sent_many(self, sent: list[tuple[int, Delivery]], now: datetime) -> None:
        """Several (id, delivery) in one transaction: a batch sent side by side."""
        ...
    async def mark_retry(self, message_id: int, available_at: datetime, error: str,
                         claim: int) -> None:
        """Back to pending at `available_at` after a failure that may pass, if `claim` (the
        token of the claim that took the row) still holds it."""
        ...
    async def mark_failed(self, message_id: int, error: str) -> None: ...
    async def release_waiting(self, user: str, now: datetime) -> int: ...
    async def defer(self, message_id: int, available_at: datetime, claim: int) -> None:
        """Back to pending at `available_at`, the attempt not counted (a rate limit), if
        `claim` still holds the row."""
        ...
    async def recover_in_flight(self, claimed_before: datetime | None = None) -> InFlight:
        """After a crash: rows left 'sending' that no request had started for (no `posted_at`)
        go back to 'pending', in their place in the queue, and are sent again; those whose
        request may have reached the user are marked 'uncertain' and never sent again (a double
        message is worse than a rare gap). `claimed_before`: only rows claimed before then."""
        ...
    async def set_reachable(self, user: str, reachable: bool) -> None: ...
    async def record_peer_status(self, channel: str, ref: str, status: str, at: datetime,
                                 error: str | None) -> bool:
        """What the channel reported about a sent message (one of PEER_STATUSES), found by
        its channel ref; "failed" also fails the row. False when no row has that ref (yet)."""
        ...
    async def is_reachable(self, user: str) -> bool: ...
    async def delivery(self, message_id: int) -> dict[str, Any] | None:
        """How an outbox row went out, as the channel reported it (tests and admins)."""
        ...

    # What is kept about a person (the caseworker's view, the proof of an erasure).
    async def transcript(self, user: str) -> list[tuple[str, str, str]]: ...
    async def rows_about(self, user: str) -> dict[str, int]: ...

    # The scheduler's side.
    async def due_timers(self, now: datetime, limit: int) -> list[Timer]: ...
    async def next_due(self) -> datetime | None: ...

    # Housekeeping.
    async def inactive_users(self, before: datetime) -> list[str]: ...
    async def prune_inbound(self, before: datetime) -> int: ...
    async def pending_count(self) -> int: ...
    async def stats(self) -> dict[str, Any]: ...

