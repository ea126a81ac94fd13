"""`python -m bot ladder`: the support ladder's rules from the command line, the same ones the
conversation uses.

    python -m bot ladder --json --now 2026-03-02 --api-end 2026-03-10 \\
        --contact ccc:2026-02-20 --contact prefecture:2026-02-25:answered

Without --api-end or --api-said the API's end is unknown: as in the conversation, no step
waits (every step opens at once, "api": "unknown" in the JSON, "API end unknown" in text).
"""

from __future__ import annotations

import json
import sys
from datetime import date

from bot.content import load_ladder
from bot.core.exceptions import RelaisError
from bot.core.ladder.rules import Contact, advise
from bot.settings import Settings


class UsageError(RelaisError, ValueError):
    pass


def parse_contact(raw: str, steps: list[str]) -> Contact:
    parts = raw.split(":")
    if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] != "answered"):
        raise UsageError(f"--contact {raw!r}: expected STEP:YYYY-MM-DD[:answered]")
    if parts[0] not in steps:
        raise UsageError(f"--contact {raw!r}: the steps are {', '.join(steps)}")
    try:
        day = date.fromisoformat(parts[1])
    except ValueError as exc:
        raise UsageError(f"--contact {raw!r}: {parts[1]!r} is not a date") from exc
    return Contact(parts[0], day, answered=len(parts) == 3)


def main(now: str, api_end: str | None, contacts: list[str], as_json: bool,
         api_said: str | None = None) -> int:
    settings = Settings.load()
    ladder = load_ladder(settings.flows_dir)
    try:
        today = date.fromisoformat(now)
        end = date.fromisoformat(api_end) if api_end else None
        recorded = [parse_contact(c, ladder.order) for c in contacts]
    except (UsageError, ValueError) as exc:
        print(f"relais: {exc}", file=sys.stderr)
        return 2
    advice = advise(ladder, recorded, today, end, api_said)
    if as_json:
        print(json.dumps(advice.as_json()))
    else:
        when = advice.open_from.isoformat() if advice.open_from else "-"
        print(f"next: {advice.next or 'none'} (open from {when}); urgent: {advice.urgent}; "
              f"appointment from: {advice.appointment_open_from or '-'}; API: {advice.api}; "
              f"{advice.reason}")
    return 0
