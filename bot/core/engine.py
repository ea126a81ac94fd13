"""One conversation turn: `Engine.step(session, inbound, now) -> Turn`. No I/O.

The turn itself: what kind of message came in (a command, a message for the caseworker, first
words, a tap, a screenshot, typed text, a timer, a caseworker's action) and which part of the
engine handles it: understanding the input (`understand.py`), moving through the flows
(`navigate.py`), saying texts and buttons (`speak.py`), the handoff (`handoff.py`). Anything
that goes wrong inside a flow becomes a `FlowFailed` event, an apology in the user's language
and the main menu: one broken conversation never stops the process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from bot.core.commands import CommandCall, CommandTable
from bot.core.dates.office import OfficeHours
from bot.core.events import Event, FlowFailed, MessageCreated, OrganisationChosen
from bot.core.flows import actions as _actions  # noqa: F401  (fills the registry)
from bot.core.flows import conditions as _conditions  # noqa: F401  (fills the registry)
from bot.core.flows import inputs as _inputs  # noqa: F401  (fills the registry)
from bot.core.flows.check import engine_needs
from bot.core.flows.definition import DefinitionError, FlowDef
from bot.core.flows.registry import REGISTRY, Registry, TurnContext
from bot.core.handoff import Handoff
from bot.core.i18n import Catalog
from bot.core.ladder import contacts
from bot.core.langdetect import guess_locale
from bot.core.model import Inbound, InboundKind, Session
from bot.core.navigate import START, Navigator
from bot.core.params import localise_counts, text_params
from bot.core.problems import Catalogue
from bot.core.recognise import Recogniser
from bot.core.reminders import ReminderPolicy
from bot.core.speak import Speaker
from bot.core.text import LONG_MESSAGE, clean_inbound
from bot.core.understand import APP_LANGUAGES, GUESSED, Reader


@dataclass(frozen=True)
class Turn:
    session: Session
    events: tuple[Event, ...]

    @property
    def messages(self) -> tuple[MessageCreated, ...]:
        return tuple(e for e in self.events if isinstance(e, MessageCreated))


class Engine:
    def __init__(self, flows: Mapping[str, FlowDef], commands: CommandTable,
                 catalogs: Mapping[str, Catalog], registry: Registry = REGISTRY,
                 constants: Mapping[str, str] | None = None, tz: tzinfo = UTC,
                 recogniser: Recogniser | None = None, catalogue: Catalogue | None = None,
                 reminder_policy: ReminderPolicy | None = None,
                 support: contacts.Support | None = None,
                 office: OfficeHours | None = None) -> None:
        self.flows = flows
        self.commands = commands
        self.registry = registry
        self.recogniser = recogniser
        self.support = support  # the support ladder's knowledge
        self.office = office or OfficeHours()
        self.tz = tz  # where the association is: "today" and days left are counted there
        self.reminder_policy = reminder_policy or ReminderPolicy()
        self.speaker = Speaker(flows, catalogs, registry, constants or {}, tz, self.office,
                               support, catalogue, commands.commands)
        missing = engine_needs(flows, self.speaker.named, commands,
                               recognising=recogniser is not None, support=support is not None)
        if missing:
            raise DefinitionError([f"the engine needs {name}, which no flow defines"
                                   for name in missing])
        self.navigator = Navigator(flows, registry, self.speaker)
        self.reader = Reader(flows, commands, recogniser, self.navigator, self.speaker)
        self.handoff = Handoff(flows, self.speaker, self.navigator, catalogue, support)

    def new_session(self, user: str, now: datetime) -> Session:
        return Session(user=user, flow=START.flow or "onboarding", state=START.state,
                       created_at=now)

    def step(self, session: Session | None, inbound: Inbound, now: datetime) -> Turn:
        base = session if session is not None else self.new_session(inbound.user, now)
        ctx = self._context(base, inbound, now)
        try:
            self._dispatch(ctx)
            self.navigator.settle(ctx)
            if ctx.offer_language and not ctx.ended:
                self.reader.add_language_button(ctx)
        except Exception as exc:
            ctx = self._recover(base, inbound, now, exc)
        if ctx.ended:
            return Turn(self.new_session(inbound.user, now), tuple(ctx.events))
        return Turn(ctx.session, tuple(ctx.events))

    def _context(self, session: Session, inbound: Inbound, now: datetime) -> TurnContext:
        ctx = TurnContext(session=session, inbound=inbound, now=now, office=self.office,
                          today=now.astimezone(self.tz).date(), tz=self.tz,
                          reminder_policy=self.reminder_policy, support=self.support)
        if self.recogniser is not None:
            ctx.recognise = self.recogniser.recognise
            ctx.unsure = self.recogniser.needs_choice
            ctx.near = self.reader.near_a_problem
        ctx.summarise = lambda reason: self.handoff.summary(ctx, reason)
        return ctx

    def _dispatch(self, ctx: TurnContext) -> None:
        inbound, session = ctx.inbound, ctx.session
        reader, speaker = self.reader, self.speaker
        if inbound.kind is InboundKind.TIMER:
            self._timer(ctx)
            return
        if inbound.kind is InboundKind.STAFF:
            self.handoff.staff(ctx)
            return
        if session.version == 0 and inbound.payload.get("org"):
            ctx.emit(OrganisationChosen(inbound.payload["org"]))  # the web chat's embed tag
        text = clean_inbound(inbound.text)
        typed = inbound.kind is InboundKind.TEXT
        # Until the person confirms a language (or writes on), their own words say it best:
        # a language guessed from the app (Telegram's) gives way to the one they write in.
        unconfirmed = session.locale is None or (
            self.navigator.at(ctx, GUESSED) and session.consent is None)
        if unconfirmed:
            # The app's language (Telegram says it) is a hint when the text says nothing.
            hint = inbound.payload.get("language", "").split("-")[0].lower()
            ctx.guessed_locale = (guess_locale(text) if typed and text else None) or (
                session.locale or APP_LANGUAGES.get(hint))
        call = self.commands.match(text) if typed and text and len(text) <= LONG_MESSAGE else None
        if isinstance(call, CommandCall):
            reader.command(ctx, call)
        elif session.case_open and typed and text and not isinstance(call, str):
            self.handoff.relay(ctx, text)
        elif session.case_open and inbound.kind is InboundKind.PHOTO:
            # A screenshot for the caseworker: its text (read and redacted at the edge) goes
            # into the transcript; the image itself is never kept.
            self.handoff.relay(ctx, text or "…")
        elif unconfirmed and typed and text and not isinstance(call, str):
            reader.first_words(ctx, text)
        elif session.version == 0 and not session.offered:
            # First contact by a tap, a photo...: greet, in the app's language if we can tell.
            self.navigator.jump(ctx, START)
        elif isinstance(call, str):
            speaker.reject(ctx, "unknown_command", "system.unknown_command")
        elif inbound.kind is InboundKind.CHOICE:
            reader.tap(ctx, inbound.choice)
        elif inbound.kind is InboundKind.PHOTO:
            reader.photo(ctx, text)
        elif inbound.kind is InboundKind.MEDIA:
            speaker.reject(ctx, f"media:{inbound.media or 'unknown'}", "system.media_unsupported")
        else:
            reader.typed(ctx, text)

    def _timer(self, ctx: TurnContext) -> None:
        if not ctx.session.reminders:
            return  # the user sent /stop: timers fall due silently
        handler = self.registry.timers.get(ctx.inbound.timer)
        if handler is None:
            raise LookupError(f"no timer handler {ctx.inbound.timer!r}")
        handler(ctx, ctx.inbound.payload)
        for request in ctx.reminders_out:
            params = localise_counts({**text_params(ctx, self.speaker.constants),
                                      **request.params}, ctx.session.locale)
            ctx.emit(self.speaker.remind(request.key, ctx.session.locale, params,
                                         request.buttons, request.template,
                                         request.template_params))

    def _recover(self, base: Session, inbound: Inbound, now: datetime, exc: Exception
                 ) -> TurnContext:
        ctx = self._context(base.evolve(resume=None), inbound, now)
        failed = FlowFailed(base.flow, base.state, f"{type(exc).__name__}: {exc}"[:300])
        ctx.emit(failed)
        try:
            self.speaker.say_named(ctx, "system.apology")
            self.navigator.jump(ctx, self.navigator.home(ctx))
            self.navigator.settle(ctx)
        except Exception as second:
            ctx = self._context(self.new_session(base.user, now).evolve(
                locale=base.locale, consent=base.consent, slots=base.slots, version=base.version,
                created_at=base.created_at), inbound, now)
            ctx.emit(failed)
            ctx.emit(FlowFailed(START.flow or "", START.state, type(second).__name__))
            ctx.emit(self.speaker.apology(base.locale))
        return ctx
