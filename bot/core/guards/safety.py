"""Spotting, in what users type, talk of paying (codes and passwords: secrets.py).

Paying is not always a scam. Filing on ANEF and getting a préfecture appointment cost nothing,
but the residence card itself has an official price, paid to the State with a timbre fiscal
(ANEF.md §1.4, §7.1, §7bis.1: 25 € for a first protection card, 225 € for a renewal). A person
or a company asking for money, for an appointment, to fill in the form or to speed things up,
is the scam. So talk of the timbre fiscal gets no warning, unless it also names a seller or a
shortcut; any other talk of paying gets the warning, whose text gives the fee exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.text import fold

# Payment talk. Keys are folded like the message; a key ending in "*" matches the start of a
# word, a key of letters a whole word or phrase, a key with a sign in it ("€", "rendez-vous",
# a web address) anywhere.
_PAYMENT_WORDS = (
    "payer", "paye", "payez", "paie", "payant", "argent", "euro", "euros", "€",
    "prix", "combien coute", "combien ca coute", "frais", "tarif",
    "pay", "paid", "paying", "money", "price", "cost", "costs", "fee", "fees", "how much",
    "پول", "پیسه", "پیسې", "پیسی", "افغانی", "یورو", "قیمت", "فیس", "بپرداز*", "پرداخت*",
    "فلوس", "مال", "دفع", "ادفع", "يورو", "سعر", "ثمن", "مصاري", "قروش", "رسوم", "بكم",
)
#: The official fee: the timbre fiscal, bought from the State (timbres.impots.gouv.fr) or at an
#: approved tobacconist. Afghans in France write "timbre" as they hear it (تمبر), or say
#: "stamp" with the word for a postage stamp (تکټ / تکت); Arabic says طابع (جبائي / ضريبي).
_FEE_WORDS = (
    "timbre", "timbres", "timbre fiscal", "timbres.impots.gouv.fr", "impots.gouv", "fiscal",
    "tabac", "buraliste", "taxe", "taxes", "droit de timbre",
    "tax stamp", "revenue stamp", "fiscal stamp", "stamp", "stamp duty", "tobacconist", "tax",
    "تمبر", "تیمبر", "تمبر مالیاتی", "تکت", "تکټ", "ټکټ", "مالیه", "مالیات", "محصول",
    "طابع", "طوابع", "تمبر", "تمبرية", "ضريبه", "الضريبه", "جبايي", "ضريبي",
)
#: What makes a payment a scam: somebody (not the State) asking, an appointment sold, a
#: promise of speed, a channel sellers use, a way of paying that cannot be traced.
_SELLER_WORDS = (
    "quelqu un", "quelqu'un", "un monsieur", "une dame", "un gars", "un mec", "un homme",
    "une femme", "une personne", "un agent", "agent", "intermediaire", "entreprise", "societe",
    "compatriote", "rdv", "rendez-vous", "rendez vous", "creneau", "creneaux",
    "accelerer", "accelere", "plus vite", "rapide", "debloquer",
    "facebook", "tiktok", "snapchat", "whatsapp", "telegram", "instagram", "insta",
    "virement", "transcash", "pcs", "western union", "coupon",
    "someone", "a man", "a guy", "a woman", "a person", "agent", "company", "middleman",
    "appointment", "appointments", "faster", "speed up", "quick", "unblock",
    "یک نفر", "یکی", "کسی", "یک آدم", "دلال", "ایجنت", "ایجنټ", "شرکت",
    "رندیوو", "نوبت", "وقت ملاقات", "زود", "سریع", "فیسبوک", "تیک تاک", "تیکتاک", "واتساپ",
    "یو سړی", "یو څوک", "یو چا", "څوک", "ژر", "ګړندی",
    "واحد", "شخص", "حدا", "زول", "سمسار", "وسيط", "موعد", "مواعيد", "rdv", "بسرع*", "تسريع",
    "فيسبوك", "فيس بوك", "واتساب", "تيك توك", "انستغرام",
)


@dataclass(frozen=True)
class _Keys:
    """Whole words, word starts, phrases and signs, folded once: every typed message is
    checked against them."""

    words: frozenset[str]
    starts: tuple[str, ...]
    phrases: tuple[str, ...]
    signs: tuple[str, ...]

    @classmethod
    def of(cls, entries: tuple[str, ...]) -> _Keys:
        words, starts, phrases, signs = set(), [], [], []
        for entry in entries:
            key = fold(entry.rstrip("*"))
            if entry.endswith("*"):
                starts.append(key)
            elif not key.replace(" ", "").isalnum():
                signs.append(key)
            elif " " in key:
                phrases.append(f" {key} ")
            else:
                words.add(key)
        return cls(frozenset(words), tuple(starts), tuple(phrases), tuple(signs))

    def found_in(self, text: str) -> bool:
        folded = fold(text)
        words = _WORD.findall(folded)
        if any(v in self.words or v.startswith(self.starts) for w in words for v in _bare(w)):
            return True
        spaced = f" {' '.join(words)} "
        return (any(p in spaced for p in self.phrases)
                or any(s in folded for s in self.signs))


_WORD = re.compile(r"[^\W_]+")
#: Arabic writes "the", "and", "with", "for" onto the word (والموعد, للطابع): matched without.
_CLITICS = tuple(fold(p) for p in ("وال", "بال", "فال", "كال", "لل", "ال", "و"))


def _bare(word: str) -> tuple[str, ...]:
    """The word, and the word without one Arabic clitic in front of it."""
    return (word, *(word[len(c):] for c in _CLITICS
                    if word.startswith(c) and len(word) > len(c) + 2))
_PAYMENT = _Keys.of(_PAYMENT_WORDS)
_FEE = _Keys.of(_FEE_WORDS)
_SELLER = _Keys.of(_SELLER_WORDS)


def mentions_payment(text: str) -> bool:
    """Money, a price or paying, in any of the five languages."""
    return _PAYMENT.found_in(text)


def mentions_official_fee(text: str) -> bool:
    """The timbre fiscal, the card's tax, or where it is bought."""
    return _FEE.found_in(text)


def mentions_seller(text: str) -> bool:
    """Somebody asking for money, an appointment sold, a shortcut, a seller's channel."""
    return _SELLER.found_in(text)


def payment_warning_due(text: str) -> bool:
    """Talk of paying that is not plainly about the official fee: warn (the warning's text
    says that the timbre fiscal is the one official payment)."""
    return mentions_payment(text) and (not mentions_official_fee(text) or mentions_seller(text))


#: Known problems whose advice already says what the payment warning says: a report recognised
#: as one of them gets that advice, not the warning on top.
PAYMENT_PROBLEMS = ("scam_payment_request", "fee_payment_question")
