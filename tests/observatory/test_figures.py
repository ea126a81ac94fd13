"""The observatory's figures on a seeded database with known answers, the small-cell rule,
the CSV, the SVG charts, the monthly report, and /delete taking a person out."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path
from typing import Any

from defusedxml import ElementTree

from bot.observatory.charts import bar_chart
from bot.observatory.export import as_csv, monthly_report
from bot.observatory.figures import HIDDEN, figures
from bot.storage.observations import ObservationStore
from bot.storage.sqlite import SQLiteStorage
from tests.documents.conftest import first_page_png, pdf_text
from tests.observatory.conftest import NOVEMBER, person

DEPARTEMENTS = {"06": "Alpes-Maritimes (06)", "75": "Paris (75)"}
PROBLEMS = {"api_expired_not_renewed": "API expirée, pas renouvelée"}


async def _november(store: SQLiteStorage) -> tuple[Any, Any]:
    raw = await ObservationStore(store).figures(*NOVEMBER)
    return raw, figures(raw, DEPARTEMENTS, PROBLEMS, "novembre 2026")


async def test_the_known_answers(seeded: SQLiteStorage) -> None:
    raw, _ = await _november(seeded)
    assert raw.problems_by_week == [("2026-11-02", 7), ("2026-11-09", 3)]
    assert raw.problems_by_departement == [("06", 6), ("75", 3), ("", 1)]
    assert raw.problems_by_kind == [("api_expired_not_renewed", 6), ("login_loop", 3),
                                    ("scam", 1)]
    assert raw.ccc_answer_days == [2, 4, 6, 8, 10, 30]
    assert raw.without_document_days == [42, 43, 44]
    assert (raw.protected_renewed, raw.protected_short) == (12, 6)
    assert raw.beyond_prefecture == 5
    assert raw.outcomes == [("no_answer", 2), ("solved", 5)]


async def test_the_small_cell_rule(seeded: SQLiteStorage) -> None:
    _, shown = await _november(seeded)
    assert [(r.label, r.shown) for r in shown.by_week] == [("02/11/2026", "7"),
                                                           ("09/11/2026", HIDDEN)]
    assert [(r.label, r.shown) for r in shown.by_departement] == [
        ("Alpes-Maritimes (06)", "6"), ("Paris (75)", HIDDEN), ("Non indiqué", HIDDEN)]
    assert shown.ccc_median == "7"
    assert shown.gap_people.shown == HIDDEN
    assert "non affichée" in shown.gap_median  # 3 people: no median
    assert shown.short_share == "50 %"
    assert shown.beyond_prefecture.shown == "5"
    assert [(r.label, r.shown) for r in shown.outcomes] == [
        ("Sans réponse de la personne", HIDDEN), ("Réglé", "5")]
    # No figure anywhere shows a count between 1 and 4.
    for _, _, value in shown.table():
        assert not re.fullmatch(r"[1-4]", value), value


async def test_delete_takes_a_person_out_of_the_figures(seeded: SQLiteStorage) -> None:
    async with seeded.transaction() as tx:
        await tx.erase_user(person(60))  # went to the substitute route
        await tx.erase_user(person(25))  # the CCC answered after 30 days
    raw, shown = await _november(seeded)
    assert raw.beyond_prefecture == 4
    assert shown.beyond_prefecture.shown == HIDDEN
    assert raw.ccc_answer_days == [2, 4, 6, 8, 10]
    assert shown.ccc_median == "6"
    assert (await seeded.rows_about(person(60)))["observations"] == 0


async def test_the_csv(seeded: SQLiteStorage) -> None:
    _, shown = await _november(seeded)
    rows = list(csv.reader(io.StringIO(as_csv(shown)), delimiter=";"))
    assert rows[0] == ["periode", "rubrique", "libelle", "valeur"]
    by_label = {(r[1], r[2]): r[3] for r in rows[1:]}
    assert by_label[("Problèmes par semaine", "Semaine du 02/11/2026")] == "7"
    assert by_label[("Problèmes par département", "Paris (75)")] == HIDDEN
    assert by_label[("Délai de réponse du CCC", "Médiane (jours)")] == "7"
    assert by_label[("API renouvelées des personnes protégées", "Part de moins de 6 mois")] \
        == "50 %"
    assert all(r[0] == "novembre 2026" for r in rows[1:])
    assert not any("telegram:" in cell for r in rows for cell in r)  # nobody named


async def test_the_charts_are_svg_that_hide_small_cells(seeded: SQLiteStorage) -> None:
    _, shown = await _november(seeded)
    svg = bar_chart("Problèmes par département", shown.by_departement, "by-departement")
    root = ElementTree.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    bars = root.findall(f"{ns}rect")
    values = [t.text for t in root.findall(f"{ns}text") if t.get("class") == "value"]
    assert values == ["6", HIDDEN, HIDDEN]
    assert len(bars) == 3
    # Both hidden bars have the same width, whatever their real counts (3 and 1).
    assert bars[1].get("width") == bars[2].get("width")
    assert bars[1].get("fill", "").startswith("url(")
    assert float(bars[0].get("width", 0)) > float(bars[1].get("width", 0))
    assert "style=" not in svg
    assert "<script" not in svg


async def test_the_monthly_report(seeded: SQLiteStorage, tmp_path: Path) -> None:
    _, shown = await _november(seeded)
    pdf = monthly_report(shown, "Cimade Nice")
    text = " ".join(pdf_text(pdf, tmp_path).split())
    assert "Rapport mensuel" in text
    assert "novembre 2026" in text
    assert "Cimade Nice" in text
    assert "Alpes-Maritimes (06)" in text
    assert "Moins de 5" not in text
    assert HIDDEN in text
    assert "Toute case de moins de 5" in text
    first_page_png(pdf, tmp_path, "observatory_report_first_page")


async def test_an_empty_period(seeded: SQLiteStorage) -> None:
    raw = await ObservationStore(seeded).figures(date(2025, 1, 1), date(2025, 2, 1))
    shown = figures(raw, DEPARTEMENTS, PROBLEMS, "janvier 2025")
    assert shown.by_week == ()
    assert shown.people.shown == HIDDEN
    assert "Aucune donnée" in bar_chart("x", shown.by_week, "empty")
