"""Flow files as typed, checked data.

A flow file is YAML that has already been parsed into plain dicts and lists; this module turns
it into frozen definitions and collects every problem it finds instead of stopping at the first,
so that `flows check` can report them all. It knows the shape of a flow, not the meaning of
names: `machine.py` resolves names against the registries.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.core.exceptions import RelaisError

SPEC_VERSION = 1
RESUME = "@resume"  # goto target: back to where the user was before a command interrupted
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_CHOICE_ID = re.compile(r"^[a-z0-9][a-z0-9_]{0,31}$")
_KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


class DefinitionError(RelaisError):
    """A flow file does not have the expected shape. `problems` lists every one found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Text:
    """A translatable text: `key` is its gettext context, `source` the French message id."""

    key: str
    source: str
    note: str = ""
    all_locales: bool = False  # shown at once in every language (before the language is known)
    plural: str | None = None  # the French plural form; the text then depends on `count`
    count: str = "n"  # the parameter whose number picks the plural form
    when: Call | None = None  # in a `say` list: said only when this condition holds
    #: Always in French, never translated: a message the user copies and sends to a French
    #: administration (its meaning is explained in their language by the text before it).
    french: bool = False


@dataclass(frozen=True)
class Call:
    """A registry name with an optional single argument, written `name` or `name argument`."""

    name: str
    arg: str | None = None

    def __str__(self) -> str:
        return self.name if self.arg is None else f"{self.name} {self.arg}"


@dataclass(frozen=True)
class Target:
    flow: str | None  # None: the same flow
    state: str

    @property
    def is_resume(self) -> bool:
        return self.state == RESUME

    def qualified(self, here: str) -> tuple[str, str]:
        return (self.flow or here, self.state)


@dataclass(frozen=True)
class ChoiceDef:
    id: str
    label: Text | None  # None when `raw` is set
    raw: str | None  # a label shown as is in every locale (language names)
    goto: Target | None  # None: stay and render the state again
    do: tuple[Call, ...] = ()
    when: Call | None = None


@dataclass(frozen=True)
class Branch:
    goto: Target
    when: Call | None = None
    do: tuple[Call, ...] = ()


@dataclass(frozen=True)
class InputDef:
    """A free-text answer: `parse` names an input parser, `store` the slot the value goes to."""

    parse: Call
    goto: Target
    invalid: Text
    store: str | None = None
    do: tuple[Call, ...] = ()
    #: A more precise answer for some refusals, by the reason the parser gives.
    problems: Mapping[str, Text] = field(default_factory=dict)


@dataclass(frozen=True)
class StateDef:
    name: str
    say: tuple[Text, ...] = ()
    choices: tuple[ChoiceDef, ...] = ()
    input: InputDef | None = None
    next: tuple[Branch, ...] = ()
    enter: tuple[Call, ...] = ()
    sources: tuple[str, ...] = ()
    end: bool = False  # the conversation ends here; the next message starts afresh
    step: int | None = None  # "step 2 of 5" in a journey

    @property
    def waits(self) -> bool:
        """True when the state waits for the user (a tap or an answer)."""
        return bool(self.choices or self.input)


@dataclass(frozen=True)
class Review:
    checked: date
    every_days: int


@dataclass(frozen=True)
class FlowDef:
    name: str
    initial: str
    states: Mapping[str, StateDef]
    review: Review | None = None
    sources: tuple[str, ...] = ()
    named: Mapping[str, Text] = field(default_factory=dict)  # texts the engine says by name

    def texts(self) -> Iterator[Text]:
        yield from self.named.values()
        for state in self.states.values():
            yield from state.say
            for choice in state.choices:
                if choice.label is not None:
                    yield choice.label
            if state.input is not None:
                yield state.input.invalid
                yield from state.input.problems.values()


