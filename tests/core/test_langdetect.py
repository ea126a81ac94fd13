import pytest

from bot.core.langdetect import guess_locale


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
