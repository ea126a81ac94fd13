"""Conditions that flow files may name in `when:`."""

from __future__ import annotations

from bot.core.registry import REGISTRY, TurnContext


@REGISTRY.condition("locale_guessed")
def locale_guessed(ctx: TurnContext, _: str | None) -> bool:
    return ctx.guessed_locale is not None


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
