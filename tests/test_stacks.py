"""`kill -USR1` makes the server log where each of its tasks waits (bot/stacks.py)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

import pytest

from bot.stacks import answer_sigusr1, task_stacks


async def deep(event: asyncio.Event) -> None:
    await event.wait()


async def outer(event: asyncio.Event) -> None:
    await deep(event)


async def test_each_task_shows_the_chain_of_calls_it_waits_in() -> None:
    event = asyncio.Event()
    task = asyncio.create_task(outer(event), name="the-waiter")
    await asyncio.sleep(0)
    (line,) = [s for s in task_stacks() if s.startswith("the-waiter:")]
    # Outermost first, down to asyncio's own wait: more than Task.get_stack's one frame.
    assert line.index("outer") < line.index("deep") < line.index("locks.py")
    assert "tests/test_stacks.py" in line
    event.set()
    await task


async def test_sigusr1_logs_the_tasks(caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.get_running_loop()
    event = asyncio.Event()
    task = asyncio.create_task(outer(event), name="the-waiter")
    answer_sigusr1(loop)
    try:
        with caplog.at_level(logging.WARNING, logger="bot.stacks"):
            os.kill(os.getpid(), signal.SIGUSR1)
            for _ in range(100):
                if "SIGUSR1" in caplog.text:
                    break
                await asyncio.sleep(0.01)
    finally:
        loop.remove_signal_handler(signal.SIGUSR1)
        event.set()
        await task
    assert "tasks (SIGUSR1)" in caplog.text
    assert "the-waiter: " in caplog.text
    assert "test_stacks.py" in caplog.text
