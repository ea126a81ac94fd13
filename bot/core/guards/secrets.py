"""Spotting an SMS code or a password in what a user types, so that it is never kept.

The assistant never asks for either. People send them anyway, alone ("482913") or inside a
sentence, in any of the five languages and digit scripts: "کد من ۴۸۲۹۱۳ است", "mon code est
482913", "رمز من Azerty123 است", "my password is Kabul1400!". Such a message is answered with a
warning and written nowhere (not in the transcript, not relayed to a caseworker).

What must not be taken for a secret, because people write it all the time: a date
(12/03/2026, 12 03 26), a phone number (0 806 001 620), an amount (225 €), a postcode or a
département (75011, 93), a numéro étranger (8 to 12 digits), talk about a password without one
("j'ai oublié mon mot de passe", "I did not get the code").
"""

from __future__ import annotations

import re

from bot.core.text import ascii_digits, fold

# Words that name a secret. Folded (accents, Arabic-script variants, case) when compared.
_SECRET_NAMES = (
    "code", "codes", "sms", "mot de passe", "mots de passe", "mot-de-passe", "mdp", "password",
    "passwords", "passcode", "passwort", "pwd", "pw", "pass", "otp", "pin", "code pin",
    "code sms", "code de verification", "code de confirmation", "verification code",
    "security code", "one time code",
    "کد", "کدی", "کدش", "کدم", "کود", "کوډ", "رمز", "رمزم", "رمز عبور", "رمز عبورم", "پسورد",
    "پاسورد", "پسوردم",
    "پاسوردم", "کلمه عبور", "کلمه سر", "پټنوم", "پټ نوم", "پټنومه", "پتنوم", "شفر", "کوډونه",
    "الرمز", "رمزي", "الکود", "کودي", "کلمه السر", "کلمه المرور", "کلمه سري", "الباسورد",
    "باسورد", "رمز التحقق", "رمز التاکید", "الشیفره", "الشفره",
)
# Codes that are not secrets: the postcode, the e-photo code, the highway code...
_NOT_SECRET_AFTER = (
    "postal", "postale", "photo", "ephoto", "e-photo", "ants", "de la route", "barre",
    "de la photo", "de photo",
    "بریدی", "البریدی", "پستی", "پوستي", "پستي", "عکس", "الصوره",
)
_NOT_SECRET_BEFORE = ("zip", "postal", "photo", "ephoto", "e-photo")
_CURRENCY = ("€", "eur", "euro", "euros", "یورو", "euros.", "dollar", "dollars", "$", "دولار",
             "افغانی", "afghani")

_NAMES = tuple(sorted({fold(n) for n in _SECRET_NAMES}, key=len, reverse=True))
_AFTER = tuple(fold(w) for w in _NOT_SECRET_AFTER)
_BEFORE = frozenset(fold(w) for w in _NOT_SECRET_BEFORE)
_MONEY = frozenset(fold(w) for w in _CURRENCY)

# How far from its name a secret may stand: "رمز من Azerty123 است", "482913 c'est le code".
_AFTER_WINDOW = 5
_BEFORE_WINDOW = 3

_EDGE = "\"'«»“”()[]{}<>,;!?؟،؛.:"
_DIGITS = re.compile(r"^\d+$")
_SEPARATED_DATE = re.compile(r"^\d{1,4}[/.\-]\d{1,2}(?:[/.\-]\d{1,4})?$")
# A password as people make them: letters with digits or signs, six to forty characters.
_PASSWORD = re.compile(r"^(?=.*[^\W\d_])(?=.*(?:\d|[!@#$%^&*+=?~_]))\S{6,40}$", re.UNICODE)
# Words that follow "my password is ..." without being one.
_NOT_A_VALUE = frozenset(fold(w) for w in (
    "incorrect", "incorrecte", "faux", "fausse", "wrong", "invalid", "invalide", "bloque",
    "bloquee", "oublie", "expire", "expired", "errone", "erronee", "refuse", "trop", "pas",
    "not", "no", "never", "jamais", "plus", "ok", "correct", "bon", "juste", "sms", "mail",
    "email", "e-mail", "anef", "api", "ccc", "valid", "valide", "the", "le", "la", "mon", "my",
    "est", "is", "was", "etait", "c'est", "which", "qui",
))


def looks_like_secret(text: str, alone: bool = True) -> bool:
    """Whether the message carries an SMS code or a password.

    `alone`: a message that is only a code ("482913") counts too. Where the assistant asked for
    a number (a reference, a date), the caller passes False: only a named secret counts there.
    """
    plain = ascii_digits(text).strip()
    tokens = [t.strip(_EDGE) for t in plain.split()]
    tokens = [t for t in tokens if t]
    if alone and _is_bare_code(tokens):
        return True
    if alone and len(tokens) == 1 and _looks_like_password(tokens[0], strict=True):
        return True
    return _named_secret(plain)


