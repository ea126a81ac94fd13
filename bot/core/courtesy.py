"""Greetings, thanks, "please", the assistant's name and filler words, in the five languages.

People open with "سلام،", close with "merci beaucoup" and call the assistant by its name.
These words say nothing about the problem; left in a report they pull it towards the examples
of unrelated chat ("bonjour", "سلام علیکم"), so a real report preceded by a greeting was missed.
The recogniser drops them before comparing (`strip`), and a message made of them alone is
small talk (`small_talk`), answered as such rather than taken for a problem.
"""

from __future__ import annotations

import enum
import re

from bot.core.text import fold


class SmallTalk(enum.StrEnum):
    GREETING = "greeting"
    THANKS = "thanks"
    FILLER = "filler"  # "ok", "euh", "d'accord": acknowledges, asks nothing


# Several-word phrases first: "thank you", "s'il vous plaît", "السلام عليكم".
_GREETING_PHRASES = (
    "good morning", "good evening", "good afternoon", "how are you", "hope you are well",
    "ca va", "comment ca va", "comment allez vous", "bonne journee", "bonne nuit",
    "bonne soiree", "good night", "have a nice day", "شب بخیر", "شب تان بخیر", "شب خوش",
    "شپه مو پخیر", "شپه پخیر", "ښه شپه", "تصبح علی خیر", "تصبحون علی خیر", "وانت من اهله",
    "ان شاء الله بخیر", "کیف حالک", "شلونک", "labas", "cv",
    "السلام علیکم", "سلام علیکم", "و علیکم السلام", "صبح بخیر", "روز بخیر", "شب بخیر",
    "چطور هستین", "چطور هستید", "خوب هستین", "ستړي مه شې", "ستړي مه شی", "ستړی مه شې",
    "ستړی مه شی", "څنګه یاست", "صباح الخیر", "مساء الخیر", "کیف الحال", "کیفک",
    "salam alaikum", "salam aleikum", "assalamu alaikum", "salam alikom", "chetor hastin",
    "chetor hasti", "cava",
    # Spellings of the Muslim greeting and its answer, and greetings to a group.
    "salam alaykum", "salamu alaikum", "salamu alaykum", "assalamu alaykum", "as salamu alaykum",
    "asalam o alaikum", "assalam o alaikum", "salam o alaikum", "salam aleykum", "slm alikom",
    "salam 3alikom", "salam 3likom", "wa alaikum salam", "ورحمه الله", "ورحمه الله وبرکاته",
    "صباح النور", "مساء النور", "bonjour a tous", "bonjour tout le monde", "hello everyone",
    "hi everyone", "hello all", "good day", "khub hasti", "khub asti", "chetor asti", "chetori",
    "sanga ye", "sanga yast", "kha ye", "په خیر راغلې", "labas 3lik", "kidayr",
    # "What's new?": news of the person, not of their application.
    "quoi de neuf", "what's up", "whats up", "what's new", "شو الاخبار", "شو اخبارك",
    "شو اخبارك", "كيف الاخبار", "ايش الاخبار", "واش الاخبار", "چه خبر", "دیگه چه خبر",
    "څه خبر دي", "څه حال دی", "che khabar", "sho akhbar", "chno jdid",
)
_THANKS_PHRASES = (
    "thank you", "thanks a lot", "thank u", "merci beaucoup", "merci bien", "je vous remercie",
    "s'il vous plait", "s il vous plait", "sil vous plait", "s'il te plait", "s il te plait",
    "من فضلک", "لو سمحت", "الله یخلیک", "یعطیک العافیه", "جزاک الله خیرا", "جزاک الله",
    "مهرباني وکړئ", "مهرباني وکړه", "ډېره مننه", "ډیره مننه", "زیات مننه", "خیلی ممنون",
    "بسیار تشکر", "تشکر زیاد", "خدا خیرت بته", "خدا خیر تان بدهد", "ba aman khuda",
    "merci d'avance", "merci d avance", "merci infiniment", "thanks in advance",
    "thank you so much", "شكرا جزيلا", "تشکر از شما", "د ډېر مننه", "خدا حافظ", "مع السلامه",
    "په مخه مو ښه", "au revoir",
    # Blessings that thank: "may God reward you".
    "الله يجزيكم الخير", "الله يجزيك الخير", "يجزيكم الخير", "خدای دې خیر درکړي",
    "خدای دې خیر درکړه", "خدا خیرتان بدهد", "thanks again", "merci encore",
)
_GREETING_WORDS = (
    "bonjour", "bonsoir", "salut", "slt", "bjr", "coucou", "allo", "hello", "hi", "hey",
    "hii", "hallo", "salam", "salaam", "slm", "marhaba", "ahlan", "سلام", "درود",
    "مرحبا", "اهلا", "السلام", "علیکم", "هلو", "هالو",
)
_THANKS_WORDS = (
    "merci", "mrc", "thanks", "thx", "thank", "tashakor", "tashakur", "manana", "shukran",
    "chokran", "تشکر", "تشکور", "ممنون", "مرسی", "سپاس", "مننه", "شکرا", "شكرا", "متشکرم",
)
_PLEASE_WORDS = (
    "svp", "stp", "please", "pls", "plz", "pliz", "lotfan", "لطفا", "لطفن", "لطفاً", "رجاء",
    "ارجوک", "ارجوکم", "مهرباني", "مهربانی",
)
#: Forms of address and the assistant's own name: "Relais", "brother", "جان"...
_ADDRESS_WORDS = (
    "relais", "رله", "ریله", "رلې", "madame", "monsieur", "mr", "mme",
    "sir", "madam", "dear", "brother", "sister", "frere", "soeur", "جان", "برادر", "خواهر",
    "ورور", "وروره", "خور", "خورې", "اخی", "اختی", "habibi", "khoda", "akhi",
    "ورونو", "وروڼو", "خویندو", "لالا", "lala", "کاکا", "kaka", "استاد", "ustad", "عزیزی",
    "حبیبی", "خویا", "khoya", "khouya", "اخوی", "bro", "friend", "ami", "دوست", "ملګریه",
    "madam", "ma'am", "خانم",
)
_FILLER_WORDS = (
    "ok", "okay", "okey", "oki", "dacc", "dac", "daccord", "d'accord", "euh",
    "alors", "voila", "bah", "ben", "well", "so", "yes", "oui", "yeah", "yep", "hmm", "hm",
    "beaucoup", "very", "much", "lot", "خیلی", "بسیار", "زیاد", "ډېره", "ډیره", "زیات", "کثیرا",
    "جدا", "اوکی", "باشه", "هو", "بلی", "بله", "نعم", "طیب", "ښه", "again", "encore", "دوباره",
    "تانی",
    # Urgency says nothing of which problem it is.
    "urgent", "urgence", "urgently", "عاجل", "ضروری", "zaroori", "fawran", "فورا",
)

