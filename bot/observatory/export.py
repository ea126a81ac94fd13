"""The observatory's figures as CSV and as a printable monthly report (PDF)."""

from __future__ import annotations

import csv
import io

from bot.documents.pdf import render_report
from bot.observatory.figures import METHOD, Figures


def as_csv(figures: Figures) -> str:
    """Semicolon-separated (what a French spreadsheet opens), with a header; hidden cells
    are written "< 5", like on the page."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["periode", "rubrique", "libelle", "valeur"])
    for section, label, value in figures.table():
        writer.writerow([figures.period, section, label, value])
    return out.getvalue()


def monthly_report(figures: Figures, organisation: str) -> bytes:
    """A PDF the association can attach to a saisine of the Défenseur des droits."""
    sections: dict[str, list[tuple[str, str]]] = {}
    for section, label, value in figures.table():
        sections.setdefault(section, []).append((label, value))
    tables = [(section, ("", "Valeur"), [list(r) for r in rows])
              for section, rows in sections.items()]
    intro = [f"Période : {figures.period}. Observatoire des dysfonctionnements de l'ANEF, "
             f"établi par {organisation} avec l'assistant Relais."]
    return render_report("Rapport mensuel : dysfonctionnements de l'ANEF", intro, tables,
                         ["Ce qui est compté, et comment :", *METHOD])
