import pytest

from bot.core.guards.safety import (
    mentions_official_fee,
    mentions_payment,
    mentions_seller,
    payment_warning_due,
)


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


@pytest.mark.parametrize("text", [
    "ANEF me demande de payer 225 euros de timbre fiscal pour le renouvellement, c'est normal ?",
    "où payer le timbre fiscal ? sur timbres.impots.gouv.fr ?",
    "le bureau de tabac vend le timbre à 25 € ?",
    "ANEF asks me to pay a 225 euro tax stamp for my renewal, is this normal?",
    "انف میگه بری تمدید کارت ۲۲۵ یورو تکت مالیاتی بخر، عادی اس؟",
    "انف راته وايي د کارت د تمدید لپاره ۲۲۵ یورو ټکټ واخله، دا عادي ده؟",
    "ANEF طالب مني ادفع 225 يورو طابع ضريبي للتجديد، هذا طبيعي؟",
])
def test_paying_the_timbre_fiscal_is_not_warned_of(text: str) -> None:
    # ANEF.md §1.4, §7bis.1: the official fee, paid to the State, is not a scam.
    assert mentions_payment(text)
    assert mentions_official_fee(text)
    assert not mentions_seller(text)
    assert not payment_warning_due(text)


@pytest.mark.parametrize("text", [
    "un monsieur sur facebook veut 225 euros pour le timbre fiscal et le rendez-vous",
    "quelqu'un me vend le timbre fiscal 300 euros pour accélérer",
    "a guy on whatsapp sells the tax stamp and an appointment for 200 euros",
    "یک نفر در فیسبوک میگه ۲۰۰ یورو بتی تمبر و رندیوو برت میگیرم",
    "یو سړی وايي ۲۰۰ یورو راکړه ټکټ او رندیوو درته اخلم",
    "واحد على الفيسبوك بدو 200 يورو للطابع والموعد",
])
def test_a_seller_named_beside_the_fee_is_still_warned_of(text: str) -> None:
    assert mentions_official_fee(text)
    assert mentions_seller(text)
    assert payment_warning_due(text)


@pytest.mark.parametrize("text", [
    "on me demande 200 euros pour un rendez-vous", "how much money", "c'est payant ?",
    "پیسې غواړي", "بدي ادفع",
])
def test_other_talk_of_paying_is_warned_of(text: str) -> None:
    assert payment_warning_due(text)


@pytest.mark.parametrize("text", ["bonjour", "mon rendez-vous est demain", "le timbre fiscal",
                                  "appointment", "سلام"])
def test_no_payment_talk_no_warning(text: str) -> None:
    assert not payment_warning_due(text)
