"""Looking up translated texts. The catalogs are loaded at the edge and handed in as mappings.

A text is found by (context, French source). The chain is the user's locale, then French, the
language every text is written in first; the result says which locale was actually used.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass

from bot.core.definition import Text
from bot.core.model import LOCALES, SOURCE_LOCALE

#: (msgctxt, msgid) -> msgstr, as read from a compiled catalog.
Messages = Mapping[tuple[str, str], str]

# How each language names itself: shown on the language buttons and in the multilingual prompt.
NATIVE_NAMES = {"fr": "Français", "fa_AF": "دری", "ps": "پښتو", "ar": "العربية", "en": "English"}


class MissingTranslation(LookupError):
    pass


def placeholders(message: str) -> frozenset[str]:
    """The names of `{name}` fields in a message."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(message) if name)


@dataclass(frozen=True)
class Rendered:
    text: str
    locale: str


class Translator:
    def __init__(self, catalogs: Mapping[str, Messages]) -> None:
        self._catalogs = catalogs

    def lookup(self, text: Text, locale: str) -> str | None:
        if locale == SOURCE_LOCALE:
            return self._catalogs.get(SOURCE_LOCALE, {}).get((text.key, text.source)) or text.source
        return self._catalogs.get(locale, {}).get((text.key, text.source)) or None

    def render(self, text: Text, locale: str | None, params: Mapping[str, str] | None = None
               ) -> Rendered:
        for candidate in (locale or SOURCE_LOCALE, SOURCE_LOCALE):
            found = self.lookup(text, candidate)
            if found is not None:
                return Rendered(found.format_map(dict(params or {})), candidate)
        raise MissingTranslation(text.key)  # unreachable: the source locale always answers

    def render_all(self, text: Text, params: Mapping[str, str] | None = None) -> str:
        """The text in every locale, one line each: for the time before the language is known."""
        lines = []
        for locale in LOCALES:
            found = self.lookup(text, locale)
            if found is not None:
                lines.append(found.format_map(dict(params or {})))
        return "\n".join(dict.fromkeys(lines))
