"""The 101 départements, to find the user's préfecture from a number or a name.

Contact details come from flows/knowledge/departements.yaml, filled only where a source gives
them: a préfecture without a checked address has none here, and the assistant says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.flows.definition import DefinitionError
from bot.core.text import ascii_digits, fold


@dataclass(frozen=True)
class Departement:
    code: str  # "06", "2A", "974"
    name: str
    email: str | None = None
    email_for: str | None = None  # what the address is for, as the source says
    website: str | None = None
    sources: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.name} ({self.code})"


@dataclass(frozen=True)
class Departements:
    by_code: Mapping[str, Departement]

    def find(self, text: str) -> Departement | None:
        """A département from what the user typed: "6", "06", "2a", "974", "Alpes-Maritimes",
        "alpes maritimes". Names are compared without case, accents or hyphens."""
        raw = ascii_digits(text).strip().upper().rstrip(".")
        if raw.isdigit() and len(raw) <= 2:
            raw = raw.zfill(2)
        if raw in self.by_code:
            return self.by_code[raw]
        key = _name_key(text)
        return next((d for d in self.by_code.values() if _name_key(d.name) == key), None)


def _name_key(text: str) -> str:
    return "".join(ch for ch in fold(text) if ch.isalnum())


def parse_departements(document: Any) -> Departements:
    if not isinstance(document, Mapping) or document.get("version") != 1:
        raise DefinitionError(["knowledge/departements.yaml: expected `version: 1`"])
    found: dict[str, Departement] = {}
    problems = []
    for raw in document.get("departements") or []:
        code = str(raw["code"])
        if code in found:
            problems.append(f"knowledge/departements.yaml: {code} twice")
        contact = raw.get("email") or raw.get("website")
        if contact and not raw.get("sources"):
            problems.append(f"knowledge/departements.yaml: {code} has contact details "
                            "without a source")
        found[code] = Departement(code, str(raw["name"]), raw.get("email"), raw.get("email_for"),
                                  raw.get("website"), tuple(raw.get("sources") or ()))
    if problems:
        raise DefinitionError(problems)
    return Departements(found)
