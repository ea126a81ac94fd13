"""Which language a first message is written in, among the five the assistant speaks.

Dari, Pashto and Arabic share most letters, so the script alone does not tell them apart. Each
language has letters the others lack (Pashto ټ ډ ړ ږ ښ ځ څ ګ ڼ ې ۍ; Persian پ چ ژ گ; Arabic ة
and the final ي/ى) and frequent short words. Keyboards blur the letters (many Afghans type
Pashto on a Persian layout, and Arabic ي/ك appear in Dari text), so words count more.
A guess is only a starting point: the user is always offered a one-tap change.
"""

from __future__ import annotations

import re

_ARABIC_SCRIPT = re.compile(r"[\u0600-\u06FF\u0750-\u077F]")
_LATIN = re.compile(r"[A-Za-zÀ-ÿ]")
_WORD = re.compile(r"[\w\u0600-\u06FF\u200c]+")

_LETTERS = {
    "ps": "ټډړږښځڅګڼېۍ",
    "fa_AF": "پچژگ",
    "ar": "ةىؤإأ",
}

# Frequent words, folded to the letters people actually type.
_WORDS = {
    "ps": {
        "زه", "ته", "دی", "ده", "دې", "څنګه", "ښه", "مننه", "غواړم", "سره", "کوم", "ستاسو", "زما",
        "ولې", "نه", "شوی", "شوې", "وکړم", "کړم", "چې", "هم", "یم", "یې", "لپاره", "مې", "کې",
        "څه", "دلته", "پوهیږم", "ورکړئ", "مرسته",
    },
    "fa_AF": {
        "من", "است", "هست", "هستم", "چطور", "میخواهم", "می‌خواهم", "کمک", "لطفا", "لطفاً",
        "تشکر", "را", "که", "از", "با", "برای", "چه", "نمی", "میکنم", "شده", "شد", "نیست",
        "کنم", "دارم", "ندارم", "بسیار", "خوب", "اینجا", "چی", "کجا", "مه", "ره", "اس",
    },
    "ar": {
        "انا", "أنا", "في", "هل", "كيف", "مرحبا", "شكرا", "اريد", "أريد", "الذي", "التي", "على",
        "هذا", "هذه", "لا", "نعم", "ماذا", "لماذا", "عندي", "ليس", "مع", "إلى", "الى", "عن",
        "كان", "يمكن", "ممكن", "مساعدة", "لم", "لقد",
    },
}
_FRENCH = {"je", "bonjour", "salut", "aide", "merci", "oui", "est", "mon", "ma", "pas", "le", "la",
           "les", "une", "des", "du", "titre", "séjour", "besoin", "compte", "suis", "avoir"}
_ENGLISH = {"i", "hello", "hi", "help", "thanks", "yes", "is", "my", "not", "the", "a", "need",
            "account", "residence", "please", "am", "have", "want", "how"}


def guess_locale(text: str) -> str | None:
    """The locale a message is most likely written in, or None when it cannot tell."""
    words = _WORD.findall(text.casefold())
    if len(_ARABIC_SCRIPT.findall(text)) >= max(2, len(_LATIN.findall(text))):
        return _guess_arabic_script(text, words)
    if _LATIN.search(text):
        fr = sum(w in _FRENCH for w in words)
        en = sum(w in _ENGLISH for w in words)
        if fr > en:
            return "fr"
        if en > fr:
            return "en"
    return None


def _guess_arabic_script(text: str, words: list[str]) -> str | None:
    scores = dict.fromkeys(_LETTERS, 0.0)
    for locale, letters in _LETTERS.items():
        scores[locale] += sum(text.count(ch) for ch in letters) * 1.0
    for locale, vocabulary in _WORDS.items():
        scores[locale] += sum(3.0 for w in words if w in vocabulary)
    # Persian yeh and keheh with no Arabic-only marks: Dari or Pashto rather than Arabic.
    if "ی" in text or "ک" in text:
        scores["fa_AF"] += 0.5
    if "ي" in text or "ك" in text:
        scores["ar"] += 0.5
    best = max(scores, key=lambda k: scores[k])
    if scores[best] == 0:
        return None
    ranked = sorted(scores.values(), reverse=True)
    if ranked[0] == ranked[1]:
        return None
    return best
