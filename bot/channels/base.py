"""What the sender needs from a channel, and how a channel says a delivery went wrong."""

from __future__ import annotations

from typing import Protocol

from bot.core.exceptions import RelaisError
from bot.outgoing import Delivery, Outgoing
from bot.user_keys import split_user as split_user  # the channels read keys through here


class DeliveryError(RelaisError):
    """The root of delivery failures."""


class TemporaryFailure(DeliveryError):
    """Try again later (rate limit, 5xx, network). `retry_after` in seconds, if the peer said."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class NotConnected(DeliveryError):
    """The user has no open connection (web chat): the message waits for them, however long,
    and goes out when they come back. Not a failure: no attempt is counted."""


class PermanentFailure(DeliveryError):
    """This message will never go through (malformed, too long for the peer...)."""


class RecipientBlocked(PermanentFailure):
    """The user blocked the assistant or left: stop sending them anything."""


class Channel(Protocol):
    name: str

    async def send(self, message: Outgoing) -> str | Delivery | None:
        """Deliver one message; return the channel's id for it, if any, or a `Delivery` when
        there is more to record (a WhatsApp template instead of free text)."""
        ...
