"""`python -m bot chat`: a conversation with the assistant in the terminal, as one user."""

from __future__ import annotations

import asyncio
import sys
from itertools import count

from bot.channels.console import NAME, ConsoleChannel
from bot.clock import SystemClock
from bot.core.model import Inbound
from bot.runtime import Runtime
from bot.settings import Settings

HELLO = (
    "Relais: type a message, a button's number, or a command such as /help. "
    "Ctrl-D to quit.\n"
)


async def chat(settings: Settings, user: str) -> int:
    clock = SystemClock()
    runtime = Runtime.build(settings, clock, {NAME: ConsoleChannel(sys.stdout)})
    await runtime.start()
    key = f"{NAME}:{user}"
    sys.stdout.write(HELLO + "\n")
    try:
        await runtime.sender.drain()
        for number in count(1):
            line = await asyncio.to_thread(_read, "> ")
            if line is None:
                return 0
            message_id = f"{clock.now().timestamp():.6f}-{number}"
            await runtime.conversations.handle(Inbound.text_message(key, message_id, line),
                                               clock.now())
            await runtime.scheduler.run_due(clock.now())
            await runtime.sender.drain()
    finally:
        await runtime.close()
    return 0


def _read(prompt: str) -> str | None:
    try:
        return input(prompt)
    except EOFError:
        return None


def main(user: str) -> int:
    try:
        return asyncio.run(chat(Settings.load(), user))
    except KeyboardInterrupt:
        return 0
