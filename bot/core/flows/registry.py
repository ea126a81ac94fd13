"""The only names a flow file may use: actions, conditions, input parsers and timers.

A flow says `do: set_locale fa_AF` or `when: has_consent`; the compiler looks the name up here
and refuses the flow if it is unknown. Nothing is ever imported by a dotted path from a flow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from bot.core.events import Event
from bot.core.flows.definition import Target
from bot.core.model import Inbound, Session
from bot.core.recognise import Recognition
from bot.core.reminders import ReminderPolicy


@dataclass(frozen=True)
class ReminderRequest:
    """A reminder a timer handler wants sent: the engine renders it in the user's language."""

    key: str  # the text
    params: Mapping[str, str]
    buttons: tuple[tuple[str, str], ...]  # (global button id, label text key)
    template: str = ""  # see MessageCreated.template
    template_params: tuple[str, ...] = ()


@dataclass
class TurnContext:
    """The mutable scratchpad of one turn. Actions change the session through it."""

    session: Session
    inbound: Inbound
    now: datetime
    events: list[Event] = field(default_factory=list)
    guessed_locale: str | None = None
    jump: Target | None = None
    value: str | None = None  # the parsed answer of an input state
    input_problem: str | None = None  # why the parser refused the answer, if it says
    values: dict[str, str] = field(default_factory=dict)  # answers of this turn, kept or not
    command_arg: str = ""
    quiet: bool = False  # entering a state without saying it (a command already answered it)
    #: The language was guessed from the words of this turn: its answer offers to change it.
    offer_language: bool = False
    #: The first words were about something else than ANEF (the 115, a doctor...): the
    #: greeting answers them too (a person of the association can help), so none is dropped.
    off_topic: bool = False
    hops: int = 0
    ended: bool = False
    today: date | None = None  # the date where the association is (set by the engine)
    recognise: Callable[[str], Recognition] | None = None  # set by the engine
    unsure: Callable[[Recognition], bool] = lambda _: False  # set by the engine
    #: Whether an unrecognised report is near enough to known problems to offer the closest.
    near: Callable[[Recognition], bool] = lambda _: False  # set by the engine
    tz: tzinfo = UTC  # the association's zone (set by the engine)
    reminder_policy: ReminderPolicy = field(default_factory=ReminderPolicy)
    #: bot.core.ladder.contacts.Support, set by the engine (kept untyped: no import cycle).
    support: Any = None
    reminders_out: list[ReminderRequest] = field(default_factory=list)  # from timer handlers
    #: The French case summary for a handoff, given its reason (set by the engine).
    summarise: Callable[[str], str] | None = None
    office: Any = None  # bot.core.dates.office.OfficeHours, set by the engine

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def known(self, slot: str) -> str | None:
        """An answer given in this turn, or kept from an earlier one."""
        return self.values.get(slot) or self.session.slots.get(slot)

    @property
    def local_date(self) -> date:
        return self.today if self.today is not None else self.now.date()


Action = Callable[[TurnContext, str | None], None]
Condition = Callable[[TurnContext, str | None], bool]
#: Parses the user's text; returns the value to store, or None when it is not acceptable.
InputParser = Callable[[TurnContext, str, str | None], str | None]
#: Handles a scheduled timer falling due.
TimerHandler = Callable[[TurnContext, Mapping[str, str]], None]


@dataclass
class Registry:
    actions: dict[str, Action] = field(default_factory=dict)
    conditions: dict[str, Condition] = field(default_factory=dict)
    inputs: dict[str, InputParser] = field(default_factory=dict)
    timers: dict[str, TimerHandler] = field(default_factory=dict)
    # Which actions need an argument, so that `flows check` can catch `set_locale` alone.
    needs_arg: set[str] = field(default_factory=set)

    def action(self, name: str, *, arg: bool = False) -> Callable[[Action], Action]:
        def register(fn: Action) -> Action:
            self.actions[name] = fn
            if arg:
                self.needs_arg.add(name)
            return fn

        return register

    def condition(self, name: str) -> Callable[[Condition], Condition]:
        def register(fn: Condition) -> Condition:
            self.conditions[name] = fn
            return fn

        return register

    def input(self, name: str) -> Callable[[InputParser], InputParser]:
        def register(fn: InputParser) -> InputParser:
            self.inputs[name] = fn
            return fn

        return register

    def timer(self, name: str) -> Callable[[TimerHandler], TimerHandler]:
        def register(fn: TimerHandler) -> TimerHandler:
            self.timers[name] = fn
            return fn

        return register

    def merged(self, other: Registry) -> Registry:
        return Registry(
            actions={**self.actions, **other.actions},
            conditions={**self.conditions, **other.conditions},
            inputs={**self.inputs, **other.inputs},
            timers={**self.timers, **other.timers},
            needs_arg=self.needs_arg | other.needs_arg,
        )


#: The project's registry: `actions.py`, `conditions.py`, `inputs.py` and the support ladder
#: (bot/core/ladder/contacts.py) fill it when imported.
REGISTRY = Registry()
