"""The sessions of the users who wrote lately, kept in memory as last committed.

A turn then starts without a trip to the database thread. The cache is only a shortcut: the
session's version is still checked at the commit, and a turn that finds it changed (another
process wrote it) is rolled back, forgets the cached copy and runs again on the stored one.
A user who erases their data is forgotten here at the same commit.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from bot.core.model import Session


class SessionCache:
    def __init__(self, limit: int = 5000) -> None:
        self.limit = limit
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    def get(self, user: str) -> Session | None:
        session = self._sessions.get(user)
        if session is not None:
            self._sessions.move_to_end(user)
        return session

    def committed(self, saved: Iterable[Session], erased: Iterable[str]) -> None:
        """What a transaction wrote, once its COMMIT has returned."""
        for session in saved:
            self._sessions[session.user] = session
            self._sessions.move_to_end(session.user)
        for user in erased:
            self._sessions.pop(user, None)
        while len(self._sessions) > self.limit:  # the least recently seen go first
            self._sessions.popitem(last=False)

    def forget(self, users: Iterable[str]) -> None:
        for user in users:
            self._sessions.pop(user, None)
