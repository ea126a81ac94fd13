"""Handing the conversation to a caseworker: agreement, the French summary, relaying, staff
replies in the user's language, closing; office hours; the user's organisation."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import MappingProxyType

from bot.core.engine import Engine
from bot.core.events import (
    CaseClosed,
    HandoffRequested,
    MessageCreated,
    OrganisationChosen,
    RelayedToCaseworker,
)
from bot.core.handoff import canned_replies
from bot.core.model import Inbound, InboundKind, MessageKind
from bot.core.summary import title_of
from bot.core.text import for_display
from tests.core.helpers import NOW, Convo, of_type, texts


def _staff(convo: Convo, **payload: str) -> list[MessageCreated]:
    inbound = Inbound(user=convo.user, message_id=f"staff:{len(convo.turns)}",
                      kind=InboundKind.STAFF, payload=MappingProxyType(payload))
    turn = convo.engine.step(convo.session, inbound, NOW)
    assert convo.session is not None
    convo.session = turn.session.evolve(version=convo.session.version + 1)
    convo.turns.append(turn)
    return list(turn.messages)


def _handed_over(engine: Engine, locale: str = "fr") -> Convo:
    convo = Convo(engine)
    convo.onboard(locale)
    convo.send("/api 10/03/2026")
    convo.send("/human")
    assert convo.offered == ["share", "no_share"]
    convo.tap("share")
    return convo


def test_nothing_is_shared_without_agreement(engine: Engine) -> None:
    convo = Convo(engine)
    convo.onboard("fr")
    convo.send("/human")
    turn = convo.tap("no_share")
    assert of_type(turn, HandoffRequested) == []
    assert "je n'envoie rien" in texts(turn)[0]
    assert convo.session is not None
    assert not convo.session.case_open
    # Free text is not relayed: the assistant answers it as usual.
    assert of_type(convo.send("bonjour"), RelayedToCaseworker) == []


def test_agreeing_opens_a_case_with_a_french_summary(engine: Engine) -> None:
    convo = _handed_over(engine, "ps")
    [handoff] = of_type(convo.turns[-1], HandoffRequested)
    assert isinstance(handoff, HandoffRequested)
    assert handoff.api_end == "2026-03-10"
    assert handoff.locale == "ps"
    summary = handoff.summary.split("\n")
    # The first line names the case in French (the inbox's title), never a raw code.
    assert summary[0] == "Objet : Aide demandée depuis « Mon API expire ou a expiré »"
    assert "Langue : pachto" in summary[3]
    assert "API : fin le 10/03/2026 (dans 8 jours) — URGENT" in summary
    assert "Statut de protection : non indiqué" in summary
    assert any(line.startswith("Prochaine étape : un message dans mon espace personnel ANEF")
               for line in summary)
    assert convo.session is not None
    assert convo.session.case_open


def test_the_summary_lists_problems_and_contacts(engine: Engine) -> None:
    convo = Convo(engine)
    convo.onboard("fr")
    convo.send("/menu")
    convo.tap("problem")
    convo.send("Le site me dit : erreur technique, veuillez réessayer plus tard")
    convo.tap("yes")
    convo.send("/menu")
    convo.tap("ladder")
    for tap in ("renewal", "later", "record", "ccc", "today", "no_answer"):
        convo.tap(tap)
    convo.send("REF-12")
    convo.send("/human")
    turn = convo.tap("share")
    [handoff] = of_type(turn, HandoffRequested)
    assert isinstance(handoff, HandoffRequested)
    assert "Problèmes reconnus :\n- " in handoff.summary
    assert "(le 02/03/2026)" in handoff.summary
    # The case is named after the problem recognised, by its French title.
    recognised = handoff.summary.split("Problèmes reconnus :\n- ", 1)[1].split(" (le ")[0]
    assert handoff.summary.startswith(f"Objet : {recognised}\n")
    assert title_of(handoff.summary, handoff.reason) == recognised
    assert ("- le Centre de contact citoyens (CCC), le 02/03/2026 (sans réponse), réf. REF-12"
            in handoff.summary)


def test_while_the_case_is_open_free_text_goes_to_the_caseworker(engine: Engine) -> None:
    convo = _handed_over(engine)
    first = convo.send("Mon API expire bientôt, je suis inquiet")
    assert of_type(first, RelayedToCaseworker) == [RelayedToCaseworker()]
    assert texts(first) == ["C'est transmis à l'association. Une personne vous répondra ici."]
    second = convo.send("J'ai aussi un rendez-vous lundi")
    assert of_type(second, RelayedToCaseworker) == [RelayedToCaseworker()]
    assert texts(second) == []  # said once, not after every message
    # A password sent by mistake is never passed on.
    secret = convo.send("mon mot de passe est Azerty123!")
    assert of_type(secret, RelayedToCaseworker) == []
    # Commands still work, and the case stays open.
    assert "Que voulez-vous faire" in texts(convo.send("/menu"))[0]
    assert convo.session is not None
    assert convo.session.case_open


def test_a_screenshot_during_a_case_goes_to_the_caseworker(engine: Engine) -> None:
    convo = _handed_over(engine)
    photo = Inbound(user=convo.user, message_id="p1", kind=InboundKind.PHOTO,
                    text="Erreur technique. Veuillez réessayer plus tard.")
    turn = engine.step(convo.session, photo, NOW)
    assert of_type(turn, RelayedToCaseworker) == [RelayedToCaseworker()]
    assert "transmis" in texts(turn)[0]


def test_staff_replies_reach_the_user_in_their_language(engine: Engine) -> None:
    convo = _handed_over(engine, "ps")
    [canned] = _staff(convo, action="canned", canned="screenshot")
    assert canned.kind is MessageKind.CASEWORKER
    assert canned.locale == "ps"
    assert "ANEF" in canned.text
    assert "capture" not in canned.text
    [free] = _staff(convo, action="reply", text="Bonjour, je regarde votre dossier.")
    head, body = free.text.split("\n")
    assert head.startswith("\u200f")
    assert "Message de" not in head
    assert body == "Bonjour, je regarde votre dossier."  # the caseworker's words, as typed


def test_closing_brings_the_user_back_to_the_assistant(engine: Engine) -> None:
    convo = _handed_over(engine)
    messages = _staff(convo, action="close")
    assert of_type(convo.turns[-1], CaseClosed) == [CaseClosed()]
    assert "a fermé votre demande" in messages[0].text
    assert "Que voulez-vous faire" in messages[-1].text
    assert convo.session is not None
    assert not convo.session.case_open
    assert of_type(convo.send("bonjour ?"), RelayedToCaseworker) == []


def test_the_canned_replies_are_listed_for_the_inbox(engine: Engine) -> None:
    canned = dict(canned_replies(engine.speaker))
    assert "screenshot" in canned
    assert canned["screenshot"].startswith("Pouvez-vous")


def test_when_the_office_is_closed_the_user_is_told_when_it_opens(engine: Engine) -> None:
    convo = Convo(engine)
    convo.onboard("fr")
    convo.send("/human")
    saturday = datetime(2026, 3, 7, 15, 0, tzinfo=UTC)
    tap = Inbound.choice_tap(convo.user, "x1", "share")
    turn = engine.step(convo.session, tap, saturday)
    said = "\n".join(texts(turn))
    assert "L'association est fermée" in said
    assert "09/03/2026, 09:00" in said


def test_a_start_link_names_the_organisation(engine: Engine) -> None:
    convo = Convo(engine)
    turn = convo.send("/start cimade-nice")
    assert of_type(turn, OrganisationChosen) == [OrganisationChosen("cimade-nice")]
    web = Inbound(user="web:abc", message_id="1", kind=InboundKind.TEXT, text="salam",
                  payload=MappingProxyType({"org": "ftda"}))
    assert of_type(engine.step(None, web, NOW), OrganisationChosen) == [
        OrganisationChosen("ftda")]


def test_an_associations_own_ready_reply_arrives_in_the_persons_language(
        engine: Engine) -> None:
    """The inbox sends the five texts along; the engine picks the person's language."""
    own = {"fr": "Venez mardi à 10 h.", "fa_AF": "سه‌شنبه ساعت ۱۰ بیایید.",
           "ps": "د سه شنبې په ۱۰ بجو راشئ.", "ar": "تعال يوم الثلاثاء الساعة 10.",
           "en": "Come on Tuesday at 10."}
    convo = _handed_over(engine, "ps")
    [reply] = _staff(convo, action="ready", text=json.dumps(own))
    assert (reply.kind, reply.locale) == (MessageKind.CASEWORKER, "ps")
    assert reply.text == for_display(own["ps"], "ps")
    english = _handed_over(engine, "en")
    [reply] = _staff(english, action="ready", text=json.dumps(own))
    assert (reply.locale, reply.text) == ("en", own["en"])
