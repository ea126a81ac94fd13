"""The catalogue of known ANEF problems (flows/knowledge/errors.yaml) and the states it adds
to the `errors` flow.

Each problem gets a state `about_<id>` that gives its advice, a button on the `choose` state
(shown only when the recogniser ranked it among the best), and a branch of the `recognised`
and `confirmed` states. Writing these by hand for sixteen problems would repeat the same YAML
sixteen times; generating them from the catalogue keeps one place to edit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.core.flows.definition import (
    Branch,
    Call,
    ChoiceDef,
    DefinitionError,
    FlowDef,
    StateDef,
    Target,
    Text,
    _Reader,
)

_ID = re.compile(r"^[a-z][a-z_]{2,31}$")
#: Steps of the support ladder a problem may send the user to next ("none": no ladder step).
LADDER_STEPS = ("personal_space", "ccc", "prefecture", "appointment", "defenseur_des_droits",
                "court", "none")
REQUIRED_IDS = (
    "account_creation_blocked", "login_loop", "contact_details_change", "technical_error",
    "upload_rejected", "api_not_generated", "api_expired_not_renewed", "api_short_validity",
    "api_wrong_mentions", "application_closed", "application_stuck", "request_blocked_existing",
    "api_refused_by_third_party", "appointment_unavailable", "scam_payment_request",
    "fee_payment_question",
)


@dataclass(frozen=True)
class Problem:
    id: str
    title: Text
    advice: Text
    next: str
    caseworker: bool
    screen: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalogue:
    problems: Mapping[str, Problem]

    def texts(self) -> list[Text]:
        return [t for p in self.problems.values() for t in (p.title, p.advice)]

    def screens(self) -> dict[str, tuple[str, ...]]:
        return {p.id: p.screen for p in self.problems.values() if p.screen}


def parse_catalogue(document: Any, where: str) -> Catalogue:
    reader = _Reader(where)
    if not isinstance(document, Mapping) or document.get("version") != 1:
        raise DefinitionError([f"{where}: expected a mapping with `version: 1`"])
    problems = {}
    for pid, raw in (document.get("errors") or {}).items():
        at = f"errors.{pid}"
        if not isinstance(pid, str) or not _ID.match(pid) or not isinstance(raw, Mapping):
            reader.problem(at, "an entry is `id: {title, advice, next, caseworker, sources}`")
            continue
        title = reader.text(f"{at}.title", raw.get("title"))
        advice = reader.text(f"{at}.advice", raw.get("advice"))
        step = raw.get("next")
        if step not in LADDER_STEPS:
            reader.problem(at, f"next {step!r} is not a ladder step ({', '.join(LADDER_STEPS)})")
        if not isinstance(raw.get("caseworker"), bool):
            reader.problem(at, "caseworker must be true or false")
        if not raw.get("sources"):
            reader.problem(at, "every problem names its sources")
        if title is None or advice is None:
            continue
        problems[pid] = Problem(pid, title, advice, str(step), bool(raw.get("caseworker")),
                                tuple(str(s) for s in raw.get("screen") or ()),
                                tuple(str(s) for s in raw.get("sources") or ()))
    missing = [pid for pid in REQUIRED_IDS if pid not in problems]
    if missing:
        reader.problem("errors", f"missing required entries {missing}")
    if reader.problems:
        raise DefinitionError(reader.problems)
    return Catalogue(problems)


def extend_errors_flow(flow: FlowDef, catalogue: Catalogue) -> FlowDef:
    """Add each problem's state, button and branches to the hand-written `errors` flow."""
    for needed in ("recognised", "choose", "confirmed", "about"):
        if needed not in flow.states:
            raise DefinitionError([f"flow errors: the catalogue needs a state {needed!r}"])
    template = flow.states["about"]  # the buttons every piece of advice offers
    states = {name: s for name, s in flow.states.items() if name != "about"}
    about: dict[str, StateDef] = {}
    for problem in catalogue.problems.values():
        name = f"about_{problem.id}"
        extra = tuple(t for t in template.say
                      if problem.caseworker or t.key != "errors.caseworker_advised")
        about[name] = replace(template, name=name, say=(problem.advice, *extra),
                              enter=(Call("diagnose", problem.id), *template.enter),
                              sources=problem.sources)
    to_problem = tuple(Branch(Target(None, f"about_{p}"), Call("diagnosed", p))
                       for p in catalogue.problems)
    recognised = states["recognised"]
    states["recognised"] = replace(recognised, next=(*recognised.next[:-1], *to_problem,
                                                     recognised.next[-1]))
    confirmed = states["confirmed"]
    states["confirmed"] = replace(confirmed, next=(*to_problem, *confirmed.next))
    buttons = tuple(ChoiceDef(id=p.id, label=p.title, raw=None,
                              goto=Target(None, f"about_{p.id}"), when=Call("candidate", p.id))
                    for p in catalogue.problems.values())
    for name in ("choose", "closest"):  # "closest": when nothing was recognised for sure
        if name in states:
            states[name] = replace(states[name], choices=(*buttons, *states[name].choices))
    return replace(flow, states={**states, **about})
