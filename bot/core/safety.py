"""Spotting, in what users type, a code or a password they should not send, and talk of paying.

The assistant never asks for passwords or SMS codes. When someone sends one anyway, it says so
and keeps nothing of that message. When someone mentions paying (for an appointment, to speed
up a file), it reminds them that these procedures cost nothing through ANEF and that sellers of
appointments are scammers.
"""

from __future__ import annotations

import re

from bot.core.text import ascii_digits, fold

# A message that is only a 4 to 8 digit number (spaces allowed): what an SMS code looks like.
# Button numbers are 1 or 2 digits; dates have separators; the numéro étranger has 9-10 digits.
_CODE = re.compile(r"^\d(?:\s?\d){3,7}$")

_SECRET_WORDS = (
    "mot de passe", "mdp", "password", "passwort", "code sms", "code recu", "code de verification",
    "رمز", "پسورد", "پاسورد", "پټنوم", "کلمه عبور", "كلمة السر", "كلمة المرور", "کلمه سر",
)
# A secret word followed by something that looks like the secret itself.
_SECRET_VALUE = re.compile(r"[:=]\s*\S{4,}|\s\S*\d\S*$")

_PAYMENT_WORDS = (
    "payer", "paye", "paie", "payant", "argent", "euro", "euros", "€", "prix", "combien coute",
    "pay", "paid", "money", "price", "cost", "fee",
    "پول", "پیسه", "پیسې", "پیسی", "افغانی", "یورو", "قیمت", "فیس",
    "فلوس", "مال", "دفع", "ادفع", "يورو", "سعر", "ثمن", "مصاري",
)
#: Folded once: every typed message is checked against them.
_SECRET_KEYS = tuple(fold(w) for w in _SECRET_WORDS)
_PAYMENT_KEYS = tuple(fold(w) for w in _PAYMENT_WORDS)


def _words(text: str) -> str:
    return f" {fold(text)} "


def looks_like_secret(text: str) -> bool:
    """An SMS code alone, or a password or code given after its name."""
    plain = ascii_digits(text).strip()
    if _CODE.match(plain):
        return True
    folded = fold(text)
    for key in _SECRET_KEYS:
        at = folded.find(key)
        if at >= 0 and _SECRET_VALUE.search(folded[at + len(key):]):
            return True
    return False


def mentions_payment(text: str) -> bool:
    padded = _words(text)
    for key in _PAYMENT_KEYS:
        if key == "€" and "€" in text:
            return True
        if f" {key} " in padded or (len(key) > 4 and key in padded):
            return True
    return False
