"""Conditions that flow files may name in `when:`."""

from __future__ import annotations

from datetime import date

from bot.core.dates.written import days_between
from bot.core.flows.registry import REGISTRY, TurnContext

#: Renewal of a residence card is filed between 120 and 60 days before its end (R. 431-5
#: CESEDA, ANEF.md §3.5, [S8]).
CARD_WINDOW_OPENS = 120
CARD_WINDOW_CLOSES = 60


@REGISTRY.condition("locale_guessed")
def locale_guessed(ctx: TurnContext, _: str | None) -> bool:
    return ctx.guessed_locale is not None


@REGISTRY.condition("first_words_off_topic")
def first_words_off_topic(ctx: TurnContext, _: str | None) -> bool:
    return ctx.off_topic


@REGISTRY.condition("has_locale")
def has_locale(ctx: TurnContext, _: str | None) -> bool:
    return ctx.session.locale is not None


@REGISTRY.condition("consent_asked")
def consent_asked(ctx: TurnContext, _: str | None) -> bool:
    return ctx.session.consent is not None


@REGISTRY.condition("has_consent")
def has_consent(ctx: TurnContext, _: str | None) -> bool:
    return ctx.session.consent is True


@REGISTRY.condition("onboarded")
def onboarded(ctx: TurnContext, _: str | None) -> bool:
    return ctx.session.locale is not None and ctx.session.consent is not None


@REGISTRY.condition("reminders_on")
def reminders_on(ctx: TurnContext, _: str | None) -> bool:
    return ctx.session.reminders


@REGISTRY.condition("lacks_consent")
def lacks_consent(ctx: TurnContext, _: str | None) -> bool:
    return ctx.session.consent is not True


def _days_left(ctx: TurnContext, slot: str) -> int | None:
    value = ctx.known(slot)
    if value is None:
        return None
    return days_between(ctx.local_date, date.fromisoformat(value))


@REGISTRY.condition("known")
def known(ctx: TurnContext, slot: str | None) -> bool:
    return slot is not None and ctx.known(slot) is not None


@REGISTRY.condition("expired")
def expired(ctx: TurnContext, slot: str | None) -> bool:
    """The date in `slot` is past."""
    days = _days_left(ctx, slot or "")
    return days is not None and days < 0


@REGISTRY.condition("ends_today")
def ends_today(ctx: TurnContext, slot: str | None) -> bool:
    return _days_left(ctx, slot or "") == 0


@REGISTRY.condition("ends_within")
def ends_within(ctx: TurnContext, arg: str | None) -> bool:
    """`ends_within api_end 15`: the date is today or in at most 15 days."""
    slot, _, limit = (arg or "").partition(" ")
    days = _days_left(ctx, slot)
    return days is not None and 0 <= days <= int(limit)


@REGISTRY.condition("card_window")
def card_window(ctx: TurnContext, when: str | None) -> bool:
    """Where today stands against the card's renewal window (120 to 60 days before its end):
    `card_window before`, `card_window open` or `card_window late`."""
    days = _days_left(ctx, "card_end")
    if days is None:
        return False
    position = ("before" if days > CARD_WINDOW_OPENS else
                "open" if days >= CARD_WINDOW_CLOSES else "late")
    return position == when


@REGISTRY.condition("diagnosed")
def diagnosed(ctx: TurnContext, problem: str | None) -> bool:
    return ctx.session.scratch.get("diagnosis") == problem


@REGISTRY.condition("diagnosis_unsure")
def diagnosis_unsure(ctx: TurnContext, _: str | None) -> bool:
    return ctx.session.scratch.get("diagnosis") == "unsure"


@REGISTRY.condition("candidate")
def candidate(ctx: TurnContext, problem: str | None) -> bool:
    return problem in ctx.session.scratch.get("candidates", "").split(",")


@REGISTRY.condition("can_resume")
def can_resume(ctx: TurnContext, _: str | None) -> bool:
    return ctx.session.resume is not None


@REGISTRY.condition("case_open")
def case_open(ctx: TurnContext, _: str | None) -> bool:
    return ctx.session.case_open


@REGISTRY.condition("shares")
def shares(ctx: TurnContext, _: str | None) -> bool:
    return ctx.session.share is True


@REGISTRY.condition("office_open")
def office_open(ctx: TurnContext, _: str | None) -> bool:
    """The association's caseworkers are at work now (office hours, not a public holiday)."""
    return ctx.office is not None and bool(ctx.office.is_open(ctx.now, ctx.tz))


@REGISTRY.condition("office_closed")
def office_closed(ctx: TurnContext, _: str | None) -> bool:
    return not office_open(ctx, None)


# -- The note about the API (issue 19) ----------------------------------------------------------

@REGISTRY.condition("note_needs")
def note_needs(ctx: TurnContext, what: str | None) -> bool:
    """`note_needs status`, `note_needs request`, `note_needs api_end`: what the note would
    use and the person has not told yet (an end date they said they do not know is not asked
    again)."""
    if what == "api_end":
        return ctx.known("api_end") is None and ctx.session.scratch.get("note_api") != "unknown"
    return ctx.known(what or "") is None


@REGISTRY.condition("note_cites_work")
def note_cites_work(ctx: TurnContext, _: str | None) -> bool:
    """The note cites the article giving the right to work: a refugee or a beneficiary of
    subsidiary protection whose request is known (never a stateless person: ANEF.md 7bis.4)."""
    return (ctx.known("status") in ("refugee", "subsidiary")
            and ctx.known("request") in ("first", "renewal"))
