"""One conversation turn: `Engine.step(session, inbound, now) -> Turn`. No I/O.

The engine decides what an inbound message means (a command, a button, a typed number or label,
an answer to a question, something it cannot use), fires the matching trigger on the flow's
machine, follows the moves that need no user input, and returns the new session with the events
of the turn. Anything that goes wrong inside a flow becomes a `FlowFailed` event, an apology in
the user's language and the main menu: one broken conversation never stops the process.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Protocol

from bot.core import actions as _actions  # noqa: F401  (fills the registry)
from bot.core import conditions as _conditions  # noqa: F401  (fills the registry)
from bot.core import contacts
from bot.core import inputs as _inputs  # noqa: F401  (fills the registry)
from bot.core.actions import set_locale
from bot.core.commands import CommandCall, CommandTable
from bot.core.courtesy import SmallTalk, small_talk
from bot.core.courtesy import strip as strip_courtesy
from bot.core.dates import show_date
from bot.core.definition import ChoiceDef, DefinitionError, FlowDef, StateDef, Target, Text
from bot.core.errors import Catalogue
from bot.core.events import (
    CaseClosed,
    Event,
    FlowFailed,
    InputRejected,
    MessageCreated,
    OrganisationChosen,
    RelayedToCaseworker,
)
from bot.core.exceptions import RelaisError
from bot.core.i18n import Catalog, Translator, placeholders
from bot.core.langdetect import guess_locale, language_named
from bot.core.machine import CompiledFlow, choice_trigger, compile_flows, fire
from bot.core.model import SOURCE_LOCALE, Choice, Inbound, InboundKind, MessageKind, Session
from bot.core.office import OfficeHours
from bot.core.params import date_params, localise_counts, text_params
from bot.core.recognise import Recogniser, Recognition
from bot.core.registry import REGISTRY, Registry, TurnContext
from bot.core.reminders import (
    BUTTONS,
    FOLLOWUP_BUTTONS,
    FOLLOWUP_TEXTS,
    OFFSETS,
    ReminderPolicy,
    text_key,
)
from bot.core.safety import PAYMENT_PROBLEMS, payment_warning_due
from bot.core.secrets import looks_like_secret
from bot.core.summary import CaseFacts, ladder_advice, summarise
from bot.core.text import (
    LONG_MESSAGE,
    ascii_digits,
    clean_inbound,
    fold,
    for_display,
    is_only_symbols,
)

#: Moves without user input in one turn (states entered, jumps, `next`). A flow that needs more
#: is looping; the turn is stopped and the user gets an apology.
MAX_HOPS = 25

HOME = Target("menu", "main")
START = Target("onboarding", "start")
DIAGNOSIS = Target("errors", "confirm")  # a problem recognised anywhere is offered here
DESCRIBE = Target("errors", "describe")  # a screenshot that names no known problem
CHOOSE = Target("errors", "choose")  # two problems are close: the user picks
CLOSEST = Target("errors", "closest")  # nothing recognised: "is it one of these?"
PICKER = Target("onboarding", "choose_language")
#: "I will write to you in Dari: continue / change": a language guessed, not yet confirmed.
GUESSED = Target("onboarding", "confirm_language")
#: The button added under the first answer to someone whose language was guessed.
CHANGE_LANGUAGE = "language"
#: Scratch flag: the person was answered before the privacy notice; the menu shows it first.
ONBOARDING_DUE = "onboarding_due"
#: The locale an app's language code suggests (Afghans' phones say "fa" for Dari).
APP_LANGUAGES = {"fa": "fa_AF", "prs": "fa_AF", "ps": "ps", "ar": "ar", "fr": "fr", "en": "en"}
#: States the engine itself jumps to, beside those the commands name.
ENTRY_POINTS = (HOME, START, DIAGNOSIS, DESCRIBE, CHOOSE, CLOSEST, PICKER)

#: Texts the engine itself says, by key. The flows must define them (`texts:` sections).
ENGINE_TEXTS = (
    "system.not_understood",
    "system.stale_choice",
    "system.empty_message",
    "system.long_message",
    "system.only_symbols",
    "system.photo_unsupported",
    "system.photo_unreadable",
    "system.media_unsupported",
    "system.unknown_command",
    "system.apology",
    "system.step",
    "system.secret_received",
    "safety.payment_warning",
)
#: Texts of first contact and of messages not recognised: needed with a recogniser.
UNDERSTANDING_TEXTS = (
    "system.greeting_reply",
    "system.thanks_reply",
    "system.off_topic",
    "onboarding.greeting_first_words",
)
#: Texts the engine says for a handoff, when the content has the handoff flow.
HANDOFF_TEXTS = ("handoff.relayed", "handoff.from_caseworker", "handoff.closed")
#: Ready replies a caseworker sends in one click: texts whose key starts with this.
CANNED = "canned."


class FlowLoop(RelaisError, RuntimeError):
    pass


class DueReminderFacts(Protocol):
    """What rendering a group of due reminders needs (bot.storage.base.ReminderGroup): who
    may still be reminded was decided by the store when it staged them."""

    @property
    def slot(self) -> str: ...
    @property
    def planned(self) -> str: ...
    @property
    def offset(self) -> int: ...
    @property
    def locale(self) -> str | None: ...


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
        self.support = support  # the support ladder's knowledge
        self.office = office or OfficeHours()
        self.recogniser = recogniser
        self.catalogue = catalogue
        self.constants = dict(constants or {})
        self.tz = tz  # where the association is: "today" and days left are counted there
        self.reminder_policy = reminder_policy or ReminderPolicy()
        self.steps = {name: max((s.step or 0 for s in f.states.values()), default=0)
                      for name, f in flows.items()}
        self.commands = commands
        self.registry = registry
        self.translator = Translator(catalogs)
        self.named = {t.key: t for f in flows.values() for t in f.named.values()}
        reminder_texts = {k for texts in OFFSETS.values() for k in texts.values()}
        reminder_texts |= {label for buttons in BUTTONS.values() for _, label in buttons}
        if support is not None:
            reminder_texts |= {*FOLLOWUP_TEXTS.values(), *(k for _, k in FOLLOWUP_BUTTONS)}
        needed = (*ENGINE_TEXTS, *(HANDOFF_TEXTS if "handoff" in flows else ()),
                  *(UNDERSTANDING_TEXTS if recogniser is not None else ()))
        missing = [k for k in (*needed, *sorted(reminder_texts)) if k not in self.named]
        # The problem flow is needed only with a recogniser (tests build engines without).
        entry = ENTRY_POINTS if recogniser is not None else (HOME, START)
        for target in (*entry, *(c.goto for c in commands.commands.values()),
                       *(b.goto for b in commands.buttons.values())):
            flow = target.flow or ""
            if flow not in flows or target.state not in flows[flow].states:
                missing.append(f"{target.flow}.{target.state}")
        if missing:
            raise DefinitionError([f"the engine needs {name}, which no flow defines"
                                   for name in missing])
        # Where a person was when they asked for help, as the caseworker reads it (French).
        self.flow_names = {c.goto.flow: c.label.source for c in flows["menu"].states["main"].choices
                           if c.goto is not None and c.goto.flow and c.label is not None
                           } if "menu" in flows and "main" in flows["menu"].states else {}
        self.compiled: dict[str, CompiledFlow] = compile_flows(
            flows, registry, self._entered, self._store, self._invalid)

    # -- the turn ---------------------------------------------------------------------------

    def new_session(self, user: str, now: datetime) -> Session:
        return Session(user=user, flow=START.flow or "onboarding", state=START.state,
                       created_at=now)

    def step(self, session: Session | None, inbound: Inbound, now: datetime) -> Turn:
        base = session if session is not None else self.new_session(inbound.user, now)
        ctx = self._context(base, inbound, now)
        try:
            self._dispatch(ctx)
            self._settle(ctx)
            if ctx.offer_language and not ctx.ended:
                self._add_language_button(ctx)
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
            ctx.near = self._near_a_problem
        ctx.summarise = lambda reason: self._summary(ctx, reason)
        return ctx

    def _summary(self, ctx: TurnContext, reason: str) -> str:
        titles = {} if self.catalogue is None else {
            pid: self.translator.render(p.title, SOURCE_LOCALE).text
            for pid, p in self.catalogue.problems.items()}
        support = self.support
        where = ctx.session.resume[0] if ctx.session.resume else None
        if support is None:
            raise LookupError("a case summary needs the support ladder's knowledge")
        facts = CaseFacts(support.letters, titles, self.flow_names,
                          {code: d.label for code, d in support.departements.by_code.items()})
        return summarise(ctx.session, ctx.local_date, reason, facts,
                         ladder_advice(ctx.session, ctx.local_date, support.ladder), where)

    def canned_replies(self) -> list[tuple[str, str]]:
        """(id, French text) of the caseworkers' ready replies, for the inbox."""
        return [(key.removeprefix(CANNED), text.source) for key, text in self.named.items()
                if key.startswith(CANNED)]

    def _dispatch(self, ctx: TurnContext) -> None:
        inbound, session = ctx.inbound, ctx.session
        if inbound.kind is InboundKind.TIMER:
            self._timer(ctx)
            return
        if inbound.kind is InboundKind.STAFF:
            self._staff(ctx)
            return
        if session.version == 0 and inbound.payload.get("org"):
            ctx.emit(OrganisationChosen(inbound.payload["org"]))  # the web chat's embed tag
        text = clean_inbound(inbound.text)
        typed = inbound.kind is InboundKind.TEXT
        # Until the person confirms a language (or writes on), their own words say it best:
        # a language guessed from the app (Telegram's) gives way to the one they write in.
        unconfirmed = session.locale is None or (
            (session.flow, session.state) == (GUESSED.flow, GUESSED.state)
            and session.consent is None)
        if unconfirmed:
            # The app's language (Telegram says it) is a hint when the text says nothing.
            hint = inbound.payload.get("language", "").split("-")[0].lower()
            ctx.guessed_locale = (guess_locale(text) if typed and text else None) or (
                session.locale or APP_LANGUAGES.get(hint))
        call = self.commands.match(text) if typed and text and len(text) <= LONG_MESSAGE else None
        if isinstance(call, CommandCall):
            self._command(ctx, call)
        elif session.case_open and typed and text and not isinstance(call, str):
            self._relay(ctx, text)
        elif session.case_open and inbound.kind is InboundKind.PHOTO:
            # A screenshot for the caseworker: its text (read and redacted at the edge) goes
            # into the transcript; the image itself is never kept.
            self._relay(ctx, text or "…")
        elif unconfirmed and typed and text and not isinstance(call, str):
            self._first_words(ctx, text)
        elif session.version == 0 and not session.offered:
            # First contact by a tap, a photo...: greet, in the app's language if we can tell.
            self._jump(ctx, START)
        elif isinstance(call, str):
            self._reject(ctx, "unknown_command", "system.unknown_command")
        elif inbound.kind is InboundKind.CHOICE:
            self._tap(ctx, inbound.choice)
        elif inbound.kind is InboundKind.PHOTO:
            self._photo(ctx, text)
        elif inbound.kind is InboundKind.MEDIA:
            self._reject(ctx, f"media:{inbound.media or 'unknown'}", "system.media_unsupported")
        else:
            self._typed(ctx, text)

    def _typed(self, ctx: TurnContext, text: str) -> None:
        if not text:
            self._reject(ctx, "empty", "system.empty_message")
        elif len(text) > LONG_MESSAGE:
            self._reject(ctx, "too_long", "system.long_message")
        elif looks_like_secret(text, alone=self._state(ctx).input is None):
            # Never asked for: say so, and the runtime keeps nothing of this message. Where a
            # number is asked (a reference), only a code or password named as such counts.
            self._reject(ctx, "secret", "system.secret_received")
        else:
            # The timbre fiscal is a normal payment: only other talk of paying is warned of,
            # and not when the advice of a recognised payment problem will say it anyway.
            if (payment_warning_due(text) and match_offered(ctx.session.offered, text) is None
                    and not any(self._recognised_as(text, p) for p in PAYMENT_PROBLEMS)):
                self._say(ctx, (self.named["safety.payment_warning"],), ())
            self._understand(ctx, text)

    def _recognised_as(self, text: str, error: str) -> bool:
        return self.recogniser is not None and self.recogniser.recognise(text).error == error

    def _understand(self, ctx: TurnContext, text: str) -> None:
        if (choice := match_offered(ctx.session.offered, text)) is not None:
            self._tap(ctx, choice.id)
        elif (self._at(ctx, PICKER) and self.recogniser is not None
              and (named := language_named(text)) is not None):
            self._pick_language(ctx, named)
        elif is_only_symbols(text):
            self._reject(ctx, "only_symbols", "system.only_symbols")
        elif self._state(ctx).input is not None:
            # A sentence that clearly reports a known problem is not an answer to "which
            # date?": offer the diagnosis first (the question comes back with "resume").
            asked_for_report = ctx.session.flow == (DESCRIBE.flow or "")
            if (asked_for_report or _content_words(text) < 4
                    or not self._offer_diagnosis(ctx, text)):
                self._fire(ctx, "answer", text=text)
        elif not self._offer_diagnosis(ctx, text):
            self._not_matched(ctx, text)

    def _not_matched(self, ctx: TurnContext, text: str, resume: bool = True) -> None:
        """Nothing recognised for sure. Small talk gets a fitting answer; a message about ANEF
        the three closest known problems ("is it one of these?") and a person; anything else
        a short answer saying what the assistant does."""
        kind = small_talk(text) if self.recogniser is not None else None
        if kind is SmallTalk.GREETING:
            self._reject(ctx, "small_talk", "system.greeting_reply")
        elif kind is SmallTalk.THANKS:
            self._reject(ctx, "small_talk", "system.thanks_reply")
        elif (kind is not None or self.recogniser is None or CLOSEST.flow not in self.flows
              or ctx.session.locale is None or _content_words(text) < 2):
            # A word or a number that is no button: too little to guess a problem from.
            self._reject(ctx, "not_understood", "system.not_understood")
        elif self._near_a_problem(found := self.recogniser.recognise(text)):
            ctx.emit(InputRejected("closest"))
            ctx.session = ctx.session.with_scratch(
                diagnosis="", candidates=",".join(c.error for c in found.candidates),
            ).evolve(resume=(ctx.session.flow, ctx.session.state) if resume else None)
            self._jump(ctx, CLOSEST)
        elif self.recogniser.about_the_procedure(text) and DESCRIBE.flow in self.flows:
            # About ANEF, but too vague to guess from ("I have a problem with my API"):
            # ask for the problem in a few words, the error message or a screenshot.
            ctx.emit(InputRejected("vague"))
            ctx.session = ctx.session.evolve(
                resume=(ctx.session.flow, ctx.session.state) if resume else None)
            self._jump(ctx, DESCRIBE)
        else:
            self._reject(ctx, "off_topic", "system.off_topic")

    def _near_a_problem(self, found: Recognition) -> bool:
        """Whether the best candidates are worth offering: close enough to a known problem,
        and not nearer to the examples of unrelated chat."""
        assert self.recogniser is not None
        if not found.candidates:
            return False
        top = found.candidates[0].score
        return top >= self.recogniser.thresholds.closest and top > found.unrelated

    # -- first contact ----------------------------------------------------------------------

    def _first_words(self, ctx: TurnContext, text: str) -> None:
        """Free text before the language is chosen (the first message, or words typed at the
        language question). The language is taken from the words themselves, and the message
        is then answered in it: a problem is offered, small talk greeted. The privacy notice
        and the consent come once that answer is given (the menu leads there), and nothing
        the person wrote is kept before."""
        at_picker = self._at(ctx, PICKER)
        asked = at_picker or self._at(ctx, GUESSED)  # the language question is on screen
        if asked and (choice := match_offered(ctx.session.offered, text)) is not None:
            self._tap(ctx, choice.id)
            return
        if self.recogniser is not None and (named := language_named(text)) is not None:
            self._pick_language(ctx, named)
            return
        locale = ctx.guessed_locale
        if looks_like_secret(text):
            if (locale is not None and locale != ctx.session.locale
                    and self.recogniser is not None):
                self._adopt_locale(ctx, locale)
            self._reject(ctx, "secret", "system.secret_received")
            if ctx.session.locale is None and not at_picker:
                self._jump(ctx, START)
            return
        if locale is None or len(text) > LONG_MESSAGE or is_only_symbols(text):
            if asked:
                self._typed(ctx, text)  # says why, and asks the language again
            else:
                self._jump(ctx, START)
            return
        found = self.recogniser.recognise(text) if self.recogniser is not None else None
        if found is None or small_talk(text) is not None or not (
                found.known or self._near_a_problem(found)
                or (self.recogniser is not None and self.recogniser.about_the_procedure(text))):
            if ctx.session.locale is not None and locale != ctx.session.locale:
                # The app's language was guessed, the words say another: greet in theirs.
                set_locale(ctx, locale)
                self._jump(ctx, GUESSED)
            else:
                self._jump(ctx, START)  # a greeting in their language, one tap to change it
            return
        self._adopt_locale(ctx, locale)
        if payment_warning_due(text) and not any(self._recognised_as(text, p)
                                                 for p in PAYMENT_PROBLEMS):
            self._say(ctx, (self.named["safety.payment_warning"],), ())
        # The person wrote to us about something: a report is likely, so the usual bar for
        # recognising one is enough (not the higher bar used in the middle of a guide).
        if not self._offer_diagnosis(ctx, text, self.recogniser.thresholds.accept
                                     if self.recogniser else None, resume=False):
            self._not_matched(ctx, text, resume=False)

    def _adopt_locale(self, ctx: TurnContext, locale: str) -> None:
        set_locale(ctx, locale)
        ctx.session = ctx.session.with_scratch(**{ONBOARDING_DUE: "1"})
        self._say(ctx, (self.named["onboarding.greeting_first_words"],), ())
        ctx.offer_language = True

    def _pick_language(self, ctx: TurnContext, locale: str) -> None:
        """A language named in words ("dari", "پښتو", "arabe"): as if its button was tapped."""
        if not self._at(ctx, PICKER):
            ctx.quiet = True
            self._jump(ctx, PICKER)
            ctx.quiet = False
        self._fire(ctx, choice_trigger(locale.lower()))

    def _add_language_button(self, ctx: TurnContext) -> None:
        """Under the first answer in a guessed language: one tap to choose another."""
        offered = ctx.session.offered
        if any(c.id in (CHANGE_LANGUAGE, "change") for c in offered) or not ctx.events:
            return
        last = max((i for i, e in enumerate(ctx.events) if isinstance(e, MessageCreated)),
                   default=None)
        if last is None:
            return
        message = ctx.events[last]
        assert isinstance(message, MessageCreated)
        button = Choice(CHANGE_LANGUAGE, self._display(self._change_label, ctx.session.locale))
        ctx.events[last] = dataclasses.replace(message, choices=(*message.choices, button))
        ctx.session = ctx.session.evolve(offered=(*offered, button))

    @functools.cached_property
    def _change_label(self) -> Text:
        return self.named_or_state_text("onboarding.change_language")

    def _at(self, ctx: TurnContext, target: Target) -> bool:
        return (ctx.session.flow, ctx.session.state) == (target.flow, target.state)

    def _photo(self, ctx: TurnContext, text: str) -> None:
        """A screenshot: the edge read its text (OCR) and removed names, long numbers and
        e-mail addresses. It is then a report like a typed one."""
        if ctx.inbound.payload.get("ocr") == "unavailable" or self.recogniser is None:
            self._reject(ctx, "photo", "system.photo_unsupported")
        elif not text.strip():
            self._reject(ctx, "photo_unreadable", "system.photo_unreadable")
        elif self._state(ctx).input is not None and ctx.session.flow == DESCRIBE.flow:
            self._fire(ctx, "answer", text=text)
        elif not self._offer_diagnosis(ctx, text):
            ctx.session = ctx.session.evolve(resume=(ctx.session.flow, ctx.session.state))
            self._jump(ctx, DESCRIBE)

    def _offer_diagnosis(self, ctx: TurnContext, text: str, bar: float | None = None,
                         resume: bool = True) -> bool:
        """From anywhere: a recognised report is offered for one-tap confirmation, or, when
        two problems are close, as a choice among the best; the interrupted journey can be
        resumed afterwards."""
        if self.recogniser is None or DIAGNOSIS.flow not in self.flows:
            return False
        found = self.recogniser.recognise(text)
        if not found.known or found.score < (bar or self.recogniser.thresholds.anywhere):
            return False
        unsure = self.recogniser.needs_choice(found)
        ctx.session = ctx.session.with_scratch(
            diagnosis="unsure" if unsure else found.error,
            candidates=",".join(c.error for c in found.candidates),
        ).evolve(resume=(ctx.session.flow, ctx.session.state) if resume else None)
        self._jump(ctx, CHOOSE if unsure else DIAGNOSIS)
        return True

    def _tap(self, ctx: TurnContext, choice_id: str) -> None:
        offered = {c.id for c in ctx.session.offered}
        if choice_id == CHANGE_LANGUAGE and choice_id in offered and not any(
                c.id == choice_id for c in self._state(ctx).choices):
            ctx.session = ctx.session.evolve(resume=None)
            self._jump(ctx, PICKER)
        elif choice_id in offered:
            self._fire(ctx, choice_trigger(choice_id))
        elif choice_id in self.commands.buttons and ctx.session.locale is not None:
            self._command(ctx, CommandCall(self.commands.buttons[choice_id], ""))
        else:
            self._reject(ctx, "stale_choice", "system.stale_choice")

    def _relay(self, ctx: TurnContext, text: str) -> None:
        """A case is open: the message is for the caseworker (kept in the transcript)."""
        if len(text) > LONG_MESSAGE:
            self._reject(ctx, "too_long", "system.long_message")
        elif looks_like_secret(text):
            self._reject(ctx, "secret", "system.secret_received")  # never passed on
        else:
            ctx.emit(RelayedToCaseworker())
            if not ctx.session.scratch.get("relayed"):
                ctx.session = ctx.session.with_scratch(relayed="1")
                self._say(ctx, (self.named["handoff.relayed"],), ())

    def _staff(self, ctx: TurnContext) -> None:
        """A caseworker's action from the inbox: a reply (free French text, or a ready reply
        rendered in the user's language), or closing the case."""
        payload, locale = ctx.inbound.payload, ctx.session.locale
        action = payload.get("action")
        if action == "close":
            ctx.session = ctx.session.evolve(case_open=False).with_scratch(relayed="")
            ctx.emit(CaseClosed())
            self._say(ctx, (self.named["handoff.closed"],), ())
            self._jump(ctx, self._home(ctx))
            return
        if action == "canned":
            key = CANNED + payload.get("canned", "")
            if key not in self.named:
                raise LookupError(f"no ready reply {key!r}")
            rendered = self.translator.render(self.named[key], locale)
            text, shown_in = for_display(rendered.text, rendered.locale), rendered.locale
        elif action == "ready":
            # The association's own ready reply: the inbox sends its five texts along (it
            # keeps them; the engine stays pure) and the person's language is picked here.
            texts = json.loads(payload.get("text", "{}"))
            wanted = locale or SOURCE_LOCALE
            ready_in = wanted if texts.get(wanted) else SOURCE_LOCALE
            text, shown_in = for_display(texts[ready_in], ready_in), ready_in
        elif action == "reply":
            intro = self.translator.render(self.named["handoff.from_caseworker"], locale)
            body = clean_inbound(payload.get("text", "")).strip()
            if not body:
                raise ValueError("an empty reply")
            # The caseworker's own words go as typed, in French, under a line in the user's
            # language that says so.
            text = f"{for_display(intro.text, intro.locale)}\n{body}"
            shown_in = intro.locale
        else:
            raise ValueError(f"unknown staff action {action!r}")
        ctx.emit(MessageCreated(MessageKind.CASEWORKER, shown_in, text, ctx.session.offered))

    def _command(self, ctx: TurnContext, call: CommandCall) -> None:
        command, session = call.command, ctx.session
        if command.name == "start" and call.argument:
            # `/start <code>`: a Telegram deep link names the user's association.
            ctx.emit(OrganisationChosen(call.argument.strip()[:64]))
        if session.locale is None and not command.before_language:
            if (ctx.guessed_locale is None or self.recogniser is None
                    or ctx.inbound.text.strip().startswith("/")):
                self._jump(ctx, START)
                return
            # "کمک", "مرسته", "القائمة": the word itself says the language.
            self._adopt_locale(ctx, ctx.guessed_locale)
            session = ctx.session
        resume = (session.flow, session.state) if command.interrupts else None
        ctx.session = session.evolve(resume=resume)
        target = self.flows[command.goto.flow or ""].states.get(command.goto.state)
        if call.argument and target is not None and target.input is not None:
            # `/api 12/03/2026`: the argument answers the command's question at once.
            ctx.quiet = True
            self._jump(ctx, command.goto)
            ctx.quiet = False
            self._fire(ctx, "answer", text=call.argument)
            return
        ctx.command_arg = call.argument
        self._jump(ctx, command.goto)

    def _timer(self, ctx: TurnContext) -> None:
        if not ctx.session.reminders:
            return  # the user sent /stop: timers fall due silently
        handler = self.registry.timers.get(ctx.inbound.timer)
        if handler is None:
            raise LookupError(f"no timer handler {ctx.inbound.timer!r}")
        handler(ctx, ctx.inbound.payload)
        for request in ctx.reminders_out:
            params = localise_counts({**text_params(ctx, self.constants), **request.params},
                                     ctx.session.locale)
            ctx.emit(self._remind(request.key, ctx.session.locale, params, request.buttons,
                                  request.template, request.template_params))

    # -- moving through the flows -----------------------------------------------------------

    def _state(self, ctx: TurnContext) -> StateDef:
        return self.flows[ctx.session.flow].states[ctx.session.state]

    def _fire(self, ctx: TurnContext, trigger: str, text: str = "") -> None:
        compiled = self.compiled[ctx.session.flow]
        state = fire(compiled, ctx, ctx.session.state, trigger, text=text)
        ctx.session = ctx.session.evolve(state=state)

    def _jump(self, ctx: TurnContext, target: Target) -> None:
        if target == HOME and ctx.session.scratch.get(ONBOARDING_DUE):
            # Someone answered before onboarding (their first words were a problem): the
            # privacy notice and the consent come before the menu, once.
            ctx.session = ctx.session.with_scratch(**{ONBOARDING_DUE: ""})
            target = START if ctx.session.consent is None else HOME
        if target.is_resume:
            resume = ctx.session.resume
            ctx.session = ctx.session.evolve(resume=None)
            target = Target(*resume) if resume else self._home(ctx)
            if not self._can_show(ctx, target):
                # The state showed an answer not kept (no consent): start its flow again.
                target = Target(target.flow, self.flows[target.flow or ""].initial)
        flow = target.flow or ctx.session.flow
        compiled = self.compiled[flow]
        ctx.session = ctx.session.evolve(flow=flow)
        state = fire(compiled, ctx, compiled.definition.initial, f"to_{target.state}")
        ctx.session = ctx.session.evolve(state=state)

    def _can_show(self, ctx: TurnContext, target: Target) -> bool:
        flow = self.flows.get(target.flow or "")
        state = flow.states.get(target.state) if flow else None
        if state is None:
            return True  # a missing state is reported as such by the jump itself
        available = set(text_params(ctx, self.constants)) | {"office_opens"}
        used = {p for t in state.say for p in placeholders(t.source)}
        if self.support is not None and used & contacts.PARAMS:
            available |= set(contacts.params(ctx, self._named_renderer(ctx)))
        if ctx.session.scratch.get("diagnosis"):
            available.add("problem")
        return all(placeholders(t.source) <= available for t in state.say)

    def reminder(self, due: DueReminderFacts, now: datetime) -> MessageCreated | None:
        """The message a group of due reminders becomes, or None when no text says that
        (slot, offset). Whether each person may still be reminded (consent, reminders on, the
        date unchanged, reachable, not superseded) is the store's staging rule, written once.
        Pure and cheap: the scheduler renders a day's reminders in bulk with it."""
        key = text_key(due.slot, due.offset)
        if key is None:
            return None
        return self._reminder_message(key, due.slot, due.planned, due.offset,
                                      due.locale or SOURCE_LOCALE, now.astimezone(self.tz).date())

    @functools.lru_cache(maxsize=4096)  # noqa: B019  (the engine lives as long as the process)
    def _reminder_message(self, key: str, slot: str, planned: str, offset: int, locale: str,
                          today: date) -> MessageCreated:
        # Everyone reminded today "7 days before" has the same end date: one text per language.
        params = localise_counts({**self.constants, **date_params({slot: planned}, locale,
                                                                   today)}, locale)
        return self._remind(key, locale, params, BUTTONS[slot], f"{slot}:{offset}",
                            (params[slot],))

    def _remind(self, key: str, locale: str | None, params: Mapping[str, str],
                buttons: tuple[tuple[str, str], ...], template: str,
                template_params: tuple[str, ...]) -> MessageCreated:
        """A reminder in the user's language, with its global buttons (valid from anywhere)."""
        rendered = self.translator.render(self.named[key], locale, params)
        choices = tuple(Choice(cid, self._display(self.named[label], locale))
                        for cid, label in buttons)
        return MessageCreated(MessageKind.REMINDER, rendered.locale,
                              for_display(rendered.text, rendered.locale), choices,
                              template=template, template_params=template_params)

    def command_menu(self, locale: str) -> list[tuple[str, str]]:
        """(command, description) pairs for a channel's command menu, read from the /help
        text of the locale, so the menu and /help never disagree."""
        help_text = self.translator.render(self.named_or_state_text("system.help"), locale).text
        menu = []
        for line in help_text.split("\n"):
            line = line.strip()
            if not line.startswith("/"):
                continue
            head, _, description = line.partition(":")
            command = head.split()[0].lstrip("/")
            if command in self.commands.commands and description.strip():
                menu.append((command, description.strip()))
        return menu

    def named_or_state_text(self, key: str) -> Text:
        for flow in self.flows.values():
            for text in flow.texts():
                if text.key == key:
                    return text
        raise KeyError(key)

    def _display(self, text: Text, locale: str | None) -> str:
        rendered = self.translator.render(text, locale)
        return for_display(rendered.text, rendered.locale)

    def _home(self, ctx: TurnContext) -> Target:
        s = ctx.session
        return HOME if s.locale is not None and s.consent is not None else START

    def _settle(self, ctx: TurnContext) -> None:
        """Follow jumps and `next` moves until the conversation waits for the user."""
        while not ctx.ended:
            ctx.hops += 1
            if ctx.hops > MAX_HOPS:
                raise FlowLoop(f"more than {MAX_HOPS} moves in one turn")
            if ctx.jump is not None:
                target, ctx.jump = ctx.jump, None
                if target.flow is None and not target.is_resume:
                    target = Target(ctx.session.flow, target.state)
                self._jump(ctx, target)
            elif self._state(ctx).next:
                self._fire(ctx, "advance")
            else:
                return

    # -- hooks called by the machines -------------------------------------------------------

    def _entered(self, ctx: TurnContext, flow: str, state: str) -> None:
        ctx.hops += 1
        if ctx.hops > MAX_HOPS:
            raise FlowLoop(f"more than {MAX_HOPS} moves in one turn")
        definition = self.flows[flow].states[state]
        ctx.session = ctx.session.evolve(flow=flow, state=state)
        choices = tuple(self._label(ctx, c) for c in definition.choices if self._shown(ctx, c))
        if not ctx.quiet:
            self._say(ctx, definition.say, choices, step=definition.step, flow=flow)
        ctx.session = ctx.session.evolve(offered=choices if definition.waits else ())
        if definition.end:
            ctx.ended = True

    def _store(self, ctx: TurnContext, slot: str | None) -> None:
        # Answers are kept only with the user's consent; without it they serve this turn alone.
        if slot is None or ctx.value is None:
            return
        ctx.values[slot] = ctx.value
        if ctx.session.consent is True:
            ctx.session = ctx.session.with_slot(slot, ctx.value)

    def _invalid(self, ctx: TurnContext, flow: str, state: str) -> None:
        definition = self.flows[flow].states[state]
        assert definition.input is not None
        problem = ctx.input_problem or ""
        ctx.emit(InputRejected(f"invalid_answer:{problem}" if problem else "invalid_answer"))
        text = definition.input.problems.get(problem, definition.input.invalid)
        self._say(ctx, (text,), ctx.session.offered)

    # -- saying things ----------------------------------------------------------------------

    def _render(self, ctx: TurnContext, text: Text, extra: Mapping[str, str] | None = None
                ) -> tuple[str, str]:
        params = localise_counts({**text_params(ctx, self.constants), **(extra or {})},
                                 ctx.session.locale)
        diagnosis = ctx.session.scratch.get("diagnosis", "")
        if self.catalogue is not None and diagnosis in self.catalogue.problems:
            title = self.catalogue.problems[diagnosis].title
            params["problem"] = self.translator.render(title, ctx.session.locale, params).text
        if "office_opens" in placeholders(text.source):
            opens = self.office.next_opening(ctx.now, self.tz)
            params["office_opens"] = (f"{show_date(opens.date(), ctx.session.locale)}, "
                                      f"{opens:%H:%M}")
        if self.support is not None and placeholders(text.source) & contacts.PARAMS:
            params.update(contacts.params(ctx, self._named_renderer(ctx), self._problem_fr(ctx)))
        if text.french:
            rendered = self.translator.render(text, SOURCE_LOCALE, params)
            return for_display(rendered.text, SOURCE_LOCALE), SOURCE_LOCALE
        if text.all_locales:
            lines = self.translator.render_all(text, params).split("\n")
            return "\n".join(for_display(line, _line_locale(line)) for line in lines), (
                ctx.session.locale or SOURCE_LOCALE)
        rendered = self.translator.render(text, ctx.session.locale, params)
        return for_display(rendered.text, rendered.locale), rendered.locale

    def _named_renderer(self, ctx: TurnContext) -> Callable[[str, Mapping[str, str]], str]:
        def render(key: str, params: Mapping[str, str]) -> str:
            values = localise_counts(dict(params), ctx.session.locale)
            return self.translator.render(self.named[key], ctx.session.locale, values).text
        return render

    def _problem_fr(self, ctx: TurnContext) -> str | None:
        """The recognised problem's title in French, as the administration will read it."""
        diagnosis = ctx.session.scratch.get("diagnosis", "")
        if self.catalogue is None or diagnosis not in self.catalogue.problems:
            return None
        return self.translator.render(self.catalogue.problems[diagnosis].title,
                                      SOURCE_LOCALE).text

    def _say(self, ctx: TurnContext, texts: tuple[Text, ...], choices: tuple[Choice, ...],
             step: int | None = None, flow: str = "") -> None:
        texts = tuple(t for t in texts if t.when is None or
                      self.registry.conditions[t.when.name](ctx, t.when.arg))
        for i, text in enumerate(texts):
            body, locale = self._render(ctx, text)
            if i == 0 and step is not None:
                # "Step 2 of 5" heads the first message of a journey's step.
                heading, _ = self._render(ctx, self.named["system.step"],
                                          {"step": str(step), "steps": str(self.steps[flow])})
                body = f"{heading}\n{body}"
            last = i == len(texts) - 1
            ctx.emit(MessageCreated(MessageKind.REPLY, locale, body, choices if last else ()))

    def _label(self, ctx: TurnContext, choice: ChoiceDef) -> Choice:
        if choice.raw is not None:
            return Choice(choice.id, choice.raw)
        assert choice.label is not None
        return Choice(choice.id, self._render(ctx, choice.label)[0])

    def _shown(self, ctx: TurnContext, choice: ChoiceDef) -> bool:
        if choice.when is None:
            return True
        return self.registry.conditions[choice.when.name](ctx, choice.when.arg)

    def _reject(self, ctx: TurnContext, reason: str, key: str) -> None:
        """Say why the input could not be used, and offer the same buttons again."""
        ctx.emit(InputRejected(reason))
        state = self._state(ctx)
        texts: tuple[Text, ...] = (self.named[key],)
        if state.input is not None and not ctx.session.offered and state.say:
            texts = (self.named[key], state.say[-1])  # ask the question again
        self._say(ctx, texts, ctx.session.offered)

    def _recover(self, base: Session, inbound: Inbound, now: datetime, exc: Exception
                 ) -> TurnContext:
        ctx = self._context(base.evolve(resume=None), inbound, now)
        failed = FlowFailed(base.flow, base.state, f"{type(exc).__name__}: {exc}"[:300])
        ctx.emit(failed)
        try:
            self._say(ctx, (self.named["system.apology"],), ())
            self._jump(ctx, self._home(ctx))
            self._settle(ctx)
        except Exception as second:
            ctx = self._context(self.new_session(base.user, now).evolve(
                locale=base.locale, consent=base.consent, slots=base.slots, version=base.version,
                created_at=base.created_at), inbound, now)
            ctx.emit(failed)
            ctx.emit(FlowFailed(START.flow or "", START.state, type(second).__name__))
            text = self.translator.render(self.named["system.apology"], base.locale)
            ctx.emit(MessageCreated(MessageKind.REPLY, text.locale,
                                    for_display(text.text, text.locale)))
        return ctx


def _content_words(text: str) -> int:
    """How many words a message has once greetings, thanks and the like are left out."""
    return len(strip_courtesy(fold(text)).split())


def match_offered(offered: tuple[Choice, ...], text: str) -> Choice | None:
    """The offered choice a typed message names: its number (any digits) or its exact label."""
    key = fold(text).rstrip(".)-:")
    number = ascii_digits(key)
    if number.isdigit() and number.isascii():
        index = int(number) - 1
        return offered[index] if 0 <= index < len(offered) else None
    for choice in offered:
        if _folded_label(choice.label) == key:
            return choice
    return None


@functools.lru_cache(maxsize=4096)
def _folded_label(label: str) -> str:
    # The same few hundred button labels are compared with every typed message.
    return fold(label)


def _line_locale(line: str) -> str | None:
    """For a line of a multilingual message: treat Arabic-script lines as right-to-left."""
    return "ar" if guess_direction_rtl(line) else None


def guess_direction_rtl(line: str) -> bool:
    for ch in line:
        if "\u0600" <= ch <= "\u06ff":
            return True
        if ch.isalpha():
            return False
    return False
