"""French public holidays (Easter and the days that follow it) and working days."""

from __future__ import annotations

from datetime import date

from bot.core.dates.holidays import add_working_days, easter, holidays, is_working_day

MON = date(2026, 3, 2)  # a Monday


def test_easter_and_holidays() -> None:
    assert easter(2026) == date(2026, 4, 5)
    assert easter(2027) == date(2027, 3, 28)
    assert {date(2026, 4, 6), date(2026, 5, 14), date(2026, 5, 25)} <= holidays(2026)
    assert not is_working_day(date(2026, 5, 1))  # Friday 1 May
    assert not is_working_day(date(2026, 3, 7))  # a Saturday


def test_working_days_skip_weekends_and_holidays() -> None:
    assert add_working_days(MON, 10) == date(2026, 3, 16)
    # Around Easter 2026: Good Friday is worked, Easter Monday is not.
    assert add_working_days(date(2026, 4, 2), 2) == date(2026, 4, 7)
    assert add_working_days(date(2026, 4, 30), 1) == date(2026, 5, 4)
