"""The reminder templates shipped for WhatsApp: generated from the flows, complete, in the shape
Meta requires, and saying exactly what the free-text reminder says."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.channels.labels import compact, shorten
from bot.channels.whatsapp_generate import COMMAND, differences, expected_files, generate
from bot.channels.whatsapp_templates import (
    INDEX,
    LANGUAGES,
    TemplateBook,
    named_values,
    shown_day,
    template_name,
)
from bot.core.engine import Engine
from bot.core.model import LOCALES
from bot.core.reminders import reminder_types
from bot.core.text import FSI, PDI, RLM
from bot.settings import Settings
from bot.storage.base import ReminderGroup

PARIS = ZoneInfo("Europe/Paris")
_PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")
_INVISIBLE = str.maketrans("", "", FSI + PDI + RLM)


@pytest.fixture(scope="module")
def folder(settings: Settings) -> Path:
    return settings.whatsapp_templates_dir


@pytest.fixture(scope="module")
def index(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / INDEX).read_text(encoding="utf-8")))


def test_the_committed_templates_are_the_generated_ones(engine: Engine, folder: Path) -> None:
    # From whatever reminder_types() and the flows say now: a changed reminder text, or a new
    # kind, fails here until the templates are regenerated.
    problems = differences(folder, expected_files(generate(engine.speaker)))
    assert problems == [], f"run {COMMAND}"


def _meta_problems(template: dict[str, Any]) -> list[str]:
    """What Meta requires of a template submission (the fields of the create-template call)."""
    problems = []
    if not re.fullmatch(r"[a-z0-9_]{1,512}", str(template.get("name", ""))):
        problems.append("name: lowercase letters, digits and underscores")
    if template.get("language") not in LANGUAGES.values():
        problems.append(f"language {template.get('language')!r}")
    if template.get("category") != "UTILITY":
        problems.append("category must be UTILITY")
    components = template.get("components") or []
    bodies = [c for c in components if c.get("type") == "BODY"]
    if len(bodies) != 1 or not isinstance(bodies[0].get("text"), str):
        return [*problems, "exactly one BODY with text"]
    body = bodies[0]["text"]
    numbers = [int(n) for n in _PLACEHOLDER.findall(body)]
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append(f"placeholders must be {{{{1}}}}, {{{{2}}}}... in order: {numbers}")
    examples = (bodies[0].get("example") or {}).get("body_text") or [[]]
    if len(examples) != 1 or len(examples[0]) != len(numbers) or not all(examples[0]):
        problems.append("one example value for each placeholder")
    visible = body.translate(_INVISIBLE).strip()
    if numbers and (visible.startswith("{{") or visible.endswith("}}")):
        problems.append("a placeholder may not start or end the body")
    if re.search(r"\}\}\s*\{\{", body):
        problems.append("two placeholders side by side")
    if len(body) > 1024:
        problems.append("body longer than 1024 characters")
    for group in (c for c in components if c.get("type") == "BUTTONS"):
        buttons = group.get("buttons") or []
        if not 1 <= len(buttons) <= 3:
            problems.append("1 to 3 quick replies")
        for button in buttons:
            text = button.get("text", "")
            if button.get("type") != "QUICK_REPLY" or not 1 <= len(text) <= 20:
                problems.append(f"quick reply of 1 to 20 characters: {text!r}")
    return problems


def test_every_template_has_the_fields_meta_requires(folder: Path) -> None:
    files = sorted(p for p in folder.glob("*.json") if p.name != INDEX)
    assert len(files) >= len(reminder_types()) // 2  # most kinds exist in every language
    for path in files:
        template = json.loads(path.read_text(encoding="utf-8"))
        assert _meta_problems(template) == [], path.name
        assert path.name == f"{template['name']}.{template['language']}.json"


def test_every_reminder_kind_has_a_template_in_every_locale_or_a_recorded_fallback(
        index: dict[str, Any], engine: Engine) -> None:
    reminders = index["reminders"]
    assert set(reminders) == set(reminder_types())
    for kind, entry in reminders.items():
        assert entry["name"] == template_name(kind)
        for locale in LOCALES:
            recorded = entry["templates"].get(locale) or entry["missing"].get(locale)
            assert recorded, f"{kind} in {locale}: neither a template nor a recorded reason"
        # The payloads of the quick replies are the global reminder buttons.
        assert entry["buttons"]
        assert set(entry["buttons"]) <= set(engine.commands.buttons), kind
        if entry["templates"]:  # French, the last fallback, is always there
            assert "fr" in entry["templates"], kind
    assert index["languages"]["fa_AF"] == "prs_AF"  # PLATFORMS.md: Dari is prs_AF there


def _fill(template: dict[str, Any], values: list[str]) -> str:
    body = next(c for c in template["components"] if c["type"] == "BODY")["text"]
    return _PLACEHOLDER.sub(lambda m: values[int(m.group(1)) - 1], body)


def _due_reminder(kind: str, locale: str, end: date) -> ReminderGroup:
    slot, _, offset = kind.partition(":")
    return ReminderGroup(slot=slot, planned=end.isoformat(), offset=int(offset), locale=locale,
                         count=1)


@pytest.mark.parametrize("locale", LOCALES)
def test_a_filled_template_says_what_the_free_text_reminder_says(
        engine: Engine, folder: Path, locale: str) -> None:
    book = TemplateBook.load(folder)
    end = date(2027, 5, 20)
    for kind in (k for k in reminder_types() if k.startswith(("api_end:", "card_end:"))):
        offset = int(kind.partition(":")[2])
        due_day = datetime.combine(end - timedelta(days=offset), time(10), tzinfo=PARIS)
        message = engine.speaker.reminder(_due_reminder(kind, locale, end), due_day)
        assert message is not None
        assert message.template == kind
        template = book.reminders[kind]
        chosen = template.localised[locale]
        payload = template.payload("33600000001", chosen, message.template_params)
        components = payload["template"]["components"]
        values = [p["text"] for c in components if c["type"] == "body"
                  for p in c["parameters"]]
        file = json.loads((folder / f"{template.name}.{chosen.language}.json").read_text())
        assert _fill(file, values) == message.text, (kind, locale)
        taps = [c["parameters"][0]["payload"] for c in components if c["type"] == "button"]
        assert taps == [c.id for c in message.choices]


def test_a_fallback_template_shows_its_dates_in_its_own_language(engine: Engine,
                                                                  folder: Path) -> None:
    book = TemplateBook.load(folder)
    end = date(2027, 5, 20)
    due = datetime.combine(end - timedelta(days=120), time(10), tzinfo=PARIS)
    message = engine.speaker.reminder(_due_reminder("card_end:120", "fa_AF", end), due)
    assert message is not None
    assert "(" in message.template_params[0]  # Dari shows the Solar Hijri date too
    french = book.choose("card_end:120", "ps", None, approved={"fr", "fa_AF"})
    assert french is not None
    assert french.locale == "fr"
    payload = book.reminders["card_end:120"].payload("1", french, message.template_params)
    values = [p["text"] for p in payload["template"]["components"][0]["parameters"]]
    assert values == ["20/05/2027", "21/03/2027"]  # the end, and the window's close
    assert book.choose("card_end:120", "ps", "fa_AF", approved={"fr", "fa_AF"}) == (
        book.reminders["card_end:120"].localised["fa_AF"])
    assert book.choose("card_end:120", "ps", None, approved=set()) is None
    assert book.choose("no_such:kind", "fr", None, approved={"fr"}) is None


def test_values_of_follow_ups_are_shown_again_for_the_template_language() -> None:
    assert shown_day("20/02/2026 (۱ حوت ۱۴۰۴)") == date(2026, 2, 20)
    assert shown_day("31/02/2026") is None
    named = named_values("ladder:ccc", ("contact_date",), ("20/02/2026 (۱ حوت ۱۴۰۴)",), "fr")
    assert named == {"contact_date": "20/02/2026"}
    kept = named_values("ladder:ccc", ("contact_date",), ("hier",), "fr")
    assert kept == {"contact_date": "hier"}


def test_template_names_are_what_whatsapp_accepts() -> None:
    assert template_name("api_end:30") == "relais_api_end_30"
    assert template_name("api_end:-1") == "relais_api_end_minus1"
    assert template_name("ladder:defenseur_des_droits") == "relais_ladder_defenseur_des_droits"


def test_long_labels_lose_marks_first_then_whole_words() -> None:
    assert shorten("Aidez-moi", 20) == "Aidez-moi"
    # A right-to-left label starting with a right-to-left letter does not need RLM, and a
    # single Latin word does not need to be isolated.
    pashto = f"{RLM}نوی {FSI}API{PDI} مې ترلاسه کړ"
    assert compact(pashto) == "نوی API مې ترلاسه کړ"
    assert shorten(pashto, 20) == "نوی API مې ترلاسه کړ"
    assert shorten("J'ai ma nouvelle carte", 20) == "J'ai ma nouvelle…"
    assert shorten(f"{RLM}{FSI}titre de séjour{PDI} نو", 12) == f"{RLM}{FSI}titre de{PDI}…"
    assert shorten("Anticonstitutionnellement", 10) == "Anticonst…"
    assert all(len(shorten(label, 20)) <= 20 for label in (pashto, "x " * 30, "y" * 40))
