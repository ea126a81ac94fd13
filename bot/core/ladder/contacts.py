"""The support ladder in the conversation: the contacts the user records, the advice they get,
the ready-to-copy French message, and the follow-up on the day the next step opens.

What the user did is kept (with consent) in the `contacts` slot, oldest first, as JSON rows
`[step, ISO date, answered, reference]`. A contact being recorded lives in `scratch` until
its last question is answered. The rules themselves are in bot.core.ladder.

Before any advice to wait, the ladder knows when the API ends: its end date (`api_end`), or
what the person said without the date (`api_said`: "expired", "soon" or "later", with the day
they said it). "Later" is trusted only on the day it was said; "expired" and "soon" only grow
more urgent, so they stay. Without consent, like every answer, it serves the turn alone.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.core.dates.written import show_date
from bot.core.events import RemindersCancelled, ReminderScheduled
from bot.core.flows.inputs import a_date
from bot.core.flows.registry import REGISTRY, ReminderRequest, TurnContext
from bot.core.ladder.departements import Departement, Departements
from bot.core.ladder.letters import LetterFacts, Letters
from bot.core.ladder.rules import API_SAID, API_UNKNOWN, API_URGENT, Advice, Contact, Ladder, advise
from bot.core.model import Session
from bot.core.reminders import FOLLOWUP_BUTTONS, FOLLOWUP_TEXTS, LADDER_FOLLOWUP
from bot.core.text import ascii_digits

SLOT = "contacts"
API_SAID_SLOT = "api_said"  # "later 2026-03-02": what was said of the API's end, and when
STATELESS_FIRST_CARD = "stateless_first_card"  # a situation in knowledge/ladder.yaml `starts`
TOPIC = "ladder"  # the follow-up timers: a new contact replaces the pending one
#: Enough for any real case; the oldest rows go first if someone keeps tapping.
MAX_CONTACTS = 40
MAX_REFERENCE = 40
FOREIGN_NUMBER_DIGITS = (8, 12)  # a wide range: the exact length is UNCERTAIN


@dataclass(frozen=True)
class Support:
    """The knowledge the ladder's conversation needs, loaded once by bot.content."""

    ladder: Ladder
    letters: Letters
    departements: Departements


@dataclass(frozen=True)
class Recorded:
    contact: Contact
    reference: str = ""


# -- the contacts slot -------------------------------------------------------------------------

def parse_contacts(raw: str | None) -> list[Recorded]:
    """The `contacts` slot's rows, oldest first."""
    if not raw:
        return []
    return [Recorded(Contact(step, date.fromisoformat(day), bool(answered)), reference)
            for step, day, answered, reference in json.loads(raw)]


def recorded(ctx: TurnContext) -> list[Recorded]:
    return parse_contacts(ctx.known(SLOT))


@functools.lru_cache(maxsize=1024)
def advice_for(ladder: Ladder, contacts: str | None, today: date, api_end: str | None,
               api_said: str | None = None, start: str | None = None) -> Advice:
    """The ladder's advice from the slots as kept. Cached: a state's texts and buttons ask
    for it a dozen times in one turn, always with the same slots."""
    return advise(ladder, [r.contact for r in parse_contacts(contacts)], today,
                  date.fromisoformat(api_end) if api_end else None,
                  said_today(api_said, today), start)


def said_today(raw: str | None, today: date) -> str | None:
    """What the `api_said` slot still tells today: "later" only on the day it was said."""
    if not raw:
        return None
    said, _, day = raw.partition(" ")
    if said not in API_SAID or (said == "later" and day != today.isoformat()):
        return None
    return said


def _keep(ctx: TurnContext, rows: list[Recorded]) -> None:
    rows = sorted(rows, key=lambda r: r.contact.on)[-MAX_CONTACTS:]
    value = json.dumps([[r.contact.step, r.contact.on.isoformat(), int(r.contact.answered),
                         r.reference] for r in rows], ensure_ascii=False)
    ctx.values[SLOT] = value
    if ctx.session.consent is True:
        ctx.session = ctx.session.with_slot(SLOT, value)


