"""A clock for end-to-end tests: wall-clock time that a test can move forward by days.

Time keeps flowing (the sender's rate limits and retries see it pass), and a jump lets a test
reach a reminder's day, or the end of WhatsApp's 24-hour window, at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class ShiftedClock:
    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock needs a time zone")
        self._offset = start - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        self._offset += delta

    def move_to(self, moment: datetime) -> None:
        self.advance(max(moment - self.now(), timedelta(0)))
