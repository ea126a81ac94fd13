"""The association's office hours: open on its days and hours, closed on French public
holidays, and the next opening from any moment."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.core.dates.office import OfficeHours

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(("moment", "is_open", "opens"), [
    (datetime(2026, 3, 2, 10, 0, tzinfo=PARIS), True, datetime(2026, 3, 3, 9, 0, tzinfo=PARIS)),
    (datetime(2026, 3, 2, 8, 0, tzinfo=PARIS), False, datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)),
    (datetime(2026, 3, 6, 17, 0, tzinfo=PARIS), False, datetime(2026, 3, 9, 9, 0, tzinfo=PARIS)),
    # 1 May 2026 is a Friday and a public holiday: Monday 4 May.
    (datetime(2026, 4, 30, 18, 0, tzinfo=PARIS), False, datetime(2026, 5, 4, 9, 0, tzinfo=PARIS)),
])
def test_office_hours(moment: datetime, is_open: bool, opens: datetime) -> None:
    office = OfficeHours()
    assert office.is_open(moment, PARIS) is is_open
    assert office.next_opening(moment, PARIS) == opens


def test_office_hours_setting() -> None:
    office = OfficeHours.parse("mon,wed 09:30-12:30")
    assert office.days == frozenset({0, 2})
    assert office.opens == time(9, 30)
    assert office.next_opening(datetime(2026, 3, 2, 13, 0, tzinfo=PARIS), PARIS).date() == (
        date(2026, 3, 4))
    with pytest.raises(ValueError, match="expected like"):
        OfficeHours.parse("weekdays")
