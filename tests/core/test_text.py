from hypothesis import given
from hypothesis import strategies as st

from bot.core.text import (
    FSI,
    PDI,
    RLM,
    ascii_digits,
    clean_inbound,
    fold,
    for_display,
    is_only_symbols,
    isolate_latin,
)


def test_persian_and_arabic_indic_digits_become_latin() -> None:
    assert ascii_digits("۱۴۰۴/۱۲/۲۱") == "1404/12/21"
    assert ascii_digits("١٢/٠٣/٢٠٢٦") == "12/03/2026"
    assert ascii_digits("abc 42") == "abc 42"


@given(st.integers(min_value=0, max_value=10**9))
def test_every_digit_script_reads_as_the_same_number(n: int) -> None:
    latin = str(n)
    persian = latin.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    arabic = latin.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert ascii_digits(persian) == ascii_digits(arabic) == latin


def test_clean_inbound_drops_controls_but_keeps_zwnj_and_newlines() -> None:
    assert clean_inbound("  a\x00b\x1bc\u200bd\u202ee\n f ") == "abcde\n f"
    assert clean_inbound("می\u200cخواهم") == "می\u200cخواهم"


def test_fold_merges_keyboard_variants_accents_and_case() -> None:
    assert fold("كيف") == fold("کیف")
    assert fold("مدرسة") == fold("مدرسه")
    assert fold("Préfecture  ÉTRANGER") == "prefecture etranger"
    assert fold("سـلام") == fold("سلام")  # tatweel
    assert fold("مُحَمَّد") == fold("محمد")  # harakat


def test_only_symbols() -> None:
    assert is_only_symbols("👍🙏 !!")
    assert not is_only_symbols("ok 👍")
    assert not is_only_symbols("۲")
    assert not is_only_symbols("")


def test_latin_runs_are_isolated_in_rtl_text() -> None:
    text = "به شماره 0 806 001 620 زنگ بزنید (numéro étranger) یا /help را بفرستید."
    out = isolate_latin(text)
    assert f"{FSI}0 806 001 620{PDI}" in out
    assert f"({FSI}numéro étranger{PDI})" in out
    assert f"{FSI}/help{PDI}" in out
    # Nothing else changes: removing the isolates gives the original back.
    assert out.replace(FSI, "").replace(PDI, "") == text


def test_url_keeps_its_punctuation_inside_the_isolate() -> None:
    out = isolate_latin("سایت https://administration-etrangers-en-france.interieur.gouv.fr/ را")
    assert f"{FSI}https://administration-etrangers-en-france.interieur.gouv.fr/{PDI}" in out


def test_a_leading_dot_stays_with_its_domain() -> None:
    # ".gouv.fr" in a Dari sentence: the dot must not be left on the far side of the word.
    assert isolate_latin("آدرس به .gouv.fr ختم می‌شود") == f"آدرس به {FSI}.gouv.fr{PDI} ختم می‌شود"


def test_display_marks_rtl_only() -> None:
    assert for_display("Bonjour ANEF", "fr") == "Bonjour ANEF"
    shown = for_display("سلام ANEF", "fa_AF")
    assert shown.startswith(RLM)
    assert f"{FSI}ANEF{PDI}" in shown


@given(st.text())
def test_isolation_never_loses_text(text: str) -> None:
    cleaned = text.replace(FSI, "").replace(PDI, "")
    assert isolate_latin(cleaned).replace(FSI, "").replace(PDI, "") == cleaned


@given(st.text())
def test_clean_inbound_is_idempotent(text: str) -> None:
    once = clean_inbound(text)
    assert clean_inbound(once) == once
