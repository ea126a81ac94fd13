"""Text handling that every channel needs: cleaning what users send, digits, bidi isolation."""

from __future__ import annotations

import functools
import re
import unicodedata

#: Longer messages are accepted and kept, but the assistant asks for something shorter.
LONG_MESSAGE = 4000

# First-strong isolate / pop directional isolate: a Latin run wrapped in them keeps its own
# left-to-right order inside a right-to-left sentence (URLs, phone numbers, French terms).
FSI = "\u2068"
PDI = "\u2069"
RLM = "\u200f"

RTL_LOCALES = frozenset({"ar", "fa_AF", "ps"})

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u061c"))
_ZERO_WIDTH_KEEP_ZWNJ = {k: v for k, v in _ZERO_WIDTH.items() if k != 0x200C}
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))

# Arabic-script letters that users type interchangeably depending on their keyboard.
_ARABIC_VARIANTS = str.maketrans(
    {
        "ي": "ی",
        "ى": "ی",
        "ئ": "ی",
        "ك": "ک",
        "ة": "ه",
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ؤ": "و",
        "ۀ": "ه",
        "ـ": None,  # tatweel, used to stretch words
    }
)


def clean_inbound(text: str) -> str:
    """Return what a user sent without control characters and invisible formatting.

    The zero-width non-joiner is kept: Persian and Pashto words need it to be spelled right.
    Newlines and tabs survive; every other control character is dropped.
    """
    text = unicodedata.normalize("NFC", text)
    text = text.translate(_ZERO_WIDTH_KEEP_ZWNJ).translate(_BIDI_CONTROLS)
    kept = [ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc"]
    return "".join(kept).strip()


def ascii_digits(text: str) -> str:
    """Turn Persian (۰-۹) and Arabic-Indic (٠-٩) digits, and any other decimal digit, into 0-9."""
    out = []
    for ch in text:
        if ch.isdigit() and not ("0" <= ch <= "9"):
            try:
                out.append(str(unicodedata.digit(ch)))
                continue
            except ValueError:
                pass
        out.append(ch)
    return "".join(out)


@functools.lru_cache(maxsize=16)
def fold(text: str) -> str:
    """A matching key: case, accents, Arabic-script variants, diacritics and digits folded.

    A turn folds the same message several times (commands, safety, the recogniser, the
    buttons); the last few results are kept, and only a few, since they are what people
    wrote."""
    text = ascii_digits(clean_inbound(text)).translate(_ZERO_WIDTH)
    text = text.translate(_ARABIC_VARIANTS)
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    # Mn covers French accents and Arabic harakat alike.
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return re.sub(r"\s+", " ", stripped).strip()


def is_only_symbols(text: str) -> bool:
    """True for a message of emoji, pictographs or punctuation only: nothing to read."""
    return bool(text) and not any(
        unicodedata.category(ch)[0] in "LN" for ch in text if not ch.isspace()
    )


def is_rtl(locale: str | None) -> bool:
    return locale in RTL_LOCALES


# A Latin run: starts with a Latin letter, a digit or a slash command, goes on through Latin
# letters, digits, spaces and the punctuation found in URLs, numbers and French terms, and ends
# on a letter, a digit or a slash. Parentheses stay outside: they mirror correctly on their own.
# A dot right before a letter belongs to the run (".gouv.fr"): left outside, it would show on
# the wrong side of the word in a right-to-left line.
_LATIN_RUN = re.compile(
    r"[/+@.]?[0-9A-Za-zÀ-ÖØ-öø-ÿŒœ]"
    r"(?:[0-9A-Za-zÀ-ÖØ-öø-ÿŒœ .,:;/'’\-_@%+?=&#!]*[0-9A-Za-zÀ-ÖØ-öø-ÿŒœ/])?"
)


def isolate_latin(text: str) -> str:
    """Wrap each Latin run of a right-to-left message in FSI ... PDI.

    Without it a phone number such as 0 806 001 620 or a French term inside a Dari sentence
    can come out reordered on the user's screen.
    """
    return _LATIN_RUN.sub(lambda m: f"{FSI}{m.group(0)}{PDI}", text)


def for_display(text: str, locale: str | None) -> str:
    """The text as it should be sent: each line of a right-to-left message starts with RLM
    (apps decide the direction line by line), and Latin runs are isolated."""
    if not is_rtl(locale):
        return text
    return "\n".join(RLM + line for line in isolate_latin(text).split("\n"))
