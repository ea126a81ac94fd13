"""A person's key, "<channel>:<the channel's id for them>" ("telegram:123", "web:<token>"):
how it is made and read, in one place. The channels make keys; the storage keeps them whole
and, where it must pick one channel's rows, asks here which prefix they share.
"""

from __future__ import annotations

import hashlib

#: A notice naming every person a listener holds (the day's reminders went out; a listener
#: reconnected and may have missed some).
EVERYONE = "*"


def user_key(channel: str, address: str) -> str:
    return f"{channel}:{address}"


def split_user(user: str) -> tuple[str, str]:
    """(channel, address) of a user key."""
    channel, sep, address = user.partition(":")
    if not sep or not channel or not address:
        raise ValueError(f"not a user key: {user!r}")
    return channel, address


def channel_of(user: str) -> str:
    return split_user(user)[0]


def channel_prefix(channel: str) -> str:
    """What every key of this channel's people starts with (a channel's name is letters)."""
    return f"{channel}:"


def notice_key(user: str) -> str:
    """The name a notice between instances gives a person (bot/web/relay.py): a digest of
    their key, so that a notice never carries the key itself (a web chat token is the
    person's only credential) nor anything they said."""
    return hashlib.sha256(user.encode()).hexdigest()[:32]
