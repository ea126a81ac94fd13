"""Documents as PDF files, with fpdf2.

Why fpdf2 rather than weasyprint: it is pure Python (its only dependencies, fontTools, Pillow
and defusedxml, are wheels), so the server needs no Pango, Cairo or GDK libraries from the
system; it embeds a TrueType font subset, so every accent (and any name typed in the web
chat) prints; and a one-page note of paragraphs needs no HTML layout engine. The fonts are
Debian's DejaVu (fonts-dejavu-core, installed by scripts/install-system-packages.sh).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF

from bot.core.exceptions import RelaisError
from bot.documents.note import Document

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
REGULAR, BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"
#: Font size and space after a paragraph, by style.
STYLES = {"title": (15.0, 4.0, "B"), "heading": (11.5, 1.5, "B"), "body": (10.5, 2.2, ""),
          "item": (10.5, 0.8, ""), "small": (8.5, 1.5, "")}


class FontMissing(RelaisError, RuntimeError):
    """The DejaVu fonts are not installed (Debian package fonts-dejavu-core)."""


def _font(name: str) -> Path:
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return folder / name
    raise FontMissing(f"{name} not found: install the Debian package fonts-dejavu-core")


def _new_pdf(title: str) -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.add_font("DejaVu", "", str(_font(REGULAR)))
    pdf.add_font("DejaVu", "B", str(_font(BOLD)))
    # HarfBuzz shaping and the bidi algorithm: a name typed in Dari, Pashto or Arabic (the
    # note's "Personne concernée") prints joined and right to left inside the French line.
    pdf.set_text_shaping(True)
    pdf.set_title(title)
    pdf.set_lang("fr")
    pdf.set_creator("Relais")
    pdf.add_page()
    return pdf


def _write(pdf: FPDF, text: str, style: str) -> None:
    size, after, weight = STYLES[style]
    if style == "heading":
        pdf.ln(1.5)
    pdf.set_font("DejaVu", weight, size)
    # French typography: no line break inside « ... » nor before a colon.
    text = text.replace("« ", "«\u00a0").replace(" »", "\u00a0»").replace(" :", "\u00a0:")
    pdf.multi_cell(0, size * 0.5, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(after)


def render(document: Document) -> bytes:
    """The document as a PDF (A4, one page for the note)."""
    pdf = _new_pdf(document.title)
    _write(pdf, document.title, "title")
    for paragraph in document.paragraphs:
        _write(pdf, paragraph.text, paragraph.style)
    return bytes(pdf.output())


def render_report(title: str, intro: Sequence[str],
                  tables: Sequence[tuple[str, Sequence[str], Sequence[Sequence[str]]]],
                  notes: Sequence[str]) -> bytes:
    """A printable report: a title, paragraphs, then tables (heading, columns, rows)."""
    pdf = _new_pdf(title)
    _write(pdf, title, "title")
    for line in intro:
        _write(pdf, line, "body")
    for heading, columns, rows in tables:
        _write(pdf, heading, "heading")
        pdf.set_font("DejaVu", "", 9.5)
        with pdf.table(col_widths=tuple(2 if i == 0 else 1 for i in range(len(columns))),
                       text_align="LEFT", line_height=5.5) as table:
            head = table.row()
            for column in columns:
                head.cell(column)
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(value)
        pdf.ln(3)
    for line in notes:
        _write(pdf, line, "small")
    return bytes(pdf.output())
