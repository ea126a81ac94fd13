"""Commands that work from every state: `/menu`, `/help`, ... and the plain words that mean them.

On WhatsApp and in the web chat there is no command menu, so a message that is exactly
"menu", "منو" or "القائمة" works like `/menu`. The table is data (`flows/commands.yaml`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.courtesy import strip as strip_courtesy
from bot.core.flows.definition import DefinitionError, Target
from bot.core.text import fold

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
#: Commands also understood inside a short sentence, and how short it must be.
IN_A_SENTENCE = frozenset({"menu", "language"})
SHORT_REQUEST = 4
_COMMAND = re.compile(r"^/([A-Za-z][A-Za-z0-9_]{0,31})(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)


@dataclass(frozen=True)
class Command:
    name: str
    goto: Target
    #: Whether the command interrupts the user's place, to come back to it with `@resume`.
    interrupts: bool
    #: Whether the command may run before the user has chosen a language.
    before_language: bool


@dataclass(frozen=True)
class CommandCall:
    command: Command
    argument: str


@dataclass(frozen=True)
class CommandTable:
    commands: Mapping[str, Command]
    aliases: Mapping[str, str]  # folded word -> command name
    #: Buttons valid from anywhere (those under reminders, which change no conversation state).
    buttons: Mapping[str, Command] = field(default_factory=dict)

    def match(self, text: str) -> CommandCall | str | None:
        """The command a message calls; the unknown name if it looks like a command; else None."""
        m = _COMMAND.match(text.strip())
        if m:
            name = m.group(1).lower()
            command = self.commands.get(name)
            return CommandCall(command, (m.group(2) or "").strip()) if command else name
        name = self.aliases.get(fold(text))
        if name is not None:
            return CommandCall(self.commands[name], "")
        return self._named_in(text)

    def _named_in(self, text: str) -> CommandCall | None:
        """A short sentence asking for the menu or the languages: "show me the menu",
        "منو ره نشان بته", "ورّيني القائمة", "change language please". Only these two: "help"
        is in too many reports ("I need help with my API") to be taken for /help."""
        words = _WORD.findall(strip_courtesy(fold(text)))
        if not words or len(words) > SHORT_REQUEST:
            return None
        named = {self.aliases[w] for w in words if self.aliases.get(w) in IN_A_SENTENCE}
        if len(named) != 1:
            return None
        return CommandCall(self.commands[named.pop()], "")


def _entries(section: Any, what: str, where: str, problems: list[str]) -> dict[str, Command]:
    """The `commands` or `buttons` section: name -> {goto: flow.state, interrupts, ...}."""
    out = {}
    for name, raw in (section or {}).items():
        goto = raw.get("goto") if isinstance(raw, Mapping) else None
        flow, _, state = str(goto).rpartition(".")
        if not flow or not state:
            problems.append(f"{where}: {what} {name}: goto must be `flow.state`")
            continue
        out[str(name)] = Command(name=str(name), goto=Target(flow, state),
                                 interrupts=bool(raw.get("interrupts", False)),
                                 before_language=bool(raw.get("before_language", False)))
    return out


def parse_commands(document: Any, where: str) -> CommandTable:
    problems: list[str] = []
    if not isinstance(document, Mapping) or document.get("version") != 1:
        raise DefinitionError([f"{where}: expected a mapping with `version: 1`"])
    commands = _entries(document.get("commands"), "command", where, problems)
    aliases: dict[str, str] = {}
    for name, words in (document.get("aliases") or {}).items():
        if name not in commands:
            problems.append(f"{where}: aliases for unknown command {name!r}")
            continue
        for word in words:
            key = fold(str(word))
            if key in aliases and aliases[key] != name:
                problems.append(f"{where}: alias {word!r} names two commands")
            aliases[key] = str(name)
    buttons = _entries(document.get("buttons"), "button", where, problems)
    if problems:
        raise DefinitionError(problems)
    return CommandTable(commands, aliases, buttons)
