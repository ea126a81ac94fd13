"""Which language a first message is written in, among the five the assistant speaks.

Dari, Pashto and Arabic share most letters, so the script alone does not tell them apart. Each
language has letters the others lack (Pashto ټ ډ ړ ږ ښ ځ څ ګ ڼ ې ۍ; Persian پ چ ژ گ; Arabic ة
and the final ي/ى) and frequent short words. Keyboards blur the letters (many Afghans type
Pashto on a Persian layout, and Arabic ي/ك appear in Dari text), so words count more.
A guess is only a starting point: the user is always offered a one-tap change.
"""

from __future__ import annotations

import re

from bot.core.text import fold

_ARABIC_SCRIPT = re.compile(r"[\u0600-\u06FF\u0750-\u077F]")
_LATIN = re.compile(r"[A-Za-zÀ-ÿ]")
_WORD = re.compile(r"[\w\u0600-\u06FF\u200c]+")

_LETTERS = {
    "ps": "ټډړږښځڅګڼېۍ",
    "fa_AF": "پچژگ",
    "ar": "ةىؤإأ",
}

# Frequent words, as people type them (colloquial forms included).
_WORDS = {
    "ps": {
        "زه", "ته", "دی", "ده", "دې", "څنګه", "ښه", "مننه", "غواړم", "سره", "کوم", "ستاسو", "زما",
        "ولې", "نه", "شوی", "شوې", "وکړم", "کړم", "چې", "هم", "یم", "یې", "لپاره", "مې", "کې",
        "څه", "دلته", "پوهیږم", "ورکړئ", "مرسته", "دي", "وايي", "وایي", "راځي", "راغلی", "راغلې",
        "کوي", "شوي", "نشم", "نشي", "کولی", "کولای", "خو", "پر", "په", "ورته", "دا", "هغه",
        "اوس", "او", "مو", "مي", "یو", "وي", "کیږي", "کېږي", "دی؟", "زمونږ", "زموږ", "ستا",
        "وروره", "ورور", "ورونو", "ورځو", "میاشتې", "میاشت", "ورځ", "ورځې", "پیسې", "کاغذ", "څوک",
    },
    "fa_AF": {
        "من", "است", "هست", "هستم", "چطور", "میخواهم", "می‌خواهم", "کمک", "لطفا", "لطفاً",
        "تشکر", "را", "که", "از", "با", "برای", "چه", "نمی", "میکنم", "شده", "شد", "نیست",
        "کنم", "دارم", "ندارم", "بسیار", "خوب", "اینجا", "چی", "کجا", "مه", "ره", "اس",
        "مره", "کده", "کدم", "نمیشه", "میشه", "میگه", "میکنه", "نمیتانم", "میتانم", "نمیتوانم",
        "اینجه", "همی", "یک", "یکی", "هیچ", "خبر", "گرفتم", "کردم", "شدم", "بود",
        "نشد", "نمیشود", "میشود", "باز", "حالا", "هنوز", "ماه", "روز", "هفته", "پیسه", "تان",
        "شما", "مرا", "دو", "تنها", "دادن", "کدیم", "اگر", "ولی", "اما", "تا", "هم", "بعد",
        "قبل", "دیگه", "دیگر",
    },
    "ar": {
        "انا", "أنا", "في", "هل", "كيف", "مرحبا", "شكرا", "اريد", "أريد", "الذي", "التي", "على",
        "هذا", "هذه", "لا", "نعم", "ماذا", "لماذا", "عندي", "ليس", "مع", "إلى", "الى", "عن",
        "كان", "يمكن", "ممكن", "مساعدة", "لم", "لقد", "مش", "ليش", "وين", "شو", "بدي",
        "عم", "لسا", "لسه", "لهلق", "هلق", "كتير", "كثير", "امبارح", "مبارح", "بس", "هيك",
        "اللي", "يلي", "فيه", "ايش", "اش", "واش", "علي", "عليه", "منذ", "حتى",
        "بعد", "قبل", "ياخي", "يا", "ولا", "أو", "لما", "لأن", "لان", "عشان", "حدا", "شي",
        "طلعلي", "بيطلعلي", "يطلع", "ظهر", "تظهر", "يظهر", "مكتوب", "واقف", "صار", "صارلي",
    },
}
#: A word starting with the article "ال" is Arabic (Dari and Pashto borrow very few).
_ARABIC_ARTICLE = re.compile(r"^(?:[وفبکك]?ال)[\u0600-\u06FF]{2,}")
#: Persian verbs: "می‌..." and "نمی..." (میکنم, نمیشه, می‌خواهم).
_PERSIAN_VERB = re.compile(r"^ن?می[\u0600-\u06FF\u200c]{2,}")

