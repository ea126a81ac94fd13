"""`python -m bot whatsapp templates --out whatsapp/templates/`: the reminder templates, ready
to submit to Meta, generated from the flows and their translations.

One template per reminder kind (`bot.core.reminders.reminder_types()`) and language: the text
exactly as the engine renders it, with its day count written out (a kind always says the same
number of days), and only the values that change from one user to the next (dates) as
`{{1}}`, `{{2}}`... The buttons are quick replies whose payloads are the global reminder
buttons. A kind or language that cannot be generated (a text or a translation not written yet)
is recorded in `index.json` under `missing`, with the reason: at run time that language falls
back to the user's second language or French. Regenerate after any change to a reminder text.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bot.channels.labels import shorten
from bot.channels.whatsapp_templates import INDEX, LANGUAGES, display_value, template_name
from bot.core.dates.written import show_date
from bot.core.i18n import placeholders
from bot.core.model import LOCALES
from bot.core.params import COUNT_PARAMS, DATE_SLOTS, date_params, localise_counts
from bot.core.reminders import BUTTONS, FOLLOWUP_BUTTONS, reminder_types
from bot.core.speak import Speaker
from bot.core.text import for_display

COMMAND = "python -m bot whatsapp templates --out whatsapp/templates/"
CATEGORY = "UTILITY"
#: Quick-reply titles are kept to 20 characters, the limit PLATFORMS.md gives for reply buttons.
BUTTON_LIMIT = 20
#: The example values Meta asks for: an end date, and a contact date for follow-ups.
SAMPLE_END = date(2026, 3, 12)
SAMPLE_CONTACT = date(2026, 2, 20)


@dataclass
class Generated:
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # file name -> template
    index: dict[str, Any] = field(default_factory=dict)


def _sentinel(number: int) -> str:
    # A private-use character: the bidi isolation of the text never touches it.
    return chr(0xE000 + number)


def buttons_of(kind: str) -> tuple[tuple[str, str], ...]:
    """(global button id, label key) under a reminder of this kind."""
    slot = kind.partition(":")[0]
    return BUTTONS.get(slot) or (FOLLOWUP_BUTTONS if slot == "ladder" else ())


def variable_names(speaker: Speaker, key: str) -> list[str]:
    """The placeholders of a reminder text that change from one user to the next (dates), in
    the order of the French text. Counts, the language's name and constants are written out."""
    text = speaker.named[key]
    source = f"{text.source} {text.plural or ''}"
    fixed = {*COUNT_PARAMS, "language", *speaker.constants}
    names = placeholders(text.source) | placeholders(text.plural or "")
    return sorted((n for n in names if n not in fixed), key=lambda n: source.find(f"{{{n}}}"))


def _params(speaker: Speaker, kind: str, locale: str, variable: list[str]) -> dict[str, str]:
    slot, _, offset = kind.partition(":")
    if slot in DATE_SLOTS:
        due_day = SAMPLE_END - timedelta(days=int(offset))
        params = date_params({slot: SAMPLE_END.isoformat()}, locale, due_day)
    else:
        params = date_params({}, locale, SAMPLE_CONTACT)
    for name in variable:
        params.setdefault(name, show_date(SAMPLE_CONTACT, locale))
    return localise_counts({**speaker.constants, **params}, locale)


def _localised(speaker: Speaker, kind: str, key: str, locale: str
               ) -> tuple[dict[str, Any], list[str]] | str:
    """The template of a kind in one locale and its placeholder names, or why there is none."""
    variable = variable_names(speaker, key)
    params = _params(speaker, kind, locale, variable)
    sentinels = {name: _sentinel(i) for i, name in enumerate(variable)}
    rendered = speaker.translator.render(speaker.named[key], locale, {**params, **sentinels})
    if rendered.locale != locale:
        return f"no {locale} translation of {key} yet"
    body = for_display(rendered.text, locale)
    # Numbered in this language's order: a translation may put the dates the other way round.
    order = sorted((n for n in variable if sentinels[n] in body),
                   key=lambda n: body.index(sentinels[n]))
    for number, name in enumerate(order, 1):
        body = body.replace(sentinels[name], f"{{{{{number}}}}}")
    labels = []
    for _, label_key in buttons_of(kind):
        label = speaker.translator.render(speaker.named[label_key], locale)
        if label.locale != locale:
            return f"no {locale} translation of {label_key} yet"
        labels.append(shorten(for_display(label.text, locale), BUTTON_LIMIT))
    component: dict[str, Any] = {"type": "BODY", "text": body}
    if order:
        component["example"] = {"body_text": [[display_value(params[n], locale)
                                                for n in order]]}
    components = [component]
    if labels:
        components.append({"type": "BUTTONS", "buttons": [
            {"type": "QUICK_REPLY", "text": label} for label in labels]})
    template = {"name": template_name(kind), "language": LANGUAGES[locale],
                "category": CATEGORY, "components": components}
    return template, order


def generate(speaker: Speaker) -> Generated:
    out = Generated()
    reminders: dict[str, Any] = {}
    for kind, key in reminder_types().items():
        name = template_name(kind)
        entry: dict[str, Any] = {"name": name, "text": key, "parameters": [],
                                 "buttons": [b for b, _ in buttons_of(kind)],
                                 "templates": {}, "missing": {}}
        reminders[kind] = entry
        if key not in speaker.named or any(k not in speaker.named for _, k in buttons_of(kind)):
            # A reminder kind announced before its text is written (reminders.py lists it).
            entry["missing"] = {locale: f"{key} is not in the flows yet" for locale in LOCALES}
            continue
        entry["parameters"] = variable_names(speaker, key)
        for locale in LOCALES:
            made = _localised(speaker, kind, key, locale)
            if isinstance(made, str):
                entry["missing"][locale] = made
                continue
            template, order = made
            file = f"{name}.{LANGUAGES[locale]}.json"
            out.files[file] = template
            entry["templates"][locale] = {"language": LANGUAGES[locale], "file": file,
                                          "parameters": order}
    out.index = {"generated_by": COMMAND, "languages": LANGUAGES, "reminders": reminders}
    return out


def dump(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def expected_files(generated: Generated) -> dict[str, str]:
    """Every file the templates folder must hold, by name, with its exact text."""
    files = {name: dump(t) for name, t in generated.files.items()}
    files[INDEX] = dump(generated.index)
    return files


def differences(folder: Path, expected: dict[str, str]) -> list[str]:
    present = {p.name for p in folder.glob("*.json")} if folder.is_dir() else set()
    stale = sorted(present - set(expected))
    changed = sorted(n for n, text in expected.items()
                     if n not in present or (folder / n).read_text(encoding="utf-8") != text)
    return [f"{n} (changed or new)" for n in changed] + [f"{n} (no longer made)" for n in stale]


def write(folder: Path, expected: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.json"):
        if stale.name not in expected:
            stale.unlink()
    for name, text in expected.items():
        (folder / name).write_text(text, encoding="utf-8")


def main(speaker: Speaker, folder: Path, check: bool) -> int:
    expected = expected_files(generate(speaker))
    if check:
        problems = differences(folder, expected)
        for problem in problems:
            print(f"{folder}/{problem}", file=sys.stderr)
        if problems:
            print(f"the WhatsApp templates are out of date: run {COMMAND}", file=sys.stderr)
        return 1 if problems else 0
    write(folder, expected)
    made = len(expected) - 1
    print(f"{made} templates written to {folder}")
    return 0
