"""Screenshots: generated images of ANEF error screens are read and recognised."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from bot import ocr
from bot.content import Content, build_recogniser
from bot.core.recognise import Recogniser
from bot.ocr import installed_languages, read_image

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

SCREENS = {
    "login_loop": "Mot de passe oublié. Un message a été envoyé à l'adresse électronique "
                  "correspondant à l'identifiant saisi",
    "appointment_unavailable": "Il n'existe plus de plage horaire libre pour votre demande "
                               "de rendez-vous. Veuillez recommencer ultérieurement.",
    "technical_error": "Une erreur technique est survenue. Le service est momentanément "
                       "indisponible. Veuillez réessayer plus tard.",
    "application_stuck": "Statut de votre demande : en cours d'instruction depuis le 12/01/2025",
}


def screenshot(text: str, busy: bool = False, name: str = "") -> bytes:
    """A phone-sized screenshot of the message, optionally over a busy background."""
    width, height = 1080, 900
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    rng = random.Random(7)
    if busy:  # a gradient, coloured panels and speckles, as on a real photo of a screen
        for y in range(height):
            shade = 200 + int(55 * y / height)
            draw.line([(0, y), (width, y)], fill=(shade, shade - 20, 255 - shade // 3))
        for _ in range(12):
            x, y = rng.randrange(width), rng.randrange(height)
            draw.rectangle([x, y, x + rng.randrange(60, 300), y + rng.randrange(20, 120)],
                           fill=(rng.randrange(150, 256), rng.randrange(150, 256), 230))
        for _ in range(4000):
            x, y = rng.randrange(width), rng.randrange(height)
            draw.point((x, y), fill=(rng.randrange(256),) * 3)
    font = ImageFont.truetype(str(FONT), 40)
    header = ImageFont.truetype(str(FONT), 30)
    draw.text((40, 40), "administration-etrangers-en-france.interieur.gouv.fr", fill="navy",
              font=header)
    if name:
        draw.text((40, 100), f"Bonjour M. {name}", fill="black", font=header)
    y, line = 200, ""
    for word in text.split():
        if draw.textlength(f"{line} {word}", font=font) > width - 80:
            draw.text((40, y), line.strip(), fill=(150, 0, 0), font=font)
            y, line = y + 60, ""
        line += f" {word}"
    draw.text((40, y), line.strip(), fill=(150, 0, 0), font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def model(content: Content) -> Recogniser:
    return build_recogniser(content.problems, content.reports, content.catalogs,
                            content.lexicon)


def test_tesseract_and_its_languages_are_installed() -> None:
    # .ci/run installs them (scripts/install-system-packages.sh): the tests below need them.
    assert {"fra", "eng", "fas", "pus", "ara"} <= installed_languages()


@pytest.mark.parametrize("busy", [False, True], ids=["plain", "busy"])
@pytest.mark.parametrize("error", sorted(SCREENS))
def test_a_screenshot_of_an_error_is_recognised(model: Recogniser, error: str, busy: bool
                                                ) -> None:
    screen = read_image(screenshot(SCREENS[error], busy=busy))
    assert screen.available
    found = model.recognise(screen.text)
    assert found.error == error, (screen.text, found)


def test_names_and_long_numbers_are_removed_from_what_was_read() -> None:
    screen = read_image(screenshot("Numéro étranger 7501234567 : " + SCREENS["login_loop"],
                                   name="Ahmad KARIMI"))
    assert "KARIMI" not in screen.text
    assert "7501234567" not in screen.text
    assert "Mot de passe" in screen.text


def test_what_is_not_an_image_reads_as_nothing() -> None:
    screen = read_image(b"%PDF-1.4 not an image")
    assert screen.available
    assert screen.text == ""


def test_without_tesseract_the_user_is_asked_to_type(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "installed_languages", lambda: frozenset())
    screen = read_image(screenshot(SCREENS["login_loop"]))
    assert not screen.available
