"""The note about the API and the complaint for the Défenseur des droits, from the person's
facts and the reviewed French sentences of flows/knowledge/note.yaml.

A sentence is written only when its fact is known; every sentence stating a fact carries its
source keys (a test checks that none is missing). An article of law is cited only for a
refugee or a beneficiary of subsidiary protection whose request (first card or renewal) is
known: never for a stateless person or someone who does not know their status (ANEF.md 7bis.4).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from bot.core.dates.written import show_date
from bot.core.ladder.departements import Departement

KINDS = ("note", "complaint")
ORGANISATIONS = ("employer", "caf", "cpam", "france_travail", "bank", "landlord", "other")
STATUSES = ("refugee", "subsidiary", "stateless", "unknown")
REQUESTS = ("first", "renewal", "unknown")
CARDS = ("resident", "pluriannual")
MAX_NAME = 80  # a name typed in the web chat's form; longer is cut
NOTE_FILE = "knowledge/note.yaml"  # in the flows folder


@dataclass(frozen=True)
class NoteFacts:
    """What the person told, nothing more. Stored (JSON) only until the document is delivered
    or its download link expires; the name is never stored (typed at download time)."""

    kind: str  # "note" or "complaint"
    organisation: str
    today: date
    status: str | None = None
    request: str | None = None
    api_end: date | None = None
    card: str | None = None
    departement: str | None = None  # the code, "06"
    refused_on: date | None = None

    def to_json(self) -> str:
        return json.dumps({
            "kind": self.kind, "organisation": self.organisation,
            "today": self.today.isoformat(), "status": self.status, "request": self.request,
            "api_end": self.api_end.isoformat() if self.api_end else None, "card": self.card,
            "departement": self.departement,
            "refused_on": self.refused_on.isoformat() if self.refused_on else None})

    @classmethod
    def from_json(cls, raw: str) -> NoteFacts:
        data = json.loads(raw)

        def day(key: str) -> date | None:
            return date.fromisoformat(data[key]) if data.get(key) else None

        facts = cls(kind=data["kind"], organisation=data["organisation"],
                    today=date.fromisoformat(data["today"]), status=data.get("status"),
                    request=data.get("request"), api_end=day("api_end"), card=data.get("card"),
                    departement=data.get("departement"), refused_on=day("refused_on"))
        facts.check()
        return facts

    def check(self) -> None:
        problems = [f"{name} {value!r}" for name, value, allowed in (
            ("kind", self.kind, KINDS), ("organisation", self.organisation, ORGANISATIONS),
            ("status", self.status, (*STATUSES, None)),
            ("request", self.request, (*REQUESTS, None)), ("card", self.card, (*CARDS, None)))
            if value not in allowed]
        if problems:
            raise ValueError("unknown " + ", ".join(problems))

    @property
    def basis(self) -> str | None:
        """Which legal basis the document may cite, or None (no article)."""
        if self.status in ("refugee", "subsidiary") and self.request in ("first", "renewal"):
            return f"{self.request}_{self.status}"
        return None


@dataclass(frozen=True)
class Paragraph:
    text: str
    sources: tuple[str, ...] = ()
    style: str = "body"  # "title", "heading", "body", "item", "small"


@dataclass(frozen=True)
class Document:
    kind: str
    title: str
    paragraphs: tuple[Paragraph, ...]

    @property
    def text(self) -> str:
        """The same document as a chat message: one paragraph a line, no source keys."""
        return "\n\n".join([self.title, *(p.text for p in self.paragraphs)]).replace(
            "\n\n•", "\n•")


@dataclass(frozen=True)
class NoteKnowledge:
    organisations: Mapping[str, Mapping[str, str]]
    cards: Mapping[str, str]
    note: Mapping[str, Any]
    complaint: Mapping[str, Any]
    departements: Mapping[str, Departement] = field(default_factory=dict)

    def compose(self, facts: NoteFacts, name: str = "") -> Document:
        facts.check()
        if facts.kind == "complaint":
            return self._complaint(facts)
        return self._note(facts, name)

    # -- the note ---------------------------------------------------------------------------

    def _note(self, facts: NoteFacts, name: str) -> Document:
        n, out = self.note, []
        values = self._values(facts, name)
        out.append(_para(n["to"], values, style="heading"))
        name = clean_name(name)
        if name:
            out.append(_sentence(n["name"], values))
        out.append(_sentence(n["what"], values))
        out.append(_sentence(n["same_effects"], values))
        out.extend(self._legal_basis(facts, values))
        if facts.basis is None and facts.request == "renewal":
            out.append(_sentence(n["show_card"], values))
        if facts.api_end is not None or facts.card is not None:
            out.append(_sentence(n["facts_heading"], values, style="heading"))
            if facts.api_end is not None:
                out.append(_sentence(n["api_end"], values, style="item"))
            if facts.card is not None:
                out.append(_sentence(n["card"], values, style="item"))
        out.append(_sentence(n["check_heading"], values, style="heading"))
        out.append(_sentence(n["twod_doc"], values))
        out.append(_sentence(n["memento"], values))
        prefecture = self.departements.get(facts.departement or "")
        if prefecture is not None and prefecture.website:
            out.append(_sentence(n["prefecture"], values, sources=prefecture.sources))
        out.append(_sentence(n["defenseur"], values))
        out.append(_sentence(n["made"], values, style="small"))
        return Document("note", str(n["title"]), tuple(out))

    # -- the complaint ----------------------------------------------------------------------

    def _complaint(self, facts: NoteFacts) -> Document:
        c, n, out = self.complaint, self.note, []
        values = self._values(facts, "")
        out.append(_sentence(c["how"], values, style="small"))
        out.append(_sentence(c["object"], values, style="heading"))
        key = "refused_on" if facts.refused_on is not None else "refused"
        out.append(_sentence(c[key], {**values, "organisation": _capital(
            values["organisation_who"]) if key == "refused" else values["organisation_who"]}))
        if facts.api_end is not None:
            out.append(_sentence(c["api_end"], values))
        if facts.card is not None:
            out.append(_sentence(c["card"], values))
        out.append(_sentence(c["tried"], values))
        out.extend(self._legal_basis(facts, values))
        out.append(_sentence(n["same_effects"], values))
        out.append(_sentence(c["ask"], values))
        out.append(_sentence(c["dated"], values))
        return Document("complaint", str(c["title"]), tuple(out))

    def _legal_basis(self, facts: NoteFacts, values: dict[str, str]) -> list[Paragraph]:
        """The articles the request and status make certain, or the general sentence that
        cites none (a stateless person, an unknown status or request: ANEF.md 7bis.4)."""
        n = self.note
        if facts.basis is None:
            return [_sentence(n["general"], values)]
        return [_sentence(s, values) for s in n["basis"][facts.basis]]

    def _values(self, facts: NoteFacts, name: str) -> dict[str, str]:
        organisation = self.organisations[facts.organisation]
        prefecture = self.departements.get(facts.departement or "")
        return {
            "organisation": organisation["to"], "organisation_who": organisation["who"],
            "name": clean_name(name), "today": show_date(facts.today, "fr"),
            "api_end": show_date(facts.api_end, "fr") if facts.api_end else "",
            "refused_on": show_date(facts.refused_on, "fr") if facts.refused_on else "",
            "card": self.cards.get(facts.card or "", ""),
            "prefecture": prefecture.label if prefecture else "",
            "website": prefecture.website or "" if prefecture else "",
        }


def clean_name(name: str) -> str:
    """A name typed in a form: printable characters only, one line, not too long."""
    kept = "".join(ch if ch.isprintable() else " " for ch in name)
    return " ".join(kept.split())[:MAX_NAME]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _para(template: str, values: Mapping[str, str], style: str = "body") -> Paragraph:
    return Paragraph(template.format(**values), (), style)


def _sentence(item: Mapping[str, Any], values: Mapping[str, str], style: str = "body",
              sources: tuple[str, ...] | None = None) -> Paragraph:
    keys = tuple(sources) if sources else tuple(item.get("sources") or ())
    text = " ".join(str(item["text"]).split())
    return Paragraph(text.format(**values), keys, style)


def load_note_knowledge(path: Path, departements: Mapping[str, Departement] | None = None
                        ) -> NoteKnowledge:
    # libyaml's loader where PyYAML has it, as for the flows (bot/content.py): a dozen times
    # quicker, and every runtime reads this file when it is built.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 (safe)
    if not isinstance(data, dict) or data.get("version") != 1:
        raise ValueError(f"{path}: expected `version: 1`")
    missing = [o for o in ORGANISATIONS if o not in data["organisations"]]
    missing += [c for c in CARDS if c not in data["cards"]]
    if missing:
        raise ValueError(f"{path}: missing {', '.join(missing)}")
    return NoteKnowledge(data["organisations"], data["cards"], data["note"], data["complaint"],
                         dict(departements or {}))
