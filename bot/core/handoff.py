"""The handoff to a caseworker: while a case is open the person's messages are relayed, the
caseworker's replies and the closing of the case come back as turns, and a case opens with a
French summary of what the assistant knows. No I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from bot.core.events import CaseClosed, MessageCreated, RelayedToCaseworker
from bot.core.flows.definition import FlowDef
from bot.core.flows.registry import TurnContext
from bot.core.guards.secrets import looks_like_secret
from bot.core.ladder import contacts
from bot.core.model import SOURCE_LOCALE, MessageKind
from bot.core.navigate import Navigator
from bot.core.problems import Catalogue
from bot.core.speak import Speaker
from bot.core.summary import CaseFacts, ladder_advice, summarise
from bot.core.text import LONG_MESSAGE, clean_inbound, for_display

#: Texts the engine says for a handoff, when the content has the handoff flow.
HANDOFF_TEXTS = ("handoff.relayed", "handoff.from_caseworker", "handoff.closed")
#: Ready replies a caseworker sends in one click: texts whose key starts with this.
CANNED = "canned."


def canned_replies(speaker: Speaker) -> list[tuple[str, str]]:
    """(id, French text) of the caseworkers' ready replies, for the inbox."""
    return [(key.removeprefix(CANNED), text.source) for key, text in speaker.named.items()
            if key.startswith(CANNED)]


class Handoff:
    def __init__(self, flows: Mapping[str, FlowDef], speaker: Speaker, navigator: Navigator,
                 catalogue: Catalogue | None, support: contacts.Support | None) -> None:
        self.speaker = speaker
        self.navigator = navigator
        self.catalogue = catalogue
        self.support = support
        # Where a person was when they asked for help, as the caseworker reads it (French).
        self.flow_names = {c.goto.flow: c.label.source for c in flows["menu"].states["main"].choices
                           if c.goto is not None and c.goto.flow and c.label is not None
                           } if "menu" in flows and "main" in flows["menu"].states else {}

    def summary(self, ctx: TurnContext, reason: str) -> str:
        """The case's French summary: what the person told, the ladder's next step, why."""
        translator = self.speaker.translator
        titles = {} if self.catalogue is None else {
            pid: translator.render(p.title, SOURCE_LOCALE).text
            for pid, p in self.catalogue.problems.items()}
        support = self.support
        where = ctx.session.resume[0] if ctx.session.resume else None
        if support is None:
            raise LookupError("a case summary needs the support ladder's knowledge")
        facts = CaseFacts(support.letters, titles, self.flow_names,
                          {code: d.label for code, d in support.departements.by_code.items()})
        return summarise(ctx.session, ctx.local_date, reason, facts,
                         ladder_advice(ctx.session, ctx.local_date, support.ladder), where)

    def relay(self, ctx: TurnContext, text: str) -> None:
        """A case is open: the message is for the caseworker (kept in the transcript)."""
        if len(text) > LONG_MESSAGE:
            self.speaker.reject(ctx, "too_long", "system.long_message")
        elif looks_like_secret(text):
            self.speaker.reject(ctx, "secret", "system.secret_received")  # never passed on
        else:
            ctx.emit(RelayedToCaseworker())
            if not ctx.session.scratch.get("relayed"):
                ctx.session = ctx.session.with_scratch(relayed="1")
                self.speaker.say_named(ctx, "handoff.relayed")

    def staff(self, ctx: TurnContext) -> None:
        """A caseworker's action from the inbox: a reply (free French text, or a ready reply
        rendered in the user's language), or closing the case."""
        payload, locale = ctx.inbound.payload, ctx.session.locale
        translator, named = self.speaker.translator, self.speaker.named
        action = payload.get("action")
        if action == "close":
            ctx.session = ctx.session.evolve(case_open=False).with_scratch(relayed="")
            ctx.emit(CaseClosed())
            self.speaker.say_named(ctx, "handoff.closed")
            self.navigator.jump(ctx, self.navigator.home(ctx))
            return
        if action == "canned":
            key = CANNED + payload.get("canned", "")
            if key not in named:
                raise LookupError(f"no ready reply {key!r}")
            rendered = translator.render(named[key], locale)
            text, shown_in = for_display(rendered.text, rendered.locale), rendered.locale
        elif action == "ready":
            # The association's own ready reply: the inbox sends its five texts along (it
            # keeps them; the engine stays pure) and the person's language is picked here.
            texts = json.loads(payload.get("text", "{}"))
            wanted = locale or SOURCE_LOCALE
            ready_in = wanted if texts.get(wanted) else SOURCE_LOCALE
            text, shown_in = for_display(texts[ready_in], ready_in), ready_in
        elif action == "reply":
            intro = translator.render(named["handoff.from_caseworker"], locale)
            body = clean_inbound(payload.get("text", "")).strip()
            if not body:
                raise ValueError("an empty reply")
            # The caseworker's own words go as typed, in French, under a line in the user's
            # language that says so.
            text = f"{for_display(intro.text, intro.locale)}\n{body}"
            shown_in = intro.locale
        else:
            raise ValueError(f"unknown staff action {action!r}")
        ctx.emit(MessageCreated(MessageKind.CASEWORKER, shown_in, text, ctx.session.offered))
