"""SMS codes and passwords, alone or inside a sentence, in five languages and digit scripts;
and what must not be taken for one (dates, phone numbers, amounts, postcodes...)."""

from __future__ import annotations

import pytest

from bot.core.guards.secrets import looks_like_secret

SECRETS = [
    # Alone, in any digits.
    "482913", "48 29 13", "۴۸۲۹۱۳", "٤٨٢٩١٣", "1234", "Azerty123", "Kabul1400",
    # Named, in a sentence.
    "code 482913", "mon code est 482913", "le code sms est 556677", "voici le code: 5566",
    "482913 c'est le code", "mon mot de passe: Soleil2024", "mdp: soleil",
    "mot de passe Kabul2024!",
    "password = hunter22", "my password is Kabul1400!", "the OTP is 908172",
    "my passcode 4455", "verification code 731902",
    "کد من ۴۸۲۹۱۳ است", "رمز من Azerty123 است", "رمز من: abc12345", "رمز عبورم Herat1399 است",
    "پسوردم Kabul@2020 هست",
    "پټنوم مې دا دی Kabul1400", "زما کوډ ۴۸۲۹۱۳ دی", "کوډ ۷۳۱۹۰۲ راغی",
    "كلمة السر: 99887766", "الكود ٤٨٢٩١٣", "كلمة المرور هي Ahmad@2020", "رمز التحقق 731902",
]

NOT_SECRETS = [
    "2", "12", "12/03/2026", "12.03.26", "2026-03-12", "12 03 26", "12 03 2026",
    "0 806 001 620", "0612345678", "+33 6 12 34 56 78", "1234567890", "2026", "75011", "93",
    "j'ai oublié mon mot de passe", "I forgot my password", "رمزم را فراموش کردم",
    "mot de passe oublié ne marche pas", "je n'ai pas reçu le code sms",
    "le code ne marche pas", "my password is wrong", "mon mot de passe est incorrect",
    "on me demande 225 € pour le code", "le code coûte 1500 euros", "mon code postal est 75011",
    "code photo refusé", "mon numéro étranger 7501234567 et le code ne marche pas",
    "département 93", "mon API expire le 12/03/2026", "le 15 mars 2026 j'ai reçu un code",
    "کد را دریافت نکردم", "کوډ نه راځي", "لم يصلني الرمز", "رمز بريدي 75011",
    "زما API د ۱۴۰۴/۱۲/۲۱ پورې ده", "وصلني كود بس ما اشتغل", "R. 431-15-1",
]


@pytest.mark.parametrize("text", SECRETS)
def test_secrets_are_spotted(text: str) -> None:
    assert looks_like_secret(text)


@pytest.mark.parametrize("text", NOT_SECRETS)
def test_what_is_not_a_secret(text: str) -> None:
    assert not looks_like_secret(text)


@pytest.mark.parametrize("text", ["482913", "4829", "Azerty123"])
def test_where_a_number_is_asked_a_bare_number_is_an_answer(text: str) -> None:
    # A reference number typed where the assistant asked for one is not taken for a code...
    assert not looks_like_secret(text, alone=False)
    # ... but a code named as such still is.
    assert looks_like_secret(f"code {text}", alone=False)


def _table() -> list[dict[str, object]]:
    import json

    from bot.settings import ROOT

    path = ROOT / "tests" / "data" / "secrets_table.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


@pytest.mark.parametrize("case", _table(), ids=lambda c: str(c["text"])[:40])
def test_the_labelled_table(case: dict[str, object]) -> None:
    # Written independently: secrets in five languages and digit scripts, and hard cases
    # that are not secrets (dates, phone numbers, amounts, numéro étranger, postcodes).
    assert looks_like_secret(str(case["text"])) is case["secret"], case["why"]


def test_the_table_covers_both_directions() -> None:
    cases = _table()
    assert len(cases) >= 90
    assert sum(c["secret"] is True for c in cases) >= 40
    assert sum(c["secret"] is False for c in cases) >= 40
