"""Which observations a turn yields, from its events and from how the session changed.

Only with consent, and never from what the person wrote: a problem recognised (the event), a
contact recorded on the support ladder or marked answered (the `contacts` slot), a new API end
date after an earlier one (its length, and the days without a valid document in between).
Pure, so it lives in the core: the store keeps these rows with the turn that yielded them, and
the observatory (bot/observatory/) only counts them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from bot.core.events import Event, ProblemRecognised
from bot.core.ladder.contacts import SLOT as CONTACTS
from bot.core.ladder.contacts import parse_contacts
from bot.core.model import Session

KINDS = ("problem", "contact", "answer", "api_renewed", "without_document")


@dataclass(frozen=True)
class Observation:
    kind: str
    on_day: date
    value: str = ""
    days: int | None = None
    status: str | None = None
    request: str | None = None
    departement: str | None = None


@dataclass(frozen=True)
class Context:
    """What every observation of a turn carries: the person's situation, when they gave it."""

    status: str | None
    request: str | None
    departement: str | None

    def make(self, kind: str, on_day: date, value: str = "", days: int | None = None
             ) -> Observation:
        return Observation(kind, on_day, value, days, self.status, self.request,
                           self.departement)


def observe(before: Session | None, after: Session, events: Iterable[Event], today: date
            ) -> list[Observation]:
    if after.consent is not True:
        return []
    slots = after.slots
    context = Context(slots.get("status"), slots.get("request"), slots.get("departement"))
    found = [context.make("problem", today, e.error)
             for e in events if isinstance(e, ProblemRecognised)]
    old_slots = before.slots if before is not None else {}
    found += _contacts(old_slots.get(CONTACTS), slots.get(CONTACTS), today, context)
    found += _api(old_slots.get("api_end"), slots.get("api_end"), today, context)
    return found


def _contacts(old_raw: str | None, new_raw: str | None, today: date,
              context: Context) -> list[Observation]:
    if old_raw == new_raw:
        return []
    old = {(r.contact.step, r.contact.on): r.contact.answered for r in parse_contacts(old_raw)}
    new = parse_contacts(new_raw)
    first: dict[str, date] = {}
    for r in new:
        first[r.contact.step] = min(first.get(r.contact.step, r.contact.on), r.contact.on)
    out = []
    for r in new:
        key = (r.contact.step, r.contact.on)
        if key not in old:
            out.append(context.make("contact", r.contact.on, r.contact.step))
        if r.contact.answered and not old.get(key, False):
            # Answered when recorded: on its own date; marked later: the day it was marked.
            answered_on = r.contact.on if key not in old else today
            days = max((answered_on - first[r.contact.step]).days, 0)
            out.append(context.make("answer", answered_on, r.contact.step, days))
    return out


def _api(old: str | None, new: str | None, today: date, context: Context
         ) -> list[Observation]:
    if old is None or new is None or old == new:
        return []
    old_end, new_end = date.fromisoformat(old), date.fromisoformat(new)
    if new_end <= old_end:  # a correction of the date, not a new API
        return []
    out = [context.make("api_renewed", today, "", (new_end - old_end).days)]
    if old_end < today:
        out.append(context.make("without_document", today, "", (today - old_end).days))
    return out
