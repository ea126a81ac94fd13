"""Looking up translated texts. The catalogs are loaded at the edge and handed in as data.

A text is found by (context, French source). The chain is the user's locale, then French, the
language every text is written in first; the result says which locale was actually used.
Texts that depend on a number carry a plural form; each catalog brings its own rule (from its
Plural-Forms header) to pick among its forms: Arabic has six, Dari one, French two.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bot.core.exceptions import RelaisError
from bot.core.flows.definition import Text
from bot.core.model import LOCALES, SOURCE_LOCALE

#: A translation: one string, or the plural forms in the catalog's order.
Translation = str | tuple[str, ...]
#: (msgctxt, msgid) -> translation, as read from a compiled catalog.
Messages = Mapping[tuple[str, str], Translation]

# How each language names itself: shown on the language buttons and in the multilingual prompt.
NATIVE_NAMES = {"fr": "Français", "fa_AF": "دری", "ps": "پښتو", "ar": "العربية", "en": "English"}


def french_plural(n: int) -> int:
    return 0 if n in (0, 1) else 1


@dataclass(frozen=True)
class Catalog:
    messages: Messages
    plural: Callable[[int], int] = field(default=lambda n: int(n != 1))


class MissingTranslation(RelaisError, LookupError):
    pass


def placeholders(message: str) -> frozenset[str]:
    """The names of `{name}` fields in a message."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(message) if name)


@dataclass(frozen=True)
class Rendered:
    text: str
    locale: str


class Translator:
    def __init__(self, catalogs: Mapping[str, Catalog]) -> None:
        self._catalogs = catalogs

    def lookup(self, text: Text, locale: str, count: int | None = None) -> str | None:
        if locale == SOURCE_LOCALE:
            if text.plural is not None and count is not None and french_plural(count):
                return text.plural
            return text.source
        catalog = self._catalogs.get(locale)
        if catalog is None:
            return None
        found = catalog.messages.get((text.key, text.source))
        if isinstance(found, tuple):
            index = catalog.plural(count if count is not None else 1)
            found = found[index] if 0 <= index < len(found) else None
        return found or None

    def _count(self, text: Text, params: Mapping[str, str]) -> int | None:
        if text.plural is None:
            return None
        return int(params[text.count])

    def render(self, text: Text, locale: str | None, params: Mapping[str, str] | None = None
               ) -> Rendered:
        values = dict(params or {})
        count = self._count(text, values)
        candidates = (SOURCE_LOCALE,) if text.french else (locale or SOURCE_LOCALE, SOURCE_LOCALE)
        for candidate in candidates:
            found = self.lookup(text, candidate, count)
            if found is not None:
                return Rendered(found.format_map(values), candidate)
        raise MissingTranslation(text.key)  # unreachable: the source locale always answers

    def render_all(self, text: Text, params: Mapping[str, str] | None = None) -> str:
        """The text in every locale, one line each: for the time before the language is known."""
        values = dict(params or {})
        count = self._count(text, values)
        lines = []
        for locale in LOCALES:
            found = self.lookup(text, locale, count)
            if found is not None:
                lines.append(found.format_map(values))
        return "\n".join(dict.fromkeys(lines))
