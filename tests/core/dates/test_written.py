from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from persiantools.jdatetime import JalaliDate

from bot.core.dates.written import (
    AFGHAN_MONTHS,
    DateProblem,
    french,
    parse_date,
    show_date,
    solar_hijri,
)

TODAY = date(2026, 3, 2)
MARCH_12 = date(2026, 3, 12)


@pytest.mark.parametrize("typed", [
    "12/03/2026", "12.03.2026", "12-03-2026", "12/3/2026", "12/03/26", " 12 / 03 / 2026 ",
    "۱۲/۰۳/۲۰۲۶", "١٢/٠٣/٢٠٢٦", "2026-03-12", "12 mars 2026", "12 MARS 2026", "12 March 2026",
    "1404/12/21", "۱۴۰۴/۱۲/۲۱", "21/12/1404", "21 حوت 1404", "۲۱ حوت ۱۴۰۴", "21 کب 1404",
    "21 اسفند 1404",
])
def test_accepted_forms(typed: str) -> None:
    assert parse_date(typed, TODAY).value == MARCH_12


@pytest.mark.parametrize(("typed", "problem"), [
    ("31/02/2026", DateProblem.IMPOSSIBLE), ("12/13/2026", DateProblem.IMPOSSIBLE),
    ("1404/12/31", DateProblem.IMPOSSIBLE), ("12/03/1900", DateProblem.IMPLAUSIBLE),
    ("12/03/2090", DateProblem.IMPLAUSIBLE), ("demain", DateProblem.FORMAT),
    ("12/03", DateProblem.FORMAT), ("12/03/202", DateProblem.FORMAT), ("", DateProblem.FORMAT),
    ("0806001620", DateProblem.FORMAT),
])
def test_refused_forms_say_why(typed: str, problem: DateProblem) -> None:
    parsed = parse_date(typed, TODAY)
    assert parsed.value is None
    assert parsed.problem is problem


def test_formats() -> None:
    assert french(MARCH_12) == "12/03/2026"
    assert solar_hijri(MARCH_12, "fa_AF") == "۲۱ حوت ۱۴۰۴"
    assert solar_hijri(MARCH_12, "ps") == "۲۱ کب ۱۴۰۴"
    assert show_date(MARCH_12, "fa_AF") == "12/03/2026 (۲۱ حوت ۱۴۰۴)"
    assert show_date(MARCH_12, "ar") == "12/03/2026"
    assert solar_hijri(date(2025, 3, 21), "fa_AF") == "۱ حمل ۱۴۰۴"  # Nowruz


plausible = st.dates(min_value=date(2015, 1, 1), max_value=date(2037, 12, 31))


@given(plausible)
def test_french_form_round_trips(day: date) -> None:
    assert parse_date(french(day), TODAY).value == day


@given(plausible, st.sampled_from(["fa_AF", "ps"]))
def test_solar_hijri_form_round_trips(day: date, locale: str) -> None:
    assert parse_date(solar_hijri(day, locale), TODAY).value == day


@given(plausible, st.sampled_from(["/", ".", "-"]),
       st.sampled_from(["0123456789", "۰۱۲۳۴۵۶۷۸۹", "٠١٢٣٤٥٦٧٨٩"]))
def test_any_digits_any_separator(day: date, sep: str, digits: str) -> None:
    typed = f"{day.day:02d}{sep}{day.month:02d}{sep}{day.year}"
    typed = typed.translate(str.maketrans("0123456789", digits))
    assert parse_date(typed, TODAY).value == day


@given(plausible)
def test_numeric_solar_hijri_round_trips(day: date) -> None:
    j = JalaliDate(day)  # type: ignore[no-untyped-call]  # persiantools has no types
    assert parse_date(f"{j.year}/{j.month}/{j.day}", TODAY).value == day


@given(st.text(max_size=40))
def test_never_raises(text: str) -> None:
    parsed = parse_date(text, TODAY)
    assert (parsed.value is None) == (parsed.problem is not None)


def test_afghan_month_tables_have_twelve_names() -> None:
    assert all(len(names) == 12 == len(set(names)) for names in AFGHAN_MONTHS.values())
