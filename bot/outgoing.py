"""A message on its way out, as channels see it: neither storage's row nor the core's event.

Channels deliver what the outbox holds, but they need not know how it is stored: they read an
`Outgoing` (the outbox's `OutboxMessage` is one) and answer with a `Delivery`. Storage and the
sender use the same two names, so neither layer imports the other's internals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.core.model import Choice, MessageKind


class Outgoing(Protocol):
    """What a channel may read of a message it is asked to deliver."""

    @property
    def id(self) -> int: ...
    @property
    def user(self) -> str: ...  # "<channel>:<the channel's id for the person>"
    @property
    def kind(self) -> MessageKind: ...
    @property
    def locale(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def choices(self) -> tuple[Choice, ...]: ...
    @property
    def created_at(self) -> datetime: ...
    #: A reminder's approved template and its values: sent instead of free text by a
    #: channel that may not send free text at this moment (WhatsApp after 24 hours).
    @property
    def template(self) -> str: ...
    @property
    def template_params(self) -> tuple[str, ...]: ...
    #: When the person last wrote: WhatsApp allows free text only within 24 hours of it.
    @property
    def last_inbound_at(self) -> datetime | None: ...
    #: The person's second language, the fallback when theirs has no approved template.
    @property
    def second_locale(self) -> str | None: ...
    #: A document sent with the text: the token the sender renders as a PDF.
    @property
    def document(self) -> str: ...


@dataclass(frozen=True)
class Delivery:
    """What a channel says about a message it handed over: its id for it (WhatsApp status
    callbacks name the message by it), and how it went when not as plain free text."""

    ref: str | None = None
    sent_as: str | None = None  # e.g. "template:relais_api_end_30:prs_AF"
    fallback_from: str | None = None  # the locale that had no approved template


#: Peer statuses in the order a message goes through them; a late callback never moves a
#: row back (WhatsApp may report "read" before "delivered").
PEER_STATUSES = ("sent", "delivered", "read", "failed")
