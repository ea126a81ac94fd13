"""Driving the pure engine turn by turn, as the runtime would (without storage)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count

from bot.core.engine import Engine, Turn
from bot.core.events import Event, MessageCreated
from bot.core.model import Inbound, InboundKind, Session

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@dataclass
class Convo:
    engine: Engine
    user: str = "test:u1"
    session: Session | None = None
    turns: list[Turn] = field(default_factory=list)
    _ids: count[int] = field(default_factory=lambda: count(1))

    def _step(self, inbound: Inbound) -> Turn:
        turn = self.engine.step(self.session, inbound, NOW)
        version = self.session.version if self.session else 0
        self.session = turn.session.evolve(version=version + 1)
        self.turns.append(turn)
        return turn

    def send(self, text: str) -> Turn:
        return self._step(Inbound.text_message(self.user, str(next(self._ids)), text))

    def tap(self, choice: str) -> Turn:
        return self._step(Inbound.choice_tap(self.user, str(next(self._ids)), choice))

    def media(self, kind: InboundKind, media: str = "") -> Turn:
        return self._step(Inbound(user=self.user, message_id=str(next(self._ids)), kind=kind,
                                  media=media))

    @property
    def offered(self) -> list[str]:
        assert self.session is not None
        return [c.id for c in self.session.offered]

    def onboard(self, locale: str = "en", consent: bool = True) -> None:
        self.send("/start")
        self.tap(locale.lower())  # the buttons' ids: fr, fa_af, ps, ar, en
        self.tap("agree" if consent else "decline")


def texts(turn: Turn) -> list[str]:
    return [m.text for m in turn.messages]


def of_type(turn: Turn, kind: type[Event]) -> list[Event]:
    return [e for e in turn.events if isinstance(e, kind)]


def last_message(turn: Turn) -> MessageCreated:
    return turn.messages[-1]