_FRENCH = {
    "je", "j", "bonjour", "salut", "aide", "merci", "oui", "est", "mon", "ma", "mes", "pas",
    "le", "la", "les", "une", "un", "des", "du", "de", "besoin",
    "suis", "avoir", "ai", "jai", "j'ai", "c'est", "cest", "quoi", "pourquoi",
    "comment", "faire", "et", "ou", "avec", "pour", "sur", "dans", "que", "qui", "il", "elle",
    "on", "me", "moi", "toujours", "jamais", "rien", "depuis", "mois", "ça", "ca", "aussi",
    "encore", "plus", "mais", "marche", "reçu", "recu", "svp", "stp", "jsuis", "chui", "au",
    "aux", "ne", "n'ai", "n'est", "nuit", "bonne", "peux", "veux", "dois", "faut",
}
_ENGLISH = {
    "i", "hello", "hi", "help", "thanks", "yes", "is", "my", "not", "the", "a", "need",
    "account", "residence", "please", "am", "have", "want", "how", "it", "and", "but", "no",
    "to", "for", "of", "in", "on", "with", "what", "why", "can", "cant", "can't", "don't",
    "dont", "doesnt", "doesn't", "didn't", "didnt", "get", "got", "still", "never", "since",
    "months", "weeks", "days", "ago", "again", "says", "say", "show", "shows", "it's", "its",
    "this", "that", "there", "they", "them", "me", "you", "your", "do", "does", "did", "was",
    "were", "will", "would", "should", "could", "because", "when", "where", "who", "any",
    "renew", "work", "job", "waiting", "always", "same", "nothing", "every", "time", "try",
    "tried", "only", "new", "old", "night", "good", "morning", "are", "know", "anyone",
    "expired", "day", "showing", "page", "booking", "book", "after", "before",
}
# The words of the procedure itself, typed by everyone whatever their language ("rdv",
# "password", "prefecture"): they weigh little.
_DOMAIN = {
    "titre", "séjour", "sejour", "compte", "dossier", "demande", "rendez-vous", "rdv",
    "préfecture", "prefecture", "renouvellement", "site", "carte", "expiré", "expire", "bloqué",
    "mois", "erreur", "technique", "clôturé", "cloture", "mdp", "impossible", "euro", "euros",
    "account", "residence", "website", "appointment", "card", "permit", "message",
    "email", "password", "login", "log", "download", "application", "refused", "error", "valid",
    "anef", "api", "caf", "sms", "code", "photo", "e-photo", "photomaton", "online", "internet",
}
# French words that a pasted screen message is made of ("Nous ne sommes pas en mesure..."):
# they weigh less than the person's own words.
_SCREEN_FRENCH = {"vous", "votre", "vos", "nous", "veuillez", "ultérieurement", "réessayer",
                  "saisi", "saisies", "électronique", "mesure", "traiter", "existe", "plage",
                  "horaire", "libre", "momentanément", "indisponible", "permettent", "identifier",
                  "déjà", "cours", "en", "a", "été", "envoyé", "l'adresse", "à", "l'identifiant",
                  "correspondant", "oublié", "passe", "mot", "n'existe", "il", "ne", "pas"}
