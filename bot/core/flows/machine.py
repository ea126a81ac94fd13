"""Flow definitions compiled into one `transitions.Machine` per flow.

The machine is built once at start-up. For each turn the engine attaches a `TurnModel` at the
user's saved state, fires one trigger and detaches it again (cheaper than a machine per user,
and no user stays attached). Triggers are:

- `choose_<id>` for a button, guarded by the choice's `when`;
- `answer` for free text in an input state: a first transition guarded by the parser, a second,
  internal one that says the answer was not understood;
- `advance` for a state that moves on by itself, one guarded transition per branch;
- `to_<state>` (transitions' own) for jumps from commands and other flows.

A goto into another flow, or back to where a command interrupted (`@resume`), cannot be a
transition of this machine: it is an internal transition that leaves a `jump` for the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from transitions import EventData, Machine, State

from bot.core.flows.definition import (
    Call,
    ChoiceDef,
    DefinitionError,
    FlowDef,
    StateDef,
    Target,
)
from bot.core.flows.registry import Registry, TurnContext

#: Called by the machine whenever a state is entered: the engine renders it.
EnterHook = Callable[[TurnContext, str, str], None]
#: Called when an input state gets an answer that its parser accepts.
StoreHook = Callable[[TurnContext, str | None], None]
#: Called when an input state gets an answer that its parser refuses.
InvalidHook = Callable[[TurnContext, str, str], None]

Callback = Callable[[EventData], Any]


class TurnModel:
    """What transitions attaches to a machine for one turn: it carries the turn's context."""

    state: str
    trigger: Callable[..., bool]  # added by transitions.Machine.add_model

    def __init__(self, ctx: TurnContext) -> None:
        self.ctx = ctx


def _ctx(ev: EventData) -> TurnContext:
    model = ev.model
    assert isinstance(model, TurnModel)
    return model.ctx


def choice_trigger(choice_id: str) -> str:
    return f"choose_{choice_id}"


@dataclass(frozen=True)
class CompiledFlow:
    definition: FlowDef
    machine: Machine


class _Binder:
    """Resolves flow names against the registry, noting each unknown one."""

    def __init__(self, flow: FlowDef, registry: Registry, problems: list[str]) -> None:
        self.flow, self.registry, self.problems = flow, registry, problems

    def _note(self, where: str, message: str) -> None:
        self.problems.append(f"flow {self.flow.name}: {where}: {message}")

    def action(self, where: str, call: Call) -> Callback:
        fn = self.registry.actions.get(call.name)
        if fn is None:
            self._note(where, f"unknown action {call.name!r}")
            return _noop
        if call.name in self.registry.needs_arg and call.arg is None:
            self._note(where, f"action {call.name!r} needs an argument")
        arg = call.arg
        return lambda ev: fn(_ctx(ev), arg)

    def actions(self, where: str, calls: tuple[Call, ...]) -> list[Callback]:
        return [self.action(where, c) for c in calls]

    def condition(self, where: str, call: Call) -> Callback:
        fn = self.registry.conditions.get(call.name)
        if fn is None:
            self._note(where, f"unknown condition {call.name!r}")
            return lambda ev: False
        arg = call.arg
        return lambda ev: fn(_ctx(ev), arg)

    def parser(self, where: str, call: Call) -> Callback:
        fn = self.registry.inputs.get(call.name)
        if fn is None:
            self._note(where, f"unknown input parser {call.name!r}")
            return lambda ev: False
        arg = call.arg

        def parse(ev: EventData) -> bool:
            ctx = _ctx(ev)
            ctx.value = fn(ctx, ev.kwargs.get("text", ""), arg)
            return ctx.value is not None

        return parse

    def target(self, where: str, target: Target) -> None:
        flow = target.flow or self.flow.name
        if not target.is_resume and flow == self.flow.name and target.state not in self.flow.states:
            self._note(where, f"goto {target.state!r}: no such state")


def _noop(_: EventData) -> None:
    return None


def _leave_jump(target: Target) -> Callback:
    def leave(ev: EventData) -> None:
        _ctx(ev).jump = target

    return leave


def _destination(flow: FlowDef, state: StateDef, target: Target | None) -> tuple[str | None,
                                                                             list[Callback]]:
    """Where a transition goes in this machine, and the callbacks a foreign target needs."""
    if target is None:
        return state.name, []  # stay: enter the same state again, which renders it again
    if target.is_resume or (target.flow not in (None, flow.name)):
        return None, [_leave_jump(target)]
    return target.state, []


