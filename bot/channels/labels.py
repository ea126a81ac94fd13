"""Fitting a button label into a platform's length limit without losing what it says.

The engine's labels are display-ready: a right-to-left label starts with RLM and has its Latin
words isolated (FSI ... PDI). Those invisible marks count towards a limit, so a label that is
too long first loses the marks it does not need; only then is it shortened, at a word boundary,
with an ellipsis, and never with an isolate left open.
"""

from __future__ import annotations

import unicodedata

from bot.core.text import FSI, PDI, RLM

ELLIPSIS = "…"


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
