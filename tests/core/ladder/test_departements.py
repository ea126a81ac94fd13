"""The départements: all 101, found however the user writes them, and contact details only
where a source gives them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.core.flows.definition import DefinitionError
from bot.core.ladder.departements import Departements, parse_departements

KNOWLEDGE = Path(__file__).resolve().parents[3] / "flows" / "knowledge"
DOCUMENT = yaml.safe_load((KNOWLEDGE / "departements.yaml").read_text(encoding="utf-8"))
DEPARTEMENTS: Departements = parse_departements(DOCUMENT)
SOURCES = set(yaml.safe_load((KNOWLEDGE / "sources.yaml").read_text(encoding="utf-8"))
              ["sources"])


def test_there_are_101_and_every_contact_has_a_known_source() -> None:
    assert len(DEPARTEMENTS.by_code) == 101
    for d in DEPARTEMENTS.by_code.values():
        if d.email or d.website:
            assert d.sources, d.code
            assert set(d.sources) <= SOURCES, d.code
        if d.email:
            assert d.email.endswith(".gouv.fr")


@pytest.mark.parametrize(("typed", "code"), [
    ("6", "06"), ("06", "06"), ("۰۶", "06"), ("٩٣", "93"), ("2a", "2A"), ("2B", "2B"),
    ("974", "974"), ("Côte-d'Or", "21"), ("cote d or", "21"), ("SEINE SAINT DENIS", "93"),
    ("la réunion", "974"), ("Paris", "75"),
])
def test_found_by_number_or_name(typed: str, code: str) -> None:
    found = DEPARTEMENTS.find(typed)
    assert found is not None
    assert found.code == code


@pytest.mark.parametrize("typed", ["", "0", "100", "20", "Atlantis", "2C"])
def test_unknown_ones_are_not_guessed(typed: str) -> None:
    assert DEPARTEMENTS.find(typed) is None


def test_a_contact_without_a_source_is_refused() -> None:
    rows = [*DOCUMENT["departements"], {"code": "99", "name": "Nulle part",
                                        "email": "x@example.org"}]
    with pytest.raises(DefinitionError, match="without a source"):
        parse_departements({**DOCUMENT, "departements": rows})
