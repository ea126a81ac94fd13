"""The note for an organisation that refuses the API, and the complaint for the Défenseur des
droits: their text as pdftotext reads it, for every organisation, status and request."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.content import load_support
from bot.documents.note import (
    ORGANISATIONS,
    REQUESTS,
    STATUSES,
    NoteFacts,
    NoteKnowledge,
    load_note_knowledge,
)
from bot.documents.pdf import render
from tests.documents.conftest import ROOT, first_page_png, pdf_pages, pdf_text

FLOWS = ROOT / "flows"
TODAY = date(2026, 12, 5)
ARTICLES = ("R. 431-15-1", "R. 431-15-3", "R. 431-15-4", "L. 414-10")


@pytest.fixture(scope="module")
def knowledge() -> NoteKnowledge:
    support = load_support(FLOWS)
    return load_note_knowledge(FLOWS / "knowledge" / "note.yaml",
                               support.departements.by_code)


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("organisation", ORGANISATIONS)
@pytest.mark.parametrize("status", STATUSES)
def test_the_note_for_each_organisation_and_status(knowledge: NoteKnowledge, organisation: str,
                                                   status: str, tmp_path: Path) -> None:
    facts = NoteFacts("note", organisation, TODAY, status=status, request="first",
                      api_end=date(2027, 3, 1))
    pdf = render(knowledge.compose(facts))
    assert pdf_pages(pdf, tmp_path) == 1
    text = _flat(pdf_text(pdf, tmp_path))
    assert _flat(knowledge.organisations[organisation]["to"]) in text
    assert "attestation de prolongation d'instruction (API)" in text
    assert "mêmes effets que les anciens récépissés" in text
    assert "2D-Doc" in text
    assert "lecteur de 2D-Doc" in text
    assert "API valable jusqu'au 01/03/2027" in text
    assert "Défenseur des droits" in text
    cited = {a for a in ARTICLES if a in text}
    expected = {"refugee": {"R. 431-15-3", "L. 414-10"}, "subsidiary": {"R. 431-15-4"},
                "stateless": set(), "unknown": set()}[status]
    assert cited == expected
    if status == "subsidiary":
        assert "sans autorisation de travail distincte" in text


@pytest.mark.parametrize("request_kind", REQUESTS)
@pytest.mark.parametrize("status", STATUSES)
def test_articles_by_request_and_status(knowledge: NoteKnowledge, request_kind: str, status: str,
                                       tmp_path: Path) -> None:
    facts = NoteFacts("note", "caf", TODAY, status=status, request=request_kind)
    text = _flat(pdf_text(render(knowledge.compose(facts)), tmp_path))
    cited = {a for a in ARTICLES if a in text}
    if status in ("stateless", "unknown") or request_kind == "unknown":
        assert cited == set()  # ANEF.md 7bis.4: no article
        assert "document de séjour provisoire" in text
    elif request_kind == "first":
        assert cited == {"refugee": {"R. 431-15-3", "L. 414-10"},
                         "subsidiary": {"R. 431-15-4"}}[status]
    else:
        assert "R. 431-15-1" in cited
        assert "avec la carte expirée" in text
        assert ("L. 414-10" in cited) == (status == "refugee")


def test_no_status_given_cites_no_article(knowledge: NoteKnowledge, tmp_path: Path) -> None:
    text = pdf_text(render(knowledge.compose(NoteFacts("note", "bank", TODAY))), tmp_path)
    assert not any(a in _flat(text) for a in ARTICLES)
    assert "API valable jusqu'au" not in text  # no date given, none written


def test_the_card_and_the_prefecture_only_where_known(knowledge: NoteKnowledge,
                                                      tmp_path: Path) -> None:
    with_all = NoteFacts("note", "employer", TODAY, "refugee", "renewal", date(2027, 1, 2),
                         "resident", "06")
    text = _flat(pdf_text(render(knowledge.compose(with_all)), tmp_path))
    assert "Carte demandée ou renouvelée : carte de résident." in text
    assert "www.alpes-maritimes.gouv.fr" in text  # departements.yaml gives it (S17)
    without = NoteFacts("note", "employer", TODAY, "refugee", "renewal", None, None, "01")
    text = _flat(pdf_text(render(knowledge.compose(without)), tmp_path))
    assert "Carte demandée" not in text
    assert "Site de la préfecture" not in text


def test_a_name_only_when_typed(knowledge: NoteKnowledge, tmp_path: Path) -> None:
    facts = NoteFacts("note", "landlord", TODAY, "subsidiary", "first")
    assert "Personne concernée" not in pdf_text(render(knowledge.compose(facts)), tmp_path)
    typed = knowledge.compose(facts, name="  Zahra\nAhmadi\x00 ")
    assert "Personne concernée : Zahra Ahmadi" in _flat(pdf_text(render(typed), tmp_path))


@pytest.mark.parametrize("name", ["زهرا احمدی", "محمد ولي", "ګل احمد"])
def test_a_name_in_arabic_script_prints_in_reading_order(knowledge: NoteKnowledge, name: str,
                                                         tmp_path: Path) -> None:
    # Unshaped, fpdf2 draws the letters isolated and left to right: pdftotext then reads the
    # name backwards ("یدمحا ارهز"). Shaped, it reads the name as typed.
    facts = NoteFacts("note", "employer", TODAY, "refugee", "first")
    text = _flat(pdf_text(render(knowledge.compose(facts, name=name)), tmp_path))
    shown = re.search(r"Personne concernée : (.+?)(?: [A-Z]|$)", text)
    assert shown is not None
    assert shown.group(1).strip("\u202a\u202b\u202c\u200f\u200e ") == name


def test_every_fact_has_a_source_key_that_exists(knowledge: NoteKnowledge) -> None:
    sources = yaml.safe_load((FLOWS / "knowledge" / "sources.yaml").read_text())["sources"]
    anef = (ROOT.parent / "shared" / "domain" / "ANEF.md")
    anef_text = anef.read_text() if anef.exists() else ""
    for organisation in ORGANISATIONS:
        for status in (*STATUSES, None):
            for request_kind in (*REQUESTS, None):
                for kind in ("note", "complaint"):
                    facts = NoteFacts(kind, organisation, TODAY, status, request_kind,
                                      date(2027, 3, 1), "pluriannual", "06", date(2026, 12, 1))
                    for p in knowledge.compose(facts).paragraphs:
                        # A sentence about the law, a right or a check rests on a source.
                        if re.search(r"article|L.API (?:est|prouve)|droit d|2D-Doc|récépissé|"
                                     r"Défenseur des droits|préfecture \(|mémento", p.text):
                            assert p.sources, p.text
                        for key in p.sources:
                            assert key in sources, key
                            if anef_text:
                                assert f"[{key}]" in anef_text or f"| {key} |" in anef_text


def test_the_complaint(knowledge: NoteKnowledge, tmp_path: Path) -> None:
    facts = NoteFacts("complaint", "france_travail", TODAY, "refugee", "first",
                      date(2027, 3, 1), "resident", refused_on=date(2026, 11, 28))
    pdf = render(knowledge.compose(facts))
    text = _flat(pdf_text(pdf, tmp_path))
    assert "Réclamation au Défenseur des droits" in text
    assert "defenseurdesdroits.fr, page « Obtenir de l'aide »" in text
    assert "Le 28/11/2026, France Travail a refusé" in text
    assert "Mon API est valable jusqu'au 01/03/2027." in text
    assert "R. 431-15-3" in text
    assert "Fait le 05/12/2026." in text
    undated = knowledge.compose(NoteFacts("complaint", "bank", TODAY, "stateless"))
    text = _flat(pdf_text(render(undated), tmp_path))
    assert "Une banque refuse de reconnaître" in text
    assert not any(a in text for a in ARTICLES)


def test_the_message_has_the_same_text(knowledge: NoteKnowledge) -> None:
    document = knowledge.compose(NoteFacts("note", "cpam", TODAY, "refugee", "first"))
    for paragraph in document.paragraphs:
        assert paragraph.text in document.text
    assert all(key not in document.text for key in ("S53", "S21", "[S"))


def test_the_first_page_looks_right(knowledge: NoteKnowledge, tmp_path: Path) -> None:
    from PIL import Image

    facts = NoteFacts("note", "employer", TODAY, "refugee", "first", date(2027, 3, 1),
                      "resident", "06")
    png = first_page_png(render(knowledge.compose(facts)), tmp_path, "note_first_page")
    with Image.open(png) as image:
        width, height = image.size
        assert abs(height / width - 297 / 210) < 0.01  # an A4 page
        histogram = image.convert("L").histogram()
        dark = sum(histogram[:128])
    # Text covers a real part of the page, and not all of it.
    assert 0.01 < dark / (width * height) < 0.3


def test_facts_round_trip_and_unknown_values_refused() -> None:
    facts = NoteFacts("complaint", "other", TODAY, "unknown", "renewal", date(2027, 1, 1),
                      "pluriannual", "2A", date(2026, 12, 1))
    assert NoteFacts.from_json(facts.to_json()) == facts
    with pytest.raises(ValueError, match="organisation"):
        NoteFacts.from_json(NoteFacts("note", "police", TODAY).to_json())
