"""The support ladder as rules: given what the person already did, the next step, from when it
is open, and from when a préfecture appointment (the substitute route) may be requested.

The order of the steps and what each requires come from the sources (flows/knowledge/
ladder.yaml). How long to wait for an answer is a design choice kept in the same file. An
API already expired or ending soon makes the next step open at once; it never lets the
appointment open before the support channels (the CCC and the préfecture) were tried.

Waiting is advised only when the API is known to end later: from its end date, or from what
the person said when they had no date at hand ("later" than the urgency threshold). When
nobody knows when the API ends, it may have expired last week: nothing waits (ANEF.md 7bis.5).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.core.dates.holidays import add_working_days
from bot.core.flows.definition import DefinitionError

APPOINTMENT = "appointment"
#: What the person may say about their API's end without giving the date: it has expired, it
#: ends within the urgency threshold, or later than that.
API_SAID = ("expired", "soon", "later")
#: Advice.api: the API is known to end after the threshold ("later"), is known to have
#: expired or to end within it ("urgent"), or nobody knows ("unknown").
API_LATER, API_URGENT, API_UNKNOWN = "later", "urgent", "unknown"


@dataclass(frozen=True)
class Step:
    id: str
    wait_working_days: int
    requires: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ladder:
    steps: tuple[Step, ...]
    urgent_within_days: int
    #: Where to begin, for a situation or a recognised problem, when nothing was tried yet
    #: (pairs, not a dict: the ladder is a cache key).
    starts: tuple[tuple[str, str], ...] = ()

    @property
    def order(self) -> list[str]:
        return [s.id for s in self.steps]

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)

    def start_for(self, *situations: str | None) -> str | None:
        """The step to begin with for the first of `situations` that has one."""
        starts = dict(self.starts)
        return next((starts[s] for s in situations if s in starts), None)


@dataclass(frozen=True)
class Contact:
    step: str
    on: date
    answered: bool = False


@dataclass(frozen=True)
class Advice:
    next: str | None  # None: every step was tried
    open_from: date | None
    urgent: bool
    appointment_open_from: date | None
    reason: str
    api: str = API_LATER  # API_LATER, API_URGENT or API_UNKNOWN

    @property
    def may_wait(self) -> bool:
        """Whether any advice may say "wait": only when the API is known to end later."""
        return self.api == API_LATER

    def as_json(self) -> dict[str, Any]:
        return {"next": self.next,
                "open_from": self.open_from.isoformat() if self.open_from else None,
                "urgent": self.urgent,
                "api": self.api,
                "appointment_open_from": self.appointment_open_from.isoformat()
                if self.appointment_open_from else None,
                "reason": self.reason}


def parse_ladder(document: Any) -> Ladder:
    if not isinstance(document, Mapping) or document.get("version") != 1:
        raise DefinitionError(["knowledge/ladder.yaml: expected a mapping with `version: 1`"])
    steps = []
    for raw in document.get("steps") or []:
        steps.append(Step(str(raw["id"]), int(raw.get("wait_working_days", 0)),
                          tuple(str(r) for r in raw.get("requires") or ()),
                          tuple(str(s) for s in raw.get("sources") or ())))
    ids = [s.id for s in steps]
    problems = [f"knowledge/ladder.yaml: {s.id} requires unknown {r}"
                for s in steps for r in s.requires if r not in ids[:ids.index(s.id)]]
    starts = {str(k): str(v) for k, v in (document.get("starts") or {}).items()}
    problems += [f"knowledge/ladder.yaml: starts.{k} is not a step ({v})"
                 for k, v in starts.items() if v not in ids]
    if problems:
        raise DefinitionError(problems)
    return Ladder(tuple(steps), int(document.get("urgent_within_days", 15)),
                  tuple(starts.items()))


def _latest(contacts: Iterable[Contact]) -> dict[str, Contact]:
    latest: dict[str, Contact] = {}
    for contact in sorted(contacts, key=lambda c: c.on):
        latest[contact.step] = contact
    return latest


def _opens(ladder: Ladder, contact: Contact, urgent: bool) -> date:
    """When the step after `contact` opens: at once if they answered or it is urgent, else
    after the step's waiting time in working days."""
    if contact.answered or urgent:
        return contact.on
    return add_working_days(contact.on, ladder.step(contact.step).wait_working_days)


def api_standing(ladder: Ladder, today: date, api_end: date | None, api_said: str | None
                 ) -> str:
    """API_LATER, API_URGENT or API_UNKNOWN: the end date when there is one, else what the
    person said (`API_SAID`), else unknown."""
    if api_end is not None:
        return API_URGENT if (api_end - today).days <= ladder.urgent_within_days else API_LATER
    if api_said in ("expired", "soon"):
        return API_URGENT
    return API_LATER if api_said == "later" else API_UNKNOWN


def advise(ladder: Ladder, contacts: Iterable[Contact], today: date,
           api_end: date | None = None, api_said: str | None = None,
           start: str | None = None) -> Advice:
    """The next step. `api_said` is what the person said of their API when they gave no end
    date (`API_SAID`); `start` the step to begin with when nothing was tried yet (a step the
    situation makes pointless to try first, such as the personal space for a stateless
    person's first card, is skipped)."""
    latest = _latest(c for c in contacts if c.step in ladder.order)
    api = api_standing(ladder, today, api_end, api_said)
    # Unknown is treated as urgent: an API that may have expired leaves no time to wait.
    urgent = api != API_LATER
    appointment = _appointment(ladder, latest, urgent)
    if not latest:
        first = start if start in ladder.order else ladder.steps[0].id
        return Advice(first, today, urgent, appointment, "no contact recorded yet", api)
    furthest = max(latest.values(), key=lambda c: ladder.order.index(c.step))
    # Contacts may be recorded out of order: nothing opens before the last one.
    last_contact = max(c.on for c in latest.values())
    position = ladder.order.index(furthest.step)
    if position == len(ladder.steps) - 1:
        return Advice(None, None, urgent, appointment, "every step was tried", api)
    following = ladder.steps[position + 1]
    missing = [r for r in following.requires if r not in latest]
    if missing:  # a step that needs an earlier one: that one comes first, open now
        return Advice(missing[0], max(today, last_contact), urgent, appointment,
                      f"{following.id} needs {missing[0]} tried first", api)
    opens = max(_opens(ladder, furthest, urgent), last_contact)
    why = ("they answered" if furthest.answered
           else "the API's end date is unknown: no step waits" if api == API_UNKNOWN
           else "urgent: the API has expired or ends soon" if urgent
           else f"{ladder.step(furthest.step).wait_working_days} working days without an answer")
    return Advice(following.id, opens, urgent, appointment, why, api)


def _appointment(ladder: Ladder, latest: Mapping[str, Contact], urgent: bool) -> date | None:
    """From when the substitute-route appointment may be requested: never before the support
    channels it requires were tried, and after their waiting times unless urgent."""
    step = ladder.step(APPOINTMENT) if APPOINTMENT in ladder.order else None
    if step is None or any(r not in latest for r in step.requires):
        return None
    return max(_opens(ladder, latest[r], urgent) for r in step.requires)
