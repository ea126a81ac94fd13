"""Moving through the flows: firing a trigger on a flow's machine, jumping to a state, following
the moves that need no input, and what happens on entering a state (its texts are said, its
buttons offered) or answering its question. No I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.events import InputRejected
from bot.core.exceptions import RelaisError
from bot.core.flows.definition import FlowDef, StateDef, Target
from bot.core.flows.machine import CompiledFlow, compile_flows, fire
from bot.core.flows.registry import Registry, TurnContext
from bot.core.i18n import placeholders
from bot.core.ladder import contacts
from bot.core.params import text_params
from bot.core.speak import Speaker

#: Moves without user input in one turn (states entered, jumps, `next`). A flow that needs more
#: is looping; the turn is stopped and the user gets an apology.
MAX_HOPS = 25

HOME = Target("menu", "main")
START = Target("onboarding", "start")
#: Scratch flag: the person was answered before the privacy notice; the menu shows it first.
ONBOARDING_DUE = "onboarding_due"


class FlowLoop(RelaisError, RuntimeError):
    pass


class Navigator:
    """The flows compiled into machines, and the moves between their states."""

    def __init__(self, flows: Mapping[str, FlowDef], registry: Registry,
                 speaker: Speaker) -> None:
        self.flows = flows
        self.speaker = speaker
        self.compiled: dict[str, CompiledFlow] = compile_flows(
            flows, registry, self._entered, self._store, self._invalid)

    def state(self, ctx: TurnContext) -> StateDef:
        return self.flows[ctx.session.flow].states[ctx.session.state]

    def at(self, ctx: TurnContext, target: Target) -> bool:
        return (ctx.session.flow, ctx.session.state) == (target.flow, target.state)

    def home(self, ctx: TurnContext) -> Target:
        s = ctx.session
        return HOME if s.locale is not None and s.consent is not None else START

    def fire(self, ctx: TurnContext, trigger: str, text: str = "") -> None:
        compiled = self.compiled[ctx.session.flow]
        state = fire(compiled, ctx, ctx.session.state, trigger, text=text)
        ctx.session = ctx.session.evolve(state=state)

    def jump(self, ctx: TurnContext, target: Target) -> None:
        if target == HOME and ctx.session.scratch.get(ONBOARDING_DUE):
            # Someone answered before onboarding (their first words were a problem): the
            # privacy notice and the consent come before the menu, once.
            ctx.session = ctx.session.with_scratch(**{ONBOARDING_DUE: ""})
            target = START if ctx.session.consent is None else HOME
        if target.is_resume:
            resume = ctx.session.resume
            ctx.session = ctx.session.evolve(resume=None)
            target = Target(*resume) if resume else self.home(ctx)
            if not self._can_show(ctx, target):
                # The state showed an answer not kept (no consent): start its flow again.
                target = Target(target.flow, self.flows[target.flow or ""].initial)
        flow = target.flow or ctx.session.flow
        compiled = self.compiled[flow]
        ctx.session = ctx.session.evolve(flow=flow)
        state = fire(compiled, ctx, compiled.definition.initial, f"to_{target.state}")
        ctx.session = ctx.session.evolve(state=state)

    def quietly_jump(self, ctx: TurnContext, target: Target) -> None:
        """Jump without saying the state's texts: its question is answered at once."""
        ctx.quiet = True
        self.jump(ctx, target)
        ctx.quiet = False

    def settle(self, ctx: TurnContext) -> None:
        """Follow jumps and `next` moves until the conversation waits for the user."""
        while not ctx.ended:
            self._hop(ctx)
            if ctx.jump is not None:
                target, ctx.jump = ctx.jump, None
                if target.flow is None and not target.is_resume:
                    target = Target(ctx.session.flow, target.state)
                self.jump(ctx, target)
            elif self.state(ctx).next:
                self.fire(ctx, "advance")
            else:
                return

    def _can_show(self, ctx: TurnContext, target: Target) -> bool:
        flow = self.flows.get(target.flow or "")
        state = flow.states.get(target.state) if flow else None
        if state is None:
            return True  # a missing state is reported as such by the jump itself
        speaker = self.speaker
        available = set(text_params(ctx, speaker.constants)) | {"office_opens"}
        used = {p for t in state.say for p in placeholders(t.source)}
        if speaker.support is not None and used & contacts.PARAMS:
            available |= set(contacts.params(ctx, speaker.named_renderer(ctx)))
        if ctx.session.scratch.get("diagnosis"):
            available.add("problem")
        return all(placeholders(t.source) <= available for t in state.say)

    @staticmethod
    def _hop(ctx: TurnContext) -> None:
        ctx.hops += 1
        if ctx.hops > MAX_HOPS:
            raise FlowLoop(f"more than {MAX_HOPS} moves in one turn")

    # -- hooks called by the machines -------------------------------------------------------

    def _entered(self, ctx: TurnContext, flow: str, state: str) -> None:
        self._hop(ctx)
        definition = self.flows[flow].states[state]
        ctx.session = ctx.session.evolve(flow=flow, state=state)
        choices = tuple(self.speaker.label(ctx, c) for c in definition.choices
                        if self.speaker.shown(ctx, c))
        if not ctx.quiet:
            self.speaker.say(ctx, definition.say, choices, step=definition.step, flow=flow)
        ctx.session = ctx.session.evolve(offered=choices if definition.waits else ())
        if definition.end:
            ctx.ended = True

    def _store(self, ctx: TurnContext, slot: str | None) -> None:
        # Answers are kept only with the user's consent; without it they serve this turn alone.
        if slot is None or ctx.value is None:
            return
        ctx.values[slot] = ctx.value
        if ctx.session.consent is True:
            ctx.session = ctx.session.with_slot(slot, ctx.value)

    def _invalid(self, ctx: TurnContext, flow: str, state: str) -> None:
        definition = self.flows[flow].states[state]
        assert definition.input is not None
        problem = ctx.input_problem or ""
        ctx.emit(InputRejected(f"invalid_answer:{problem}" if problem else "invalid_answer"))
        text = definition.input.problems.get(problem, definition.input.invalid)
        self.speaker.say(ctx, (text,), ctx.session.offered)
