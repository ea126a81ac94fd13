"""Actions that flow files may name in `do:` and `enter:`."""

from __future__ import annotations

import json
from datetime import date

from bot.core.events import (
    ConsentRecorded,
    DocumentRequested,
    HandoffRequested,
    LocaleChanged,
    ProblemRecognised,
    RemindersCancelled,
    RemindersChanged,
    UserErased,
)
from bot.core.exceptions import RelaisError
from bot.core.flows.registry import REGISTRY, TurnContext
from bot.core.model import LOCALES
from bot.core.reminders import plan


class ActionError(RelaisError, ValueError):
    pass


MAX_PROBLEMS = 10  # the latest problems recognised, for the caseworker's summary


@REGISTRY.action("set_locale", arg=True)
def set_locale(ctx: TurnContext, locale: str | None) -> None:
    if locale not in LOCALES:
        raise ActionError(f"unknown locale {locale!r}")
    if ctx.session.locale != locale:
        ctx.session = ctx.session.evolve(locale=locale)
        ctx.emit(LocaleChanged(locale))


@REGISTRY.action("use_guessed_locale")
def use_guessed_locale(ctx: TurnContext, _: str | None) -> None:
    if ctx.guessed_locale is not None:
        set_locale(ctx, ctx.guessed_locale)


@REGISTRY.action("give_consent")
def give_consent(ctx: TurnContext, _: str | None) -> None:
    ctx.session = ctx.session.evolve(consent=True)
    ctx.emit(ConsentRecorded(given=True))


@REGISTRY.action("decline_consent")
def decline_consent(ctx: TurnContext, _: str | None) -> None:
    # Declining also forgets what consent had allowed us to keep.
    ctx.session = ctx.session.evolve(consent=False, slots={})
    ctx.emit(ConsentRecorded(given=False))
    ctx.emit(RemindersCancelled(topic=None))


@REGISTRY.action("agree_share")
def agree_share(ctx: TurnContext, _: str | None) -> None:
    ctx.session = ctx.session.evolve(share=True)


@REGISTRY.action("decline_share")
def decline_share(ctx: TurnContext, _: str | None) -> None:
    ctx.session = ctx.session.evolve(share=False)


@REGISTRY.action("request_caseworker")
def request_caseworker(ctx: TurnContext, reason: str | None) -> None:
    """Open a case (or bring the open one up to date) with a French summary. Only after the
    user agreed to share the conversation."""
    if ctx.session.share is not True:
        raise ActionError("a case opens only after the user agreed to share")
    reason = reason or "user_request"
    summary = ctx.summarise(reason) if ctx.summarise is not None else ""
    ctx.session = ctx.session.evolve(case_open=True)
    ctx.emit(HandoffRequested(reason=reason, summary=summary,
                              api_end=ctx.session.slots.get("api_end"),
                              locale=ctx.session.locale or ""))


@REGISTRY.action("stop_reminders")
def stop_reminders(ctx: TurnContext, _: str | None) -> None:
    ctx.session = ctx.session.evolve(reminders=False)
    ctx.emit(RemindersChanged(enabled=False))


@REGISTRY.action("start_reminders")
def start_reminders(ctx: TurnContext, _: str | None) -> None:
    ctx.session = ctx.session.evolve(reminders=True)
    ctx.emit(RemindersChanged(enabled=True))


@REGISTRY.action("erase_user")
def erase_user(ctx: TurnContext, _: str | None) -> None:
    ctx.emit(UserErased())
    ctx.ended = True


#: What `remember` may keep, and the values each slot accepts.
REMEMBERED = {"status": {"refugee", "subsidiary", "stateless", "unknown"},
              # Which application the API belongs to: it decides the article a letter cites.
              "request": {"first", "renewal", "unknown"}}


@REGISTRY.action("remember", arg=True)
def remember(ctx: TurnContext, arg: str | None) -> None:
    """`remember status refugee`: keep an answer given by a button (with consent only)."""
    slot, _, value = (arg or "").partition(" ")
    if value not in REMEMBERED.get(slot, set()):
        raise ActionError(f"cannot remember {arg!r}")
    ctx.values[slot] = value
    if ctx.session.consent is True:
        ctx.session = ctx.session.with_slot(slot, value)


@REGISTRY.action("diagnose", arg=True)
def diagnose(ctx: TurnContext, problem: str | None) -> None:
    """The user is shown the advice for `problem`: remember it for the caseworker's summary."""
    assert problem is not None
    ctx.session = ctx.session.with_scratch(diagnosis=problem)
    ctx.emit(ProblemRecognised(problem))
    if ctx.session.consent is True:  # kept for the caseworker's summary, with the date
        problems = json.loads(ctx.session.slots.get("problems", "[]"))
        problems = [p for p in problems if p[0] != problem][-(MAX_PROBLEMS - 1):]
        problems.append([problem, ctx.local_date.isoformat()])
        ctx.session = ctx.session.with_slot("problems", json.dumps(problems))


@REGISTRY.action("schedule_reminders", arg=True)
def schedule_reminders(ctx: TurnContext, slot: str | None) -> None:
    """After an end date was given: replace the pending reminders for it with new ones.
    Only a date the user let us keep can be reminded."""
    assert slot is not None
    value = ctx.session.slots.get(slot)
    if ctx.session.consent is not True or value is None:
        return
    ctx.emit(RemindersCancelled(topic=slot))
    for reminder in plan(slot, date.fromisoformat(value), ctx.now, ctx.tz, ctx.reminder_policy):
        ctx.emit(reminder)


# -- The note about the API and the complaint for the Défenseur des droits (issue 19) -----------

#: Organisations a note may be addressed to (flows/knowledge/note.yaml `organisations`).
NOTE_ORGANISATIONS = ("employer", "caf", "cpam", "france_travail", "bank", "landlord", "other")


@REGISTRY.action("note_for", arg=True)
def note_for(ctx: TurnContext, organisation: str | None) -> None:
    """Whom the note is for. Kept in scratch: it says nothing about the person."""
    if organisation not in NOTE_ORGANISATIONS:
        raise ActionError(f"unknown organisation {organisation!r}")
    ctx.session = ctx.session.with_scratch(note_for=organisation, note_api="", note_made="")


@REGISTRY.action("note_without_date")
def note_without_date(ctx: TurnContext, _: str | None) -> None:
    """The person does not know the API's end date: the note is written without it."""
    ctx.session = ctx.session.with_scratch(note_api="unknown")


@REGISTRY.action("make_document", arg=True)
def make_document(ctx: TurnContext, kind: str | None) -> None:
    """`make_document note` or `make_document complaint`: from what the person told, in this
    turn or kept with consent; nothing is asked that the document does not need."""
    if kind not in ("note", "complaint"):
        raise ActionError(f"unknown document {kind!r}")
    # Each document is made once: coming back to its state (after /help, say) says the
    # explanation again without sending the document twice.
    waiting = "note_for" if kind == "note" else "note_made"
    organisation = ctx.session.scratch.get(waiting)
    if organisation not in NOTE_ORGANISATIONS:
        return
    made = {"note_for": "", "note_made": organisation if kind == "note" else ""}
    ctx.session = ctx.session.with_scratch(**made)
    ctx.emit(DocumentRequested(
        kind=kind, organisation=organisation, today=ctx.local_date.isoformat(),
        status=ctx.known("status"), request=ctx.known("request"),
        api_end=ctx.known("api_end"), departement=ctx.known("departement"),
        refused_on=ctx.values.get("refused_on") if kind == "complaint" else None))
