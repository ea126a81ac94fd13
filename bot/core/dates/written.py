"""Dates as users type them, and as they should read them.

Typed: 12/03/2026, 12.03.26, 12-3-2026 in Latin, Persian (۱۲/۰۳/۲۰۲۶) or Arabic-Indic digits;
ISO 2026-03-12; "12 mars 2026", "12 March 2026"; and Solar Hijri dates as Afghans write them
(1404/12/21, or "21 حوت 1404"). Shown: as on French documents (12/03/2026), and for Dari and
Pashto also as the Solar Hijri date with the Afghan month names (persiantools converts; it does
not know the Afghan names, hence the tables).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

from persiantools import jdatetime

from bot.core.text import ascii_digits, fold

# persiantools ships no type hints: one typed door to it.
JalaliDate = cast(Any, jdatetime).JalaliDate

#: Years a residence document's date can plausibly have. Anything else is a typo.
EARLIEST_YEAR = 2015
LATEST_YEARS_AHEAD = 11  # a carte de résident lasts 10 years

AFGHAN_MONTHS = {
    "fa_AF": ("حمل", "ثور", "جوزا", "سرطان", "اسد", "سنبله", "میزان", "عقرب", "قوس", "جدی",
              "دلو", "حوت"),
    "ps": ("وری", "غویی", "غبرګولی", "چنګاښ", "زمری", "وږی", "تله", "لړم", "لیندۍ", "مرغومی",
           "سلواغه", "کب"),
}
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")

_GREGORIAN_MONTHS = {
    # French, with and without accents, and common abbreviations
    "janvier": 1, "janv": 1, "fevrier": 2, "fevr": 2, "fev": 2, "mars": 3, "avril": 4,
    "avr": 4, "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "aout": 8, "septembre": 9,
    "sept": 9, "octobre": 10, "oct": 10, "novembre": 11, "nov": 11, "decembre": 12, "dec": 12,
    # English
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sep": 9, "october": 10, "november": 11, "december": 12,
}
_HIJRI_MONTHS = {fold(name): i for names in AFGHAN_MONTHS.values()
                 for i, name in enumerate(names, 1)}
# Iranian month names, which Afghans also meet (phones set to Persian).
_HIJRI_MONTHS.update({fold(n): i for i, n in enumerate(
    ("فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر", "دی",
     "بهمن", "اسفند"), 1)})

_NUMERIC = re.compile(r"^(\d{1,4})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{1,4})$")
_WORDS = re.compile(r"^(\d{1,2})(?:er)?\s+([^\d\s]+)\.?\s+(\d{4})$")


class DateProblem(enum.Enum):
    FORMAT = "format"  # not a date we can read
    IMPOSSIBLE = "impossible"  # 31/02/2026
    IMPLAUSIBLE = "implausible"  # year 1900, or 2090


@dataclass(frozen=True)
class DateParse:
    value: date | None
    problem: DateProblem | None = None


def _build(year: int, month: int, day: int, *, hijri: bool) -> DateParse:
    try:
        if hijri:
            return DateParse(JalaliDate(year, month, day).to_gregorian())
        return DateParse(date(year, month, day))
    except ValueError:
        return DateParse(None, DateProblem.IMPOSSIBLE)


def _read(text: str) -> DateParse:
    cleaned = fold(ascii_digits(text)).replace(",", " ").strip()
    cleaned = re.sub(r"\s+", " ", cleaned)
    numeric = _NUMERIC.match(cleaned)
    if numeric:
        a, b, c = (int(g) for g in numeric.groups())
        first_is_year = len(numeric.group(1)) == 4
        if first_is_year:  # ISO (2026-03-12) or Solar Hijri (1404/12/21)
            return _build(a, b, c, hijri=a < 1600)
        year = c + 2000 if len(numeric.group(3)) == 2 else c
        if len(numeric.group(3)) not in (2, 4):
            return DateParse(None, DateProblem.FORMAT)
        return _build(year, b, a, hijri=1300 <= year < 1600)
    words = _WORDS.match(cleaned)
    if words:
        day, name, year = int(words.group(1)), words.group(2), int(words.group(3))
        if name in _GREGORIAN_MONTHS:
            return _build(year, _GREGORIAN_MONTHS[name], day, hijri=False)
        if name in _HIJRI_MONTHS:
            return _build(year, _HIJRI_MONTHS[name], day, hijri=True)
    return DateParse(None, DateProblem.FORMAT)


def parse_date(text: str, today: date) -> DateParse:
    """Read a typed date; say why when it cannot be used."""
    parsed = _read(text)
    if parsed.value is None:
        return parsed
    if not EARLIEST_YEAR <= parsed.value.year <= today.year + LATEST_YEARS_AHEAD:
        return DateParse(None, DateProblem.IMPLAUSIBLE)
    return parsed


def french(day: date) -> str:
    """As printed on French documents: 12/03/2026 (Latin digits: it is typed into ANEF)."""
    return day.strftime("%d/%m/%Y")


def solar_hijri(day: date, locale: str) -> str:
    """21 حوت 1404, in Persian digits, with the Afghan month name of the locale."""
    jalali = JalaliDate(day)
    month = AFGHAN_MONTHS[locale][jalali.month - 1]
    return f"{jalali.day} {month} {jalali.year}".translate(_PERSIAN_DIGITS)


def show_date(day: date, locale: str | None) -> str:
    """How a date is shown to a user: the French form, plus the Solar Hijri one for Afghans."""
    if locale in AFGHAN_MONTHS:
        return f"{french(day)} ({solar_hijri(day, locale)})"
    return french(day)


def days_between(today: date, end: date) -> int:
    return (end - today).days


def shift(day: date, days: int) -> date:
    return day + timedelta(days=days)
