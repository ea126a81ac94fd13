import pytest

from bot.core.guards.redact import redact


@pytest.mark.parametrize(("text", "gone"), [
    ("Bonjour M. Ahmad KARIMI, votre demande", "KARIMI"),
    ("Nom : HAIDARI Prénom : Zahra", "Zahra"),
    ("Numéro étranger 7501234567 demande", "7501234567"),
    ("tel 06 12 34 56 78", "06 12 34 56 78"),
    ("écrire à ahmad.k@example.org pour", "ahmad.k@example.org"),
])
def test_personal_details_are_removed(text: str, gone: str) -> None:
    out = redact(text)
    assert gone not in out
    assert "[" in out


def test_the_problem_text_survives() -> None:
    text = ("Mot de passe oublié. Un message a été envoyé à l'adresse électronique "
            "correspondant à l'identifiant saisi")
    assert redact(text) == text
    assert redact("Erreur 500, réessayez le 12/03/2026") == "Erreur 500, réessayez le 12/03/2026"
