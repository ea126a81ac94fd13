"""Checks of the flows as a whole: what `python -m bot flows check` reports. Pure functions.

Loading already refused malformed files and unknown names; here the flows are checked as a
graph (every state reachable, none a dead end) and against the translations.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from bot.core.commands import CommandTable
from bot.core.flows.definition import FlowDef, StateDef, Target, Text
from bot.core.handoff import HANDOFF_TEXTS
from bot.core.i18n import placeholders
from bot.core.navigate import HOME, START
from bot.core.reminders import BUTTONS, FOLLOWUP_BUTTONS, FOLLOWUP_TEXTS, OFFSETS
from bot.core.understand import ENTRY_POINTS, UNDERSTANDING_TEXTS


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _targets(state: StateDef) -> Iterable[Target]:
    for choice in state.choices:
        if choice.goto is not None:
            yield choice.goto
    for branch in state.next:
        yield branch.goto
    if state.input is not None:
        yield state.input.goto


def check_graph(flows: Mapping[str, FlowDef], commands: CommandTable,
                entry_points: Iterable[tuple[str, str]], report: Report) -> None:
    """Every state must be reachable from an entry point and must wait, move on or end."""
    reachable: set[tuple[str, str]] = set()
    todo = [*entry_points, *((c.goto.flow or "", c.goto.state) for c in
                             (*commands.commands.values(), *commands.buttons.values()))]
    while todo:
        here = todo.pop()
        if here in reachable or here[0] not in flows or here[1] not in flows[here[0]].states:
            continue
        reachable.add(here)
        for target in _targets(flows[here[0]].states[here[1]]):
            if not target.is_resume:
                todo.append(target.qualified(here[0]))
    for definition in flows.values():
        for state in definition.states.values():
            where = f"{definition.name}.{state.name}"
            if (definition.name, state.name) not in reachable:
                report.problems.append(f"{where}: unreachable (no command, choice or goto leads "
                                       "here)")
            if not (state.waits or state.next or state.end):
                report.problems.append(f"{where}: dead end (no choices, no input, no `next`, "
                                       "not `end`)")
            if state.say == () and state.waits and not state.input:
                report.problems.append(f"{where}: buttons with no message")


def check_translations(texts: Iterable[Text], locale: str,
                       entries: Mapping[tuple[str, str], tuple[tuple[str, ...], bool]],
                       report: Report) -> None:
    """`entries` maps (context, msgid) to (forms, fuzzy) as read from the locale's .po; a text
    with a plural has one form per plural category of the locale, each checked alone."""
    seen: set[tuple[str, str]] = set()
    for text in texts:
        key = (text.key, text.source)
        if key in seen or text.french:  # French on purpose: nothing to translate
            continue
        seen.add(key)
        found = entries.get(key)
        if found is None:
            report.problems.append(f"{locale}: {text.key}: missing from the catalog "
                                   "(run `make catalogs`)")
            continue
        forms, fuzzy = found
        if fuzzy:
            report.problems.append(f"{locale}: {text.key}: fuzzy (the French changed: review it)")
            continue
        for index, form in enumerate(forms):
            where = f"{locale}: {text.key}" + (f"[{index}]" if len(forms) > 1 else "")
            problem = _form_problem(text, form)
            if problem:
                report.problems.append(f"{where}: {problem}")
            elif len(form) > MAX_TRANSLATION_LENGTH:
                report.warnings.append(f"{where}: {len(form)} characters")
    unused = sorted({k for k in entries if k not in seen and k[1]})
    for context, _ in unused:
        report.warnings.append(f"{locale}: {context}: in the catalog but no flow uses it")


def _form_problem(text: Text, form: str) -> str | None:
    if not form.strip():
        return "not translated"
    if placeholders(form) != placeholders(text.source):
        return (f"placeholders differ: French has {sorted(placeholders(text.source))}, "
                f"translation has {sorted(placeholders(form))}")
    if "\n" in text.source and text.source.count("\n") != form.count("\n"):
        return (f"the French has {text.source.count(chr(10)) + 1} lines, the translation "
                f"{form.count(chr(10)) + 1}")
    return None


def check_keys(texts: Iterable[Text], report: Report) -> None:
    """One key, one French text: a key reused with another text would mix translations."""
    by_key: dict[str, str] = {}
    for text in texts:
        if by_key.setdefault(text.key, text.source) != text.source:
            report.problems.append(f"text key {text.key} is used for two different French texts")


#: A message should fit a phone screen: about 600 characters. Translations may run longer.
MAX_SOURCE_LENGTH = 600
MAX_TRANSLATION_LENGTH = 750


def check_lengths(texts: Iterable[Text], report: Report) -> None:
    for text in texts:
        for form in (text.source, text.plural or ""):
            if len(form) > MAX_SOURCE_LENGTH:
                report.problems.append(f"{text.key}: {len(form)} characters; a message should "
                                       f"stay under {MAX_SOURCE_LENGTH}")


def check_sources(flows: Mapping[str, FlowDef], known: Mapping[str, object],
                  report: Report) -> None:
    """Every source a flow cites must be in flows/knowledge/sources.yaml."""
    for flow in flows.values():
        cited = list(flow.sources) + [s for st in flow.states.values() for s in st.sources]
        for key in cited:
            if key not in known:
                report.problems.append(f"{flow.name}: cites {key}, which sources.yaml lacks")


def check_reviews(flows: Mapping[str, FlowDef], today: date, report: Report) -> None:
    for flow in flows.values():
        if flow.review is None:
            continue
        due = flow.review.checked + timedelta(days=flow.review.every_days)
        if due < today:
            report.warnings.append(f"{flow.name}: content last checked {flow.review.checked}, "
                                   f"review was due {due}")


def mermaid(flow: FlowDef) -> str:
    """A Mermaid state diagram of one flow; jumps to other flows are drawn as notes."""
    lines = ["stateDiagram-v2", f"    [*] --> {flow.initial}"]
    foreign: dict[str, str] = {}
    for state in flow.states.values():
        for choice in state.choices:
            dest = choice.goto
            label = choice.id + (f" [{choice.when}]" if choice.when else "")
            lines.append(_edge(flow, state.name, dest, label, foreign))
        for branch in state.next:
            label = f"[{branch.when}]" if branch.when else "next"
            lines.append(_edge(flow, state.name, branch.goto, label, foreign))
        if state.input is not None:
            lines.append(_edge(flow, state.name, state.input.goto,
                               f"answer ({state.input.parse})", foreign))
        if state.end:
            lines.append(f"    {state.name} --> [*]")
    # States of other flows, and "where the user was" for @resume, drawn with their full name.
    lines += [f'    state "{title}" as {node}' for node, title in sorted(foreign.items())]
    return "\n".join(lines) + "\n"


def _edge(flow: FlowDef, source: str, dest: Target | None, label: str,
          foreign: dict[str, str]) -> str:
    if dest is None:
        return f"    {source} --> {source}: {label}"
    if dest.is_resume:
        foreign["resume"] = "back where the user was"
        return f"    {source} --> resume: {label}"
    if dest.flow and dest.flow != flow.name:
        node = f"{dest.flow}_{dest.state}"
        foreign[node] = f"{dest.flow}.{dest.state}"
        return f"    {source} --> {node}: {label}"
    return f"    {source} --> {dest.state}: {label}"


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


def engine_needs(flows: Mapping[str, FlowDef], named: Collection[str], commands: CommandTable,
                 *, recognising: bool, support: bool) -> list[str]:
    """What the engine needs from the content and the content lacks: the texts it says itself
    (those of a handoff, of first contact, of the reminders...) and the states it jumps to.
    `recognising`: with a recogniser (the problem flow is needed only then)."""
    reminder_texts = {k for texts in OFFSETS.values() for k in texts.values()}
    reminder_texts |= {label for buttons in BUTTONS.values() for _, label in buttons}
    if support:
        reminder_texts |= {*FOLLOWUP_TEXTS.values(), *(k for _, k in FOLLOWUP_BUTTONS)}
    needed = (*ENGINE_TEXTS, *(HANDOFF_TEXTS if "handoff" in flows else ()),
              *(UNDERSTANDING_TEXTS if recognising else ()))
    missing = [k for k in (*needed, *sorted(reminder_texts)) if k not in named]
    entry = ENTRY_POINTS if recognising else (HOME, START)
    for target in (*entry, *(c.goto for c in commands.commands.values()),
                   *(b.goto for b in commands.buttons.values())):
        flow = target.flow or ""
        if flow not in flows or target.state not in flows[flow].states:
            missing.append(f"{target.flow}.{target.state}")
    return missing