@dataclass
class _Reader:
    """Walks one flow document and notes problems with a readable location."""

    where: str
    problems: list[str] = field(default_factory=list)

    def problem(self, at: str, message: str) -> None:
        self.problems.append(f"{self.where}: {at}: {message}")

    def text(self, at: str, raw: Any) -> Text | None:
        if not isinstance(raw, Mapping):
            self.problem(at, "a text needs `key` and `text`")
            return None
        key, source = raw.get("key"), raw.get("text")
        if not isinstance(key, str) or not _KEY.match(key):
            self.problem(at, f"text key {key!r} must look like `flow.name`")
            return None
        if not isinstance(source, str) or not source.strip():
            self.problem(at, f"text {key} has no French `text`")
            return None
        unknown = set(raw) - {"key", "text", "note", "all_locales", "plural", "count", "when",
                                 "french"}
        if unknown:
            self.problem(at, f"text {key} has unknown fields {sorted(unknown)}")
        plural = raw.get("plural")
        count = str(raw.get("count", "n"))
        if plural is not None and "{" + count + "}" not in str(plural):
            self.problem(at, f"text {key}: the plural form must use {{{count}}}")
        when = self.call(f"{at}.when", raw["when"]) if "when" in raw else None
        return Text(key=key, source=source.strip(), note=str(raw.get("note", "")),
                    all_locales=bool(raw.get("all_locales", False)),
                    plural=str(plural).strip() if plural is not None else None, count=count,
                    when=when, french=bool(raw.get("french", False)))

    def call(self, at: str, raw: Any) -> Call | None:
        if not isinstance(raw, str) or not raw.strip():
            self.problem(at, f"expected `name` or `name argument`, got {raw!r}")
            return None
        name, _, arg = raw.strip().partition(" ")
        if not _ID.match(name):
            self.problem(at, f"{name!r} is not a valid name")
            return None
        return Call(name, arg.strip() or None)

    def calls(self, at: str, raw: Any) -> tuple[Call, ...]:
        if raw is None:
            return ()
        items = raw if isinstance(raw, list) else [raw]
        return tuple(c for i, item in enumerate(items) if (c := self.call(f"{at}[{i}]", item)))

    def target(self, at: str, raw: Any) -> Target | None:
        if not isinstance(raw, str):
            self.problem(at, f"goto must be `state` or `flow.state`, got {raw!r}")
            return None
        if raw == RESUME:
            return Target(None, RESUME)
        flow, dot, state = raw.rpartition(".")
        if not _ID.match(state) or (dot and not _ID.match(flow)):
            self.problem(at, f"goto {raw!r} is not `state` or `flow.state`")
            return None
        return Target(flow or None, state)

    def choice(self, at: str, raw: Any) -> ChoiceDef | None:
        if not isinstance(raw, Mapping):
            self.problem(at, "a choice is a mapping with `id`")
            return None
        cid = raw.get("id")
        if not isinstance(cid, str) or not _CHOICE_ID.match(cid):
            self.problem(at, f"choice id {cid!r} must be short lowercase ASCII (max 32)")
            return None
        label = self.text(f"{at}.label", raw["label"]) if "label" in raw else None
        raw_label = raw.get("raw")
        if (label is None) == (raw_label is None):
            self.problem(at, f"choice {cid} needs exactly one of `label` or `raw`")
        goto = self.target(f"{at}.goto", raw["goto"]) if "goto" in raw else None
        when = self.call(f"{at}.when", raw["when"]) if "when" in raw else None
        return ChoiceDef(id=cid, label=label, raw=raw_label, goto=goto,
                         do=self.calls(f"{at}.do", raw.get("do")), when=when)

    def branches(self, at: str, raw: Any) -> tuple[Branch, ...]:
        if isinstance(raw, str):
            raw = [{"goto": raw}]
        if not isinstance(raw, list) or not raw:
            self.problem(at, "`next` is a state name or a list of {when, goto}")
            return ()
        out = []
        for i, item in enumerate(raw):
            goto = self.target(f"{at}[{i}].goto", item.get("goto")) if isinstance(
                item, Mapping) else None
            if goto is None:
                continue
            when = self.call(f"{at}[{i}].when", item["when"]) if "when" in item else None
            out.append(Branch(goto=goto, when=when, do=self.calls(f"{at}[{i}].do", item.get("do"))))
        if out and out[-1].when is not None:
            self.problem(at, "the last branch of `next` must have no `when` (the fallback)")
        return tuple(out)

    def input(self, at: str, raw: Any) -> InputDef | None:
        if not isinstance(raw, Mapping):
            self.problem(at, "`input` needs `parse`, `goto` and `invalid`")
            return None
        parse = self.call(f"{at}.parse", raw.get("parse"))
        goto = self.target(f"{at}.goto", raw.get("goto"))
        invalid = self.text(f"{at}.invalid", raw.get("invalid"))
        store = raw.get("store")
        if store is not None and not (isinstance(store, str) and _ID.match(store)):
            self.problem(at, f"store {store!r} is not a slot name")
        problems = {}
        for reason, text in (raw.get("problems") or {}).items():
            if (found := self.text(f"{at}.problems.{reason}", text)) is not None:
                problems[str(reason)] = found
        if parse is None or goto is None or invalid is None:
            return None
        return InputDef(parse=parse, goto=goto, invalid=invalid, store=store,
                        do=self.calls(f"{at}.do", raw.get("do")), problems=problems)

    def state(self, name: str, raw: Any) -> StateDef:
        at = f"state {name}"
        if not isinstance(raw, Mapping):
            self.problem(at, "a state is a mapping")
            return StateDef(name=name)
        unknown = set(raw) - {"say", "choices", "input", "next", "enter", "sources", "end", "step"}
        if unknown:
            self.problem(at, f"unknown fields {sorted(unknown)}")
        say = tuple(t for i, item in enumerate(raw.get("say") or [])
                    if (t := self.text(f"{at}.say[{i}]", item)))
        choices = tuple(c for i, item in enumerate(raw.get("choices") or [])
                        if (c := self.choice(f"{at}.choices[{i}]", item)))
        ids = [c.id for c in choices]
        if len(ids) != len(set(ids)):
            self.problem(at, "two choices share an id")
        inp = self.input(f"{at}.input", raw["input"]) if "input" in raw else None
        nxt = self.branches(f"{at}.next", raw["next"]) if "next" in raw else ()
        end = bool(raw.get("end", False))
        if nxt and (choices or inp):
            self.problem(at, "`next` moves on at once, so it cannot be mixed with choices/input")
        if end and (nxt or choices or inp):
            self.problem(at, "an `end` state neither waits nor moves on")
        if choices and not say:
            self.problem(at, "buttons need a message to hang on: add `say`")
        step = raw.get("step")
        if step is not None and not (isinstance(step, int) and step > 0):
            self.problem(at, "`step` is the number of the step in the journey (1, 2, ...)")
            step = None
        return StateDef(name=name, say=say, choices=choices, input=inp, next=nxt, end=end,
                        step=step,
                        enter=self.calls(f"{at}.enter", raw.get("enter")),
                        sources=tuple(str(s) for s in raw.get("sources") or ()))