def _choice_transition(b: _Binder, flow: FlowDef, state: StateDef, choice: ChoiceDef
                       ) -> dict[str, Any]:
    where = f"state {state.name} choice {choice.id}"
    if choice.goto is not None:
        b.target(where, choice.goto)
    dest, jump = _destination(flow, state, choice.goto)
    return {
        "trigger": choice_trigger(choice.id),
        "source": state.name,
        "dest": dest,
        "conditions": [b.condition(where, choice.when)] if choice.when else [],
        "before": b.actions(where, choice.do) + jump,
    }


def _state_transitions(b: _Binder, flow: FlowDef, state: StateDef, on_store: StoreHook,
                       on_invalid: InvalidHook) -> list[dict[str, Any]]:
    out = [_choice_transition(b, flow, state, c) for c in state.choices]
    if state.input is not None:
        inp = state.input
        where = f"state {state.name} input"
        b.target(where, inp.goto)
        dest, jump = _destination(flow, state, inp.goto)
        slot = inp.store
        out.append({
            "trigger": "answer", "source": state.name, "dest": dest,
            "conditions": [b.parser(where, inp.parse)],
            "before": [lambda ev: on_store(_ctx(ev), slot), *b.actions(where, inp.do), *jump],
        })
        name = state.name
        out.append({
            "trigger": "answer", "source": state.name, "dest": None,
            "after": [lambda ev: on_invalid(_ctx(ev), flow.name, name)],
        })
    for i, branch in enumerate(state.next):
        where = f"state {state.name} next[{i}]"
        b.target(where, branch.goto)
        dest, jump = _destination(flow, state, branch.goto)
        out.append({
            "trigger": "advance", "source": state.name, "dest": dest,
            "conditions": [b.condition(where, branch.when)] if branch.when else [],
            "before": b.actions(where, branch.do) + jump,
        })
    return out


def compile_flow(flow: FlowDef, registry: Registry, on_enter: EnterHook, on_store: StoreHook,
                 on_invalid: InvalidHook, problems: list[str]) -> CompiledFlow | None:
    """Build the machine of one flow; unknown names are added to `problems`."""
    if not flow.states:
        return None
    b = _Binder(flow, registry, problems)
    states = []
    for state in flow.states.values():
        for text in state.say:
            if text.when is not None:
                b.condition(f"state {state.name} say {text.key}", text.when)
        enter = b.actions(f"state {state.name} enter", state.enter)
        name = state.name

        def entered(ev: EventData, _enter: list[Callback] = enter, _name: str = name) -> None:
            for callback in _enter:
                callback(ev)
            on_enter(_ctx(ev), flow.name, _name)

        states.append(State(state.name, on_enter=[entered]))
    transitions = [t for s in flow.states.values()
                   for t in _state_transitions(b, flow, s, on_store, on_invalid)]
    machine = Machine(
        model=None,
        states=states,
        transitions=transitions,
        initial=flow.initial,
        auto_transitions=True,  # `to_<state>`: jumps from commands and other flows
        send_event=True,
        ignore_invalid_triggers=False,
    )
    return CompiledFlow(flow, machine)


def compile_flows(flows: Mapping[str, FlowDef], registry: Registry, on_enter: EnterHook,
                  on_store: StoreHook, on_invalid: InvalidHook) -> dict[str, CompiledFlow]:
    problems: list[str] = []
    compiled = {}
    for name, flow in flows.items():
        result = compile_flow(flow, registry, on_enter, on_store, on_invalid, problems)
        if result is not None:
            compiled[name] = result
    for name, flow in flows.items():
        for state in flow.states.values():
            for target in _targets(state):
                other = target.flow
                if other and other != name and (
                        other not in flows or target.state not in flows[other].states):
                    problems.append(f"flow {name}: state {state.name}: goto "
                                    f"{other}.{target.state}: no such flow state")
    if problems:
        raise DefinitionError(problems)
    return compiled


def _targets(state: StateDef) -> list[Target]:
    out = [c.goto for c in state.choices if c.goto is not None]
    out += [b.goto for b in state.next]
    if state.input is not None:
        out.append(state.input.goto)
    return out


def fire(compiled: CompiledFlow, ctx: TurnContext, state: str, trigger: str, **kwargs: Any
         ) -> str:
    """Attach the turn at `state`, fire `trigger`, detach; return the state reached."""
    model = TurnModel(ctx)
    compiled.machine.add_model(model, initial=state)
    try:
        model.trigger(trigger, **kwargs)
        return model.state
    finally:
        compiled.machine.remove_model(model)
