"""Input parsers that flow files may name in `input: parse:`."""

from __future__ import annotations

from bot.core.dates.written import parse_date
from bot.core.flows.registry import REGISTRY, TurnContext


@REGISTRY.input("date")
def a_date(ctx: TurnContext, text: str, _: str | None) -> str | None:
    """A date in any accepted form; the value is ISO (2026-03-12)."""
    parsed = parse_date(text, ctx.local_date)
    if parsed.value is None:
        ctx.input_problem = parsed.problem.value if parsed.problem else None
        return None
    return parsed.value.isoformat()



@REGISTRY.input("error_report")
def error_report(ctx: TurnContext, text: str, _: str | None) -> str | None:
    """A description of a problem: the problem recognised, "unsure" when the user should
    choose among the best candidates, None when nothing is recognised."""
    if ctx.recognise is None:
        return None
    found = ctx.recognise(text)
    if not found.known and ctx.near(found):
        # Not sure of any, but near some: "is it one of these?" rather than "try again".
        ctx.session = ctx.session.with_scratch(
            diagnosis="closest", candidates=",".join(c.error for c in found.candidates))
        return "closest"
    if not found.known:
        ctx.input_problem = "unknown"
        return None
    candidates = ",".join(c.error for c in found.candidates)
    verdict = "unsure" if ctx.unsure(found) else found.error
    ctx.session = ctx.session.with_scratch(diagnosis=verdict, candidates=candidates)
    return verdict
