"""The values texts may show: `{language}`, dates the user gave, days left, the card window.

For every date slot (`api_end`, `card_end`) a text may use `{api_end}` (the date as the user
should read it) and `{api_end_days}` (how many days from today, without sign: the text says
whether it is past). For the card: `{card_window_opens}` and `{card_window_closes}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from bot.core.dates.written import days_between, shift, show_date
from bot.core.flows.conditions import CARD_WINDOW_CLOSES, CARD_WINDOW_OPENS
from bot.core.flows.registry import TurnContext
from bot.core.i18n import NATIVE_NAMES
from bot.core.model import SOURCE_LOCALE

#: A language named inside a sentence of its own language: French writes it in lower case
#: ("Je vous écris en français"), unlike its button, which starts a line.
IN_SENTENCE = {**NATIVE_NAMES, "fr": "français"}

DATE_SLOTS = ("api_end", "card_end")

#: Afghans read counts in Persian digits (۱۰ روز). Dates keep their Latin digits: they are
#: compared with, and typed into, French documents.
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
COUNT_PARAMS = ("api_end_days", "card_end_days", "retention_months", "step", "steps")


def localise_counts(params: dict[str, str], locale: str | None) -> dict[str, str]:
    if locale not in ("fa_AF", "ps"):
        return params
    return {k: v.translate(_PERSIAN_DIGITS) if k in COUNT_PARAMS else v
            for k, v in params.items()}


def text_params(ctx: TurnContext, constants: dict[str, str]) -> dict[str, str]:
    known = {slot: v for slot in DATE_SLOTS if (v := ctx.known(slot)) is not None}
    return {**constants, **date_params(known, ctx.session.locale, ctx.local_date)}


def date_params(known: Mapping[str, str], locale: str | None, today: date) -> dict[str, str]:
    """The language's name, today, and for each known date slot the date and days left."""
    locale = locale or SOURCE_LOCALE
    params = {"language": IN_SENTENCE[locale], "today": show_date(today, locale)}
    for slot in DATE_SLOTS:
        value = known.get(slot)
        if value is None:
            continue
        end = date.fromisoformat(value)
        params[slot] = show_date(end, locale)
        params[f"{slot}_days"] = str(abs(days_between(today, end)))
        if slot == "card_end":
            params["card_window_opens"] = show_date(shift(end, -CARD_WINDOW_OPENS), locale)
            params["card_window_closes"] = show_date(shift(end, -CARD_WINDOW_CLOSES), locale)
    return params
