"""What the server is doing, on request: `kill -USR1 <pid>` logs, for each of its asyncio tasks,
the line each of its coroutines waits at. For an operator (or a test) facing an instance that
seems stuck: the log says which loop waits where. Code locations only: no variable, so no
personal data reaches the log."""

from __future__ import annotations

import asyncio
import logging
import signal

log = logging.getLogger(__name__)


def awaiting(coroutine: object) -> list[str]:
    """Where a suspended coroutine waits: its frame, then the one of what it awaits, and so
    on down (`Task.get_stack` stops at the first frame of a suspended coroutine)."""
    points = []
    while coroutine is not None:
        frame = getattr(coroutine, "cr_frame", None) or getattr(coroutine, "gi_frame", None)
        if frame is not None:
            path = frame.f_code.co_filename.rsplit("/", 2)[-2:]
            points.append(f"{'/'.join(path)}:{frame.f_lineno} {frame.f_code.co_name}")
        coroutine = getattr(coroutine, "cr_await", None) or getattr(coroutine, "gi_yieldfrom",
                                                                    None)
    return points


def task_stacks() -> list[str]:
    """One line per task: its name and where it waits, outermost call first."""
    return [f"{task.get_name()}: {' > '.join(awaiting(task.get_coro())) or 'not started'}"
            for task in sorted(asyncio.all_tasks(), key=lambda t: t.get_name())]


def log_task_stacks() -> None:
    stacks = task_stacks()
    log.warning("%d tasks (SIGUSR1):\n%s", len(stacks), "\n".join(stacks))


def answer_sigusr1(loop: asyncio.AbstractEventLoop) -> None:
    """Log the tasks' stacks whenever the process receives SIGUSR1."""
    loop.add_signal_handler(signal.SIGUSR1, log_task_stacks)