def advice(ctx: TurnContext) -> Advice:
    ladder = _support(ctx).ladder
    return advice_for(ladder, ctx.known(SLOT), ctx.local_date, ctx.known("api_end"),
                      ctx.known(API_SAID_SLOT),
                      ladder.start_for(_situation(ctx), ctx.session.scratch.get("diagnosis")))


def session_advice(ladder: Ladder, session: Session, today: date) -> Advice:
    """The same advice from a kept session alone (the caseworker's summary): what the person
    said of their API and their situation count there too."""
    slots = session.slots
    start = ladder.start_for(situation(slots.get("request"), slots.get("status")),
                             session.scratch.get("diagnosis"))
    return advice_for(ladder, slots.get(SLOT), today, slots.get("api_end"),
                      slots.get(API_SAID_SLOT), start)


def situation(request: str | None, status: str | None) -> str | None:
    """A situation of knowledge/ladder.yaml `starts`, from the request and the status."""
    return STATELESS_FIRST_CARD if (request, status) == ("first", "stateless") else None


def _situation(ctx: TurnContext) -> str | None:
    return situation(ctx.known("request"), ctx.known("status"))


def _support(ctx: TurnContext) -> Support:
    if not isinstance(ctx.support, Support):
        raise LookupError("the support ladder's knowledge is not loaded")
    return ctx.support


# -- what the texts may show -------------------------------------------------------------------

#: The parameters ladder texts may use; the engine computes them only for texts that do.
PARAMS = frozenset({"next_step", "open_from", "appointment_from", "history", "letter",
                    "prefecture", "prefecture_email", "prefecture_website", "contact_step",
                    "contact_date", "open_sentence", "appointment_sentence"})


def params(ctx: TurnContext, name: Callable[[str, Mapping[str, str]], str],
           problem_fr: str | None = None) -> dict[str, str]:
    """`name(key, params)` renders a named text in the user's language; `problem_fr` is the
    recognised problem's title in French, for the letter."""
    support, locale = _support(ctx), ctx.session.locale
    found = advice(ctx)
    out: dict[str, str] = {}
    if found.next is not None:
        out["next_step"] = name(f"ladder.step_{found.next}", {})
    if found.open_from is not None:
        out["open_from"] = show_date(found.open_from, locale)
    if found.appointment_open_from is not None:
        out["appointment_from"] = show_date(found.appointment_open_from, locale)
    out["open_sentence"] = name(_open_key(ctx, found), out)
    out["appointment_sentence"] = name(
        "ladder.appointment_from" if found.appointment_open_from else "ladder.appointment_later",
        out)
    rows = recorded(ctx)
    lines = []
    for row in rows:
        values = {"date": show_date(row.contact.on, locale),
                  "step": name(f"ladder.step_{row.contact.step}", {}),
                  "outcome": name("ladder.outcome_answered" if row.contact.answered
                                  else "ladder.outcome_unanswered", {}),
                  "reference": row.reference}
        lines.append(name("ladder.history_line_ref" if row.reference else "ladder.history_line",
                          values))
    out["history"] = "\n".join(lines)
    if found.next is not None and support.letters.written(found.next):
        out["letter"] = support.letters.write(found.next, _facts(ctx, rows, problem_fr))
    departement = _departement(ctx)
    if departement is not None:
        out["prefecture"] = departement.label
        out["prefecture_email"] = departement.email or ""
        out["prefecture_website"] = departement.website or ""
    step = ctx.session.scratch.get("contact_step")
    if step:
        out["contact_step"] = name(f"ladder.step_{step}", {})
    day = ctx.session.scratch.get("contact_date")
    if day:
        out["contact_date"] = show_date(date.fromisoformat(day), locale)
    return out


