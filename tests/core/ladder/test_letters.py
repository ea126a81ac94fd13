"""The ready-to-copy French messages: the right article for the right request, only facts the
user gave, and data errors caught when the file is read."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.core.flows.definition import DefinitionError
from bot.core.ladder.letters import LetterFacts, Letters, parse_letters
from bot.core.ladder.rules import Contact

KNOWLEDGE = Path(__file__).resolve().parents[3] / "flows" / "knowledge"
STEPS = ["personal_space", "ccc", "prefecture", "appointment", "defenseur_des_droits", "court"]
DOCUMENT = yaml.safe_load((KNOWLEDGE / "letters.yaml").read_text(encoding="utf-8"))
LETTERS: Letters = parse_letters(DOCUMENT, STEPS)
TODAY = date(2026, 3, 2)


@pytest.mark.parametrize(("request_", "status", "article"), [
    ("renewal", "refugee", "l'article R. 431-15-1"),
    ("renewal", None, "l'article R. 431-15-1"),
    ("first", "refugee", "l'article R. 431-15-3"),
    ("first", "subsidiary", "l'article R. 431-15-4"),
])
def test_the_article_follows_the_request_and_the_status(request_: str | None,
                                                         status: str | None,
                                                         article: str) -> None:
    text = LETTERS.write("prefecture", LetterFacts(TODAY, api_end=date(2026, 3, 10),
                                                   request=request_, status=status))
    assert f"Selon {article} du CESEDA" in text
    assert text.count("R. 431-15") == 1


@pytest.mark.parametrize(("request_", "status"), [
    ("first", "stateless"),  # R. 431-15-3/-4 do not name them; R. 431-15-1 needs a card
    ("first", "unknown"),  # "je ne sais pas"
    ("first", None),  # not given
    ("unknown", "refugee"),
    ("unknown", None),
    (None, None),
])
@pytest.mark.parametrize("step", ["personal_space", "ccc", "prefecture", "appointment",
                                  "defenseur_des_droits"])
def test_no_article_when_the_situation_does_not_say_which(
        request_: str | None, status: str | None, step: str) -> None:
    for api in ({"api_end": date(2026, 2, 20)}, {"api_said": "expired"}):
        text = LETTERS.write(step, LetterFacts(TODAY, request=request_, status=status,
                                               **api))
        assert "R. 431-15" not in text
        assert "Selon" not in text
        if step in ("personal_space", "ccc", "prefecture"):  # the letters that ask for it
            assert "me délivrer une nouvelle attestation" in text


@pytest.mark.parametrize(("status", "article"), [("refugee", "R. 431-15-3"),
                                                 ("subsidiary", "R. 431-15-4")])
def test_a_three_month_api_is_reported_as_a_dysfunction(status: str, article: str) -> None:
    facts = LetterFacts(TODAY, api_end=date(2026, 5, 30), request="first", status=status,
                        problem="API de 3 mois au lieu de 6", problem_id="api_short_validity")
    for step in ("ccc", "prefecture"):
        text = LETTERS.write(step, facts)
        assert "n'a été délivrée que pour trois mois" in text
        assert f"selon l'article {article} du CESEDA" in text
        assert "de six mois, renouvelable" in text
        assert "me délivrer une attestation de six mois" in text
        assert "R. 431-15-1" not in text
        # The API is there: the letter does not claim none appeared, nor a blocked procedure.
        assert "Aucune nouvelle attestation" not in text
        assert "Je n'arrive pas à faire ma démarche" not in text
    # For a card renewal 3 months is the rule (R. 431-15-1): no dysfunction is claimed.
    renewal = LETTERS.write("ccc", LetterFacts(TODAY, api_end=date(2026, 5, 30),
                                               request="renewal", status=status,
                                               problem_id="api_short_validity"))
    assert "trois mois" not in renewal
    assert "R. 431-15-1" in renewal


def test_the_prefecture_letter_cites_the_conseil_d_etat_avis_where_no_api_came() -> None:
    avis = "avis du 6 mai 2025 (n° 499904), le Conseil d'État"
    for problem in ("api_not_generated", "application_stuck"):
        text = LETTERS.write("prefecture", LetterFacts(TODAY, problem_id=problem))
        assert avis in text
        assert "au plus tard quatre mois après le dépôt" in text
        # Phrased as the Conseil d'État's avis, never as a statute.
        assert "Selon l'article" not in text
        assert "la loi" not in text
        assert avis not in LETTERS.write("ccc", LetterFacts(TODAY, problem_id=problem))
    assert avis not in LETTERS.write("prefecture", LetterFacts(TODAY, problem_id="login_loop"))


def test_an_api_said_expired_without_a_date() -> None:
    text = LETTERS.write("ccc", LetterFacts(TODAY, api_said="expired", request="renewal"))
    assert "Mon attestation de prolongation d'instruction (API) a expiré." in text
    assert "R. 431-15-1" in text
    soon = LETTERS.write("ccc", LetterFacts(TODAY, api_said="soon", request="renewal"))
    assert "prend fin dans moins de quinze jours." in soon
    later = LETTERS.write("ccc", LetterFacts(TODAY, api_said="later", request="renewal"))
    assert "expiré" not in later
    assert "R. 431-15" not in later


def test_without_an_api_date_no_article_and_a_plain_request_for_help() -> None:
    text = LETTERS.write("ccc", LetterFacts(TODAY))
    assert "Je n'arrive pas à faire ma démarche sur le site de l'ANEF." in text
    assert "{" not in text  # every placeholder filled
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


def test_a_stateless_first_card_letter_is_about_the_prefecture_request() -> None:
    text = LETTERS.write("prefecture", LetterFacts(TODAY, request="first", status="stateless"))
    assert text.startswith("Objet : ma première demande de carte de séjour, en tant qu'apatride")
    assert "R. 431-15" not in text
    other = LETTERS.write("prefecture", LetterFacts(TODAY, request="first", status="refugee"))
    assert other.startswith("Objet : ma demande de titre de séjour sur l'ANEF")
