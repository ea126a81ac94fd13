"""WhatsApp's approved templates for reminders: which one to send, in which language, filled
with what.

A reminder due more than 24 hours after the user last wrote cannot go as free text; it goes as
the approved "utility" template of its kind (one per reminder kind, e.g. "api_end:30", in each
language). The definitions are generated from the flows (`python -m bot whatsapp templates`,
see `whatsapp_generate.py`) and committed under `whatsapp/templates/`, with `index.json`
saying, for each kind, the template's name, its placeholders by name and its buttons.

A locale whose template is not approved (`WHATSAPP_TEMPLATE_LOCALES`) or not defined falls
back to the user's second language if they gave one, else French; the caller records it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bot.core.dates.written import show_date
from bot.core.exceptions import RelaisError
from bot.core.model import SOURCE_LOCALE
from bot.core.params import DATE_SLOTS, date_params
from bot.core.text import ascii_digits, is_rtl, isolate_latin

#: Our locales -> WhatsApp's template language codes. Dari is `prs_AF` there (PLATFORMS.md,
#: "WhatsApp Cloud API"). fr, ar, en and Pashto's `ps_AF` are in Meta's list of template
#: languages (checked 2026-11); they are not in PLATFORMS.md yet.
LANGUAGES = {"fr": "fr", "fa_AF": "prs_AF", "ps": "ps_AF", "ar": "ar", "en": "en"}
INDEX = "index.json"
PREFIX = "relais_"
_SHOWN_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


class TemplateError(RelaisError, ValueError):
    """A template cannot be chosen or filled; the message says why (no personal data)."""


def template_name(kind: str) -> str:
    """"api_end:30" -> "relais_api_end_30", "api_end:-1" -> "relais_api_end_minus1": WhatsApp
    names are lowercase letters, digits and underscores."""
    name = kind.lower().replace(":-", "_minus").replace(":", "_")
    return PREFIX + re.sub(r"[^a-z0-9_]", "_", name)


def display_value(value: str, locale: str) -> str:
    """A value as the free-text message shows it: in right-to-left text its Latin runs (the
    date) are isolated, exactly as the engine isolates them in the rendered text."""
    return isolate_latin(value) if is_rtl(locale) else value


def shown_day(value: str) -> date | None:
    """The date in a value as the engine shows dates (12/03/2026, then the Solar Hijri date
    for Dari and Pashto), or None."""
    found = _SHOWN_DATE.search(ascii_digits(value))
    if found is None:
        return None
    day, month, year = (int(g) for g in found.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def named_values(kind: str, parameters: Sequence[str], params: Sequence[str], locale: str
                 ) -> dict[str, str]:
    """The values of a reminder's placeholders, by name, shown for `locale` (which may differ
    from the user's when a template falls back to another language).

    A date reminder carries its end date (MessageCreated.template_params): every date the text
    shows derives from it, as the engine derives it. Other reminders carry one value per
    placeholder, in the order of `parameters`; dates among them are shown again for `locale`.
    """
    slot = kind.partition(":")[0]
    if slot in DATE_SLOTS and params and (end := shown_day(params[0])) is not None:
        return date_params({slot: end.isoformat()}, locale, end)
    named = {}
    for name, value in zip(parameters, params, strict=False):
        day = shown_day(value)
        named[name] = show_date(day, locale) if day is not None else value
    return named


@dataclass(frozen=True)
class Localised:
    """A reminder's template in one language."""

    locale: str
    language: str  # WhatsApp's code
    parameters: tuple[str, ...]  # placeholder names, in {{1}}, {{2}}... order


@dataclass(frozen=True)
class ReminderTemplate:
    kind: str
    name: str
    parameters: tuple[str, ...]  # what template_params stand for, in the French text's order
    buttons: tuple[str, ...]  # quick-reply payloads: global reminder buttons (commands.yaml)
    localised: Mapping[str, Localised]

    def payload(self, to: str, chosen: Localised, params: Sequence[str]) -> dict[str, Any]:
        """The Cloud API message sending this template, filled for `chosen`'s language."""
        named = named_values(self.kind, self.parameters, params, chosen.locale)
        missing = [n for n in chosen.parameters if n not in named]
        if missing:
            raise TemplateError(f"{self.name}: no value for {', '.join(missing)}")
        components: list[dict[str, Any]] = []
        if chosen.parameters:
            components.append({"type": "body", "parameters": [
                {"type": "text", "text": display_value(named[n], chosen.locale)}
                for n in chosen.parameters]})
        components.extend({"type": "button", "sub_type": "quick_reply", "index": str(i),
                           "parameters": [{"type": "payload", "payload": button}]}
                          for i, button in enumerate(self.buttons))
        return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
                "type": "template",
                "template": {"name": self.name, "language": {"code": chosen.language},
                             "components": components}}


class TemplateBook:
    """The committed templates (`index.json`), and the choice of language."""

    def __init__(self, reminders: Mapping[str, ReminderTemplate]) -> None:
        self.reminders = reminders

    @classmethod
    def load(cls, folder: Path) -> TemplateBook:
        path = folder / INDEX
        try:
            index = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise TemplateError(f"{path}: cannot read the WhatsApp templates ({exc}); run "
                                "python -m bot whatsapp templates") from exc
        reminders = {}
        for kind, entry in index["reminders"].items():
            localised = {locale: Localised(locale, t["language"], tuple(t["parameters"]))
                         for locale, t in entry["templates"].items()}
            reminders[kind] = ReminderTemplate(kind, entry["name"], tuple(entry["parameters"]),
                                               tuple(entry["buttons"]), localised)
        return cls(reminders)

    def choose(self, kind: str, locale: str, second_locale: str | None,
               approved: Collection[str]) -> Localised | None:
        """The user's language if its template is approved, else their second language,
        else French; None when none of them has one."""
        template = self.reminders.get(kind)
        if template is None:
            return None
        for candidate in (locale, second_locale, SOURCE_LOCALE):
            if candidate and candidate in approved and candidate in template.localised:
                return template.localised[candidate]
        return None