_TOP_LEVEL = {"flow", "version", "initial", "states", "texts", "review", "sources"}


def parse_flow(document: Any, where: str) -> FlowDef:
    """Build a flow from its parsed YAML; raise DefinitionError listing every problem.

    Top-level keys starting with `x-` are free: YAML anchors for repeated buttons live there.
    """
    reader = _Reader(where)
    if not isinstance(document, Mapping):
        raise DefinitionError([f"{where}: a flow file is a mapping"])
    unknown = {str(k) for k in document if not str(k).startswith("x-")} - _TOP_LEVEL
    if unknown:
        reader.problem("flow", f"unknown top-level keys {sorted(unknown)}")
    if document.get("version") != SPEC_VERSION:
        reader.problem("version", f"unknown flow spec version {document.get('version')!r}; "
                       f"this engine reads version {SPEC_VERSION}")
    name = document.get("flow")
    if not isinstance(name, str) or not _ID.match(name):
        reader.problem("flow", f"flow name {name!r} is not a valid name")
        name = "?"
    raw_states = document.get("states") or {}
    if not isinstance(raw_states, Mapping):
        reader.problem("states", "`states` maps a state name to a state")
        raw_states = {}
    states = {}
    for state_name, raw in raw_states.items():
        if not isinstance(state_name, str) or not _ID.match(state_name):
            reader.problem("states", f"state name {state_name!r} is not a valid name")
            continue
        states[state_name] = reader.state(state_name, raw)
    initial = document.get("initial")
    if states and initial not in states:
        reader.problem("initial", f"initial state {initial!r} is not defined")
    named = {}
    raw_named = document.get("texts") or {}
    if not isinstance(raw_named, Mapping):
        reader.problem("texts", "`texts` maps a name to a text")
        raw_named = {}
    for text_name, raw in raw_named.items():
        if (text := reader.text(f"texts.{text_name}", raw)) is not None:
            named[str(text_name)] = text
    if not states and not named:
        reader.problem("states", "a flow needs at least one state or named text")
    review = None
    if "review" in document:
        raw_review = document["review"]
        try:
            review = Review(checked=raw_review["checked"], every_days=int(raw_review["every_days"]))
            if not isinstance(review.checked, date):
                raise TypeError
        except (KeyError, TypeError, ValueError):
            reader.problem("review", "review needs `checked: YYYY-MM-DD` and `every_days: N`")
    if reader.problems:
        raise DefinitionError(reader.problems)
    return FlowDef(name=name, initial=str(initial), states=states, review=review, named=named,
                   sources=tuple(str(s) for s in document.get("sources") or ()))
