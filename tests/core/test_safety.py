import pytest

from bot.core.safety import looks_like_secret, mentions_payment


@pytest.mark.parametrize("text", [
    "482913", "48 29 13", "۴۸۲۹۱۳", "1234", "mon mot de passe: Soleil2024",
    "password = hunter22", "رمز من: abc12345", "پټنوم مې دا دی Kabul1400", "كلمة السر: 99887766",
    "le code sms est 556677",
])
def test_secrets_are_spotted(text: str) -> None:
    assert looks_like_secret(text)


@pytest.mark.parametrize("text", [
    "2", "12", "12/03/2026", "0 806 001 620", "1234567890", "j'ai oublié mon mot de passe",
    "I forgot my password", "رمزم را فراموش کردم", "mot de passe oublié ne marche pas",
    "je n'ai pas reçu le code sms",
])
def test_talking_about_a_password_is_not_sending_one(text: str) -> None:
    assert not looks_like_secret(text)


@pytest.mark.parametrize("text", [
    "on me demande 200 euros pour un rendez-vous", "il faut payer ?", "how much money",
    "باید پول بدهم؟", "پیسې غواړي", "طلب مني 300 يورو", "بدي ادفع", "c'est 50€",
])
def test_payment_talk_is_spotted(text: str) -> None:
    assert mentions_payment(text)


@pytest.mark.parametrize("text", ["bonjour", "mon API a expiré", "سلام", "appointment",
                                  "هل يمكنني العمل"])
def test_ordinary_messages_are_not_payment_talk(text: str) -> None:
    assert not mentions_payment(text)
