"""Producing texts and buttons: a flow's text rendered in the person's language with its values,
the "Step 2 of 5" heading, a button's label, a reminder. No I/O.

The edges that need words and nothing else (the scheduler's reminders, a channel's command
menu, the WhatsApp templates) use this part of the engine only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping
from datetime import date, datetime, tzinfo
from typing import Protocol

from bot.core.dates.office import OfficeHours
from bot.core.dates.written import show_date
from bot.core.events import InputRejected, MessageCreated
from bot.core.flows.definition import ChoiceDef, FlowDef, StateDef, Text
from bot.core.flows.registry import Registry, TurnContext
from bot.core.i18n import Catalog, Translator, placeholders
from bot.core.ladder import contacts
from bot.core.model import SOURCE_LOCALE, Choice, MessageKind
from bot.core.params import date_params, localise_counts, text_params
from bot.core.problems import Catalogue
from bot.core.reminders import BUTTONS, text_key
from bot.core.text import for_display


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


class Speaker:
    """Renders the content's texts for one person: their language, their dates and facts."""

    def __init__(self, flows: Mapping[str, FlowDef], catalogs: Mapping[str, Catalog],
                 registry: Registry, constants: Mapping[str, str], tz: tzinfo,
                 office: OfficeHours, support: contacts.Support | None,
                 catalogue: Catalogue | None, commands: Collection[str] = ()) -> None:
        self.flows = flows
        self.commands = frozenset(commands)  # names, for a channel's command menu
        self.translator = Translator(catalogs)
        self.named = {t.key: t for f in flows.values() for t in f.named.values()}
        self.registry = registry
        self.constants = dict(constants)
        self.tz = tz  # where the association is: "today" and days left are counted there
        self.office = office
        self.support = support  # the support ladder's knowledge
        self.catalogue = catalogue  # the known problems, for their titles
        self.steps = {name: max((s.step or 0 for s in f.states.values()), default=0)
                      for name, f in flows.items()}

    # -- a flow's texts, in a turn ----------------------------------------------------------

    def say(self, ctx: TurnContext, texts: tuple[Text, ...], choices: tuple[Choice, ...],
            step: int | None = None, flow: str = "") -> None:
        texts = tuple(t for t in texts if t.when is None or
                      self.registry.conditions[t.when.name](ctx, t.when.arg))
        for i, text in enumerate(texts):
            body, locale = self.render(ctx, text)
            if i == 0 and step is not None:
                # "Step 2 of 5" heads the first message of a journey's step.
                heading, _ = self.render(ctx, self.named["system.step"],
                                         {"step": str(step), "steps": str(self.steps[flow])})
                body = f"{heading}\n{body}"
            last = i == len(texts) - 1
            ctx.emit(MessageCreated(MessageKind.REPLY, locale, body, choices if last else ()))

    def say_named(self, ctx: TurnContext, key: str) -> None:
        """One of the texts the engine itself says (`texts:` sections), without buttons."""
        self.say(ctx, (self.named[key],), ())

    def reject(self, ctx: TurnContext, reason: str, key: str) -> None:
        """Say why the input could not be used, and offer the same buttons again."""
        ctx.emit(InputRejected(reason))
        state = self.state(ctx)
        texts: tuple[Text, ...] = (self.named[key],)
        if state.input is not None and not ctx.session.offered and state.say:
            texts = (self.named[key], state.say[-1])  # ask the question again
        self.say(ctx, texts, ctx.session.offered)

    def state(self, ctx: TurnContext) -> StateDef:
        return self.flows[ctx.session.flow].states[ctx.session.state]

    def render(self, ctx: TurnContext, text: Text, extra: Mapping[str, str] | None = None
               ) -> tuple[str, str]:
        params = localise_counts({**text_params(ctx, self.constants), **(extra or {})},
                                 ctx.session.locale)
        problem = ctx.session.scratch.get("diagnosis", "")
        if self.catalogue is not None and problem in self.catalogue.problems:
            title = self.catalogue.problems[problem].title
            params["problem"] = self.translator.render(title, ctx.session.locale, params).text
        if "office_opens" in placeholders(text.source):
            opens = self.office.next_opening(ctx.now, self.tz)
            params["office_opens"] = (f"{show_date(opens.date(), ctx.session.locale)}, "
                                      f"{opens:%H:%M}")
        if self.support is not None and placeholders(text.source) & contacts.PARAMS:
            params.update(contacts.params(ctx, self.named_renderer(ctx), self.problem_fr(ctx)))
        if text.french:
            rendered = self.translator.render(text, SOURCE_LOCALE, params)
            return for_display(rendered.text, SOURCE_LOCALE), SOURCE_LOCALE
        if text.all_locales:
            lines = self.translator.render_all(text, params).split("\n")
            return "\n".join(for_display(line, _line_locale(line)) for line in lines), (
                ctx.session.locale or SOURCE_LOCALE)
        rendered = self.translator.render(text, ctx.session.locale, params)
        return for_display(rendered.text, rendered.locale), rendered.locale

    def named_renderer(self, ctx: TurnContext) -> Callable[[str, Mapping[str, str]], str]:
        def render(key: str, params: Mapping[str, str]) -> str:
            values = localise_counts(dict(params), ctx.session.locale)
            return self.translator.render(self.named[key], ctx.session.locale, values).text
        return render

    def problem_fr(self, ctx: TurnContext) -> str | None:
        """The recognised problem's title in French, as the administration will read it."""
        problem = ctx.session.scratch.get("diagnosis", "")
        if self.catalogue is None or problem not in self.catalogue.problems:
            return None
        return self.translator.render(self.catalogue.problems[problem].title,
                                      SOURCE_LOCALE).text

    def label(self, ctx: TurnContext, choice: ChoiceDef) -> Choice:
        if choice.raw is not None:
            return Choice(choice.id, choice.raw)
        assert choice.label is not None
        return Choice(choice.id, self.render(ctx, choice.label)[0])

    def shown(self, ctx: TurnContext, choice: ChoiceDef) -> bool:
        if choice.when is None:
            return True
        return self.registry.conditions[choice.when.name](ctx, choice.when.arg)

    def display(self, text: Text, locale: str | None) -> str:
        rendered = self.translator.render(text, locale)
        return for_display(rendered.text, rendered.locale)

    # -- outside a turn: reminders, menus ---------------------------------------------------

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

    @functools.lru_cache(maxsize=4096)  # noqa: B019  (the speaker lives as long as the process)
    def _reminder_message(self, key: str, slot: str, planned: str, offset: int, locale: str,
                          today: date) -> MessageCreated:
        # Everyone reminded today "7 days before" has the same end date: one text per language.
        params = localise_counts({**self.constants, **date_params({slot: planned}, locale,
                                                                   today)}, locale)
        return self.remind(key, locale, params, BUTTONS[slot], f"{slot}:{offset}",
                           (params[slot],))

    def remind(self, key: str, locale: str | None, params: Mapping[str, str],
               buttons: tuple[tuple[str, str], ...], template: str,
               template_params: tuple[str, ...]) -> MessageCreated:
        """A reminder in the user's language, with its global buttons (valid from anywhere)."""
        rendered = self.translator.render(self.named[key], locale, params)
        choices = tuple(Choice(cid, self.display(self.named[label], locale))
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
            if command in self.commands and description.strip():
                menu.append((command, description.strip()))
        return menu

    def named_or_state_text(self, key: str) -> Text:
        for flow in self.flows.values():
            for text in flow.texts():
                if text.key == key:
                    return text
        raise KeyError(key)

    def apology(self, locale: str | None) -> MessageCreated:
        """The last resort when even the way home fails: said without any flow."""
        text = self.translator.render(self.named["system.apology"], locale)
        return MessageCreated(MessageKind.REPLY, text.locale, for_display(text.text, text.locale))


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
