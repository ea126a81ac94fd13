"""When the association's caseworkers are at work, to tell a user when an answer can come.

Office hours are a setting (`OFFICE_HOURS`, e.g. "mon-fri 09:00-17:00"); French public holidays
are always closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from bot.core.dates.holidays import holidays

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class OfficeHours:
    days: frozenset[int] = field(default_factory=lambda: frozenset(range(5)))  # Monday = 0
    opens: time = time(9, 0)
    closes: time = time(17, 0)

    @classmethod
    def parse(cls, text: str) -> OfficeHours:
        """"mon-fri 09:00-17:00" or "mon,tue,thu 09:30-12:30"."""
        try:
            days_part, hours_part = text.split()
            if "-" in days_part and "," not in days_part:
                first, last = (DAYS.index(d) for d in days_part.lower().split("-"))
                days = frozenset(range(first, last + 1))
            else:
                days = frozenset(DAYS.index(d) for d in days_part.lower().split(","))
            opens, closes = (time.fromisoformat(h) for h in hours_part.split("-"))
        except ValueError as exc:
            raise ValueError(f"office hours {text!r}: expected like 'mon-fri 09:00-17:00'"
                             ) from exc
        if not days or opens >= closes:
            raise ValueError(f"office hours {text!r}: no day, or opening after closing")
        return cls(days, opens, closes)

    def _open_day(self, day: date) -> bool:
        return day.weekday() in self.days and day not in holidays(day.year)

    def is_open(self, moment: datetime, tz: tzinfo) -> bool:
        local = moment.astimezone(tz)
        return self._open_day(local.date()) and self.opens <= local.time() < self.closes

    def next_opening(self, moment: datetime, tz: tzinfo) -> datetime:
        """The next time the office opens after `moment` (in `tz`)."""
        local = moment.astimezone(tz)
        day = local.date() if local.time() < self.opens else local.date() + timedelta(days=1)
        for _ in range(60):  # holidays and weekends: never more than a few days
            if self._open_day(day):
                return datetime.combine(day, self.opens, tzinfo=tz)
            day += timedelta(days=1)
        raise ValueError("the office never opens in the next 60 days")
