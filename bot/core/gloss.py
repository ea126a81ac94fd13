"""The French gloss of one of the person's messages: what the assistant understood of it, for
the caseworker who does not read Dari or Pashto (kept beside the message, the `understood`
column of the transcript): the button tapped (its French label), the problem recognised
(its French title), the dates and the département typed, normalised. Free text written in an
Arabic-script language stays as written, marked "non traduit".

Pure: it compares the session before and after the turn and reads the turn's events.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from bot.core.dates.written import french
from bot.core.events import Event, ProblemRecognised, RelayedToCaseworker
from bot.core.flows.definition import FlowDef
from bot.core.model import Choice, Inbound, InboundKind, Session

#: Shown alone on its line: the inbox renders it as a mark.
UNTRANSLATED = "non traduit"
#: Languages the caseworker is not expected to read.
FOREIGN_SCRIPT_LOCALES = frozenset({"fa_AF", "ps", "ar"})
DATE_NAMES = {"api_end": "Date de fin de l'API", "card_end": "Date de fin de la carte de séjour"}


def _arabic_script(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f"
               or "\ufb50" <= ch <= "\ufeff" for ch in text)


@dataclass(frozen=True)
class Gloss:
    """Built once from the engine's content (see `of`)."""

    button_labels: Mapping[tuple[str, str, str], str]  # (flow, state, choice id) -> French
    any_labels: Mapping[str, str]  # choice id -> French, where a state does not say
    problem_titles: Mapping[str, str]  # problem id -> French title
    departements: Mapping[str, str]  # code -> "Alpes-Maritimes (06)"

    @classmethod
    def of(cls, flows: Mapping[str, FlowDef], problem_titles: Mapping[str, str],
           departements: Mapping[str, str]) -> Gloss:
        labels: dict[tuple[str, str, str], str] = {}
        anywhere: dict[str, str] = {}
        for name, flow in flows.items():
            for state_name, state in flow.states.items():
                for choice in state.choices:
                    label = choice.raw if choice.raw is not None else (
                        choice.label.source if choice.label is not None else choice.id)
                    labels[(name, state_name, choice.id)] = label
                    anywhere.setdefault(choice.id, label)
        return cls(labels, anywhere, dict(problem_titles), dict(departements))

    def notes(self, before: Session | None, inbound: Inbound, after: Session,
              events: Iterable[Event], tapped: Choice | None) -> str:
        """One note a line (empty when nothing was understood beyond the words). `tapped`:
        the offered button the message chose (tapped, or typed by number or label)."""
        events = tuple(events)
        lines: list[str] = []
        if tapped is not None and before is not None:
            lines.append(f"bouton « {self._label(before, tapped.id)} »")
        recognised = [e.error for e in events if isinstance(e, ProblemRecognised)]
        for problem in recognised:
            lines.append(f"problème confirmé : {self.problem_titles.get(problem, problem)}")
        offered = after.scratch.get("diagnosis")
        if (offered and offered != "unsure" and not recognised
                and offered != (before.scratch.get("diagnosis") if before else None)):
            lines.append(f"problème reconnu, à confirmer : "
                         f"{self.problem_titles.get(offered, offered)}")
        old = before.slots if before is not None else {}
        for slot, name in DATE_NAMES.items():
            value = after.slots.get(slot)
            if value and value != old.get(slot):
                lines.append(f"{name} : {french(date.fromisoformat(value))}")
        code = after.slots.get("departement")
        if code and code != old.get("departement"):
            lines.append(f"département : {self.departements.get(code, code)}")
        relayed = any(isinstance(e, RelayedToCaseworker) for e in events)
        typed = inbound.kind in (InboundKind.TEXT, InboundKind.PHOTO)
        if typed and tapped is None and (relayed or not lines) and (
                _arabic_script(inbound.text)
                or (after.locale in FOREIGN_SCRIPT_LOCALES and relayed)):
            lines.append(UNTRANSLATED)
        return "\n".join(lines)

    def _label(self, before: Session, choice_id: str) -> str:
        if choice_id in self.problem_titles:  # "which of these problems?" offers them by id
            return self.problem_titles[choice_id]
        return self.button_labels.get((before.flow, before.state, choice_id),
                                      self.any_labels.get(choice_id, choice_id))
