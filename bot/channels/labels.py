"""Fitting a button label into a platform's length limit without losing what it says.

The engine's labels are display-ready: a right-to-left label starts with RLM and has its Latin
words isolated (FSI ... PDI). Those invisible marks count towards a limit, so a label that is
too long first loses the marks it does not need; only then is it shortened, at a word boundary,
with an ellipsis, and never with an isolate left open.

The menu tells people they may type a button's number instead of tapping it (the engine
matches 1, ۱ or ١ against the buttons in the order offered: `match_offered`), so every channel
shows that number on its buttons where the platform's length limits allow (`numbered_label`).
"""

from __future__ import annotations

import unicodedata

from bot.core.text import FSI, PDI, RLM

ELLIPSIS = "…"

#: Dari and Pashto texts write counts in Persian digits, Arabic, French and English in Latin
#: digits (locales/GLOSSARY.md, "Numbers"): a button's number is written the same way, so it
#: matches the digits the rest of the conversation uses. Any of them typed back is understood.
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
PERSIAN_DIGIT_LOCALES = frozenset({"fa_AF", "ps"})


def button_number(n: int, locale: str | None) -> str:
    """The number of the n-th button (from 1) in the digits of the user's language."""
    text = str(n)
    return text.translate(_PERSIAN_DIGITS) if locale in PERSIAN_DIGIT_LOCALES else text


def numbered_label(n: int, label: str, locale: str | None) -> str:
    """"2. Non, garder", or for a label that reads right to left "‏۲. نه، وساتئ": the number
    goes where the label starts to be read, and the label's RLM moves in front of the number so
    that the number is on the right of a right-to-left label in every app."""
    number = button_number(n, locale)
    if _first_strong(label.replace(FSI, "").replace(PDI, "")) in ("R", "AL"):
        return f"{RLM}{number}. {label.removeprefix(RLM)}"
    return f"{number}. {label}"


def _first_strong(text: str) -> str | None:
    for ch in text:
        direction = unicodedata.bidirectional(ch)
        if direction in ("L", "R", "AL"):
            return direction
    return None


def compact(label: str) -> str:
    """The label without the marks it does not need: a leading RLM when the label starts
    with a right-to-left letter anyway, and the isolates around a single Latin word (a lone
    word keeps its order inside right-to-left text without them)."""
    out = label
    if out.startswith(RLM) and _first_strong(out[1:].replace(FSI, "").replace(PDI, "")) in (
            "R", "AL"):
        out = out[1:]
    pieces = []
    rest = out
    while FSI in rest:
        before, _, after = rest.partition(FSI)
        inside, closed, tail = after.partition(PDI)
        single = closed and inside.isalnum()
        pieces.append(before + (inside if single else FSI + inside + closed))
        rest = tail
    return "".join(pieces) + rest


def shorten(label: str, limit: int) -> str:
    """The label in at most `limit` characters: as is when it fits, else compacted, else cut
    after the last whole word that fits, with an ellipsis."""
    if len(label) <= limit:
        return label
    label = compact(label)
    if len(label) <= limit:
        return label
    words = label.split(" ")
    kept = ""
    for word in words:
        candidate = f"{kept} {word}" if kept else word
        if len(_closed(candidate)) + len(ELLIPSIS) > limit:
            break
        kept = candidate
    if not kept:  # one long word: cut it, a shortened word still names the thing
        kept = label[: limit - len(ELLIPSIS)]
        while len(_closed(kept)) + len(ELLIPSIS) > limit:
            kept = kept[:-1]
    return _closed(kept) + ELLIPSIS


def _closed(text: str) -> str:
    """`text` with any isolate it opened and did not close, closed."""
    return text + PDI * max(text.count(FSI) - text.count(PDI), 0)
