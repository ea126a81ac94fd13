"""The ready-to-copy French messages of the support ladder, filled with the user's facts.

The wording lives in flows/knowledge/letters.yaml, where caseworkers can review it. A sentence
is written only when its fact is known: nothing is guessed, and the person adds their name.
An article of law is cited only when the request and the status make it the right one: never
for a stateless person's first card (R. 431-15-3/-4 do not name them, R. 431-15-1 presupposes
an expired card) nor when the person does not know their situation (ANEF.md 7bis.4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.core.dates.written import show_date
from bot.core.flows.definition import DefinitionError
from bot.core.ladder.rules import Contact

PLACEHOLDERS = ("{facts}", "{basis}", "{ask}", "{subject}", "{intro}")
#: The problem of an API of 3 months instead of 6 (flows/knowledge/errors.yaml).
SHORT_API = "api_short_validity"
#: Problems where no API came at all: the préfecture letter may cite the Conseil d'État's avis
#: of 6 May 2025 (n° 499904), due at the latest 4 months after filing (ANEF.md 7bis.7).
NEVER_GENERATED = ("api_not_generated", "application_stuck")


@dataclass(frozen=True)
class LetterFacts:
    today: date
    api_end: date | None = None
    request: str | None = None  # "first" (first card after protection), "renewal", "unknown"
    status: str | None = None  # "refugee", "subsidiary", "stateless", "unknown"
    api_said: str | None = None  # without an end date: "expired", "soon" or "later"
    problem_id: str | None = None  # the recognised problem (flows/knowledge/errors.yaml)
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
        if step == "prefecture" and facts.problem_id in NEVER_GENERATED:
            basis = "\n".join(b for b in (basis, self.sentences["avis_499904"]) if b)
        text = self.letters[step].replace("{facts}", "\n".join(self._facts(facts)))
        text = text.replace("{basis}", basis).replace("{ask}", ask)
        stateless_first = (facts.request, facts.status) == ("first", "stateless")
        text = text.replace("{subject}", self.sentences[
            "subject_stateless_first_card" if stateless_first else "subject"])
        text = text.replace("{intro}", self.sentences[
            "intro_short_api" if facts.problem_id == SHORT_API else "intro"])
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
            if facts.problem_id != SHORT_API:  # a short API is there: it is its length
                lines.append(s["no_new_api"])
        elif facts.api_said in ("expired", "soon"):
            lines.append(s[f"api_{facts.api_said}_undated"])
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
        """What is asked for, and the article it rests on: an API's only when there is one,
        and an article only when the request and the status say which."""
        s = self.sentences
        protected = facts.request == "first" and facts.status in ("refugee", "subsidiary")
        if protected and facts.problem_id == SHORT_API:
            # 3 months instead of 6: the dysfunction itself is what the letter reports.
            return s["ask_six_months"], s[f"short_api_{facts.status}"]
        if facts.api_end is None and facts.api_said not in ("expired", "soon"):
            return s["ask_help"], ""
        if protected:
            return s["ask_api"], s[f"basis_{facts.status}"]
        if facts.request == "renewal":
            return s["ask_api"], s["basis_renewal"]
        # A stateless person's first card, or a request or status not known: no article.
        return s["ask_api"], ""


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