def _open_key(ctx: TurnContext, found: Advice) -> str:
    if not found.may_wait or found.open_from is None or found.open_from <= ctx.local_date:
        return "ladder.open_now"
    if ctx.session.consent is True and ctx.session.reminders:
        return "ladder.open_later_followup"
    return "ladder.open_later"


def _departement(ctx: TurnContext) -> Departement | None:
    code = ctx.known("departement")
    return _support(ctx).departements.by_code.get(code) if code else None


def _facts(ctx: TurnContext, rows: list[Recorded], problem: str | None) -> LetterFacts:
    support = _support(ctx)
    api_end = ctx.known("api_end")
    departement = _departement(ctx)
    return LetterFacts(
        today=ctx.local_date, api_end=date.fromisoformat(api_end) if api_end else None,
        request=ctx.known("request"), status=ctx.known("status"),
        api_said=said_today(ctx.known(API_SAID_SLOT), ctx.local_date),
        problem_id=ctx.session.scratch.get("diagnosis") or None,
        foreign_number=ctx.known("foreign_number"),
        departement=departement.label if departement else None, problem=problem,
        contacts=[r.contact for r in rows if r.contact.step in support.ladder.order],
        references={(r.contact.step, r.contact.on.isoformat()): r.reference
                    for r in rows if r.reference})


# -- conditions --------------------------------------------------------------------------------

@REGISTRY.condition("ladder_next")
def ladder_next(ctx: TurnContext, step: str | None) -> bool:
    return advice(ctx).next == step


@REGISTRY.condition("ladder_done")
def ladder_done(ctx: TurnContext, _: str | None) -> bool:
    return advice(ctx).next is None


@REGISTRY.condition("ladder_urgent")
def ladder_urgent(ctx: TurnContext, _: str | None) -> bool:
    return advice(ctx).urgent


@REGISTRY.condition("letter_now")
def letter_now(ctx: TurnContext, step: str | None) -> bool:
    """The next step (`step`, if given) is written and open today: its message is shown at
    once."""
    found = advice(ctx)
    return (found.next is not None and _support(ctx).letters.written(found.next)
            and step in (None, found.next)
            and found.open_from is not None and found.open_from <= ctx.local_date)


@REGISTRY.condition("offer_number")
def offer_number(ctx: TurnContext, _: str | None) -> bool:
    """The message to copy may carry the numéro étranger, if the user wants (never asked
    before a message needs it, and kept only with consent)."""
    found = advice(ctx)
    return (ctx.session.consent is True and ctx.known("foreign_number") is None
            and found.next is not None and _support(ctx).letters.written(found.next))


@REGISTRY.condition("letter_later")
def letter_later(ctx: TurnContext, _: str | None) -> bool:
    found = advice(ctx)
    return (found.next is not None and _support(ctx).letters.written(found.next)
            and not letter_now(ctx, None))


@REGISTRY.condition("has_contacts")
def has_contacts(ctx: TurnContext, _: str | None) -> bool:
    return bool(recorded(ctx))


@REGISTRY.condition("no_contacts")
def no_contacts(ctx: TurnContext, _: str | None) -> bool:
    return not recorded(ctx)


@REGISTRY.condition("needs_api")
def needs_api(ctx: TurnContext, _: str | None) -> bool:
    """Nothing tells when the API ends: ask before any advice (one tap, or the date)."""
    return advice(ctx).api == API_UNKNOWN


@REGISTRY.condition("ladder_api")
def ladder_api(ctx: TurnContext, standing: str | None) -> bool:
    """`ladder_api unknown`, `ladder_api urgent` or `ladder_api later`."""
    return advice(ctx).api == standing


@REGISTRY.condition("ladder_person")
def ladder_person(ctx: TurnContext, _: str | None) -> bool:
    """Offer a person of the association: urgent or unknown API, or a stateless person's
    first card (the préfecture route, with no article to cite)."""
    return advice(ctx).api in (API_URGENT, API_UNKNOWN) or _situation(ctx) is not None


