"""The ready-to-copy French messages: the right article for the right request, only facts the
user gave, and data errors caught when the file is read."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.core.definition import DefinitionError
from bot.core.ladder import Contact
from bot.core.letters import LetterFacts, Letters, parse_letters

KNOWLEDGE = Path(__file__).resolve().parents[2] / "flows" / "knowledge"
STEPS = ["personal_space", "ccc", "prefecture", "appointment", "defenseur_des_droits", "court"]
DOCUMENT = yaml.safe_load((KNOWLEDGE / "letters.yaml").read_text(encoding="utf-8"))
LETTERS: Letters = parse_letters(DOCUMENT, STEPS)
TODAY = date(2026, 3, 2)


@pytest.mark.parametrize(("request_", "status", "article"), [
    ("renewal", "refugee", "l'article R. 431-15-1"),
    ("first", "refugee", "l'article R. 431-15-3"),
    ("first", "subsidiary", "l'article R. 431-15-4"),
    ("first", None, "les articles R. 431-15-3 et R. 431-15-4"),
    ("first", "stateless", "l'article R. 431-15-1"),  # not under R. 431-15-3/-4
    (None, None, "l'article R. 431-15-1"),
])
def test_the_article_follows_the_request_and_the_status(request_: str | None,
                                                         status: str | None,
                                                         article: str) -> None:
    text = LETTERS.write("prefecture", LetterFacts(TODAY, api_end=date(2026, 3, 10),
                                                   request=request_, status=status))
    assert f"Selon {article} du CESEDA" in text


def test_without_an_api_date_no_article_and_a_plain_request_for_help() -> None:
    text = LETTERS.write("ccc", LetterFacts(TODAY))
    assert "R. 431-15" not in text
    assert "m'aider à régler ce problème" in text
    assert "\n\n" not in text  # a sentence left out leaves no blank line


def test_only_the_facts_given_appear() -> None:
    bare = LETTERS.write("prefecture", LetterFacts(TODAY, api_end=date(2026, 2, 20)))
    assert "a expiré le 20/02/2026" in bare
    assert "Numéro étranger" not in bare
    assert "Département" not in bare
    assert "J'ai déjà contacté" not in bare
    full = LETTERS.write("prefecture", LetterFacts(
        TODAY, api_end=date(2026, 2, 20), foreign_number="0712345678",
        departement="Rhône (69)", problem="Erreur technique",
        contacts=[Contact("ccc", date(2026, 2, 23), answered=True)],
        references={("ccc", "2026-02-23"): "TK-9"}))
    assert "Numéro étranger : 0712345678" in full
    assert "Département : Rhône (69)" in full
    assert "j'ai ce problème : Erreur technique." in full
    assert ("- le Centre de contact citoyens (CCC), le 23/02/2026 (réponse reçue, problème "
            "non réglé), référence TK-9") in full
    assert full.endswith("[Votre nom et prénom]")


def test_the_appointment_letter_cites_the_substitute_route() -> None:
    text = LETTERS.write("appointment", LetterFacts(TODAY))
    assert "article R. 431-2 du CESEDA" in text
    assert "Conseil d'État du 3 juin 2022 (n° 452798)" in text


def test_every_written_step_is_a_ladder_step_and_court_has_no_letter() -> None:
    assert set(LETTERS.letters) <= set(STEPS)
    assert not LETTERS.written("court")  # the court goes through the caseworker


def test_a_letter_for_an_unknown_step_is_refused() -> None:
    broken = {**DOCUMENT, "letters": {**DOCUMENT["letters"], "embassy": "{facts}"}}
    with pytest.raises(DefinitionError, match="embassy is not a ladder step"):
        parse_letters(broken, STEPS)
