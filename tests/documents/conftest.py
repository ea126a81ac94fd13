"""What the document tests share: pdftotext and pdftoppm (Debian's poppler-utils), and where
a test keeps a rendered page for people to look at."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: run scripts/install-system-packages.sh (poppler-utils)")
    return path


def pdf_text(pdf: bytes, tmp_path: Path, name: str = "doc") -> str:
    """The PDF's text as pdftotext reads it (fails if the file is not a valid PDF)."""
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(pdf)
    done = subprocess.run([_tool("pdftotext"), "-layout", str(source), "-"],
                          capture_output=True, check=True, timeout=60)
    return done.stdout.decode("utf-8")


def pdf_pages(pdf: bytes, tmp_path: Path) -> int:
    source = tmp_path / "pages.pdf"
    source.write_bytes(pdf)
    done = subprocess.run([_tool("pdfinfo"), str(source)], capture_output=True, check=True,
                          timeout=60, text=True)
    line = next(li for li in done.stdout.splitlines() if li.startswith("Pages:"))
    return int(line.split()[1])


def first_page_png(pdf: bytes, tmp_path: Path, name: str) -> Path:
    """The first page rendered by pdftoppm, kept in the test's tmp dir; with
    RELAIS_SCREENSHOTS=1 also copied to var/screenshots/<name>.png for the closing note."""
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run([_tool("pdftoppm"), "-png", "-r", "80", "-f", "1", "-l", "1",
                    "-singlefile", str(source), str(tmp_path / name)], check=True, timeout=60)
    png = tmp_path / f"{name}.png"
    print(f"first page of {name}: {png}")
    if os.environ.get("RELAIS_SCREENSHOTS"):
        keep = ROOT / "var" / "screenshots" / f"{name}.png"
        keep.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, keep)
        print(f"kept as {keep}")
    return png