def _is_bare_code(tokens: list[str]) -> bool:
    """The whole message is one code: 4 to 7 digits, maybe in groups ("48 29 13")."""
    if not tokens or not all(_DIGITS.match(t) for t in tokens):
        return False
    digits = "".join(tokens)
    if len(tokens) > 1 and (any(len(t) > 4 for t in tokens) or _spaced_date(tokens)):
        return False
    if len(digits) == 4 and digits[:2] in ("19", "20"):
        return False  # a year
    if len(digits) == 5:
        return False  # a postcode
    return 4 <= len(digits) <= 7


def _year(token: str) -> bool:
    return len(token) == 4 and token[:2] in ("19", "20")


def _spaced_date(tokens: list[str]) -> bool:
    """12 03 26, 12 03 2026: a date typed with spaces."""
    if len(tokens) != 3 or len(tokens[0]) > 2 or len(tokens[1]) > 2:
        return False
    return 1 <= int(tokens[0]) <= 31 and 1 <= int(tokens[1]) <= 12


def _looks_like_password(token: str, strict: bool = False) -> bool:
    """A password-shaped word. `strict` (a message of one word and nothing else): it must mix
    capitals, small letters and digits, as passwords do and nothing else people type does."""
    email = "@" in token and "." in token.split("@")[-1]
    if _SEPARATED_DATE.match(token) or email or "/" in token or "€" in token:
        return False
    if token.casefold().startswith(("http", "www")) or fold(token) in _NOT_A_VALUE:
        return False
    if strict:
        return (6 <= len(token) <= 40 and any(c.isupper() for c in token)
                and any(c.islower() for c in token) and any(c.isdigit() for c in token))
    return bool(_PASSWORD.match(token))


def _named_secret(plain: str) -> bool:
    """A secret named in the sentence ("code", "رمز", "password"...) with its value nearby."""
    raw = _join_digit_groups(plain.split())
    originals = [t.strip(_EDGE) for t in raw]
    words = [fold(t) for t in originals]
    for start, length in _name_positions(words):
        end = start + length
        if any(" ".join(words[end:end + 3]).startswith(a) for a in _AFTER):
            continue  # "code postal", "code photo"
        if start > 0 and words[start - 1] in _BEFORE:
            continue
        # "mot de passe: Soleil", "password = hunter": after a colon, any word is the value.
        named = raw[end - 1].endswith((":", "=")) or (end < len(raw) and raw[end][0] in ":=")
        following = [o for o in originals[end:end + 2] if o]
        if named and following and _is_value(following[0], loose=True):
            return True
        window = [*range(max(0, start - _BEFORE_WINDOW), start),
                  *range(end, min(len(words), end + _AFTER_WINDOW))]
        for i in window:
            if _is_value(originals[i], near=i - end < 2) and not _money_near(words, i):
                return True
    return False


def _join_digit_groups(tokens: list[str]) -> list[str]:
    """"640 812", "90 31 77", "6 0 4 2 1 8": a code typed in groups is one value. Groups of
    more than 3 digits, a date typed with spaces and runs long enough to be a phone number
    or a numéro étranger are left as they are."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        j = i
        while (j < len(tokens) and _DIGITS.match(tokens[j].strip(_EDGE))
               and len(tokens[j].strip(_EDGE)) <= 4 and not _year(tokens[j].strip(_EDGE))):
            j += 1
        group = [t.strip(_EDGE) for t in tokens[i:j]]
        joined = "".join(group)
        if j - i >= 2 and 4 <= len(joined) <= 7 and not _spaced_date(group):
            out.append(joined)
            i = j
        else:
            out.append(tokens[i])
            i += 1
    return out


def _name_positions(words: list[str]) -> list[tuple[int, int]]:
    found = []
    for i in range(len(words)):
        for name in _NAMES:
            parts = name.split()
            if words[i:i + len(parts)] == parts:
                found.append((i, len(parts)))
                break
    return found


def _is_value(token: str, loose: bool = False, near: bool = False) -> bool:
    token = token.strip(_EDGE)
    if not token:
        return False
    if _DIGITS.match(token) and loose:
        return len(token) >= 4  # "code: 99887766": named, whatever its length
    if _DIGITS.match(token):
        # SMS codes are 4 to 7 digits; from 8 on, a phone number or the numéro étranger,
        # unless it comes right after the name ("رمزم 12345678": a password of digits).
        if len(token) == 4 and token[:2] in ("19", "20"):
            return False
        return 4 <= len(token) <= (8 if near else 7)
    if loose:
        return len(token) >= 4 and fold(token) not in _NOT_A_VALUE
    return _looks_like_password(token)


def _money_near(words: list[str], i: int) -> bool:
    neighbours = words[i + 1:i + 2] + words[max(0, i - 1):i]
    return any(w in _MONEY for w in neighbours)
