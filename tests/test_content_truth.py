"""What the assistant states is true for the person reading it (issue 14, ANEF.md §7bis).

Two rules over every text of flows/ and of the known-problem catalogue:
- a text that states a fact (an amount, a duration, a date, a legal reference, a phone number, a
  web address, "free") is said by a state, a problem or a flow that names its source keys, and
  the facts that have a known source name one of them;
- no text says that ANEF, the préfecture or the card is free without the exception in the same
  text: the card has an official price, paid with a timbre fiscal (§1.4). Translations keep the
  French term "timbre fiscal" beside their own words, so they are checked too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import pytest

from bot.content import Content, load_sources
from bot.core.flows.definition import FlowDef, StateDef, Text
from bot.core.i18n import Translator
from bot.core.model import LOCALES, SOURCE_LOCALE
from bot.core.problems import Catalogue
from bot.settings import Settings

_MONTHS = ("janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|"
           "décembre")
#: What makes a French text fact-bearing. Example dates such as 12/03/2026 (how to type a date)
#: and placeholders such as {card_end} (the user's own date) are not facts.
FACT = re.compile(
    r"\d+\s?€"  # an amount
    r"|\b\d+\s(?:mois|ans|jours)\b"  # a duration
    rf"|\b\d{{1,2}}(?:er)?\s(?:{_MONTHS})\s\d{{4}}\b"  # a date in words
    r"|\b[RL]\.\s?\d{3}|\bdécret\b|Conseil d'État"  # a legal reference
    r"|0 806 001 620"  # the CCC's phone number
    r"|\b[\w-]+(?:\.[\w-]+)*\.fr\b"  # a web address
    r"|\bgratuit",
    re.IGNORECASE,
)
#: Facts whose source is known: the text's sources must include one of these keys.
KNOWN_SOURCES: tuple[tuple[re.Pattern[str], frozenset[str]], ...] = (
    (re.compile(r"timbre fiscal|\b22?5\s?€"), frozenset({"S112", "S113", "S26"})),
    (re.compile(r"\b180\s?€"), frozenset({"S8"})),
    (re.compile(r"0 806 001 620"), frozenset({"S22", "S78", "S119"})),
    (re.compile(r"\(CER\)|17 juillet 2024"), frozenset({"S114", "S115"})),
    (re.compile(r"2025-539|R\. 431-11"), frozenset({"S68", "S116"})),
    (re.compile(r"499904"), frozenset({"S117"})),
    (re.compile(r"examen civique"), frozenset({"S120"})),
    # "the State's sites end in .gouv.fr" (not a web address that happens to end so)
    (re.compile(r"(?<![\w.])\.gouv\.fr\b"), frozenset({"S94"})),
)
#: A sentence that calls something free, about ANEF, the préfecture, the card or a procedure.
FREE = re.compile(r"gratuit|ne coûte rien|sans frais", re.IGNORECASE)
ABOUT_THE_PROCEDURE = re.compile(r"ANEF|préfecture|carte|rendez-vous|démarche|demande|dossier",
                                 re.IGNORECASE)
FEE_EXCEPTION = "timbre fiscal"


@dataclass(frozen=True)
class Said:
    where: str
    text: Text
    sources: tuple[str, ...]


def _state_texts(state: StateDef) -> Iterator[Text]:
    yield from state.say
    for choice in state.choices:
        if choice.label is not None:
            yield choice.label


def said(flows: Mapping[str, FlowDef], problems: Catalogue) -> Iterator[Said]:
    """Every text with the sources that back it: its state's, its flow's for the texts the
    engine says by name, its problem's for a known problem's title and advice (said by the
    generated `about_<id>` states and `choose` buttons)."""
    of_problems = {t.key for t in problems.texts()}
    for flow in flows.values():
        for name, text in flow.named.items():
            yield Said(f"{flow.name}.texts.{name}", text, flow.sources)
        for state in flow.states.values():
            for text in _state_texts(state):
                if text.key not in of_problems:
                    yield Said(f"{flow.name}.{state.name}", text, state.sources)
    for problem in problems.problems.values():
        for text in (problem.title, problem.advice):
            yield Said(f"errors.{problem.id}", text, problem.sources)


def unsourced_facts(items: list[Said]) -> list[str]:
    problems = []
    for item in items:
        for form in (item.text.source, item.text.plural or ""):
            fact_found = FACT.search(form)
            if fact_found and not item.sources:
                problems.append(f"{item.where}: {item.text.key} states a fact and names no "
                                f"source: {fact_found.group(0)!r}")
            for fact, keys in KNOWN_SOURCES:
                if fact.search(form) and not keys & set(item.sources):
                    problems.append(f"{item.where}: {item.text.key} says {fact.pattern!r} but "
                                    f"cites {list(item.sources)}, none of {sorted(keys)}")
    return problems


def free_without_the_fee(text: str) -> bool:
    """True when a sentence calls the procedure or the card free and the text says nothing of
    the timbre fiscal."""
    if FEE_EXCEPTION in text:
        return False
    sentences = re.split(r"(?<=[.!?;:])\s+|\n", text)
    return any(FREE.search(s) and ABOUT_THE_PROCEDURE.search(s) for s in sentences)


@pytest.fixture(scope="module")
def everything(content: Content) -> list[Said]:
    return list(said(content.flows, content.problems))


def test_every_fact_names_its_source(everything: list[Said]) -> None:
    assert unsourced_facts(everything) == []


def test_every_cited_source_is_in_the_sources_file(everything: list[Said],
                                                   settings: Settings) -> None:
    known = load_sources(settings.flows_dir)
    cited = {key for item in everything for key in item.sources}
    assert cited - set(known) == set()


def test_nothing_is_called_free_without_the_fee(everything: list[Said]) -> None:
    found = [f"{i.where}: {i.text.key}" for i in everything if free_without_the_fee(i.text.source)]
    assert found == []


def test_the_fee_exception_is_kept_in_every_translation(content: Content,
                                                       everything: list[Said]) -> None:
    # A translation of a text that gives the exception must give it too, with the French term
    # the user will meet on the stamp and on ANEF.
    translator = Translator(content.catalogs)
    needs_the_fee = [i.text for i in everything
                     if FREE.search(i.text.source) and FEE_EXCEPTION in i.text.source]
    assert needs_the_fee, "the texts that call filing free must give the fee exception"
    missing = [f"{locale}: {text.key}" for text in needs_the_fee for locale in LOCALES
               if locale != SOURCE_LOCALE
               and FEE_EXCEPTION not in translator.render(text, locale).text]
    assert missing == []


# The checks themselves: they must fail on the texts the December 2026 review found wrong.

def _said(source: str, sources: tuple[str, ...] = ()) -> Said:
    return Said("test.state", Text(key="test.text", source=source), sources)


@pytest.mark.parametrize("source", [
    "Le site ANEF et les rendez-vous en préfecture sont gratuits.",
    "Attention : le site ANEF est gratuit. Ne payez jamais.",
    "Une carte de séjour ne coûte rien.",
])
def test_free_without_the_fee_is_caught(source: str) -> None:
    assert free_without_the_fee(source)


@pytest.mark.parametrize("source", [
    "Déposer la demande sur l'ANEF est gratuit. Le seul paiement officiel est le timbre fiscal.",
    "Si le refus continue, le Défenseur des droits peut aider. C'est gratuit.",
    "Votre API a expiré.",
])
def test_true_texts_are_not_caught(source: str) -> None:
    assert not free_without_the_fee(source)


def test_a_fact_without_a_source_is_caught() -> None:
    problems = unsourced_facts([_said("Un renouvellement coûte 225 €."),
                                _said("Appelez le 0 806 001 620.", ("S8",)),
                                _said("Bonjour, choisissez votre langue.")])
    assert len(problems) == 3  # no source at all; then two keys that do not back the fact
    assert "names no source" in problems[0]
    assert "S8" in problems[2]


def test_a_fact_with_its_source_passes() -> None:
    assert unsourced_facts([_said("Un renouvellement coûte 225 €.", ("S112",))]) == []
