"""The ANEF journeys, driven through the real flows in French (the source language)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.engine import Engine
from bot.core.events import InputRejected, MessageCreated
from bot.core.model import Session
from tests.core.helpers import Convo, of_type, texts

JOURNEYS = {
    "account": "account", "first_card": "first_card", "download_api": "api_download",
    "renew_api": "api_renew", "renew_card": "card_renew", "api_refused": "api_refused",
    "safety": "safety",
}


def onboarded(engine: Engine, consent: bool = True) -> Convo:
    c = Convo(engine)
    c.onboard("fr", consent=consent)
    return c


@pytest.mark.parametrize(("button", "flow"), sorted(JOURNEYS.items()))
def test_every_journey_is_in_the_menu_and_has_a_way_back(engine: Engine, button: str,
                                                         flow: str) -> None:
    c = onboarded(engine)
    turn = c.tap(button)
    assert c.session is not None
    assert c.session.flow == flow
    assert texts(turn)[0].startswith("Étape 1 sur ")
    assert "menu" in c.offered
    # Every step of every journey offers the menu; every step after the first, a way back.
    for state in engine.flows[flow].states.values():
        if state.waits:
            ids = [ch.id for ch in state.choices]
            assert "menu" in ids, state.name
            if (state.step or 0) > 1 and state.input is None:
                assert "back" in ids or "human" in ids, state.name


def test_journey_messages_are_short(engine: Engine) -> None:
    for flow in JOURNEYS.values():
        for text in engine.flows[flow].texts():
            assert len(text.source) <= 600, text.key


def test_account_walks_five_steps(engine: Engine) -> None:
    c = onboarded(engine)
    c.tap("account")
    seen = []
    while "next" in c.offered:
        turn = c.tap("next")
        seen.append(texts(turn)[0].split("\n")[0])
    assert seen == ["Étape 2 sur 5", "Étape 3 sur 5", "Étape 4 sur 5", "Étape 5 sur 5"]
    assert "0 806 001 620" in texts(turn)[0]
    assert "human" in c.offered
    c.tap("back")
    assert c.session is not None
    assert c.session.state == "other_ways"


@pytest.mark.parametrize(("typed", "days", "state"), [
    ("12/03/2026", "10 jours", "remaining"),
    ("۱۲/۰۳/۲۰۲۶", "10 jours", "remaining"),
    ("1404/12/21", "10 jours", "remaining"),
    ("03/03/2026", "1 jour.", "remaining"),
    ("02/03/2026", "aujourd'hui", "ends_today"),
    ("20 février 2026", "il y a 10 jours", "expired"),
    ("01/03/2026", "il y a 1 jour.", "expired"),
])
def test_the_api_end_date_gives_the_days_left(engine: Engine, typed: str, days: str,
                                              state: str) -> None:
    c = onboarded(engine)
    c.tap("renew_api")
    turn = c.send(typed)
    assert c.session is not None
    assert c.session.state == state
    assert days in texts(turn)[0]
    assert "Étape 2 sur 4" in texts(turn)[0]
    assert c.session.slots["api_end"] in ("2026-03-12", "2026-03-03", "2026-03-02",
                                          "2026-02-20", "2026-03-01")


@pytest.mark.parametrize(("typed", "reason", "says"), [
    ("31/02/2026", "invalid_answer:impossible", "n'existe pas"),
    ("12/03/1900", "invalid_answer:implausible", "année semble fausse"),
    ("bientôt", "invalid_answer:format", "pas compris cette date"),
])
def test_a_bad_date_is_explained_and_asked_again(engine: Engine, typed: str, reason: str,
                                                 says: str) -> None:
    c = onboarded(engine)
    c.tap("renew_api")
    turn = c.send(typed)
    assert of_type(turn, InputRejected) == [InputRejected(reason)]
    assert says in texts(turn)[0]
    assert c.session is not None
    assert c.session.state == "ask_end"
    assert "api_end" not in c.session.slots


def test_api_command_works_from_anywhere_and_keeps_the_date(engine: Engine) -> None:
    c = onboarded(engine)
    c.tap("account")
    c.tap("next")
    turn = c.send("/api 12.03.2026")
    assert texts(turn)[0].startswith("Étape 2 sur 4\nVotre API finit le 12/03/2026. Il reste "
                                     "10 jours.")
    assert c.session is not None
    assert c.session.slots["api_end"] == "2026-03-12"
    turn = c.send("/api 31/02/2026")
    assert "n'existe pas" in texts(turn)[0]
    assert c.session.state == "ask_end"
    turn = c.send("/api")
    assert "Quelle date de fin" in texts(turn)[0]


def test_without_consent_the_date_is_told_but_not_kept(engine: Engine) -> None:
    c = onboarded(engine, consent=False)
    turn = c.send("/api 12/03/2026")
    assert "Il reste 10 jours" in texts(turn)[0]
    assert any("Je ne garde pas cette date" in t for t in texts(turn))
    assert c.session is not None
    assert dict(c.session.slots) == {}


@pytest.mark.parametrize(("card_end", "state", "says"), [
    ("12/12/2026", "too_early", "entre le 14/08/2026 et le 13/10/2026"),
    ("12/06/2026", "now_open", "avant le 13/04/2026"),
    ("12/04/2026", "late", "180 €"),
    ("01/01/2026", "late", "180 €"),
])
def test_the_card_renewal_window(engine: Engine, card_end: str, state: str, says: str) -> None:
    c = onboarded(engine)
    turn = c.send(f"/card {card_end}")
    assert c.session is not None
    assert c.session.state == state
    assert says in texts(turn)[0]


def test_first_card_remembers_the_status_with_consent(engine: Engine) -> None:
    c = onboarded(engine)
    c.tap("first_card")
    turn = c.tap("subsidiary")
    assert "4 ans au plus" in texts(turn)[0]
    assert c.session is not None
    assert c.session.slots["status"] == "subsidiary"
    contract = texts(c.tap("next"))
    contract = texts(c.tap("next"))  # documents, then the contract and the stamp
    assert any("(CER)" in t and "17 juillet 2024" in t and "25 €" in t for t in contract)
    c.tap("next")
    filing = texts(c.tap("next"))
    assert any("6 mois" in t for t in filing)
    assert "download" in c.offered
    c.tap("download")
    assert c.session.flow == "api_download"


def test_a_stateless_first_card_goes_to_the_prefecture_not_to_anef(engine: Engine) -> None:
    # ANEF.md §7bis.4: no ANEF filing, no promise of the 6-month API.
    c = onboarded(engine)
    c.tap("first_card")
    said = texts(c.tap("stateless"))
    assert any("se demande à la préfecture, pas sur l'ANEF" in t for t in said)
    assert not any("6 mois" in t for t in said)
    assert "next" not in c.offered
    assert "human" in c.offered


def test_the_card_renewal_checklist_has_the_cer_and_the_stamp(engine: Engine) -> None:
    c = onboarded(engine)
    c.send("/card 12/06/2026")
    c.tap("next")
    said = " ".join(texts(c.tap("next")))
    for fact in ("(CER)", "225 €", "timbre fiscal", "« Justificatifs »"):
        assert fact in said


@pytest.mark.parametrize("secret", ["482913", "mon mot de passe: Soleil2024"])
def test_a_sent_secret_is_warned_about(engine: Engine, secret: str) -> None:
    c = onboarded(engine)
    turn = c.send(secret)
    assert of_type(turn, InputRejected) == [InputRejected("secret")]
    assert "jamais de mot de passe" in texts(turn)[0]


def test_a_scam_report_is_offered_as_the_known_problem(engine: Engine) -> None:
    c = onboarded(engine)
    turn = c.send("un monsieur me demande 200 euros pour un rendez-vous")
    assert c.session is not None
    assert (c.session.flow, c.session.state) == ("errors", "confirm")
    assert "Une personne me demande de l'argent" in texts(turn)[0]


def test_the_timbre_fiscal_is_answered_as_normal_not_warned_of(engine: Engine) -> None:
    # ANEF.md §1.4, §7bis.1: a renewal costs 225 € in timbre fiscal; calling it a scam would
    # make people miss the renewal window.
    c = onboarded(engine)
    turn = c.send("ANEF me demande de payer 225 euros de timbre fiscal pour le renouvellement, "
                  "c'est normal ?")
    assert c.session is not None
    assert (c.session.flow, c.session.state) == ("errors", "confirm")
    assert texts(turn) == [
        "Il me semble que votre problème est « Payer le timbre fiscal ». C'est bien cela ?"]
    advice = texts(c.tap("yes"))[0]
    assert advice.startswith("Payer un timbre fiscal pour votre carte est normal")
    for fact in ("225 €", "25 €", "timbres.impots.gouv.fr"):
        assert fact in advice


def test_other_talk_of_paying_brings_a_warning_that_names_the_fee(engine: Engine) -> None:
    c = onboarded(engine)
    turn = c.send("c'est payant ?")
    warning = texts(turn)[0]
    assert warning.startswith("Attention : si une personne ou une entreprise vous demande")
    assert "gratuits" in warning
    assert "timbre fiscal" in warning


def test_days_are_counted_in_paris(engine: Engine) -> None:
    # 23:30 UTC on 11 March is already 12 March in Paris: the API ends today there.
    session = Session(user="t:u", flow="menu", state="main", locale="fr", consent=True,
                      version=1)
    turn = engine.step(session, __import__("bot.core.model", fromlist=["Inbound"]).Inbound
                       .text_message("t:u", "1", "/api 12/03/2026"),
                       datetime(2026, 3, 11, 23, 30, tzinfo=UTC))
    first = next(e for e in turn.events if isinstance(e, MessageCreated))
    assert "aujourd'hui" in first.text


def test_a_report_typed_anywhere_is_offered_and_the_journey_resumes(engine: Engine) -> None:
    c = onboarded(engine)
    c.tap("account")
    c.tap("next")
    turn = c.send("je n'arrive plus à me connecter, le mail de réinitialisation n'arrive jamais")
    assert c.session is not None
    assert (c.session.flow, c.session.state) == ("errors", "confirm")
    assert "Je ne peux pas me connecter" in texts(turn)[-1]
    turn = c.tap("yes")
    assert "Mot de passe oublié" in texts(turn)[0]
    assert c.session.scratch["diagnosis"] == "login_loop"
    c.tap("resume")
    assert (c.session.flow, c.session.state) == ("account", "site")


def test_an_unrecognised_report_asks_again(engine: Engine) -> None:
    c = onboarded(engine)
    c.tap("problem")
    turn = c.send("je voudrais apprendre le français")
    assert of_type(turn, InputRejected) == [InputRejected("invalid_answer:unknown")]
    assert c.session is not None
    assert c.session.state == "describe"


@pytest.mark.parametrize(("payload", "text", "reason"), [
    ({"ocr": "unavailable"}, "", "photo"),
    ({}, "", "photo_unreadable"),
])
def test_photos_that_cannot_be_read(engine: Engine, payload: dict[str, str], text: str,
                                    reason: str) -> None:
    from types import MappingProxyType

    from bot.core.model import Inbound, InboundKind

    c = onboarded(engine)
    turn = c._step(Inbound(user=c.user, message_id="p1", kind=InboundKind.PHOTO, text=text,
                           payload=MappingProxyType(payload)))
    assert of_type(turn, InputRejected) == [InputRejected(reason)]


def test_a_read_screenshot_is_a_report(engine: Engine) -> None:
    from bot.core.model import Inbound, InboundKind

    c = onboarded(engine)
    c._step(Inbound(user=c.user, message_id="p1", kind=InboundKind.PHOTO,
                    text="Il n'existe plus de plage horaire libre pour votre demande de "
                         "rendez-vous. Veuillez recommencer ultérieurement"))
    assert c.session is not None
    assert c.session.scratch["diagnosis"] == "appointment_unavailable"