_PHRASES = tuple(sorted({fold(p) for p in (*_GREETING_PHRASES, *_THANKS_PHRASES)},
                        key=len, reverse=True))
_THANKS_KEYS = frozenset(fold(p) for p in (*_THANKS_PHRASES, *_THANKS_WORDS))
_GREETING_KEYS = frozenset(fold(p) for p in (*_GREETING_PHRASES, *_GREETING_WORDS))
_WORDS = frozenset(fold(w) for w in (*_GREETING_WORDS, *_THANKS_WORDS, *_PLEASE_WORDS,
                                     *_ADDRESS_WORDS, *_FILLER_WORDS))
_FILLER_KEYS = frozenset(fold(w) for w in _FILLER_WORDS)
_ELONGATED = re.compile(r"([^\W\d_])\1{2,}")
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)


def _tokens(folded: str) -> tuple[list[str], list[str]]:
    """(the courtesy phrases and words found, the other words), in order."""
    found: list[str] = []
    # "سلااام", "merciii": letters typed many times over count once.
    words = _TOKEN.findall(_ELONGATED.sub(r"\1", folded))
    padded = f" {' '.join(words)} "
    for phrase in _PHRASES:
        key = f" {phrase} "
        while key in padded:
            found.append(phrase)
            padded = padded.replace(key, " ", 1)
    rest: list[str] = []
    for word in padded.split():
        (found if word in _WORDS else rest).append(word)
    return found, rest


def strip(folded: str) -> str:
    """The folded text without its greetings, thanks, "please", names and filler words. A
    message made of nothing else stays as it was (it is small talk, and says so itself)."""
    found, rest = _tokens(folded)
    if not found or not rest:
        return folded
    return " ".join(rest)


def thanks(text: str) -> bool:
    """Whether a message thanks, wherever in it: with news that a step went well, it tells
    the problem is over ("merci, j'ai reçu la nouvelle API")."""
    found, _ = _tokens(fold(text))
    return any(f in _THANKS_KEYS for f in found)


def small_talk(text: str) -> SmallTalk | None:
    """What a message made only of courtesy words is: thanks, a greeting, or filler.
    None when it says anything else."""
    found, rest = _tokens(fold(text))
    if rest or not found:
        return None
    if any(f in _THANKS_KEYS for f in found):
        return SmallTalk.THANKS
    if any(f in _GREETING_KEYS for f in found):
        return SmallTalk.GREETING
    if all(f in _FILLER_KEYS for f in found):
        return SmallTalk.FILLER
    return SmallTalk.GREETING  # "please", a name: someone opening a conversation
