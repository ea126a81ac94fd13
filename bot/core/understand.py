"""Understanding what the person sent: a command, a button (tapped, or typed by its number or
label), an answer to the question asked, a language named, a problem recognised in their words
or screenshot, small talk, a secret sent by mistake, or something it cannot use. No I/O.

Each reading ends in a move (`Navigator`) or a short answer (`Speaker`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping

from bot.core.commands import CommandCall, CommandTable
from bot.core.courtesy import SmallTalk, small_talk
from bot.core.courtesy import strip as strip_courtesy
from bot.core.events import InputRejected, MessageCreated, OrganisationChosen
from bot.core.flows.actions import set_locale
from bot.core.flows.definition import FlowDef, Target, Text
from bot.core.flows.machine import choice_trigger
from bot.core.flows.registry import TurnContext
from bot.core.guards.safety import PAYMENT_PROBLEMS, payment_warning_due
from bot.core.guards.secrets import looks_like_secret
from bot.core.langdetect import language_named
from bot.core.model import Choice
from bot.core.navigate import HOME, ONBOARDING_DUE, START, Navigator
from bot.core.recognise import NEWS, QUESTION, Recogniser, Recognition
from bot.core.speak import Speaker
from bot.core.text import LONG_MESSAGE, ascii_digits, fold, is_only_symbols

CONFIRM_PROBLEM = Target("errors", "confirm")  # a problem recognised anywhere is offered here
DESCRIBE = Target("errors", "describe")  # a screenshot that names no known problem
CHOOSE = Target("errors", "choose")  # two problems are close: the user picks
CLOSEST = Target("errors", "closest")  # nothing recognised: "is it one of these?"
#: A stateless person's first card is asked at the préfecture, not on ANEF (ANEF.md 7bis):
#: what the first-card guide says to them, with a person.
STATELESS = Target("first_card", "card_stateless")
PICKER = Target("onboarding", "choose_language")
#: "I will write to you in Dari: continue / change": a language guessed, not yet confirmed.
GUESSED = Target("onboarding", "confirm_language")
#: The button added under the first answer to someone whose language was guessed.
CHANGE_LANGUAGE = "language"
#: The locale an app's language code suggests (Afghans' phones say "fa" for Dari).
APP_LANGUAGES = {"fa": "fa_AF", "prs": "fa_AF", "ps": "ps", "ar": "ar", "fr": "fr", "en": "en"}
#: States the engine itself jumps to, beside those the commands name.
ENTRY_POINTS = (HOME, START, CONFIRM_PROBLEM, DESCRIBE, CHOOSE, CLOSEST, PICKER, STATELESS)
#: Texts of first contact and of messages not recognised: needed with a recogniser.
UNDERSTANDING_TEXTS = (
    "system.greeting_reply",
    "system.thanks_reply",
    "system.off_topic",
    "onboarding.greeting_first_words",
)


class Reader:
    """Reads one inbound message in the state the conversation is in, and acts on it."""

    def __init__(self, flows: Mapping[str, FlowDef], commands: CommandTable,
                 recogniser: Recogniser | None, navigator: Navigator,
                 speaker: Speaker) -> None:
        self.flows = flows
        self.commands = commands
        self.recogniser = recogniser
        self.navigator = navigator
        self.speaker = speaker

    # -- typed text -------------------------------------------------------------------------

    def typed(self, ctx: TurnContext, text: str) -> None:
        if not text:
            self.speaker.reject(ctx, "empty", "system.empty_message")
        elif len(text) > LONG_MESSAGE:
            self.speaker.reject(ctx, "too_long", "system.long_message")
        elif looks_like_secret(text, alone=self.navigator.state(ctx).input is None):
            # Never asked for: say so, and the runtime keeps nothing of this message. Where a
            # number is asked (a reference), only a code or password named as such counts.
            self.speaker.reject(ctx, "secret", "system.secret_received")
        else:
            # The timbre fiscal is a normal payment: only other talk of paying is warned of,
            # and not when the advice of a recognised payment problem will say it anyway.
            if (payment_warning_due(text) and match_offered(ctx.session.offered, text) is None
                    and not any(self._recognised_as(text, p) for p in PAYMENT_PROBLEMS)):
                self.speaker.say_named(ctx, "safety.payment_warning")
            self._understand(ctx, text)

    def _recognised_as(self, text: str, problem: str) -> bool:
        return self.recogniser is not None and self.recogniser.recognise(text).error == problem

    def _understand(self, ctx: TurnContext, text: str) -> None:
        if (choice := match_offered(ctx.session.offered, text)) is not None:
            self.tap(ctx, choice.id)
        elif (self.navigator.at(ctx, PICKER) and self.recogniser is not None
              and (named := language_named(text)) is not None):
            self._pick_language(ctx, named)
        elif is_only_symbols(text):
            self.speaker.reject(ctx, "only_symbols", "system.only_symbols")
        elif self.navigator.state(ctx).input is not None:
            # A sentence that clearly reports a known problem is not an answer to "which
            # date?": offer the problem first (the question comes back with "resume").
            asked_for_report = ctx.session.flow == (DESCRIBE.flow or "")
            if (asked_for_report or content_words(text) < 4
                    or not self._offer_problem(ctx, text)):
                self.navigator.fire(ctx, "answer", text=text)
        elif not self._offer_problem(ctx, text):
            self._not_matched(ctx, text)

    def _not_matched(self, ctx: TurnContext, text: str, resume: bool = True) -> None:
        """Nothing recognised for sure. Small talk gets a fitting answer; a message about ANEF
        the three closest known problems ("is it one of these?") and a person; anything else
        a short answer saying what the assistant does."""
        kind = small_talk(text) if self.recogniser is not None else None
        if kind is SmallTalk.GREETING:
            self.speaker.reject(ctx, "small_talk", "system.greeting_reply")
        elif kind is SmallTalk.THANKS:
            self.speaker.reject(ctx, "small_talk", "system.thanks_reply")
        elif (kind is not None or self.recogniser is None or CLOSEST.flow not in self.flows
              or ctx.session.locale is None or content_words(text) < 2):
            # A word or a number that is no button: too little to guess a problem from.
            self.speaker.reject(ctx, "not_understood", "system.not_understood")
        elif (self.recogniser.names(text, "stateless") and STATELESS.flow in self.flows
              and not self.recogniser.recognise(text).known):
            # "Je suis apatride, je demande ma carte où ?": the guide's answer for them.
            ctx.emit(InputRejected("stateless"))
            ctx.session = ctx.session.evolve(
                resume=(ctx.session.flow, ctx.session.state) if resume else None)
            self.navigator.jump(ctx, STATELESS)
        elif (found := self.recogniser.recognise(text)).why == NEWS:
            # "Merci, la préfecture m'a donné ma carte": glad, not "describe your problem".
            self.speaker.reject(ctx, "good_news", "system.good_news")
        elif found.why == QUESTION and not self.recogniser.about_elsewhere(text):
            # A question of the procedure that no guide answers here: a person can; a
            # problem behind it can still be told.
            self.speaker.reject(ctx, "question", "system.question_unanswered")
        elif self.near_a_problem(found):
            ctx.emit(InputRejected("closest"))
            ctx.session = ctx.session.with_scratch(
                diagnosis="", candidates=",".join(c.error for c in found.candidates),
            ).evolve(resume=(ctx.session.flow, ctx.session.state) if resume else None)
            self.navigator.jump(ctx, CLOSEST)
        elif self.recogniser.about_the_procedure(text) and DESCRIBE.flow in self.flows:
            # About ANEF, but too vague to guess from ("I have a problem with my API"):
            # ask for the problem in a few words, the error message or a screenshot.
            ctx.emit(InputRejected("vague"))
            ctx.session = ctx.session.evolve(
                resume=(ctx.session.flow, ctx.session.state) if resume else None)
            self.navigator.jump(ctx, DESCRIBE)
        else:
            self.speaker.reject(ctx, "off_topic", "system.off_topic")

    def near_a_problem(self, found: Recognition) -> bool:
        """Whether the best candidates are worth offering: close enough to a known problem,
        and not nearer to the examples of unrelated chat."""
        assert self.recogniser is not None
        if not found.candidates:
            return False
        top = found.candidates[0].score
        return top >= self.recogniser.thresholds.closest and top > found.unrelated

    # -- first contact ----------------------------------------------------------------------

    def first_words(self, ctx: TurnContext, text: str) -> None:
        """Free text before the language is chosen (the first message, or words typed at the
        language question). The language is taken from the words themselves, and the message
        is then answered in it: a problem is offered, small talk greeted. The privacy notice
        and the consent come once that answer is given (the menu leads there), and nothing
        the person wrote is kept before."""
        at_picker = self.navigator.at(ctx, PICKER)
        asked = at_picker or self.navigator.at(ctx, GUESSED)  # the language question is shown
        if asked and (choice := match_offered(ctx.session.offered, text)) is not None:
            self.tap(ctx, choice.id)
            return
        if self.recogniser is not None and (named := language_named(text)) is not None:
            self._pick_language(ctx, named)
            return
        locale = ctx.guessed_locale
        if looks_like_secret(text):
            if (locale is not None and locale != ctx.session.locale
                    and self.recogniser is not None):
                self.adopt_locale(ctx, locale)
            self.speaker.reject(ctx, "secret", "system.secret_received")
            if ctx.session.locale is None and not at_picker:
                self.navigator.jump(ctx, START)
            return
        if locale is None or len(text) > LONG_MESSAGE or is_only_symbols(text):
            if asked:
                self.typed(ctx, text)  # says why, and asks the language again
            else:
                self.navigator.jump(ctx, START)
            return
        found = self.recogniser.recognise(text) if self.recogniser is not None else None
        if found is None or small_talk(text) is not None or not (
                found.known or self.near_a_problem(found)
                or (self.recogniser is not None and self.recogniser.about_the_procedure(text))):
            if self.recogniser is not None and self.recogniser.about_elsewhere(text):
                # About something else (the 115, a doctor, school): the greeting answers it
                # too, not only the language.
                ctx.emit(InputRejected("off_topic"))
                ctx.off_topic = True
            if ctx.session.locale is not None and locale != ctx.session.locale:
                # The app's language was guessed, the words say another: greet in theirs.
                set_locale(ctx, locale)
                self.navigator.jump(ctx, GUESSED)
            else:
                self.navigator.jump(ctx, START)  # a greeting in their language, one tap to change
            return
        self.adopt_locale(ctx, locale)
        if payment_warning_due(text) and not any(self._recognised_as(text, p)
                                                 for p in PAYMENT_PROBLEMS):
            self.speaker.say_named(ctx, "safety.payment_warning")
        # The person wrote to us about something: a report is likely, so the usual bar for
        # recognising one is enough (not the higher bar used in the middle of a guide).
        if not self._offer_problem(ctx, text, self.recogniser.thresholds.accept
                                     if self.recogniser else None, resume=False):
            self._not_matched(ctx, text, resume=False)

    def adopt_locale(self, ctx: TurnContext, locale: str) -> None:
        set_locale(ctx, locale)
        ctx.session = ctx.session.with_scratch(**{ONBOARDING_DUE: "1"})
        self.speaker.say_named(ctx, "onboarding.greeting_first_words")
        ctx.offer_language = True

    def _pick_language(self, ctx: TurnContext, locale: str) -> None:
        """A language named in words ("dari", "پښتو", "arabe"): as if its button was tapped."""
        if not self.navigator.at(ctx, PICKER):
            self.navigator.quietly_jump(ctx, PICKER)
        self.navigator.fire(ctx, choice_trigger(locale.lower()))

    def add_language_button(self, ctx: TurnContext) -> None:
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
        button = Choice(CHANGE_LANGUAGE, self.speaker.display(self._change_label,
                                                              ctx.session.locale))
        ctx.events[last] = dataclasses.replace(message, choices=(*message.choices, button))
        ctx.session = ctx.session.evolve(offered=(*offered, button))

    @functools.cached_property
    def _change_label(self) -> Text:
        return self.speaker.named_or_state_text("onboarding.change_language")

    # -- screenshots and recognised problems ------------------------------------------------

    def photo(self, ctx: TurnContext, text: str) -> None:
        """A screenshot: the edge read its text (OCR) and removed names, long numbers and
        e-mail addresses. It is then a report like a typed one."""
        if ctx.inbound.payload.get("ocr") == "unavailable" or self.recogniser is None:
            self.speaker.reject(ctx, "photo", "system.photo_unsupported")
        elif not text.strip():
            self.speaker.reject(ctx, "photo_unreadable", "system.photo_unreadable")
        elif self.navigator.state(ctx).input is not None and ctx.session.flow == DESCRIBE.flow:
            self.navigator.fire(ctx, "answer", text=text)
        elif not self._offer_problem(ctx, text):
            ctx.session = ctx.session.evolve(resume=(ctx.session.flow, ctx.session.state))
            self.navigator.jump(ctx, DESCRIBE)

    def _offer_problem(self, ctx: TurnContext, text: str, bar: float | None = None,
                         resume: bool = True) -> bool:
        """From anywhere: a recognised report is offered for one-tap confirmation, or, when
        two problems are close, as a choice among the best; the interrupted journey can be
        resumed afterwards."""
        if self.recogniser is None or CONFIRM_PROBLEM.flow not in self.flows:
            return False
        found = self.recogniser.recognise(text)
        if not found.known or found.score < (bar or self.recogniser.thresholds.anywhere):
            return False
        unsure = self.recogniser.needs_choice(found)
        ctx.session = ctx.session.with_scratch(
            diagnosis="unsure" if unsure else found.error,
            candidates=",".join(c.error for c in found.candidates),
        ).evolve(resume=(ctx.session.flow, ctx.session.state) if resume else None)
        self.navigator.jump(ctx, CHOOSE if unsure else CONFIRM_PROBLEM)
        return True

    # -- buttons and commands ---------------------------------------------------------------

    def tap(self, ctx: TurnContext, choice_id: str) -> None:
        offered = {c.id for c in ctx.session.offered}
        if choice_id == CHANGE_LANGUAGE and choice_id in offered and not any(
                c.id == choice_id for c in self.navigator.state(ctx).choices):
            ctx.session = ctx.session.evolve(resume=None)
            self.navigator.jump(ctx, PICKER)
        elif choice_id in offered:
            self.navigator.fire(ctx, choice_trigger(choice_id))
        elif choice_id in self.commands.buttons and ctx.session.locale is not None:
            self.command(ctx, CommandCall(self.commands.buttons[choice_id], ""))
        else:
            self.speaker.reject(ctx, "stale_choice", "system.stale_choice")

    def command(self, ctx: TurnContext, call: CommandCall) -> None:
        command, session = call.command, ctx.session
        if command.name == "start" and call.argument:
            # `/start <code>`: a Telegram deep link names the user's association.
            ctx.emit(OrganisationChosen(call.argument.strip()[:64]))
        if session.locale is None and not command.before_language:
            if (ctx.guessed_locale is None or self.recogniser is None
                    or ctx.inbound.text.strip().startswith("/")):
                self.navigator.jump(ctx, START)
                return
            # "کمک", "مرسته", "القائمة": the word itself says the language.
            self.adopt_locale(ctx, ctx.guessed_locale)
            session = ctx.session
        resume = (session.flow, session.state) if command.interrupts else None
        ctx.session = session.evolve(resume=resume)
        target = self.flows[command.goto.flow or ""].states.get(command.goto.state)
        if call.argument and target is not None and target.input is not None:
            # `/api 12/03/2026`: the argument answers the command's question at once.
            self.navigator.quietly_jump(ctx, command.goto)
            self.navigator.fire(ctx, "answer", text=call.argument)
            return
        ctx.command_arg = call.argument
        self.navigator.jump(ctx, command.goto)


def content_words(text: str) -> int:
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
