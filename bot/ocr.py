"""Reading the text of a screenshot with tesseract, off the event loop, then redacting it.

ANEF speaks French (and English), so a photo of its screen is read with the French and English
data first; when that finds almost nothing (a photo of a message in Dari, Pashto or Arabic), the
Persian, Pashto and Arabic data are tried. Where tesseract is not installed, the result says so
and the user is asked to type the message instead.
"""

from __future__ import annotations

import asyncio
import io
import logging
import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageOps

from bot.core.guards.redact import redact

log = logging.getLogger(__name__)

LATIN = ("fra", "eng")
ARABIC_SCRIPT = ("fas", "pus", "ara")
#: A tesseract run on a big photo is slow (about 0.4 s a line): bound what it is given.
MAX_SIDE = 2400
MIN_LETTERS = 12


@dataclass(frozen=True)
class ScreenText:
    text: str  # redacted
    available: bool  # False when this machine cannot read images


@cache
def installed_languages() -> frozenset[str]:
    if shutil.which("tesseract") is None:
        return frozenset()
    try:
        import pytesseract

        return frozenset(pytesseract.get_languages(config=""))
    except Exception:  # a broken install is the same as none for the user
        log.warning("tesseract is installed but does not answer")
        return frozenset()


def _prepare(image: Image.Image) -> Image.Image:
    image = ImageOps.exif_transpose(image) or image
    gray = ImageOps.grayscale(image)
    if max(gray.size) > MAX_SIDE:
        gray.thumbnail((MAX_SIDE, MAX_SIDE))
    elif max(gray.size) < 1000:  # small screenshots read better enlarged
        gray = gray.resize((gray.width * 2, gray.height * 2), Image.Resampling.LANCZOS)
    return ImageOps.autocontrast(gray)


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


def read_image(data: bytes) -> ScreenText:
    languages = installed_languages()
    if not languages:
        return ScreenText("", available=False)
    import pytesseract

    try:
        image = _prepare(Image.open(io.BytesIO(data)))
    except (OSError, ValueError, Image.DecompressionBombError):
        return ScreenText("", available=True)  # not an image we can open: nothing to read
    text = ""
    for group in (LATIN, ARABIC_SCRIPT):
        usable = [lang for lang in group if lang in languages]
        if not usable:
            continue
        text = pytesseract.image_to_string(image, lang="+".join(usable))
        if _letters(text) >= MIN_LETTERS:
            break
    return ScreenText(redact(" ".join(text.split())), available=True)


async def read_screenshot(data: bytes) -> ScreenText:
    return await asyncio.to_thread(read_image, data)


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""
