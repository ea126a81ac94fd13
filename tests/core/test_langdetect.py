import pytest

from bot.core.langdetect import guess_locale, language_named


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("سلام، زه مرسته غواړم", "ps"),
        ("زما API ختم شوی دی، څه وکړم؟", "ps"),
        ("ستاسو مننه، زه نه پوهیږم", "ps"),
        ("سلام، من کمک میخواهم", "fa_AF"),
        ("API من تمام شده، چه کار کنم؟", "fa_AF"),
        ("تشکر، من نمی فهمم چطور", "fa_AF"),
        ("مرحبا، أريد مساعدة", "ar"),
        ("انتهت صلاحية الإقامة، ماذا أفعل؟", "ar"),
        ("كيف أحصل على موعد في المحافظة", "ar"),
        ("Bonjour, j'ai besoin d'aide pour mon titre de séjour", "fr"),
        ("Hello, I need help with my residence permit", "en"),
    ],
)
def test_first_messages_are_recognised(text: str, locale: str) -> None:
    assert guess_locale(text) == locale


@pytest.mark.parametrize("text", ["سلام", "", "👍", "12/03/2026", "ANEF"])
def test_it_does_not_guess_when_it_cannot_tell(text: str) -> None:
    assert guess_locale(text) is None


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        # Someone pastes the French error inside a sentence of their own: their own words count.
        ("وقتی اکانت میسازم مینویسه les informations saisies ne permettent pas de vous "
         "identifier", "fa_AF"),
        ("غواړم کارت تمدید کړم خو وایي une demande est déjà en cours", "ps"),
        ("بيطلعلي Nous ne sommes pas en mesure de traiter votre demande لما احجز موعد", "ar"),
        ("une demande est déjà en cours - but I have NO other application!!", "en"),
        # Arabic dialects, and the Arabic article.
        ("الـ API خلصت صلاحيتها امبارح وخايف يوقفوني من الشغل", "ar"),
        ("قدمت الطلب من شهر وما طلعلي الـ API لهلق", "ar"),
        # Dari, Pashto and Arabic typed in Latin letters.
        ("darkhast dadom 3 hafta shod API nist da account", "fa_AF"),
        ("l API te3i expiré w ma jatnich wa7da jdida", "ar"),
        ("jai un souci avec anef", "fr"),
        ("API expired", "en"),
    ],
)
def test_mixed_and_colloquial_messages(text: str, locale: str) -> None:
    assert guess_locale(text) == locale


@pytest.mark.parametrize(
    ("text", "locale"),
    [("dari", "fa_AF"), ("Farsi", "fa_AF"), ("فارسی", "fa_AF"), ("دری", "fa_AF"),
     ("pashto", "ps"), ("pachto", "ps"), ("پښتو", "ps"), ("arabic", "ar"), ("arabe", "ar"),
     ("عربي", "ar"), ("عربی", "ar"), ("العربية", "ar"), ("français", "fr"), ("francais", "fr"),
     ("english", "en"), ("anglais", "en"), ("in English please", "en"), ("به دری لطفا", "fa_AF")],
)
def test_language_names(text: str, locale: str) -> None:
    assert language_named(text) == locale


@pytest.mark.parametrize("text", ["dari and english", "my API expired in french time",
                                  "bonjour", "", "anglais ou français"])
def test_a_sentence_is_not_a_language_name(text: str) -> None:
    assert language_named(text) is None
