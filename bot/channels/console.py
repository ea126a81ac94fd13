"""The terminal: `python -m bot chat` talks to the assistant as one user."""

from __future__ import annotations

from typing import TextIO

from bot.core.text import FSI, PDI, RLM
from bot.outgoing import Outgoing

NAME = "console"
_INVISIBLE = str.maketrans("", "", FSI + PDI + RLM)


def render(message: Outgoing) -> str:
    # Terminals do their own (often no) bidi: the isolates only add noise there.
    lines = [message.text.translate(_INVISIBLE)]
    for number, choice in enumerate(message.choices, 1):
        lines.append(f"  {number}. {choice.label.translate(_INVISIBLE)}")
    return "\n".join(lines)


class ConsoleChannel:
    name = NAME

    def __init__(self, out: TextIO) -> None:
        self.out = out

    async def send(self, message: Outgoing) -> str | None:
        self.out.write(render(message) + "\n\n")
        self.out.flush()
        return None
