"""Removing personal details from text read off a screenshot, before anything keeps it.

A photo of the ANEF screen often shows the person's name, their numéro étranger (9 or 10
digits), a phone number or an e-mail address. None of it helps to recognise the problem, so it
is replaced by a marker as soon as the text is read.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# 9 or more digits, possibly grouped by spaces, dots or dashes (06 12 34 56 78, 1234567890).
_LONG_NUMBER = re.compile(r"(?<!\d)\d(?:[ .\-]?\d){8,}(?!\d)")
# A name after a civility or a form label: "M. Ahmad KARIMI", "Nom : KARIMI", "Prénom: Ahmad".
_NAMED = re.compile(
    r"(?P<label>\b(?:M\.|Mme|Mlle|Monsieur|Madame|Mr\.?|Mrs\.?|Ms\.?|"
    r"Nom(?: d'usage| de naissance)?|Pr[ée]noms?|Name|Surname|First name)\s*:?\s+)"
    r"(?P<name>(?:(?!(?:Pr[ée]noms?|Nom|Name|Surname)\b)[A-ZÀ-ÖØ-Þ][\w'’\-]*\s?){1,4})")

EMAIL, NUMBER, NAME = "[e-mail]", "[numéro]", "[nom]"


def redact(text: str) -> str:
    text = _EMAIL.sub(EMAIL, text)
    text = _LONG_NUMBER.sub(NUMBER, text)
    text = _NAMED.sub(lambda m: m.group("label") + NAME + " ", text)
    return text.replace(f"{NAME}  ", f"{NAME} ")
