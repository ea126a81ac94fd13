"""Button labels on every channel: the number one may type instead of tapping."""

from __future__ import annotations

from bot.channels.labels import button_number, numbered_label
from bot.core.model import Choice
from bot.core.text import FSI, PDI, RLM
from bot.core.understand import match_offered


def test_numbers_are_in_the_digits_the_language_counts_with() -> None:
    assert [button_number(n, "fa_AF") for n in (1, 2, 10)] == ["۱", "۲", "۱۰"]
    assert button_number(7, "ps") == "۷"
    assert [button_number(7, locale) for locale in ("ar", "fr", "en", None)] == ["7"] * 4


def test_the_number_goes_where_the_label_starts_to_be_read() -> None:
    assert numbered_label(2, "Non, garder", "fr") == "2. Non, garder"
    # A right-to-left label: RLM first, so that the number sits on the right in every app;
    # the label's own RLM is not repeated.
    pashto = f"{RLM}د بهرني شمېره ({FSI}numéro étranger{PDI}) زیاتول"
    assert numbered_label(2, pashto, "ps") == (
        f"{RLM}۲. د بهرني شمېره ({FSI}numéro étranger{PDI}) زیاتول")
    # A Dari label starting with an isolated Latin word is still read right to left.
    dari = f"{RLM}{FSI}API{PDI} خود را دانلود کنید"
    assert numbered_label(1, dari, "fa_AF") == f"{RLM}۱. {FSI}API{PDI} خود را دانلود کنید"
    # The language picker: labels in several scripts, each numbered in its own direction.
    assert numbered_label(2, "دری", "fr") == f"{RLM}2. دری"
    assert numbered_label(5, "English", "fr") == "5. English"


def test_the_number_shown_is_the_number_the_engine_understands() -> None:
    offered = tuple(Choice(f"c{n}", f"{RLM}گزینه {n}") for n in range(1, 12))
    for n, choice in enumerate(offered, 1):
        shown = numbered_label(n, choice.label, "fa_AF")
        typed = shown.removeprefix(RLM).split(".")[0]  # what the user reads and types
        assert match_offered(offered, typed) is choice