@REGISTRY.condition("stateless_first_card")
def stateless_first_card(ctx: TurnContext, _: str | None) -> bool:
    return _situation(ctx) == STATELESS_FIRST_CARD


@REGISTRY.condition("needs_request")
def needs_request(ctx: TurnContext, _: str | None) -> bool:
    """The article a message cites depends on the request: ask once."""
    return ctx.known("request") is None


@REGISTRY.condition("needs_status")
def needs_status(ctx: TurnContext, _: str | None) -> bool:
    """For a first card the status decides the article (or none, for a stateless person)."""
    return ctx.known("request") == "first" and ctx.known("status") is None


@REGISTRY.condition("prefecture_email")
def prefecture_email(ctx: TurnContext, _: str | None) -> bool:
    departement = _departement(ctx)
    return departement is not None and departement.email is not None


@REGISTRY.condition("prefecture_website")
def prefecture_website(ctx: TurnContext, _: str | None) -> bool:
    departement = _departement(ctx)
    return departement is not None and departement.website is not None


@REGISTRY.condition("prefecture_unchecked")
def prefecture_unchecked(ctx: TurnContext, _: str | None) -> bool:
    departement = _departement(ctx)
    return departement is not None and not departement.sources


# -- inputs ------------------------------------------------------------------------------------

@REGISTRY.input("contact_date")
def contact_date(ctx: TurnContext, text: str, _: str | None) -> str | None:
    """When the contact happened: a date (as the `date` parser reads it), today at the
    latest."""
    value = a_date(ctx, text, None)
    if value is None:
        return None
    if date.fromisoformat(value) > ctx.local_date:
        ctx.input_problem = "future"
        return None
    ctx.session = ctx.session.with_scratch(contact_date=value)
    return value


@REGISTRY.input("reference")
def reference(ctx: TurnContext, text: str, _: str | None) -> str | None:
    """A reference or ticket number as the administration gave it: short, one line."""
    value = " ".join(ascii_digits(text).split())
    if not value or len(value) > MAX_REFERENCE or not any(ch.isalnum() for ch in value):
        return None
    ctx.session = ctx.session.with_scratch(contact_ref=value)
    return value


@REGISTRY.input("foreign_number")
def foreign_number(ctx: TurnContext, text: str, _: str | None) -> str | None:
    """The numéro étranger: its length is UNCERTAIN (ANEF.md §2.2: sources say 10, or 9 or
    10), so 8 to 12 digits are accepted and no text claims a length."""
    digits = "".join(ch for ch in ascii_digits(text) if not ch.isspace())
    ok = digits.isdigit() and digits.isascii() and FOREIGN_NUMBER_DIGITS[0] <= len(digits) \
        <= FOREIGN_NUMBER_DIGITS[1]
    return digits if ok else None


@REGISTRY.input("departement")
def departement(ctx: TurnContext, text: str, _: str | None) -> str | None:
    found = _support(ctx).departements.find(text)
    return found.code if found else None


# -- actions -----------------------------------------------------------------------------------

@REGISTRY.action("api_said", arg=True)
def api_said(ctx: TurnContext, said: str | None) -> None:
    """A button answered when the API ends (`API_SAID`); kept with consent only, with the
    day it was said."""
    if said not in API_SAID:
        raise ValueError(f"unknown answer about the API {said!r}")
    value = f"{said} {ctx.local_date.isoformat()}"
    ctx.values[API_SAID_SLOT] = value
    if ctx.session.consent is True:
        ctx.session = ctx.session.with_slot(API_SAID_SLOT, value)


@REGISTRY.action("draft_contact", arg=True)
def draft_contact(ctx: TurnContext, step: str | None) -> None:
    if step not in _support(ctx).ladder.order:
        raise ValueError(f"unknown ladder step {step!r}")
    ctx.session = ctx.session.with_scratch(contact_step=step, contact_date="", contact_ref="",
                                           contact_answered="")


