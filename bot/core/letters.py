"""The ready-to-copy French messages of the support ladder, filled with the user's facts.

The wording lives in flows/knowledge/letters.yaml, where caseworkers can review it. A sentence
is written only when its fact is known: nothing is guessed, and the person adds their name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.core.dates import show_date
from bot.core.definition import DefinitionError
from bot.core.ladder import Contact

PLACEHOLDERS = ("{facts}", "{basis}", "{ask}")


@dataclass(frozen=True)
class LetterFacts:
    today: date
    api_end: date | None = None
    request: str | None = None  # "first" (first card after protection) or "renewal"
    status: str | None = None  # "refugee", "subsidiary", "stateless"
    foreign_number: str | None = None  # only if the user chose to give it
    departement: str | None = None  # "Alpes-Maritimes (06)"
    problem: str | None = None  # the recognised problem's title, in French
    contacts: Sequence[Contact] = ()
    references: Mapping[tuple[str, str], str] | None = None  # (step, ISO date) -> reference


@dataclass(frozen=True)
class Letters:
    steps: Mapping[str, str]
    answered: str
    unanswered: str
    sentences: Mapping[str, str]
    letters: Mapping[str, str]

    def written(self, step: str) -> bool:
        """Whether the step is done in writing (and so has a message to copy)."""
        return step in self.letters

    def write(self, step: str, facts: LetterFacts) -> str:
        ask, basis = self._basis(facts)
        text = self.letters[step].replace("{facts}", "\n".join(self._facts(facts)))
        text = text.replace("{basis}", basis).replace("{ask}", ask)
        # A sentence left out leaves no blank line behind.
        return "\n".join(line for line in text.split("\n") if line.strip())

    def _facts(self, facts: LetterFacts) -> list[str]:
        s, lines = self.sentences, []
        if facts.foreign_number:
            lines.append(s["foreign_number"].format(foreign_number=facts.foreign_number))
        if facts.departement:
            lines.append(s["departement"].format(departement=facts.departement))
        if facts.problem:
            lines.append(s["problem"].format(problem=facts.problem))
        if facts.api_end is not None:
            key = "api_expired" if facts.api_end < facts.today else "api_ends"
            lines.append(s[key].format(api_end=show_date(facts.api_end, "fr")))
            lines.append(s["no_new_api"])
        if facts.contacts:
            lines.append(s["contacts"])
            for contact in sorted(facts.contacts, key=lambda c: c.on):
                ref = (facts.references or {}).get((contact.step, contact.on.isoformat()))
                lines.append(s["contact"].format(
                    step=self.steps[contact.step], date=show_date(contact.on, "fr"),
                    outcome=self.answered if contact.answered else self.unanswered,
                    reference=s["reference"].format(reference=ref) if ref else ""))
        return lines

    def _basis(self, facts: LetterFacts) -> tuple[str, str]:
        """What is asked for, and the article it rests on: an API's only when there is one."""
        s = self.sentences
        if facts.api_end is None:
            return s["ask_help"], ""
        if facts.request == "first" and facts.status in ("refugee", "subsidiary"):
            return s["ask_api"], s[f"basis_{facts.status}"]
        if facts.request == "first" and facts.status is None:
            return s["ask_api"], s["basis_first"]  # both articles: the status was not given
        # A renewal, or a stateless person's first card (not under R. 431-15-3/-4).
        return s["ask_api"], s["basis_renewal"]


def parse_letters(document: Any, steps: Sequence[str]) -> Letters:
    if not isinstance(document, Mapping) or document.get("version") != 1:
        raise DefinitionError(["knowledge/letters.yaml: expected `version: 1`"])
    letters = {str(k): str(v) for k, v in (document.get("letters") or {}).items()}
    names = {str(k): str(v) for k, v in (document.get("steps") or {}).items()}
    problems = [f"knowledge/letters.yaml: {k} is not a ladder step"
                for k in (*letters, *names) if k not in steps]
    problems += [f"knowledge/letters.yaml: no name for step {s}" for s in steps if s not in names]
    problems += [f"knowledge/letters.yaml: {k} lacks {p}" for k, v in letters.items()
                 for p in ("{facts}",) if p not in v]
    if problems:
        raise DefinitionError(problems)
    return Letters(names, str(document["answered"]), str(document["unanswered"]),
                   {str(k): str(v).strip() for k, v in document["sentences"].items()}, letters)