# Dari, Pashto and Arabic typed in Latin letters (Finglish, Arabizi).
_ROMAN = {
    "fa_AF": {"mikonom", "mikonam", "mekonom", "nist", "hast", "hastam", "hastin", "shod",
              "shode", "shuda", "chetor", "chitor", "khabar", "darkhast", "dadom", "dadam",
              "kadom", "kardam", "kardom", "nami", "namiya", "namia", "miya", "aya", "hich",
              "gozashta", "tarikh", "tarikhesh", "hafta", "lotfan", "komak", "mara", "mra",
              "mesha", "namesha", "nameshe", "mishe", "nemishe", "mega", "migan", "tashakor",
              "mikhaham", "mikhayom", "man", "ast", "ham", "chi", "bayad", "kada", "kado", "qabul",
              "nemisha", "namisha", "gereftom", "gereftam", "az", "khod", "tabdil", "mekhaham",
              "kohna", "namikona", "namikone", "yak", "nafar", "mekhaya", "begira", "chand", "roz",
              "mideh", "pisa", "kardan", "dar", "tanha", "faqat", "jadid", "mah", "kadim",
              "mekona", "mikona", "nemikona", "amad", "nayamad", "shodeh", "shudeh", "dadan"},
    "ps": {"zama", "zma", "raghle", "raghlay", "raghley", "miasht", "miashta", "kawam",
           "kawalay", "wakhla", "sanga", "manana", "mehrabani", "yam", "shawe", "shaway", "kho",
           "wayi", "waye", "nasham", "darkhwast", "yawa", "kari", "ghwaram", "ghwarim", "khpal",
           "lapara", "dey", "dy", "mani", "akhistay", "za", "sham", "jorawalay", "har", "wakht",
           "rakawi", "dwa", "haftey", "kegi", "shawi", "naway", "nishta", "sho", "raghalay", "sa",
           "wakram", "milawegi", "dre", "saray", "ghwari", "che", "rata", "wakhli", "nakegi",
           "likam", "wai", "karay", "ye", "jor", "me", "pa", "ke", "kom", "sara"},
    "ar": {"ana", "wla", "wala", "bdi", "3andi", "andi", "mafi", "kifak", "chou", "shu", "lesh",
           "mazal", "baghi", "ndir", "jdida", "jdid", "kayn", "makaynch", "marhaba", "shukran",
           "inshallah", "khalas", "dyali", "wesh", "ya3ni", "yani", "khouya", "akhi", "bas",
           "mn", "w", "el", "3al", "3am", "hal", "shi", "fi", "bgha", "bghit", "3afak", "labas",
           "slm", "fih", "ykhalinich", "nkamal", "wahed", "tlab", "menni", "bach", "ijib", "liya",
           "tsadat", "mktoub", "ghir", "machi", "wach", "kifach", "3lach", "bzaf"},
}
# Arabizi writes ع, ح, ق... with digits inside words: "3amalt", "wa7da", "te3i".
_ARABIZI = re.compile(r"^[a-z]*[a-z][2379][a-z]+|^[2379][a-z]{2,}")
_LATIN_WORD = re.compile(r"[a-zà-ÿœ0-9]+(?:'[a-zà-ÿœ]+)?")


def guess_locale(text: str) -> str | None:
    """The locale a message is most likely written in, or None when it cannot tell.

    Someone who pastes a French error message inside a sentence of their own writes in their
    own language: a few words in Arabic script outweigh a long pasted French line."""
    arabic = len(_ARABIC_SCRIPT.findall(text))
    latin = len(_LATIN.findall(text))
    if arabic >= 2 and (arabic >= 6 or arabic >= latin):
        return _guess_arabic_script(text, _WORD.findall(text.casefold()))
    if latin:
        return _guess_latin(text.casefold())
    return None


def _guess_latin(text: str) -> str | None:
    words = _LATIN_WORD.findall(text.replace("’", "'"))
    scores = dict.fromkeys(("fr", "en", "fa_AF", "ps", "ar"), 0.0)
    for word in words:
        if word in _DOMAIN:
            scores["fr"] += 0.1
            scores["en"] += 0.1
        elif word in _SCREEN_FRENCH:
            scores["fr"] += 0.3
        elif word in _FRENCH or word.startswith(("j'", "l'", "d'", "c'", "qu'", "n'", "s'")):
            scores["fr"] += 1.0
        if word in _ENGLISH:
            scores["en"] += 1.0
        for locale, vocabulary in _ROMAN.items():
            if word in vocabulary:
                scores[locale] += 1.2
        if _ARABIZI.match(word):
            scores["ar"] += 1.5
    if any(ch in text for ch in "éèêàçùâîôû"):
        scores["fr"] += 0.5
    return _best(scores)