@REGISTRY.action("draft_date", arg=True)
def draft_date(ctx: TurnContext, days_ago: str | None) -> None:
    day = ctx.local_date - timedelta(days=int(days_ago or 0))
    ctx.session = ctx.session.with_scratch(contact_date=day.isoformat())


@REGISTRY.action("draft_answered", arg=True)
def draft_answered(ctx: TurnContext, answered: str | None) -> None:
    ctx.session = ctx.session.with_scratch(contact_answered="1" if answered == "yes" else "")


@REGISTRY.action("record_contact")
def record_contact(ctx: TurnContext, _: str | None) -> None:
    """Add the drafted contact, then plan the follow-up for the day the next step opens."""
    scratch = ctx.session.scratch
    step, day = scratch.get("contact_step"), scratch.get("contact_date")
    if not step or not day:
        raise ValueError("no contact being recorded")
    contact = Contact(step, date.fromisoformat(day), scratch.get("contact_answered") == "1")
    rows = [r for r in recorded(ctx)
            if (r.contact.step, r.contact.on) != (contact.step, contact.on)]
    _keep(ctx, [*rows, Recorded(contact, scratch.get("contact_ref", ""))])
    _plan_followup(ctx, contact)


@REGISTRY.action("mark_answered")
def mark_answered(ctx: TurnContext, _: str | None) -> None:
    """"They answered" under a follow-up: the latest unanswered contact was answered."""
    rows = recorded(ctx)
    pending = [i for i, r in enumerate(rows) if not r.contact.answered]
    if not pending:
        return
    i = pending[-1]
    answered = Contact(rows[i].contact.step, rows[i].contact.on, answered=True)
    rows[i] = Recorded(answered, rows[i].reference)
    _keep(ctx, rows)
    ctx.emit(RemindersCancelled(topic=TOPIC))


@REGISTRY.action("ladder_solved")
def ladder_solved(ctx: TurnContext, _: str | None) -> None:
    """The problem is solved: nothing more to chase."""
    ctx.emit(RemindersCancelled(topic=TOPIC))


def _plan_followup(ctx: TurnContext, contact: Contact) -> None:
    ctx.emit(RemindersCancelled(topic=TOPIC))
    if ctx.session.consent is not True or contact.answered or contact.step not in FOLLOWUP_TEXTS:
        return
    found = advice(ctx)
    if found.open_from is None or found.open_from <= ctx.local_date:
        return  # the next step is open now: nothing to wait for
    policy = ctx.reminder_policy
    due = policy.deliverable(datetime.combine(found.open_from, policy.hour, tzinfo=ctx.tz),
                             ctx.tz)
    ctx.emit(ReminderScheduled(name=LADDER_FOLLOWUP, due_at=due, topic=TOPIC,
                               payload=(("step", contact.step), ("date", contact.on.isoformat()))))


# -- the follow-up -----------------------------------------------------------------------------

@REGISTRY.timer(LADDER_FOLLOWUP)
def followup(ctx: TurnContext, payload: Mapping[str, str]) -> None:
    """"Did the CCC answer?", unless the user already said so or recorded a later contact."""
    if ctx.session.consent is not True:
        return
    step, day = payload.get("step", ""), payload.get("date", "")
    rows = recorded(ctx)
    latest = rows[-1] if rows else None
    if latest is None or (latest.contact.step, latest.contact.on.isoformat()) != (step, day):
        return
    if latest.contact.answered or step not in FOLLOWUP_TEXTS:
        return
    shown = show_date(latest.contact.on, ctx.session.locale)
    ctx.reminders_out.append(ReminderRequest(
        key=FOLLOWUP_TEXTS[step], params={"contact_date": shown}, buttons=FOLLOWUP_BUTTONS,
        template=f"{TOPIC}:{step}", template_params=(shown,)))
