"""Actions that flow files may name in `do:` and `enter:`."""

from __future__ import annotations

from bot.core.events import (
    ConsentRecorded,
    HandoffRequested,
    LocaleChanged,
    RemindersCancelled,
    RemindersChanged,
    UserErased,
)
from bot.core.model import LOCALES
from bot.core.registry import REGISTRY, TurnContext


class ActionError(ValueError):
    pass


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


@REGISTRY.action("request_caseworker")
def request_caseworker(ctx: TurnContext, reason: str | None) -> None:
    ctx.emit(HandoffRequested(reason=reason or "user_request"))


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