def _guess_arabic_script(text: str, words: list[str]) -> str | None:
    scores = dict.fromkeys(_LETTERS, 0.0)
    for locale, letters in _LETTERS.items():
        scores[locale] += sum(text.count(ch) for ch in letters) * 1.0
    vocabularies = {locale: {fold(w) for w in ws} for locale, ws in _WORDS.items()}
    for word in words:
        key = fold(word)
        for locale, vocabulary in vocabularies.items():
            if word in _WORDS[locale] or key in vocabulary:
                scores[locale] += 3.0
        if _ARABIC_ARTICLE.match(key):
            scores["ar"] += 2.0
        if _PERSIAN_VERB.match(key):
            scores["fa_AF"] += 2.0
    # Persian yeh and keheh with no Arabic-only marks: Dari or Pashto rather than Arabic.
    if "ی" in text or "ک" in text:
        scores["fa_AF"] += 0.5
    if "ي" in text or "ك" in text:
        scores["ar"] += 0.5
    return _best(scores)


def _best(scores: dict[str, float]) -> str | None:
    best = max(scores, key=lambda k: scores[k])
    if scores[best] <= 0:
        return None
    ranked = sorted(scores.values(), reverse=True)
    if ranked[0] == ranked[1]:
        return None
    return best


# The names people type at the language question, with their usual misspellings.
_NAMES = {
    "fr": ("français", "francais", "française", "francaise", "french", "france", "fransais",
           "fr", "فرانسوی", "فرانسوي", "فرانسه", "فرنسي", "فرنسية", "الفرنسية", "الفرنسيه",
           "فرانسوۍ"),
    "fa_AF": ("dari", "darí", "farsi", "persian", "persan", "farci", "fa", "prs", "دری", "دري",
              "فارسی", "فارسي", "پارسی", "پارسي", "دری فارسی", "فارسی دری", "الدرية", "الفارسية"),
    "ps": ("pashto", "pachto", "pashtu", "pushto", "pukhto", "pakhto", "pachtou", "pachtoune",
           "pashtoo", "ps", "پښتو", "پشتو", "پختو", "پشتوی", "البشتو", "البشتونية"),
    "ar": ("arabic", "arabe", "arab", "arabi", "ar", "عربي", "عربی", "عربية", "العربية",
           "العربيه", "عربيه", "العربي"),
    "en": ("english", "anglais", "angalis", "inglish", "englis", "en", "eng", "انگلیسی",
           "انګلیسي", "انگلیسي", "انجليزي", "الإنجليزية", "الانجليزية", "انکلیسی"),
}
_NAME_KEYS = {fold(name): locale for locale, names in _NAMES.items() for name in names}
# Words that may come with a language's name: "in Dari please", "به دری", "بالعربي".
_WITH_NAME = frozenset(fold(w) for w in (
    "in", "en", "please", "svp", "stp", "langue", "language", "به", "په", "ب", "باللغة", "لغة",
    "لطفا", "زبان", "ژبه", "ژبې", "اللغه", "plz", "pls", "the", "la", "je", "parle", "speak",
    "i", "want", "veux", "من", "زه"))


def language_named(text: str) -> str | None:
    """The locale a message names ("dari", "پښتو", "arabe", "in English please"), or None."""
    words = fold(text).replace("،", " ").replace(",", " ").replace(".", " ").split()
    if not words or len(words) > 5:
        return None
    whole = " ".join(words)
    if whole in _NAME_KEYS:
        return _NAME_KEYS[whole]
    named = {_NAME_KEYS[w] for w in words if w in _NAME_KEYS}
    # "بالعربي": the Arabic "in" glued to the name.
    named |= {_NAME_KEYS[w[1:]] for w in words if w.startswith("ب") and w[1:] in _NAME_KEYS}
    rest = [w for w in words if w not in _NAME_KEYS and w not in _WITH_NAME
            and not (w.startswith("ب") and w[1:] in _NAME_KEYS)]
    return named.pop() if len(named) == 1 and not rest else None
